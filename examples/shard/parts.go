package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/panel"
)

// partInfo is what the coordinator needs of a part's panel (data mode:
// its answer to the treated-rows round): the part's sizes, its covariate
// names and outcome layout, and its treated units' ids, covariate rows
// and event-time outcome rows. Every other unit stays with its part.
type partInfo struct {
	persons, units, treated int
	names                   []string
	outcomes                []outcomeLayout
	ids                     []int64   // treated
	x                       []float64 // treated × len(names), row-major
	y                       [][]uint8 // per outcome: treated × width, row-major
}

// outcomeLayout is an outcome's event months −Pre..H in the sample.
type outcomeLayout struct {
	name   string
	pre, h int
}

func (o outcomeLayout) width() int { return o.pre + o.h + 1 }

// panelSample is the analysis sample of a panel, as examples/bench
// makes it: estimate.FromPanel's (the panel's compact outcomes, shared),
// with every outcome cut at event month horizon. Unlike FromPanel it
// accepts a panel without units (a part may have none).
func panelSample(pan *panel.Panel, horizon int) *estimate.Sample {
	s := &estimate.Sample{Treated: pan.Treated, Person: pan.ID}
	for _, o := range pan.Outcomes {
		s.Outcomes = append(s.Outcomes, estimate.EventOutcome{Name: o.Name, H: min(o.HCommon, horizon), Pre: o.Pre,
			Stride: o.Pre + o.H + 1, Binary: o.Y})
	}
	return s
}

// sampleRange returns units lo..hi-1 of s as a sample of their own
// (views of s's slices): a part's units for estimate.NewEffectSumsPart.
func sampleRange(s *estimate.Sample, lo, hi int) *estimate.Sample {
	p := &estimate.Sample{Treated: s.Treated[lo:hi]}
	if s.Person != nil {
		p.Person = s.Person[lo:hi]
	}
	for _, o := range s.Outcomes {
		st := o.Stride
		o.Binary = o.Binary[lo*st : hi*st]
		p.Outcomes = append(p.Outcomes, o)
	}
	return p
}

// partInfoOf collects the partInfo of a panel whose first nt units are
// its treated (panel.Build's order) and its sample (panelSample).
func partInfoOf(pan *panel.Panel, s *estimate.Sample, persons int) *partInfo {
	nt, p := pan.NTreated(), len(pan.CovNames)
	in := &partInfo{persons: persons, units: pan.Len(), treated: nt, names: pan.CovNames,
		ids: pan.ID[:nt], x: make([]float64, nt*p)}
	if p > 0 && nt > 0 {
		pan.X.Rows(in.x, 0, nt)
	}
	for _, o := range s.Outcomes {
		l := outcomeLayout{name: o.Name, pre: o.Pre, h: o.H}
		in.outcomes = append(in.outcomes, l)
		y := make([]uint8, 0, nt*l.width())
		for u := range nt {
			y = append(y, o.Binary[u*o.Stride:u*o.Stride+l.width()]...)
		}
		in.y = append(in.y, y)
	}
	return in
}

// encode is the answer to the treated-rows round: persons, units and
// treated (uint64 each); the covariate names (uint32 count, then each a
// uint32 length and its bytes); the outcomes (uint32 count, then each its
// name, Pre and H as uint32); then per treated unit its id (int64), its
// covariates (float64 each) and, outcome by outcome, its Pre+H+1 event
// months (one byte each: 0, 1 or panel.Missing). Size: 24 + the names +
// treated × (8 + 8p + Σ months) bytes.
func (in *partInfo) encode() []byte {
	e := enc{}
	e.u64(int64(in.persons))
	e.u64(int64(in.units))
	e.u64(int64(in.treated))
	e.u32(len(in.names))
	for _, n := range in.names {
		e.bytes([]byte(n))
	}
	e.u32(len(in.outcomes))
	for _, o := range in.outcomes {
		e.bytes([]byte(o.name))
		e.u32(o.pre)
		e.u32(o.h)
	}
	for _, id := range in.ids {
		e.b = binary.LittleEndian.AppendUint64(e.b, uint64(id))
	}
	for _, v := range in.x {
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(v))
	}
	for _, y := range in.y {
		e.b = append(e.b, y...)
	}
	return e.b
}

// decodePartInfo decodes encode's bytes.
func decodePartInfo(b []byte) (*partInfo, error) {
	d := &dec{b: b}
	in := &partInfo{persons: int(d.u64()), units: int(d.u64()), treated: int(d.u64())}
	nn := d.u32()
	if d.err == nil && nn > len(d.b)/4 {
		return nil, fmt.Errorf("treated rows: %d covariate names in %d bytes", nn, len(d.b))
	}
	for range nn {
		in.names = append(in.names, string(d.bytes()))
	}
	no := d.u32()
	if d.err == nil && no > len(d.b)/12 {
		return nil, fmt.Errorf("treated rows: %d outcomes in %d bytes", no, len(d.b))
	}
	width := 0
	for range no {
		o := outcomeLayout{name: string(d.bytes()), pre: d.u32(), h: d.u32()}
		if o.pre > 1<<20 || o.h > 1<<20 {
			return nil, fmt.Errorf("treated rows: outcome %q with months -%d..%d", o.name, o.pre, o.h)
		}
		in.outcomes = append(in.outcomes, o)
		width += o.width()
	}
	if d.err != nil {
		return nil, fmt.Errorf("treated rows: %w", d.err)
	}
	nt, p := in.treated, len(in.names)
	if in.units < nt || in.persons < 0 || uint64(nt)*uint64(8+8*p+width) != uint64(len(d.b)) {
		return nil, fmt.Errorf("treated rows: %d treated of %d units with %d covariates and %d outcome months in %d bytes",
			nt, in.units, p, width, len(d.b))
	}
	in.ids = make([]int64, nt)
	for k := range in.ids {
		in.ids[k] = int64(binary.LittleEndian.Uint64(d.take(8)))
	}
	in.x = make([]float64, nt*p)
	for k := range in.x {
		in.x[k] = math.Float64frombits(binary.LittleEndian.Uint64(d.take(8)))
	}
	for _, o := range in.outcomes {
		in.y = append(in.y, slices.Clone(d.take(nt*o.width())))
	}
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("treated rows: %w", err)
	}
	return in, nil
}

// sameLayout returns an error naming the first difference between the
// covariates or outcomes of in (part k) and ref (part 0): the parts must
// make the same columns, which a design with data-dependent columns
// (dummies of the levels a shard has) may not.
func (in *partInfo) sameLayout(ref *partInfo, k int) error {
	if !slices.Equal(in.names, ref.names) {
		j := 0
		for j < min(len(in.names), len(ref.names)) && in.names[j] == ref.names[j] {
			j++
		}
		at := func(v []string) string {
			if j < len(v) {
				return fmt.Sprintf("%q", v[j])
			}
			return "none"
		}
		return fmt.Errorf("part %d has %d covariates, part 0 %d; covariate %d is %s in part %d, %s in part 0 (the parts' designs make different columns: dummies of data-dependent levels?)",
			k, len(in.names), len(ref.names), j, at(in.names), k, at(ref.names))
	}
	if !slices.Equal(in.outcomes, ref.outcomes) {
		return fmt.Errorf("part %d has the outcomes %v, part 0 %v (names, Pre, H)", k, in.outcomes, ref.outcomes)
	}
	return nil
}

// treatedInputs joins the treated units of parts (in part order, which
// is their unit order) into the coordinator's covariate matrix and
// sample of the treated units.
func treatedInputs(parts []*partInfo) (*mat.Dense, *estimate.Sample) {
	ref := parts[0]
	nt, p := 0, len(ref.names)
	for _, in := range parts {
		nt += in.treated
	}
	var x *mat.Dense
	if nt > 0 && p > 0 {
		data := make([]float64, 0, nt*p)
		for _, in := range parts {
			data = append(data, in.x...)
		}
		x = mat.NewDense(nt, p, data)
	}
	s := &estimate.Sample{Treated: make([]bool, nt), Person: make([]int64, 0, nt)}
	for k := range s.Treated {
		s.Treated[k] = true
	}
	for _, in := range parts {
		s.Person = append(s.Person, in.ids...)
	}
	for o, l := range ref.outcomes {
		y := make([]uint8, 0, nt*l.width())
		for _, in := range parts {
			y = append(y, in.y[o]...)
		}
		s.Outcomes = append(s.Outcomes, estimate.EventOutcome{Name: l.name, H: l.h, Pre: l.pre, Stride: l.width(), Binary: y})
	}
	return x, s
}

// layout is the parts' units in the logit scan's broadcast (data mode):
// part k holds units off[k]..off[k+1]-1, of which the first treated[k]
// are treated.
type layout struct {
	units, treated []int
}

func (l *layout) encode(e *enc) {
	e.u32(len(l.units))
	for k := range l.units {
		e.u64(int64(l.units[k]))
		e.u64(int64(l.treated[k]))
	}
}

func decodeLayout(d *dec) (*layout, error) {
	n := d.u32()
	if d.err == nil && n > len(d.b)/16 {
		return nil, fmt.Errorf("layout of %d parts in %d bytes", n, len(d.b))
	}
	l := &layout{units: make([]int, n), treated: make([]int, n)}
	for k := range n {
		l.units[k], l.treated[k] = int(d.u64()), int(d.u64())
		if d.err == nil && l.treated[k] > l.units[k] {
			return nil, fmt.Errorf("layout: part %d has %d treated of %d units", k, l.treated[k], l.units[k])
		}
	}
	return l, d.err
}

// bounds returns the parts' unit ranges: part k holds units
// bounds[k]..bounds[k+1]-1.
func (l *layout) bounds() []int {
	b := make([]int, len(l.units)+1)
	for k, n := range l.units {
		b[k+1] = b[k] + n
	}
	return b
}

// flags returns every unit's treated flag: the first treated[k] units of
// each part.
func (l *layout) flags() []bool {
	b := l.bounds()
	t := make([]bool, b[len(b)-1])
	for k, nt := range l.treated {
		for u := b[k]; u < b[k]+nt; u++ {
			t[u] = true
		}
	}
	return t
}
