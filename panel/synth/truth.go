package synth

import (
	"context"
	"fmt"
	"math"

	"github.com/psmeval/psmeval/panel"
)

// Counterfactual selects the untreated outcome Y(0) that TrueATT
// compares the treated outcome with.
type Counterfactual int

const (
	// NotInWindow is the SFI design's estimand: Y(0) is the outcome had
	// the person not started a spell in the SFI window (1 Feb – 31 Jul
	// 2012), free to start later, as the design's controls are. A window
	// starter is drawn from the window's potential controls (never-starters
	// and later starters, selected on its features at the start day; see
	// the package documentation), so its Y(0) is the outcome of that
	// candidate: treated from the candidate's own later start when it was
	// a later starter, never treated otherwise, with the same random draws
	// (common random numbers). A person whose first start is outside the
	// window keeps it; a person who never starts stays untreated.
	NotInWindow Counterfactual = iota
	// NeverStart: Y(0) is the outcome had the person never started a
	// spell (Population.Untreated). It differs from NotInWindow by the
	// effect of the later starts that the window's counterfactual allows.
	NeverStart
)

// String returns "not in window" or "never start".
func (c Counterfactual) String() string {
	switch c {
	case NotInWindow:
		return "not in window"
	case NeverStart:
		return "never start"
	}
	return fmt.Sprintf("Counterfactual(%d)", int(c))
}

// TrueATT returns the true average effect on the persons given of
// starting a mentor spell in the given calendar months (their cohorts):
// for event months m = 0..H, the mean over the persons observed at
// cohort+m of Y_i(1)(cohort_i+m) − Y_i(0)(cohort_i+m), where Y(1) is the
// outcome had person i first started in cohort_i and Y(0) the outcome
// selected by cf (NotInWindow, the design's estimand, or NeverStart).
// Both come from the same random draws (the person is re-simulated from
// its streams), so the result is exact, not estimated; it is exactly 0
// when Options.Effect is zero. Months beyond the outcome's cut-off are
// left out of the mean; a month no person is observed in is NaN. persons
// are indices into Register.IDs.
//
// With cohort_i equal to the month of FirstStart[i], Y(1) is the
// person's observed outcome; with NeverStart, Y(0) is its Untreated
// outcome.
//
// It is PersonEffects(persons, cohort, H, cf).ATT(outcome, nil); call
// PersonEffects once when several outcomes or subsets of the same
// persons are needed. Cost: one person simulation (a few microseconds)
// per person, on Options.Workers goroutines; the result does not depend
// on Workers.
func (p *Population) TrueATT(outcome string, persons []int32, cohort []panel.Month, H int, cf Counterfactual) ([]float64, error) {
	if _, err := outcomeIndex(outcome); err != nil {
		return nil, fmt.Errorf("synth: TrueATT: %w", err)
	}
	e, err := p.PersonEffects(persons, cohort, H, cf)
	if err != nil {
		return nil, err
	}
	return e.ATT(outcome, nil)
}

// outcomeIndex returns the index of outcome in OutcomeNames.
func outcomeIndex(outcome string) (int, error) {
	for i, n := range OutcomeNames {
		if n == outcome {
			return i, nil
		}
	}
	return -1, fmt.Errorf("unknown outcome %q (have %v)", outcome, OutcomeNames)
}

// PersonEffects holds the true individual effects Y_i(1) − Y_i(0) (−1, 0
// or 1) of every outcome in event months 0..H for the persons given to
// Population.PersonEffects, in their order.
type PersonEffects struct {
	H int
	n int
	// d[(j*len(OutcomeNames)+k)*(H+1)+m] is person j's effect on outcome
	// k in event month m, or unobserved (beyond the outcome's cut-off).
	d []int8
}

// unobserved marks an event month beyond an outcome's cut-off.
const unobserved int8 = 2

// PersonEffects simulates each person once (both potential outcomes,
// from the person's own streams, as TrueATT) and keeps its individual
// effect on every outcome in event months 0..H; see TrueATT for the
// arguments. Cost: one person simulation per person on Options.Workers
// goroutines and len(OutcomeNames)·(H+1) bytes per person.
func (p *Population) PersonEffects(persons []int32, cohort []panel.Month, H int, cf Counterfactual) (*PersonEffects, error) {
	if len(persons) != len(cohort) {
		return nil, fmt.Errorf("synth: TrueATT: %d persons but %d cohorts", len(persons), len(cohort))
	}
	if H < 0 {
		return nil, fmt.Errorf("synth: TrueATT: horizon H = %d must be >= 0", H)
	}
	if cf != NotInWindow && cf != NeverStart {
		return nil, fmt.Errorf("synth: TrueATT: unknown counterfactual %d", int(cf))
	}
	if len(p.gen) != p.Register.Len() {
		return nil, fmt.Errorf("synth: TrueATT needs a Population made by Generate")
	}
	for j, i := range persons {
		if i < 0 || int(i) >= len(p.gen) {
			return nil, fmt.Errorf("synth: TrueATT: person %d (entry %d) out of range 0..%d", i, j, len(p.gen)-1)
		}
	}
	o := p.Options
	K := len(OutcomeNames)
	e := &PersonEffects{H: H, n: len(persons), d: make([]int8, len(persons)*K*(H+1))}
	const blk = 256
	nb := (len(persons) + blk - 1) / blk
	err := parallelBlocks(context.Background(), o.Workers, nb, func(s *sim, b int) {
		for j := b * blk; j < min(len(persons), (b+1)*blk); j++ {
			s.simulate(int(p.gen[persons[j]]))
			sm := int(cohort[j] - OutcomeFirstMonth)
			y1 := s.outcomes(sm, &o.Effect)
			y0sm := -1
			if cf == NotInWindow {
				y0sm = s.startWithoutWindow()
			}
			y0 := s.outcomes(y0sm, &o.Effect)
			for k := range K {
				row := e.d[(j*K+k)*(H+1) : (j*K+k+1)*(H+1)]
				for m := range row {
					t := sm + m
					if t < 0 || t >= outcomeMonths[k] {
						row[m] = unobserved
						continue
					}
					var v int8
					if y1.get(k, t) {
						v++
					}
					if y0.get(k, t) {
						v--
					}
					row[m] = v
				}
			}
		}
	}, &o)
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ATT returns, for event months 0..H, the mean effect on outcome over the
// persons with the given entries (indices into the persons given to
// PersonEffects; nil: all) observed in that month, NaN for a month none
// is observed in. The sums are exact (integers), so the result does not
// depend on the order of entries.
func (e *PersonEffects) ATT(outcome string, entries []int) ([]float64, error) {
	k, err := outcomeIndex(outcome)
	if err != nil {
		return nil, fmt.Errorf("synth: PersonEffects.ATT: %w", err)
	}
	K, H1 := len(OutcomeNames), e.H+1
	sum := make([]int64, H1)
	cnt := make([]int64, H1)
	add := func(j int) {
		for m, v := range e.d[(j*K+k)*H1 : (j*K+k+1)*H1] {
			if v != unobserved {
				sum[m] += int64(v)
				cnt[m]++
			}
		}
	}
	if entries == nil {
		for j := range e.n {
			add(j)
		}
	} else {
		for _, j := range entries {
			if j < 0 || j >= e.n {
				return nil, fmt.Errorf("synth: PersonEffects.ATT: entry %d out of range 0..%d", j, e.n-1)
			}
			add(j)
		}
	}
	out := make([]float64, H1)
	for m := range out {
		if cnt[m] == 0 {
			out[m] = math.NaN()
		} else {
			out[m] = float64(sum[m]) / float64(cnt[m])
		}
	}
	return out, nil
}

// startWithoutWindow returns the outcome month of the simulated person's
// first start had it not started in the SFI window, -1 for none (see
// NotInWindow).
func (s *sim) startWithoutWindow() int {
	d := s.start
	if d >= windowFirst && d <= windowLast {
		d = s.candStart
	}
	if d == NoStart {
		return -1
	}
	return int(panel.MonthOf(d) - OutcomeFirstMonth)
}
