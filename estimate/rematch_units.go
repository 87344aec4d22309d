package estimate

import (
	"context"
	"errors"
	"fmt"

	"github.com/psmeval/psmeval/internal/buf"
	"github.com/psmeval/psmeval/psm"
)

// unitIndex is the replicates' matching for rules the lazy search does
// not cover (matching without replacement, R Matching's tie rule): psm's
// index over the controls in unit order, as psm.MatchUnits builds it, so
// that a replicate with every count 1 forms the sets of the matched
// sample. Replicates pass their counts as weight vectors to MatchInto:
// every option of psm.MatchOptions applies, at O(units) per replicate.
type unitIndex struct {
	c      *psm.Index // nil with Refit (built per replicate)
	tu, cu []int      // treated and control units, unit order
	tx     []float64  // treated scores on the matching scale
	ts, cs []int32    // their strata (nil without)
	mo     psm.MatchOptions
}

// newUnitIndex prepares the matching of rule on the scores x (matching
// scale) of the units of um; with refit the index is built in every
// replicate.
func newUnitIndex(um *psm.UnitMatching, x []float64, rule *matchRule, refit bool) (*unitIndex, error) {
	g := &unitIndex{tu: um.TreatedUnits, cu: um.ControlUnits,
		mo: psm.MatchOptions{K: rule.K, Caliper: rule.Caliper, TieTolerance: rule.TieTolerance,
			Trim: rule.Trim, NoReplacement: rule.noReplacement}}
	if rule.tieR {
		g.mo.TieRule = psm.TieRMatching
	}
	g.tx = gatherUnits(x, g.tu)
	if rule.Strata != nil {
		g.ts, g.cs = gatherUnits(rule.Strata, g.tu), gatherUnits(rule.Strata, g.cu)
	}
	if refit {
		return g, nil
	}
	c, err := psm.NewIndex(gatherUnits(x, g.cu), &psm.MatchOptions{ControlStrata: g.cs})
	if err != nil {
		return nil, err
	}
	g.c = c
	return g, nil
}

// gatherUnits returns v[u] for the units u in order.
func gatherUnits[T any](v []T, units []int) []T {
	out := make([]T, len(units))
	for i, u := range units {
		out[i] = v[u]
	}
	return out
}

// replicateUnits runs replicate b (counts drawn for key) through
// w.units: the counts become MatchInto's frequency weights, and the
// effects are summed over the treated in unit order. A replicate in which
// no treated unit finds a match (or the counts leave no controls) gives
// NaN rows, as in run.
func (w *worker) replicateUnits(ctx context.Context, key uint64, b int, out []float64) error {
	g, s, l := w.units, w.s, w.l
	c, tx := g.c, g.tx
	if w.opts.Refit != nil {
		scores, err := w.refit(ctx, key, b)
		if err != nil {
			return err
		}
		xc := gatherUnits(scores, g.cu)
		for j, u := range g.cu {
			if w.w[u] == 0 {
				xc[j] = 0 // not matched; any finite score
			}
		}
		if c, err = psm.NewIndex(xc, &psm.MatchOptions{ControlStrata: g.cs}); err != nil {
			return fmt.Errorf("estimate: replicate %d: %w", b, err)
		}
		tx = gatherUnits(scores, g.tu)
		for i, u := range g.tu {
			if w.w[u] == 0 {
				tx[i] = 0
			}
		}
	} else {
		w.counts(key)
	}
	w.cw = buf.Resize(w.cw, len(g.cu))
	for j, u := range g.cu {
		w.cw[j] = w.w[u]
	}
	w.tw = buf.Resize(w.tw, len(g.tu))
	for i, u := range g.tu {
		w.tw[i] = w.w[u]
	}
	mo := g.mo
	mo.ControlWeights, mo.TreatedWeights, mo.TreatedStrata = w.cw, w.tw, g.ts
	clear(w.sums)
	clear(w.W)
	err := c.MatchInto(&w.gm, tx, &mo)
	switch {
	case errors.Is(err, psm.ErrNoMatch), errors.Is(err, psm.ErrNoCommonSupport),
		errors.Is(err, psm.ErrEmptyGroup), errors.Is(err, psm.ErrTooFewControls):
		w.finish(out) // no matched treated unit: NaN rows
		return nil
	case err != nil:
		return fmt.Errorf("estimate: replicate %d: %w", b, err)
	}
	m := &w.gm
	for i, u := range g.tu {
		if !m.Matched[i] {
			continue
		}
		clear(w.d)
		s.addRow(w.d, u, 1, l)
		for p := m.Start[i]; p < m.Start[i+1]; p++ {
			s.addRow(w.d, g.cu[m.Control[p]], -m.Weight[p], l)
		}
		w.add(u, m.MatchedWeight[i])
	}
	w.finish(out)
	return nil
}
