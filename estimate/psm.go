package estimate

import (
	"fmt"
	"math"
	"slices"

	"github.com/psmeval/psmeval/psm"
)

// split returns the treated and the control units of s in unit order:
// the order in which psm.MatchUnits numbers them.
func (s *Sample) split() (treated, control []int32) {
	nt := s.nTreated()
	treated = make([]int32, 0, nt)
	control = make([]int32, 0, len(s.Treated)-nt)
	for u, t := range s.Treated {
		if t {
			treated = append(treated, int32(u))
		} else {
			control = append(control, int32(u))
		}
	}
	return treated, control
}

// groupMatching returns um's Matching after checking that um matches the
// units of s: psm.MatchUnits on one score per unit of s with s.Treated as
// the treated flags.
func groupMatching(s *Sample, um *psm.UnitMatching) (*psm.Matching, error) {
	if um == nil || um.Matching == nil {
		return nil, invalid("psm.UnitMatching", "no matching (got nil)")
	}
	tr, co := s.split()
	same := func(units []int, want []int32) bool {
		return slices.EqualFunc(units, want, func(a int, b int32) bool { return a == int(b) })
	}
	if !same(um.TreatedUnits, tr) || !same(um.ControlUnits, co) {
		return nil, invalid("psm.UnitMatching", "its %d treated and %d control units are not the sample's %d and %d (another sample?)",
			len(um.TreatedUnits), len(um.ControlUnits), len(tr), len(co))
	}
	if len(um.ControlWeight) != len(co) {
		return nil, invalid("psm.UnitMatching", "%d control weights for %d control units", len(um.ControlWeight), len(co))
	}
	return um.Matching, nil
}

// setsFromUnits checks s and um for the estimator caller and returns the
// match sets of um with unit indices (treated in unit order). um must
// hold its sets (MatchOptions.SkipSets false).
func setsFromUnits(s *Sample, um *psm.UnitMatching, caller string) (*matchSets, error) {
	if s == nil || um == nil {
		return nil, invalid(nilField(s == nil, "Sample", "psm.UnitMatching"), "%s needs a Sample and a psm.UnitMatching (got nil)", caller)
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	m, err := groupMatching(s, um)
	if err != nil {
		return nil, err
	}
	return unitSets(um, m)
}

// unitSets returns the match sets of m, the Matching of um, with unit
// indices (um.TreatedUnits and um.ControlUnits).
func unitSets(um *psm.UnitMatching, m *psm.Matching) (*matchSets, error) {
	nt := len(um.TreatedUnits)
	if m.Start == nil {
		return nil, invalid("psm.UnitMatching", "no match sets (MatchOptions.SkipSets)")
	}
	if len(m.Start) != nt+1 {
		return nil, invalid("psm.UnitMatching.Start", "%d entries for %d treated units", len(m.Start), nt)
	}
	out := &matchSets{Treated: make([]int32, nt), Start: m.Start, Weight: m.Weight, Control: make([]int32, len(m.Control))}
	for i, u := range um.TreatedUnits {
		out.Treated[i] = int32(u)
	}
	for p, j := range m.Control {
		if j < 0 || int(j) >= len(um.ControlUnits) {
			return nil, invalid(fmt.Sprintf("psm.UnitMatching.Control[%d]", p), "control %d of %d", j, len(um.ControlUnits))
		}
		out.Control[p] = int32(um.ControlUnits[j])
	}
	return out, nil
}

// ruleFromUnits returns the rule and the scores on the matching scale
// with which Bootstrap and OtsuRai re-match so as to reproduce um:
// LogitDistance becomes logit scores (on which the caliper, in standard
// deviations as psm's, is then measured). Frequency weights of the point
// estimate are not supported (the replicates' counts are the weights).
func ruleFromUnits(s *Sample, um *psm.UnitMatching) (matchRule, []float64, error) {
	if _, err := groupMatching(s, um); err != nil {
		return matchRule{}, nil, err
	}
	o := um.Options
	if err := checkScores(s, um.Scores); err != nil {
		return matchRule{}, nil, err
	}
	mo := o.Match
	if o.Weights != nil {
		return matchRule{}, nil, invalid("psm.UnitOptions.Weights", "frequency weights of the point estimate are not supported (units are unweighted)")
	}
	x, err := matchScale(s, mo.Distance, um.Scores, "psm.UnitMatching.Scores")
	if err != nil {
		return matchRule{}, nil, err
	}
	r := matchRule{K: mo.K, Caliper: mo.Caliper, TieTolerance: mo.TieTolerance, Trim: mo.Trim, Strata: o.Strata, distance: mo.Distance,
		noReplacement: mo.NoReplacement, tieR: mo.TieRule == psm.TieRMatching}
	return r, x, nil
}

// matchScale returns scores on the matching scale of distance d: the
// scores themselves, or their logits for psm.LogitDistance.
func matchScale(s *Sample, d psm.Distance, scores []float64, field string) ([]float64, error) {
	if d != psm.LogitDistance {
		return scores, nil
	}
	x := make([]float64, len(scores))
	for u, p := range scores {
		if !(p > 0 && p < 1) {
			return nil, invalidUnit(s, field, u, p, "score %v is outside (0,1), as LogitDistance needs", p)
		}
		x[u] = math.Log(p / (1 - p))
	}
	return x, nil
}
