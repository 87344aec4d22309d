package synth

import (
	"context"
	"fmt"
	"math"

	"github.com/psmeval/psmeval/panel"
)

// TrueATT returns the true average effect on the persons given of
// starting a mentor spell in the given calendar months (their cohorts):
// for event months m = 0..H, the mean over the persons observed at
// cohort+m of Y_i(1)(cohort_i+m) − Y_i(0)(cohort_i+m), where Y(1) is the
// outcome had person i first started in cohort_i and Y(0) had the person
// never started. Both come from the same random draws (the person is
// re-simulated from its streams), so the result is exact, not estimated;
// it is exactly 0 when Options.Effect is zero. Months beyond the
// outcome's cut-off are left out of the mean; a month no person is
// observed in is NaN. persons are indices into Register.IDs.
//
// With cohort_i equal to the month of FirstStart[i], Y(1) is the
// person's observed outcome and Y(0) its Untreated outcome. Note that
// this is the effect of starting versus never starting; the SFI design
// compares starting in the window with not starting in it (controls may
// start later), whose estimand differs when later starters are affected.
//
// Cost: one person simulation (a few microseconds) per person, on
// Options.Workers goroutines; the result does not depend on Workers.
func (p *Population) TrueATT(outcome string, persons []int32, cohort []panel.Month, H int) ([]float64, error) {
	k := -1
	for i, n := range OutcomeNames {
		if n == outcome {
			k = i
		}
	}
	if k < 0 {
		return nil, fmt.Errorf("synth: TrueATT: unknown outcome %q (have %v)", outcome, OutcomeNames)
	}
	if len(persons) != len(cohort) {
		return nil, fmt.Errorf("synth: TrueATT: %d persons but %d cohorts", len(persons), len(cohort))
	}
	if H < 0 {
		return nil, fmt.Errorf("synth: TrueATT: horizon H = %d must be >= 0", H)
	}
	if len(p.gen) != p.Register.N() {
		return nil, fmt.Errorf("synth: TrueATT needs a Population made by Generate")
	}
	for j, i := range persons {
		if i < 0 || int(i) >= len(p.gen) {
			return nil, fmt.Errorf("synth: TrueATT: person %d (entry %d) out of range 0..%d", i, j, len(p.gen)-1)
		}
	}
	o := p.Options
	const blk = 256
	nb := (len(persons) + blk - 1) / blk
	sums := make([][]int64, nb)
	cnts := make([][]int64, nb)
	err := parallelBlocks(context.Background(), o.Workers, nb, func(s *sim, b int) {
		sum := make([]int64, H+1)
		cnt := make([]int64, H+1)
		for j := b * blk; j < min(len(persons), (b+1)*blk); j++ {
			s.simulate(int(p.gen[persons[j]]))
			sm := int(cohort[j] - OutcomeFirstMonth)
			y1 := s.outcomes(sm, &o.Effect)
			y0 := s.outcomes(-1, &o.Effect)
			for m := 0; m <= H; m++ {
				t := sm + m
				if t < 0 || t >= outcomeMonths[k] {
					continue
				}
				cnt[m]++
				if y1.get(k, t) {
					sum[m]++
				}
				if y0.get(k, t) {
					sum[m]--
				}
			}
		}
		sums[b], cnts[b] = sum, cnt
	}, &o)
	if err != nil {
		return nil, err
	}
	out := make([]float64, H+1)
	for m := range out {
		var s, c int64
		for b := range sums {
			s += sums[b][m]
			c += cnts[b][m]
		}
		if c == 0 {
			out[m] = math.NaN()
		} else {
			out[m] = float64(s) / float64(c)
		}
	}
	return out, nil
}
