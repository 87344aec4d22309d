package main

import (
	"fmt"
	"time"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
)

// The SFI treatment window: starts from 1 February to 31 July 2012.
var (
	windowStart = panel.DayFromDate(2012, time.February, 1)
	windowEnd   = panel.DayFromDate(2012, time.July, 31)
)

// benefitGroups are the benefit types at start (docs/method.md §4), each
// with its passive and activated status levels. Self-supporting is the
// reference in X.
func benefitGroups() []panel.LevelGroup {
	var gs []panel.LevelGroup
	for _, b := range []string{synth.SU, synth.UnemploymentInsurance, synth.CashBenefit, synth.Rehabilitation,
		synth.Sickness, synth.FlexJobBenefit, synth.FlexJob, synth.DisabilityPension, synth.Other} {
		gs = append(gs, panel.LevelGroup{Name: b, Levels: synth.BenefitLevels(b)})
	}
	return gs
}

// activationLevels are the status levels of being in an active programme.
func activationLevels(instrument string) []string { return synth.InstrumentLevels(instrument) }

// sfiDesign is the design of the SFI effect analysis (docs/method.md §1 and
// §3) on the variables the synthetic register holds.
// It resolves status levels, attributes and outcomes against the register
// r once, so the per-unit functions do no lookups by name, and names what
// r lacks.
func sfiDesign(r *panel.Register, seed uint64, workers int, progress func(string, int, int)) (*panel.Design, error) {
	v, err := newRegisterView(r)
	if err != nil {
		return nil, err
	}
	jan1 := panel.DayFromDate(2012, time.January, 1)
	jan31 := panel.DayFromDate(2012, time.January, 31)
	groups := benefitGroups()

	var covs []panel.Covariate
	covs = append(covs,
		panel.Dummies("sex", "female"),
		panel.Dummies("origin", "danish"),
		// education with primary school as reference; the three tertiary
		// levels are one group (each is rare among the treated)
		v.levelDummy("education=unknown", "education", "unknown"),
		v.levelDummy("education=upper_secondary", "education", "upper_secondary"),
		v.levelDummy("education=vocational", "education", "vocational"),
		v.levelDummy("education=tertiary", "education", "short_tertiary", "medium_tertiary", "long_tertiary"),
		panel.Dummies("match_group", "group_1"),
		panel.Dummies("cohabitation", "single"),
		panel.Numeric("children"),
		panel.Numeric("unemployment_rate"),
		panel.AgeAtStart("age"),
		panel.CovFunc("age_sq", func(u *panel.UnitView) float64 {
			a := float64(u.Start-u.Register.Birth[u.Person]) / 365.25
			return a * a / 100
		}),
		panel.StatusAtStart("start", groups...),
		// weeks in each benefit group in the last year and the last five
		// years (the weeks on public support in all are in historyBins)
		panel.WeeksIn("weeks_", groups, 52, 260),
		panel.MonthsWith(synth.Employed, 12, 48),
	)
	covs = append(covs, v.historyBins(), ageBands())
	for _, inst := range synth.Instruments {
		covs = append(covs, panel.ActivationAtStart("active_"+inst, activationLevels(inst)...))
	}

	if v.err != nil {
		return nil, v.err
	}
	return &panel.Design{
		WindowStart: windowStart,
		WindowEnd:   windowEnd,
		Eligibility: []panel.Rule{
			// 1. aged 16-64 at the start of 2012
			panel.AgeBetween(16, 64, jan1),
			// 2. present in the weekly benefit register (DREAM); every
			// synthetic person has a status row, so this keeps everyone
			// with a register record
			panel.AnyWeekIn(synth.StatusLevels()...).Named("present in DREAM"),
			// 3. not on early retirement, flex benefit, state pension,
			// VUS, a service job or an adult apprenticeship at start
			panel.StatusNotIn(synth.ExcludedAtStartLevels()...),
			// 4. no mentor support in January 2012
			panel.NoSpellActive(jan1, jan31).Named("no mentor spell in January 2012"),
		},
		Covariates:  covs,
		Descriptors: v.descriptors(groups),
		Outcomes:    []string{synth.EmployedNoBenefit, synth.Employed, synth.Education},
		Seed:        seed,
		Workers:     workers,
		Progress:    progress,
	}, v.err
}

// Table 5.1 rows and the subgroup attributes, measured at start.
const (
	dSelfSupporting = "self_supporting"
	dCashQuarter    = "cash_benefit_start_quarter"
	dSickQuarter    = "sickness_start_quarter"
	dAge            = "age"
	dMen            = "men"
	dImmigrant      = "immigrant"
	dDescendant     = "descendant"
	dPrimary        = "primary_school"
	dUpperSec       = "upper_secondary"
	dVocational     = "vocational"
	dMatch2         = "match_group_2"
	dMatch3         = "match_group_3"
	// subgroup codes
	sSex     = "sex"
	sAgeBand = "age_band"
	sMatch   = "match_group"
	sBenefit = "benefit_at_start"
	sSupport = "prior_support"
)

// table51 lists the Table 5.1 rows in the report's order with their
// labels and the report's published values (treated, matched controls).
var table51 = []struct {
	desc, label     string
	treated, contrl float64
	percent         bool
}{
	{dSelfSupporting, "Self-supporting (no benefit in start week)", 3.5, 3.7, true},
	{dCashQuarter, "Cash benefit in start quarter", 58.4, 59.1, true},
	{dSickQuarter, "Sickness benefit in start quarter", 11.3, 11.6, true},
	{dAge, "Age, years (mean)", 32.9, 32.5, false},
	{dMen, "Men", 51.3, 51.9, true},
	{dImmigrant, "Immigrants", 14.0, 13.5, true},
	{dDescendant, "Descendants of immigrants", 2.7, 2.9, true},
	{dPrimary, "Primary school only", 58.1, 61.1, true},
	{dUpperSec, "Upper secondary (gymnasial)", 4.9, 4.8, true},
	{dVocational, "Vocational (erhvervsfaglig)", 19.6, 18.4, true},
	{dMatch2, "Match group 2", 56.7, 56.9, true},
	{dMatch3, "Match group 3", 5.8, 6.0, true},
}

func (v *registerView) descriptors(groups []panel.LevelGroup) []panel.Covariate {
	// inQuarter reports whether the person has a code of the named
	// benefit in any week of the calendar quarter containing the start.
	inQuarter := func(name, benefit string) panel.Covariate {
		codes := v.codeSet(synth.BenefitLevels(benefit))
		return panel.CovFunc(name, func(u *panel.UnitView) float64 {
			g := &u.Register.Status
			y, m := u.Cohort.Date()
			q0 := panel.MonthFromDate(y, time.Month((int(m)-1)/3*3+1))
			from := g.WeekOf(q0.FirstDay())
			to := g.WeekOf((q0 + 3).FirstDay() - 1)
			row := u.StatusRow()
			for w := max(from, 0); w <= min(to, g.Weeks-1); w++ {
				if codes[row[w]] {
					return 1
				}
			}
			return 0
		})
	}
	return []panel.Covariate{
		panel.ActivationAtStart(dSelfSupporting, synth.BenefitLevels(synth.SelfSupporting)...),
		inQuarter(dCashQuarter, synth.CashBenefit),
		inQuarter(dSickQuarter, synth.Sickness),
		panel.AgeAtStart(dAge),
		v.levelDummy(dMen, "sex", "male"),
		v.levelDummy(dImmigrant, "origin", "western_immigrant", "non_western_immigrant"),
		v.levelDummy(dDescendant, "origin", "descendant"),
		v.levelDummy(dPrimary, "education", "primary"),
		v.levelDummy(dUpperSec, "education", "upper_secondary"),
		v.levelDummy(dVocational, "education", "vocational"),
		v.levelDummy(dMatch2, "match_group", "group_2"),
		v.levelDummy(dMatch3, "match_group", "group_3"),
		// subgroup codes
		panel.AttrCode(sSex),
		panel.CovFunc(sAgeBand, func(u *panel.UnitView) float64 {
			a := float64(u.Start-u.Register.Birth[u.Person]) / 365.25
			switch {
			case a < 25:
				return 0
			case a < 40:
				return 1
			default:
				return 2
			}
		}),
		panel.AttrCode(sMatch),
		panel.StatusGroupAtStart(sBenefit, append([]panel.LevelGroup{{Name: synth.SelfSupporting, Levels: synth.BenefitLevels(synth.SelfSupporting)}}, groups...)...),
		// prior degree of public support: years on support in the 5 years
		// before start, in bands 0-1, 1-3, 3-5 years
		panel.CovFunc(sSupport, func(u *panel.UnitView) float64 {
			switch y := float64(v.supportWeeks(u)) / 52; {
			case y < 1:
				return 0
			case y < 3:
				return 1
			default:
				return 2
			}
		}),
	}
}

// wageBins are the columns of the bins of months with wage income in the
// 48 months before the start month (reference: none).
var wageBins = []string{"wage_1_12m", "wage_13_24m", "wage_25_36m", "wage_37_47m", "wage_all_48m"}

// historyBins dummy-codes the two history measures of the report's
// descriptive chapter in its bins (docs/method.md §4), in one pass per unit:
// years on public support (SU excluded) in the 260 weeks before the start
// week (reference: none; bins (0,1], (1,2], (2,3], (3,4], (4,5) years and
// all 5), months with wage income in the 48 months before the start month
// (reference: none; 1-12, 13-24, 25-36, 37-47, all 48), and wage income
// in the month before the start month. (Not the start month itself: a
// starter's wage income that month is already an outcome of the
// programme.)
func (v *registerView) historyBins() panel.Covariate {
	names := append([]string{"support_0_1y", "support_1_2y", "support_2_3y", "support_3_4y", "support_4_5y", "support_all_5y"},
		append(wageBins, "wage_prev_month")...)
	emp := v.employed
	return panel.CovFuncs(names, func(u *panel.UnitView, out []float64) {
		switch sup := v.supportWeeks(u); {
		case sup >= 260:
			out[5] = 1
		case sup > 0:
			out[min((sup-1)/52, 4)] = 1
		}
		wm := emp.Count(u.Person, u.Cohort-48, u.Cohort-1)
		switch {
		case wm >= 48:
			out[10] = 1
		case wm > 0:
			out[6+min((wm-1)/12, 3)] = 1
		}
		if v, ok := emp.Get(u.Person, u.Cohort-1); ok && v {
			out[11] = 1
		}
	})
}

// ageBands dummy-codes the age at start in the report's five-year bands
// (16-19, 20-24, ..., 60-64; reference 25-29).
func ageBands() panel.Covariate {
	lo := []int{16, 20, 25, 30, 35, 40, 45, 50, 55, 60}
	var names []string
	for k, a := range lo {
		if a == 25 {
			continue
		}
		hi := 64
		if k+1 < len(lo) {
			hi = lo[k+1] - 1
		}
		names = append(names, fmt.Sprintf("age_%d_%d", a, hi))
	}
	return panel.CovFuncs(names, func(u *panel.UnitView, out []float64) {
		age := panel.AgeYears(u.Register.Birth[u.Person], u.Start)
		b := 0
		for k, a := range lo {
			if age >= a {
				b = k
			}
		}
		switch {
		case b < 2:
			out[b] = 1
		case b > 2:
			out[b-1] = 1
		}
	})
}

// subgroupLabels names the codes of each subgroup attribute.
var subgroupLabels = map[string][]string{
	sAgeBand: {"16-24", "25-39", "40-64"},
	sSupport: {"under 1 year", "1-3 years", "3-5 years"},
}

// registerView holds what the design's own per-unit functions need from
// the register, resolved by name once: status code tables (by the
// register's own level order, which differs between a generated and a
// read register), the wage-income outcome and the attributes. The first
// name that cannot be resolved is kept in err.
type registerView struct {
	r        *panel.Register
	public   [256]bool // status codes of public support (SU excluded)
	employed *panel.Outcome
	err      error
}

func newRegisterView(r *panel.Register) (*registerView, error) {
	v := &registerView{r: r}
	if v.employed = r.Outcome(synth.Employed); v.employed == nil {
		return nil, fmt.Errorf("the register has no outcome %q (wage income), which the SFI design needs", synth.Employed)
	}
	v.public = v.codeSet(synth.PublicSupportLevels())
	return v, nil
}

// codeSet marks the register's status codes whose level is in levels.
func (v *registerView) codeSet(levels []string) (set [256]bool) {
	in := map[string]bool{}
	for _, l := range levels {
		in[l] = true
	}
	for c, l := range v.r.Status.Levels {
		set[c] = in[l]
	}
	return set
}

// supportWeeks is the number of weeks on public support in the 260 weeks
// (5 years) before the unit's start week.
func (v *registerView) supportWeeks(u *panel.UnitView) int { return u.WeeksBefore(260, &v.public) }

// levelDummy is panel.LevelIn, with the design's own error when the
// register lacks the attribute.
func (v *registerView) levelDummy(name, attr string, levels ...string) panel.Covariate {
	if a := v.r.Attr(attr); (a == nil || !a.IsCategorical()) && v.err == nil {
		v.err = fmt.Errorf("the register has no categorical attribute %q, which the SFI design needs", attr)
	}
	return panel.LevelIn(name, attr, levels...)
}
