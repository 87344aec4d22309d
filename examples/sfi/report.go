package main

import (
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/psmeval/psmeval/estimate"
)

// defaultInterval is the -interval default.
const defaultInterval = "otsu-rai-normal"

// intervalOrder lists the -interval methods in the order tables show them.
var intervalOrder = []string{"bootstrap-percentile", "bootstrap-normal", "abadie-imbens", "abadie-imbens-2016", "otsu-rai-percentile", "otsu-rai-normal"}

// intervalMethods are the values of -interval: the label, the result that
// holds the intervals and which interval of its bounds.
var intervalMethods = map[string]struct {
	label    string
	result   func(a *analysis) *estimate.Result
	interval func(b estimate.Bounds) estimate.Interval
}{
	"bootstrap-percentile": {"bootstrap percentile interval (%d replicates, %s; R quantile type 7)",
		func(a *analysis) *estimate.Result { return a.boot }, percentile},
	"bootstrap-normal": {"bootstrap normal interval (estimate ± 1.96 bootstrap SE; %d replicates, %s)",
		func(a *analysis) *estimate.Result { return a.boot }, normal},
	"abadie-imbens": {"normal interval, Abadie-Imbens standard errors",
		func(a *analysis) *estimate.Result { return a.ai }, normal},
	"abadie-imbens-2016": {"normal interval, Abadie-Imbens (2016) standard errors for the estimated logit score",
		func(a *analysis) *estimate.Result { return a.ai2016 }, normal},
	"otsu-rai-percentile": {"Otsu-Rai weighted bootstrap percentile interval (%d replicates)",
		func(a *analysis) *estimate.Result { return a.otsuRai }, percentile},
	"otsu-rai-normal": {"Otsu-Rai weighted bootstrap normal interval (%d replicates)",
		func(a *analysis) *estimate.Result { return a.otsuRai }, normal},
}

// method returns the -interval method in use: Abadie-Imbens when the run
// has no bootstrap replicates and the method needs them.
func (a *analysis) method() string {
	if a.cfg.bootstrap == 0 && !analytic(a.cfg.interval) {
		return "abadie-imbens"
	}
	return a.cfg.interval
}

// analytic reports whether the -interval method needs no replicates.
func analytic(method string) bool { return strings.HasPrefix(method, "abadie-imbens") }

// interval returns the reported interval and standard error of event
// month m of series se (the whole sample or a subgroup), from the
// -interval method (see method).
func (a *analysis) interval(se *estimate.Series, m int, accumulated bool) (lo, hi, sdErr float64) {
	im := intervalMethods[a.method()]
	res := im.result(a)
	if res == nil {
		return math.NaN(), math.NaN(), math.NaN()
	}
	s := res.Find(se.Outcome, se.Subgroup, se.Group)
	if s == nil || s.Monthly == nil {
		return math.NaN(), math.NaN(), math.NaN()
	}
	b := s.Monthly[m]
	if accumulated {
		b = s.Accumulated[m]
	}
	iv := im.interval(b)
	return iv.Lo, iv.Hi, b.SE
}

func (a *analysis) intervalKind() string {
	im := intervalMethods[a.method()]
	if !strings.Contains(im.label, "%") {
		return "95% " + im.label
	}
	kind := "fixed scores"
	if a.cfg.refit {
		kind = "re-fitted logit"
	}
	if strings.Count(im.label, "%") == 1 {
		return "95% " + fmt.Sprintf(im.label, a.cfg.bootstrap)
	}
	return "95% " + fmt.Sprintf(im.label, a.cfg.bootstrap, kind)
}

func report(w io.Writer, a *analysis) {
	p := a.panel
	c := p.Counts
	fmt.Fprintf(w, "SFI mentor-support effect analysis (%s)\n\n", a.source())
	fmt.Fprintf(w, "persons %d; spells %d (%d after merging consecutive sub-spells)\n", c.Persons, c.Spells, c.MergedSpells)
	fmt.Fprintf(w, "treated (first new spell 1 Feb - 31 Jul 2012, eligible): %d of %d starters\n", c.Treated, c.Starters)
	fmt.Fprintf(w, "potential controls %d, eligible at their simulated start week %d\n", c.PotentialControls, c.Controls)
	for _, d := range c.Dropped {
		fmt.Fprintf(w, "  dropped by %-45s treated %6d  controls %9d\n", d.Rule+":", d.Treated, d.Controls)
	}
	fmt.Fprintf(w, "logit: %d coefficients, %d iterations, converged %v", len(a.logit.Coef), a.logit.Iterations, a.logit.Converged)
	if len(a.logit.Aliased) > 0 {
		fmt.Fprintf(w, ", aliased and dropped: %s", strings.Join(a.logit.Aliased, ", "))
	}
	if len(a.separated) > 0 {
		fmt.Fprintf(w, ", dropped for perfect prediction: %s", strings.Join(a.separated, ", "))
	}
	fmt.Fprintf(w, "\nmatching: %d treated matched to %d distinct controls (weighted %.0f)\n\n",
		a.matching.NMatched, a.matching.NDistinctControls, a.matching.WeightedControls)
	a.diag.write(w)

	fmt.Fprintln(w, "Table 5.1  Treated and matched controls at start (percent unless noted)")
	fmt.Fprintf(w, "%-44s %8s %8s   %8s %8s %7s\n", "", "report", "", "this run", "", "")
	fmt.Fprintf(w, "%-44s %8s %8s   %8s %8s %7s\n", "characteristic", "treated", "controls", "treated", "controls", "SMD")
	for _, r := range a.table51() {
		fmt.Fprintf(w, "%-44s %8.1f %8.1f   %8.1f %8.1f %7.3f\n", r.label, r.reportT, r.reportC, r.treated, r.control, r.smd)
	}
	fmt.Fprintf(w, "%-44s %8d %8d   %8d %8.0f\n\n", "N", 6487, 6487, a.matching.NMatched, a.matching.WeightedControls)

	fmt.Fprintf(w, "Monthly effects (percentage points) with %s\n", a.intervalKind())
	for _, oi := range outcomeInfo {
		se := a.effects.Find(oi.name, "", "")
		if se == nil {
			continue
		}
		fmt.Fprintf(w, "\n%s (months 0-%d)\n", oi.label, len(se.Effects)-1)
		fmt.Fprintf(w, "%5s %8s %8s %8s %17s %8s\n", "month", "treated", "controls", "effect", "interval", "truth")
		for m, e := range se.Effects {
			lo, hi, _ := a.interval(se, m, false)
			fmt.Fprintf(w, "%5d %8.1f %8.1f %8.1f  [%6.1f, %6.1f] %8s\n", m, 100*e.TreatedMean, 100*e.ControlMean, 100*e.ATT, 100*lo, 100*hi, pp(se.Truth, m))
		}
	}

	fmt.Fprintf(w, "\nAccumulated effects (months gained or lost after the start month, months 1..H)\n")
	fmt.Fprintf(w, "%-36s %4s %8s %17s %8s %8s %8s\n", "outcome", "H", "effect", "interval", "truth", "never", "report")
	reportAcc := map[string]float64{outcomeInfo[0].name: -0.2, outcomeInfo[1].name: -0.5, outcomeInfo[2].name: -0.2}
	for _, oi := range outcomeInfo {
		se := a.effects.Find(oi.name, "", "")
		if se == nil {
			continue
		}
		H := len(se.Effects) - 1
		lo, hi, _ := a.interval(se, H, true)
		truth, never := "n/a", "n/a"
		if se.TruthAccumulated != nil {
			truth = fmt.Sprintf("%.2f", se.TruthAccumulated[H])
		}
		if v := truthAt(a.truthNever[oi.name].accumulated, H); !math.IsNaN(v) {
			never = fmt.Sprintf("%.2f", v)
		}
		fmt.Fprintf(w, "%-36s %4d %8.2f  [%6.2f, %6.2f] %8s %8s %8.1f\n", oi.label, H, se.Effects[H].Accumulated, lo, hi, truth, never, reportAcc[oi.name])
	}
	if a.truthNever != nil {
		fmt.Fprintln(w, "truth: the true effect of starting in the window against not starting then (later starts allowed, as for")
		fmt.Fprintln(w, "the controls: the design's estimand); never: against never starting.")
	}
	fmt.Fprintln(w)
	for _, oi := range outcomeInfo {
		se := a.effects.Find(oi.name, "", "")
		if se == nil {
			continue
		}
		H := len(se.Effects) - 1
		acc := se.Effects[H].Accumulated
		more := "more"
		if acc < 0 {
			more = "less"
		}
		fmt.Fprintf(w, "The treated spent %.2f months %s in %s over %d months than their matched controls", math.Abs(acc), more, oi.short, H)
		if se.TruthAccumulated != nil {
			fmt.Fprintf(w, " (true effect: %+.2f months)", se.TruthAccumulated[H])
		}
		fmt.Fprintln(w, ".")
	}

	a.writeCredibility(w)

	fmt.Fprintf(w, "\nSubgroups: accumulated effect on %s over the whole horizon\n", outcomeInfo[0].short)
	fmt.Fprintf(w, "%-18s %-24s %7s %8s %17s %8s\n", "subgroup", "group", "N", "effect", "interval", "truth")
	for i := range a.effects.Series {
		se := &a.effects.Series[i]
		if se.Subgroup == "" || se.Outcome != outcomeInfo[0].name {
			continue
		}
		H := len(se.Effects) - 1
		lo, hi, _ := a.interval(se, H, true)
		truth := "n/a"
		if se.TruthAccumulated != nil {
			truth = fmt.Sprintf("%.2f", se.TruthAccumulated[H])
		}
		fmt.Fprintf(w, "%-18s %-24s %7d %8.2f  [%6.2f, %6.2f] %8s\n", se.Subgroup, a.groupLabel(se.Subgroup, se.Group), se.NTreated, se.Effects[H].Accumulated, lo, hi, truth)
	}
}

func pp(v []float64, m int) string {
	if v == nil || m >= len(v) || math.IsNaN(v[m]) {
		return "n/a"
	}
	return fmt.Sprintf("%.1f", 100*v[m])
}

func (a *analysis) source() string {
	if a.pop == nil {
		return "register " + a.cfg.data
	}
	return fmt.Sprintf("synthetic population, scale %g, scenario %s, seed %d", a.cfg.scale, a.cfg.scenario, a.cfg.seed)
}

// groupLabel names a subgroup level for people.
func (a *analysis) groupLabel(sub, group string) string {
	var idx int
	if _, err := fmt.Sscan(group, &idx); err != nil {
		return group
	}
	switch sub {
	case sSex, sMatch: // AttrCode: the index of the register's level
		if at := a.reg.Attr(sub); at != nil && idx >= 0 && idx < len(at.Levels) {
			return at.Levels[idx]
		}
	case sBenefit:
		names := append([]string{"self_supporting"}, benefitNames()...)
		if idx >= 0 && idx < len(names) {
			return names[idx]
		}
	}
	if l, ok := subgroupLabels[sub]; ok && idx >= 0 && idx < len(l) {
		return l[idx]
	}
	return group
}

func benefitNames() []string {
	var s []string
	for _, g := range benefitGroups() {
		s = append(s, g.Name)
	}
	return s
}

// row51 is one row of the Table 5.1 replica.
type row51 struct {
	desc, label            string
	reportT, reportC       float64
	treated, control, smd  float64
	treatedPre, controlPre float64
	smdPre                 float64
}

func (a *analysis) table51() []row51 {
	var rows []row51
	for _, t := range table51 {
		for _, b := range a.descBal.Rows {
			if b.Name != t.desc {
				continue
			}
			f := 1.0
			if t.percent {
				f = 100
			}
			rows = append(rows, row51{
				desc: t.desc, label: t.label, reportT: t.treated, reportC: t.contrl,
				treated: f * b.After.MeanTreated, control: f * b.After.MeanControl, smd: b.After.SMD,
				treatedPre: f * b.Before.MeanTreated, controlPre: f * b.Before.MeanControl, smdPre: b.Before.SMD,
			})
		}
	}
	return rows
}
