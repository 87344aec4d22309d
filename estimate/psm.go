package estimate

import (
	"fmt"
	"math"

	"github.com/psmeval/psmeval/psm"
)

// split returns the treated and the control units of s in unit order:
// the order psm.Match expects its two score vectors in.
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

// SplitScores returns the scores of the treated and of the control units
// of s, each in unit order: the arguments of psm.Match.
func SplitScores(s *Sample, scores []float64) (treated, control []float64) {
	nt := s.nTreated()
	treated = make([]float64, 0, nt)
	control = make([]float64, 0, len(s.Treated)-nt)
	for u, t := range s.Treated {
		if t {
			treated = append(treated, scores[u])
		} else {
			control = append(control, scores[u])
		}
	}
	return treated, control
}

// MatchesFromPSM converts m, the result of psm.Match on the scores of the
// treated and the controls of s in unit order (SplitScores), to Matches
// with unit indices. m must hold its sets (MatchOptions.SkipSets false).
func MatchesFromPSM(s *Sample, m *psm.Matching) (*Matches, error) {
	if s == nil || m == nil {
		return nil, invalid(nilField(s == nil, "Sample", "psm.Matching"), "MatchesFromPSM needs a Sample and a psm.Matching (got nil)")
	}
	tr, co := s.split()
	if len(m.ControlWeight) != len(co) {
		return nil, invalid("psm.Matching", "%d controls for %d control units (another sample?)", len(m.ControlWeight), len(co))
	}
	if m.Start == nil {
		return nil, invalid("psm.Matching", "no match sets (MatchOptions.SkipSets)")
	}
	if len(m.Start) != len(tr)+1 {
		return nil, invalid("psm.Matching", "%d treated sets for %d treated units (SkipSets, or another sample?)", len(m.Start)-1, len(tr))
	}
	out := &Matches{Treated: tr, Start: m.Start, Weight: m.Weight, Control: make([]int32, len(m.Control))}
	for p, j := range m.Control {
		if j < 0 || int(j) >= len(co) {
			return nil, invalid(fmt.Sprintf("psm.Matching.Control[%d]", p), "control %d of %d", j, len(co))
		}
		out.Control[p] = co[j]
	}
	return out, nil
}

// RuleFromPSM returns the MatchRule and the scores on the matching scale
// that reproduce psm.Match(treated, control, o) for Bootstrap and OtsuRai:
// LogitDistance becomes logit scores (on which MatchRule's caliper, in
// standard deviations as psm's, is then measured) and the strata are put
// in unit order.
// Matching without replacement and TieRMatching are not supported by the
// re-matching of replicates.
func RuleFromPSM(s *Sample, scores []float64, o *psm.MatchOptions) (MatchRule, []float64, error) {
	if err := checkScores(s, scores); err != nil {
		return MatchRule{}, nil, err
	}
	if o == nil {
		return MatchRule{}, scores, nil
	}
	if o.NoReplacement {
		return MatchRule{}, nil, invalid("psm.MatchOptions.NoReplacement", "replicates re-match with replacement only")
	}
	if o.TieRule != psm.TieDistance {
		return MatchRule{}, nil, invalid("psm.MatchOptions.TieRule", "replicates support psm.TieDistance only")
	}
	if o.TreatedWeights != nil || o.ControlWeights != nil {
		return MatchRule{}, nil, invalid(nilField(o.TreatedWeights != nil, "psm.MatchOptions.TreatedWeights", "psm.MatchOptions.ControlWeights"),
			"frequency weights of the point estimate are not supported (units are unweighted)")
	}
	x := scores
	if o.Distance == psm.LogitDistance {
		x = make([]float64, len(scores))
		for u, p := range scores {
			if !(p > 0 && p < 1) {
				return MatchRule{}, nil, invalidUnit(s, "scores", u, p, "score %v is outside (0,1), as LogitDistance needs", p)
			}
			x[u] = math.Log(p / (1 - p))
		}
	}
	r := MatchRule{K: o.K, Caliper: o.Caliper, TieTolerance: o.TieTolerance, Trim: o.Trim}
	if o.TreatedStrata != nil || o.ControlStrata != nil {
		tr, co := s.split()
		if len(o.TreatedStrata) != len(tr) || len(o.ControlStrata) != len(co) {
			return MatchRule{}, nil, invalid(nilField(len(o.TreatedStrata) != len(tr), "psm.MatchOptions.TreatedStrata", "psm.MatchOptions.ControlStrata"),
				"strata lengths %d and %d for %d treated and %d controls", len(o.TreatedStrata), len(o.ControlStrata), len(tr), len(co))
		}
		r.Strata = make([]int32, s.Len())
		for k, u := range tr {
			r.Strata[u] = o.TreatedStrata[k]
		}
		for k, u := range co {
			r.Strata[u] = o.ControlStrata[k]
		}
	}
	return r, x, nil
}
