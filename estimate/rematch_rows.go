package estimate

import (
	"gonum.org/v1/gonum/floats"
)

// gathered holds the outcome rows (all outcomes, months −Pre..H, cols
// values) that a fixed-score bootstrap replicate reads, copied once into
// contiguous arrays in the order replicates visit them: the treated in
// visiting order, and the controls near a treated unit in sorted order.
// Replicates then read memory nearly sequentially instead of one random
// row per visited unit.
//
// When every outcome is Binary the rows stay bytes (0, 1 or panel.Missing,
// read through byteValue): cols bytes a row instead of 8·cols, which
// replicates stream eight times less of. Otherwise they are float64.
// Either way a row adds into a sum exactly as Sample.addRow adds it.
type gathered struct {
	cols int
	// byte form (all outcomes Binary): tb the treated rows, rb the
	// gathered control rows
	tb, rb []uint8
	// float form: tf, rf
	tf, rf []float64
	// idx[pos] is the gathered row of sorted control position pos; −1:
	// not gathered (read Sample.Outcomes)
	idx []int32
}

// byteValue is the value of an outcome byte v: float64(v), NaN for
// panel.Missing (EventOutcome.at).
var byteValue = func() (t [256]float64) {
	for v := range t {
		t[v] = float64(v)
	}
	t[missing] = nan
	return t
}()

// gatherWindow is the number of sorted positions on each side of a
// treated unit's point-estimate match set whose outcome rows gather
// copies. A replicate's search visits a control further away only when
// all nearer ones have count 0 (probability about e^-w per side), so the
// fallback to Sample.Outcomes is rare.
const gatherWindow = 8

// gather copies the outcome rows of the treated and of the controls near
// a treated unit into ix.g. Near means within gatherWindow positions of
// the unit's match set with unit weights (of its ends only when the set
// is large). Cost: O((n₁ + gathered controls)·cols) once; memory cols
// bytes (all outcomes binary) or 8·cols bytes per gathered row.
func (ix *index) gather(s *Sample, l *layout, rule *matchRule) {
	g := &gathered{cols: l.cols}
	ix.g = g
	binary := true
	for k := range s.Outcomes {
		binary = binary && s.Outcomes[k].Binary != nil
	}
	nc := 0
	if ix.c != nil {
		nc = ix.c.Len()
	}
	g.idx = make([]int32, nc)
	for i := range g.idx {
		g.idx[i] = -1
	}
	n := 0
	mark := func(a, b int) {
		for pos := max(a, 0); pos < min(b, nc); pos++ {
			if g.idx[pos] < 0 {
				g.idx[pos] = 0
				n++
			}
		}
	}
	sr := ix.searcher(rule, unitCount{}, true)
	for i, t := range ix.tx {
		lo, hi, _, ok := sr.find(t, ix.tstr[i])
		if !ok {
			continue
		}
		if hi-lo <= 4*gatherWindow {
			mark(lo-gatherWindow, hi+gatherWindow)
		} else {
			mark(lo-gatherWindow, lo+gatherWindow)
			mark(hi-gatherWindow, hi+gatherWindow)
		}
	}
	cols := l.cols
	if binary {
		g.tb = make([]uint8, len(ix.tunit)*cols)
		g.rb = make([]uint8, n*cols)
	} else {
		g.tf = make([]float64, len(ix.tunit)*cols)
		g.rf = make([]float64, n*cols)
	}
	copyRow := func(k, u int, tb []uint8, tf []float64) {
		if binary {
			s.rowBytes(tb[k*cols:(k+1)*cols], u, l)
		} else {
			s.addRow(tf[k*cols:(k+1)*cols], u, 1, l)
		}
	}
	for i, u := range ix.tunit {
		copyRow(i, int(u), g.tb, g.tf)
	}
	k := int32(0)
	for pos, gi := range g.idx {
		if gi == 0 {
			g.idx[pos] = k
			copyRow(int(k), int(ix.unit[pos]), g.rb, g.rf)
			k++
		}
	}
}

// rowBytes copies unit u's outcome bytes (all outcomes Binary) into dst
// (len cols).
func (s *Sample) rowBytes(dst []uint8, u int, l *layout) {
	for k := range s.Outcomes {
		o := &s.Outcomes[k]
		st, w := o.stride(), o.width()
		copy(dst[l.off[k]:l.off[k]+w], o.Binary[u*st:u*st+w])
	}
}

// addControl adds a·(row of sorted control position pos) into dst, as
// s.addRow(dst, unit, a, l) would.
func (ix *index) addControl(dst []float64, s *Sample, l *layout, pos int, a float64) {
	if g := ix.g; g != nil {
		if r := g.idx[pos]; r >= 0 {
			lo, hi := int(r)*g.cols, int(r+1)*g.cols
			if g.rb != nil {
				addScaledBytes(dst, a, g.rb[lo:hi])
			} else {
				floats.AddScaled(dst[:g.cols], a, g.rf[lo:hi]) // dst += a·row, unfused
			}
			return
		}
	}
	s.addRow(dst, int(ix.unit[pos]), a, l)
}

// addScaledBytes adds a·row into dst, dst[j] += a·byteValue[row[j]],
// each product rounded before the sum (as Sample.addRow and
// floats.AddScaled).
func addScaledBytes(dst []float64, a float64, row []uint8) {
	dst = dst[:len(row)]
	for j, v := range row {
		dst[j] += float64(a * byteValue[v])
	}
}

// treatedDiff sets d to the row of treated unit i (visiting order; unit
// u) minus m: d = row − m, as a row added into zeros and then m
// subtracted.
func (ix *index) treatedDiff(d, m []float64, s *Sample, l *layout, i int, u int32) {
	if g := ix.g; g != nil {
		lo, hi := i*g.cols, (i+1)*g.cols
		if g.tb != nil {
			row := g.tb[lo:hi]
			d, m := d[:len(row)], m[:len(row)]
			for j, v := range row {
				d[j] = byteValue[v] - m[j]
			}
		} else {
			tr := g.tf[lo:hi]
			floats.SubTo(d[:len(tr)], tr, m[:len(tr)])
		}
		return
	}
	clear(d)
	s.addRow(d, int(u), 1, l)
	for j, v := range m {
		d[j] -= v
	}
}
