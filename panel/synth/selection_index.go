package synth

import (
	"context"
	"fmt"
	"math"

	"github.com/psmeval/psmeval/panel"
)

// SelectionIndex returns, for each person and day, the log of the
// probability with which the generator accepts a candidate with that
// person's selection features on that day as a window starter:
//
//	log a(f) = x₁(f) + min(0, x₂(f) − Cap),
//
// x₁ and x₂ the sums of the fitted log weights of the two selection
// stages (selection.go). Window starters are candidates of the pool of
// potential controls accepted with probability a(f), so among a starter
// and the pool's persons at a day d with features f the odds of being
// the starter are proportional to a(f): log a(f) plus a constant is the
// true log-odds of the propensity score of a design that compares window
// starters with potential controls at (simulated) start days in the
// window, and a score that needs no estimation. A person not eligible on
// the day (an excluded state in its start week) gets −Inf. days[j] is
// the (actual or simulated) start day of persons[j]. Cost: one person
// simulation per entry, on Options.Workers goroutines.
func (p *Population) SelectionIndex(ctx context.Context, persons []int32, days []panel.Day) ([]float64, error) {
	if len(persons) != len(days) {
		return nil, fmt.Errorf("synth: SelectionIndex: %d persons but %d days", len(persons), len(days))
	}
	if len(p.gen) != p.Register.Len() {
		return nil, fmt.Errorf("synth: SelectionIndex needs a Population made by Generate")
	}
	for j, i := range persons {
		if i < 0 || int(i) >= len(p.gen) {
			return nil, fmt.Errorf("synth: SelectionIndex: person %d (entry %d) out of range 0..%d", i, j, len(p.gen)-1)
		}
	}
	o := p.Options
	out := make([]float64, len(persons))
	const blk = 256
	nb := (len(persons) + blk - 1) / blk
	err := parallelBlocks(ctx, o.Workers, nb, func(s *sim, b int) {
		for j := b * blk; j < min(len(persons), (b+1)*blk); j++ {
			s.simulate(int(p.gen[persons[j]]))
			f, ok := s.features(days[j])
			if !ok {
				out[j] = math.Inf(-1)
				continue
			}
			out[j] = s.sel.stage(&f, true) + math.Min(0, s.sel.stage(&f, false)-s.sel.Cap)
		}
	}, &o)
	if err != nil {
		return nil, err
	}
	return out, nil
}
