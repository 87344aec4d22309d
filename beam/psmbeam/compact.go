package psmbeam

import (
	"fmt"
	"slices"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/psm"
)

// compactSets are the match sets of a matching of all units in a compact
// numbering: the T treated units are units 0..T−1 and the D distinct
// controls in the sets, in increasing order of their numbers among all
// units, are units T..T+D−1. It is what the effects round broadcasts,
// and both the shards (estimate.NewEffectSums) and the driver
// (estimate.EffectsFromSums) compute on the sample of these T+D units:
// the renumbering is increasing and one-to-one, so the sets, their order
// and their weights, and therefore every sum and count of the effects,
// are those of the matching of all units, while the sample holds T+D
// rows instead of one per unit. Encoded size: 8(T+1) + 12 per set entry
// + 16D bytes.
type compactSets struct {
	start         []int     // T+1: treated i's entries are start[i]..start[i+1]−1
	control       []int32   // per entry: the control's compact index 0..D−1
	weight        []float64 // per entry: its weight in the set
	units         []int     // D: each control's number among all units, increasing
	controlWeight []float64 // D: its total matching weight (psm.Matching.ControlWeight)
}

// compactOf returns the compact sets of um (with its sets).
func compactOf(um *psm.UnitMatching) (*compactSets, error) {
	m := um.Matching
	if m == nil || m.Start == nil || len(m.Start) != len(um.TreatedUnits)+1 {
		return nil, fmt.Errorf("psmbeam: a matching without its match sets")
	}
	used := make([]int32, 0, len(m.Control))
	used = append(used, m.Control...)
	slices.Sort(used)
	used = slices.Compact(used)
	c := &compactSets{start: m.Start, weight: m.Weight, control: make([]int32, len(m.Control)),
		units: make([]int, len(used)), controlWeight: make([]float64, len(used))}
	for i, j := range used {
		c.units[i] = um.ControlUnits[j]
		c.controlWeight[i] = m.ControlWeight[j]
	}
	for p, j := range m.Control {
		i, _ := slices.BinarySearch(used, j)
		c.control[p] = int32(i)
	}
	return c, nil
}

func (c *compactSets) treated() int { return len(c.start) - 1 }

// matching returns the matching over the compact units: the sets of the
// matching of all units, renumbered. Only the sets (Start, Control,
// Weight) and ControlWeight are filled: what package estimate's effects
// read.
func (c *compactSets) matching() *psm.UnitMatching {
	t, d := c.treated(), len(c.units)
	um := &psm.UnitMatching{
		Matching:     &psm.Matching{Start: c.start, Control: c.control, Weight: c.weight, ControlWeight: c.controlWeight},
		TreatedUnits: make([]int, t),
		ControlUnits: make([]int, d),
	}
	for i := range um.TreatedUnits {
		um.TreatedUnits[i] = i
	}
	for i := range um.ControlUnits {
		um.ControlUnits[i] = t + i
	}
	return um
}

// sample returns a sample of the compact units with the outcomes of
// shapes, all zero: the caller fills the rows it holds (unit u's row of
// outcome k is Outcomes[k].Binary[u·w : (u+1)·w], w = Pre+H+1).
func (c *compactSets) sample(shapes []outcomeLayout) *estimate.Sample {
	t, n := c.treated(), c.treated()+len(c.units)
	s := &estimate.Sample{Treated: make([]bool, n)}
	for u := range t {
		s.Treated[u] = true
	}
	for _, o := range shapes {
		w := o.pre + o.h + 1
		s.Outcomes = append(s.Outcomes, estimate.EventOutcome{Name: o.name, Pre: o.pre, H: o.h, Stride: w, Binary: make([]uint8, n*w)})
	}
	return s
}

// span returns the compact controls lo..hi−1 whose numbers lie in
// [first, first+count).
func (c *compactSets) span(first, count int) (lo, hi int) {
	lo, _ = slices.BinarySearch(c.units, first)
	hi, _ = slices.BinarySearch(c.units, first+count)
	return lo, hi
}

func (c *compactSets) encode(e *enc) {
	e.ints(c.start)
	e.int32s(c.control)
	e.floats(c.weight)
	e.ints(c.units)
	e.floats(c.controlWeight)
}

func decodeCompactSets(d *dec) *compactSets {
	c := &compactSets{start: d.ints(), control: d.int32s(), weight: d.floats(), units: d.ints(), controlWeight: d.floats()}
	if d.err != nil {
		return nil
	}
	ok := len(c.start) > 0 && c.start[0] == 0 && c.start[len(c.start)-1] == len(c.control) &&
		len(c.weight) == len(c.control) && len(c.controlWeight) == len(c.units)
	for i := 1; ok && i < len(c.start); i++ {
		ok = c.start[i] >= c.start[i-1]
	}
	for i := 1; ok && i < len(c.units); i++ {
		ok = c.units[i] > c.units[i-1]
	}
	for _, j := range c.control {
		ok = ok && j >= 0 && int(j) < len(c.units)
	}
	if !ok {
		d.err = fmt.Errorf("inconsistent match sets")
		return nil
	}
	return c
}
