package estimate

import (
	"fmt"
	"math"

	"github.com/psmeval/psmeval/psm"
)

// EffectOptions configures Effects. The zero value is the default.
type EffectOptions struct {
	// IncludeMonth0 makes accumulated effects start at event month 0. By
	// default (false) they start at month 1, "months gained or lost after
	// the start month", and are 0 at month 0.
	IncludeMonth0 bool
}

// Matches are the match sets of the treated units in compressed rows, the
// shape of psm.Matching with unit indices: treated unit Treated[k] is
// matched to the control units Control[Start[k]:Start[k+1]] with set
// weights Weight[...] summing to 1. An empty set marks an unmatched
// treated unit (caliper, no control in its stratum), which is left out.
type matchSets struct {
	Treated []int32
	Start   []int
	Control []int32
	Weight  []float64
}

func (m *matchSets) validate(s *Sample) error {
	return m.validateUnits(s.Len(), func(u int32) bool { return s.Treated[u] }, s)
}

// validateUnits is validate for sets over n units whose treated flags
// are treated(u) (0 <= u < n); s, which may be nil, names the person of
// a unit in an error.
func (m *matchSets) validateUnits(n int, treated func(u int32) bool, s *Sample) error {
	nt := len(m.Treated)
	if len(m.Start) != nt+1 {
		return invalid("sets.Start", "%d entries for %d treated", len(m.Start), nt)
	}
	if len(m.Control) != len(m.Weight) || m.Start[0] != 0 || m.Start[nt] != len(m.Control) {
		return invalid("sets", "Start/Control/Weight do not fit (Start[%d] = %d, %d controls, %d weights)", nt, m.Start[nt], len(m.Control), len(m.Weight))
	}
	for k, u := range m.Treated {
		if u < 0 || int(u) >= n {
			return invalid(fmt.Sprintf("sets.Treated[%d]", k), "unit %d is not a unit of the sample (%d units)", u, n)
		}
		if !treated(u) {
			return invalidUnit(s, fmt.Sprintf("sets.Treated[%d]", k), int(u), 0, "not a treated unit")
		}
		if m.Start[k+1] < m.Start[k] {
			return invalidUnit(s, fmt.Sprintf("sets.Start[%d]", k+1), int(u), 0, "%d < Start[%d] = %d: the set of this treated unit ends before it starts", m.Start[k+1], k, m.Start[k])
		}
		if m.Start[k+1] > len(m.Control) {
			return invalidUnit(s, fmt.Sprintf("sets.Start[%d]", k+1), int(u), 0, "%d is beyond the %d controls", m.Start[k+1], len(m.Control))
		}
		sum := 0.0
		for p := m.Start[k]; p < m.Start[k+1]; p++ {
			c := m.Control[p]
			if c < 0 || int(c) >= n || treated(c) {
				return invalidUnit(s, fmt.Sprintf("sets.Control[%d]", p), int(u), 0, "treated unit matched to unit %d, which is not a control", c)
			}
			if !(m.Weight[p] >= 0) {
				return invalidUnit(s, fmt.Sprintf("sets.Weight[%d]", p), int(c), m.Weight[p], "weight %v of this control in the set of treated unit %d, want >= 0", m.Weight[p], u)
			}
			sum += m.Weight[p]
		}
		if m.Start[k+1] > m.Start[k] && math.Abs(sum-1) > 1e-9 {
			return invalidUnit(s, "sets.Weight", int(u), sum, "weights of the set of this treated unit sum to %v, not 1", sum)
		}
	}
	return nil
}

// Effects computes, for every outcome, event month (−Pre..H) and subgroup, the
// treated mean, the weighted mean of the matched controls, the ATT and the
// accumulated effect (see the package doc for the formulas), from match
// sets computed once on the whole sample. A NaN or infinite outcome of a
// treated unit or a matched control inside the horizon is an *Error
// wrapping ErrNaNOutcome (values beyond the horizon are never read).
// m is the matched sample: psm.MatchUnits on one score per unit of s
// with s.Treated as the treated flags.
// Cost: O((treated + match-set entries) · Σ(Pre+H+1) · (1 + subgroup attributes)).
func Effects(s *Sample, m *psm.UnitMatching, opts *EffectOptions) (*Result, error) {
	ms, err := setsFromUnits(s, m, "Effects")
	if err != nil {
		return nil, err
	}
	return effects(s, ms, opts)
}

// effects is Effects on match sets in unit space.
func effects(s *Sample, m *matchSets, opts *EffectOptions) (*Result, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	if err := m.validate(s); err != nil {
		return nil, err
	}
	return effectsResult(s, m, nil, opts)
}

// effectsResult is Effects on validated match sets, with the controls'
// sums from rows when not nil (see effectsOf).
func effectsResult(s *Sample, m *matchSets, rows func(k int) []float64, opts *EffectOptions) (*Result, error) {
	if opts == nil {
		opts = &EffectOptions{}
	}
	series, err := effectsOf(s, m, rows)
	if err != nil {
		return nil, err
	}
	res := &Result{Method: "effects", IncludeMonth0: opts.IncludeMonth0, Series: series}
	for i := range res.Series {
		accumulate(res.Series[i].Effects, opts.IncludeMonth0)
	}
	return res, nil
}

// effectsOf computes the series of s from match sets (accumulated effects
// not yet filled). rows, when not nil, gives the weighted sum of the
// outcome rows of the controls of treated unit k's set (the k-th of
// m.Treated) in place of the sum over the set (Σ_p Weight[p]·row(Control[p])
// in set order, each control checked for NaN outcomes).
func effectsOf(s *Sample, m *matchSets, rows func(k int) []float64) ([]Series, error) {
	l := s.layout()
	gi := s.groups()
	G := len(gi.names)
	tsum := make([]float64, G*l.cols)
	csum := make([]float64, G*l.cols)
	nt := make([]int, G)
	nun := make([]int, G)
	wc := make([]float64, G)
	distinct := make([]map[int32]struct{}, G)
	for g := range distinct {
		distinct[g] = map[int32]struct{}{}
	}
	checked := map[int32]bool{}
	var gs []int32
	crow := make([]float64, l.cols)
	for k, u := range m.Treated {
		gs = s.unitGroups(gs, int(u), &gi)
		lo, hi := m.Start[k], m.Start[k+1]
		if lo == hi {
			for _, g := range gs {
				nun[g]++
			}
			continue
		}
		if err := s.checkUnit(int(u)); err != nil {
			return nil, err
		}
		if rows != nil {
			crow = rows(k)
		} else {
			clear(crow)
			for p := lo; p < hi; p++ {
				c := m.Control[p]
				if !checked[c] {
					if err := s.checkUnit(int(c)); err != nil {
						return nil, err
					}
					checked[c] = true
				}
				s.addRow(crow, int(c), m.Weight[p], &l)
			}
		}
		for _, g := range gs {
			s.addRow(tsum[int(g)*l.cols:(int(g)+1)*l.cols], int(u), 1, &l)
			cs := csum[int(g)*l.cols : (int(g)+1)*l.cols]
			for j, v := range crow {
				cs[j] += v
			}
			nt[g]++
			for p := lo; p < hi; p++ {
				if m.Weight[p] > 0 {
					distinct[g][m.Control[p]] = struct{}{}
					wc[g] += m.Weight[p]
				}
			}
		}
	}
	if nt[0] == 0 {
		return nil, noMatchesError(s)
	}
	var out []Series
	for k := range s.Outcomes {
		o := &s.Outcomes[k]
		for g := 0; g < G; g++ {
			se := Series{
				Outcome: o.Name, Subgroup: gi.names[g].attr, Group: gi.names[g].level,
				NTreated: nt[g], NUnmatched: nun[g], NControls: len(distinct[g]), WeightedControls: wc[g],
				Pre: o.Pre, Effects: make([]Effect, o.width()), BandCrit: [2]float64{math.NaN(), math.NaN()},
				PreBandCrit: math.NaN(),
			}
			for mo := 0; mo < o.width(); mo++ {
				j := int(g)*l.cols + l.off[k] + mo
				e := Effect{Month: mo - o.Pre, TreatedMean: math.NaN(), ControlMean: math.NaN(), ATT: math.NaN()}
				if nt[g] > 0 {
					e.TreatedMean = tsum[j] / float64(nt[g])
					e.ControlMean = csum[j] / float64(nt[g])
					e.ATT = e.TreatedMean - e.ControlMean
				}
				se.Effects[mo] = e
			}
			out = append(out, se)
		}
	}
	return out, nil
}

// accumulates reports whether event month m enters the accumulated
// effects: months 1..H, and month 0 when month0 is set. Months before the
// start never do (their accumulated effect is 0).
func accumulates(m int, month0 bool) bool { return m > 0 || month0 && m == 0 }

// accumulate fills Accumulated as the running sum of ATT.
func accumulate(e []Effect, month0 bool) {
	acc := 0.0
	for j := range e {
		if accumulates(e[j].Month, month0) {
			acc += e[j].ATT
		}
		e[j].Accumulated = acc
	}
}

// cumsum turns a monthly row of months −pre.. into accumulated effects in
// place.
func cumsum(v []float64, pre int, month0 bool) {
	acc := 0.0
	for j := range v {
		if accumulates(j-pre, month0) {
			acc += v[j]
		}
		v[j] = acc
	}
}

// noMatchesError is the *Error wrapping ErrNoMatches, with the group
// sizes, which tell an empty group (all units treated, no treated) from a
// matching that left every treated unit out (caliper, strata).
func noMatchesError(s *Sample) error {
	nt := s.nTreated()
	return &Error{Unit: -1, Person: -1, Err: ErrNoMatches,
		Msg: fmt.Sprintf("%d treated and %d control units; no treated unit has a match set", nt, s.Len()-nt)}
}
