package benchdata

import (
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
)

// The SFI treatment window (docs/method.md §1): first starts from 1 February
// to 31 July 2012.
var (
	windowStart = panel.DayFromDate(2012, time.February, 1)
	windowEnd   = panel.DayFromDate(2012, time.July, 31)
	jan1        = panel.DayFromDate(2012, time.January, 1)
	jan31       = panel.DayFromDate(2012, time.January, 31)
)

// HistoryWindows are the look-back windows (weeks before the start week) of
// the weeks-on-benefit covariates.
var HistoryWindows = []int{13, 26, 52, 104, 156}

// HistoryBenefits are the benefit types of the synthetic register whose
// weeks in each history window are covariates, roughly from the most to the
// least common among the treated, so that a small -covariates keeps the
// informative ones. Self-supporting is the reference (it is 52 minus the
// sum of the others in a 52-week window).
var HistoryBenefits = []string{
	synth.CashBenefit, synth.UnemploymentInsurance, synth.Sickness, synth.SU, synth.Rehabilitation,
	synth.DisabilityPension, synth.FlexJob, synth.FlexJobBenefit, synth.Other, synth.EarlyRetirement,
	synth.VUS, synth.ServiceJob, synth.AdultApprentice, synth.FlexBenefit, synth.StatePension,
}

// categorical attributes dummy-coded in the covariate list, in order.
var dummyAttrs = []string{"sex", "origin", "education", "match_group", "cohabitation"}

// Covariate is one column of the design's covariate list.
type Covariate struct {
	Name string
	Cov  panel.Covariate
}

// Dummy is one dummy-coded attribute of CovariateList: its levels, in
// column order, and the reference level, which gets no column.
type Dummy struct {
	Attr   string   `json:"attr"`
	Levels []string `json:"levels"`
	Ref    string   `json:"ref"`
}

// DummiesOf returns the dummy-coded attributes of CovariateList as r has
// them: for sex, origin, education, match_group and cohabitation every
// level of r, and the most frequent in r as the reference (ties go to the
// first level). A sharded run takes them from the whole population and
// builds every shard's covariates with them (CovariateListWith), so that
// the shards' columns are the same although their frequencies and levels
// differ. Cost: one pass over the attributes' codes.
func DummiesOf(r *panel.Register) ([]Dummy, error) {
	var out []Dummy
	for _, name := range dummyAttrs {
		a := r.Attr(name)
		if a == nil || a.Codes == nil {
			return nil, fmt.Errorf("register has no categorical attribute %q", name)
		}
		counts := make([]int, len(a.Levels))
		for _, c := range a.Codes {
			if int(c) < len(counts) {
				counts[c]++
			}
		}
		ref := 0
		for l, c := range counts {
			if c > counts[ref] {
				ref = l
			}
		}
		if len(a.Levels) == 0 {
			return nil, fmt.Errorf("categorical attribute %q has no levels", name)
		}
		out = append(out, Dummy{Attr: name, Levels: slices.Clone(a.Levels), Ref: a.Levels[ref]})
	}
	return out, nil
}

// CovariateList returns the deterministic list of single-column covariates
// the bench draws its first K from:
//
//  1. age at start (fractional years);
//  2. one 0/1 column per level of sex, origin, education, match_group and
//     cohabitation except the most frequent one in the register (the
//     reference; ties go to the first level), named "attr=level";
//  3. children and unemployment_rate (numeric attributes);
//  4. weeks on each benefit type of HistoryBenefits in the 13, 26, 52, 104
//     and 156 weeks before the start week (panel.WeeksIn), benefit-major:
//     weeks_cash_benefit_13, ..., weeks_cash_benefit_156,
//     weeks_unemployment_insurance_13, ...;
//  5. the benefit type in the start week, one 0/1 column per type of
//     HistoryBenefits (panel.StatusAtStart), named "start=<type>".
//
// With the synthetic register's levels the list has 18 + 75 + 15 = 108
// columns. Columns that are constant in the data (state pension before 65)
// are aliased by the logit, as R's glm does with NA coefficients.
// It is CovariateListWith(r, DummiesOf(r)).
func CovariateList(r *panel.Register) ([]Covariate, error) {
	dummies, err := DummiesOf(r)
	if err != nil {
		return nil, err
	}
	return CovariateListWith(r, dummies)
}

// CovariateListWith is CovariateList with the levels and reference
// levels of the dummies given (DummiesOf of the whole population, for a
// shard of it): the columns of item 2 are those of dummies, and a level
// r does not have is a column of zeros. Errors: an attribute r lacks, or
// a level of r that dummies do not list.
func CovariateListWith(r *panel.Register, dummies []Dummy) ([]Covariate, error) {
	var list []Covariate
	list = append(list, Covariate{"age", panel.AgeAtStart("age")})
	for _, dm := range dummies {
		a := r.Attr(dm.Attr)
		if a == nil || a.Codes == nil {
			return nil, fmt.Errorf("register has no categorical attribute %q", dm.Attr)
		}
		for _, l := range a.Levels {
			if !slices.Contains(dm.Levels, l) {
				return nil, fmt.Errorf("attribute %q has level %q, which is not among the dummies' levels %v", dm.Attr, l, dm.Levels)
			}
		}
		for _, level := range dm.Levels {
			if level == dm.Ref {
				continue
			}
			code := a.Level(level) // -1: no person has it, a column of zeros
			col := a.Codes
			n := dm.Attr + "=" + level
			list = append(list, Covariate{n, panel.CovFunc(n, func(u *panel.UnitView) float64 {
				if int(col[u.Person]) == code {
					return 1
				}
				return 0
			})})
		}
	}
	for _, name := range []string{"children", "unemployment_rate"} {
		if a := r.Attr(name); a == nil || a.Values == nil {
			return nil, fmt.Errorf("register has no numeric attribute %q", name)
		}
		list = append(list, Covariate{name, panel.Numeric(name)})
	}
	groups := make([]panel.LevelGroup, len(HistoryBenefits))
	for i, b := range HistoryBenefits {
		groups[i] = panel.LevelGroup{Name: b, Levels: synth.BenefitLevels(b)}
	}
	for _, g := range groups {
		for _, w := range HistoryWindows {
			n := "weeks_" + g.Name + "_" + strconv.Itoa(w)
			list = append(list, Covariate{n, panel.WeeksIn("weeks_", []panel.LevelGroup{g}, w)})
		}
	}
	for _, g := range groups {
		list = append(list, Covariate{"start=" + g.Name, panel.StatusAtStart("start", g)})
	}
	return list, nil
}

// Design is the design of the benchmark: the SFI window, persons aged
// 16–64 on 1 January 2012 without a spell in January 2012, the first k
// covariates of CovariateList and the
// outcomes named. It is a generic design built from panel's public
// constructors, not the SFI reproduction's (examples/sfi).
func Design(r *panel.Register, k int, outcomes []string, seed uint64, workers int, progress func(string, int, int)) (*panel.Design, []string, error) {
	return DesignWith(r, nil, k, outcomes, seed, workers, progress)
}

// DesignWith is Design with the dummies' levels given
// (CovariateListWith), for a shard of a population; nil dummies means
// DummiesOf(r), which is Design.
func DesignWith(r *panel.Register, dummies []Dummy, k int, outcomes []string, seed uint64, workers int, progress func(string, int, int)) (*panel.Design, []string, error) {
	if dummies == nil {
		var err error
		if dummies, err = DummiesOf(r); err != nil {
			return nil, nil, err
		}
	}
	list, err := CovariateListWith(r, dummies)
	if err != nil {
		return nil, nil, err
	}
	if k < 1 || k > len(list) {
		return nil, nil, fmt.Errorf("-covariates %d: must be in 1..%d (the covariate list of this register)", k, len(list))
	}
	covs := make([]panel.Covariate, k)
	names := make([]string, k)
	for i, c := range list[:k] {
		covs[i], names[i] = c.Cov, c.Name
	}
	return &panel.Design{
		WindowStart: windowStart,
		WindowEnd:   windowEnd,
		Eligibility: []panel.Rule{
			panel.AgeBetween(16, 64, jan1),
			// as the SFI (rule 4): no spell in January 2012, so that the
			// treated are the persons whose first spell starts in the
			// window (about 6,487·Scale in synth)
			panel.NoSpellActive(jan1, jan31),
		},
		Covariates: covs,
		Outcomes:   outcomes,
		Seed:       seed,
		Workers:    workers,
		Progress:   progress,
	}, names, nil
}
