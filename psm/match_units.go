package psm

import "errors"

// UnitOptions configures MatchUnits: the matching rule and the per-unit
// frequency weights and strata. The zero value is the default (the SFI
// rule, unit weights, one stratum).
type UnitOptions struct {
	// Match is the matching rule; its TreatedWeights, ControlWeights,
	// TreatedStrata and ControlStrata must be nil (give Weights and
	// Strata per unit instead).
	Match MatchOptions
	// Weights are frequency weights, one per unit (nil = all 1).
	Weights []float64
	// Strata restricts matches to controls of the treated unit's stratum,
	// one code per unit (nil = one stratum).
	Strata []int32
}

// UnitMatching is a Matching in unit space: treated unit TreatedUnits[i]
// is the Matching's treated i and control unit ControlUnits[j] its
// control j, both in unit order. It is the matched sample that package
// estimate's estimators take, and it keeps the scores and options it was
// matched with, so that a bootstrap can re-match by the same rule.
type UnitMatching struct {
	*Matching
	TreatedUnits, ControlUnits []int
	// Scores and Options are MatchUnits' arguments (not copies: do not
	// change them while the UnitMatching is in use).
	Scores  []float64
	Options UnitOptions
}

// MatchUnits matches treated to control units on one score per unit and
// a treated flag per unit, as R's Match(Y, Tr, X) takes them: it splits
// the units by the flag (in unit order) and calls Match. Errors about a
// unit are *InputError values whose Index is the unit and whose Field is
// "scores", "Weights" or "Strata" (the argument the caller gave), so the
// caller can name the row the user knows. Cost: Match's plus O(n).
func MatchUnits(scores []float64, treated []bool, opts *UnitOptions) (*UnitMatching, error) {
	var o UnitOptions
	if opts != nil {
		o = *opts
	}
	n := len(scores)
	if len(treated) != n {
		return nil, optionError("treated", "%d flags for %d scores", len(treated), n)
	}
	if o.Weights != nil && len(o.Weights) != n {
		return nil, optionError("Weights", "%d weights for %d units", len(o.Weights), n)
	}
	if o.Strata != nil && len(o.Strata) != n {
		return nil, optionError("Strata", "%d strata for %d units", len(o.Strata), n)
	}
	mo := o.Match
	if mo.TreatedWeights != nil || mo.ControlWeights != nil || mo.TreatedStrata != nil || mo.ControlStrata != nil {
		return nil, optionError("Match", "give weights and strata per unit (UnitOptions.Weights, Strata), not per group")
	}
	um := &UnitMatching{Scores: scores, Options: o}
	nt := 0
	for _, t := range treated {
		if t {
			nt++
		}
	}
	um.TreatedUnits, um.ControlUnits = make([]int, 0, nt), make([]int, 0, n-nt)
	ts, cs := make([]float64, 0, nt), make([]float64, 0, n-nt)
	for u, t := range treated {
		if t {
			um.TreatedUnits, ts = append(um.TreatedUnits, u), append(ts, scores[u])
		} else {
			um.ControlUnits, cs = append(um.ControlUnits, u), append(cs, scores[u])
		}
	}
	if o.Weights != nil {
		mo.TreatedWeights, mo.ControlWeights = gather(o.Weights, um.TreatedUnits), gather(o.Weights, um.ControlUnits)
	}
	if o.Strata != nil {
		mo.TreatedStrata, mo.ControlStrata = gather(o.Strata, um.TreatedUnits), gather(o.Strata, um.ControlUnits)
	}
	m, err := Match(ts, cs, &mo)
	if err != nil {
		return nil, um.unitError(err)
	}
	um.Matching = m
	return um, nil
}

// ATT is ATT with one outcome value per unit (y[u]); an error about a
// unit names it (Field "y", Index the unit).
func (m *UnitMatching) ATT(y []float64, opts *ATTOptions) (ATTResult, error) {
	yt, yc, err := m.Split(y)
	if err != nil {
		return ATTResult{}, err
	}
	r, err := ATT(yt, yc, m.Matching, opts)
	return r, m.unitError(err)
}

// Split returns the values of v (one per unit) of the treated and of the
// controls, each in unit order: the group vectors of Match and ATT.
func (m *UnitMatching) Split(v []float64) (treated, control []float64, err error) {
	n := len(m.TreatedUnits) + len(m.ControlUnits)
	if len(v) != n {
		return nil, nil, optionError("y", "%d values for %d units", len(v), n)
	}
	return gather(v, m.TreatedUnits), gather(v, m.ControlUnits), nil
}

// unitField maps the group-space argument names of Match and ATT to the
// unit-space ones, and says which group an index counts.
var unitField = map[string]struct {
	name    string
	treated bool
}{
	"treated": {"scores", true}, "control": {"scores", false},
	"TreatedWeights": {"Weights", true}, "ControlWeights": {"Weights", false},
	"TreatedStrata": {"Strata", true}, "ControlStrata": {"Strata", false},
	"yTreated": {"y", true}, "yControl": {"y", false},
}

// unitError rewrites an *InputError about a treated or control index
// into one about the unit.
func (m *UnitMatching) unitError(err error) error {
	var ie *InputError
	if err == nil || !errors.As(err, &ie) {
		return err
	}
	f, ok := unitField[ie.Field]
	if !ok {
		return err
	}
	out := *ie
	out.Field = f.name
	if ie.Index >= 0 {
		units := m.ControlUnits
		if f.treated {
			units = m.TreatedUnits
		}
		if ie.Index < len(units) {
			out.Index = units[ie.Index]
		} else {
			out.Index = -1
		}
	}
	return &out
}

// gather returns v[u] for the units u in order.
func gather[T any](v []T, units []int) []T {
	out := make([]T, len(units))
	for i, u := range units {
		out[i] = v[u]
	}
	return out
}
