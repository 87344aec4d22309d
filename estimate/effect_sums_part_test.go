package estimate

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/psm"
)

// partOf returns the units lo..hi-1 of s as a Sample of their own
// (views of s's slices).
func partOf(s *Sample, lo, hi int) *Sample {
	p := &Sample{Treated: s.Treated[lo:hi]}
	if s.Person != nil {
		p.Person = s.Person[lo:hi]
	}
	for _, o := range s.Outcomes {
		st := o.stride()
		if o.Y != nil {
			o.Y = o.Y[lo*st : hi*st]
		} else {
			o.Binary = o.Binary[lo*st : hi*st]
		}
		p.Outcomes = append(p.Outcomes, o)
	}
	for _, g := range s.Subgroups {
		g.Code = g.Code[lo:hi]
		p.Subgroups = append(p.Subgroups, g)
	}
	return p
}

// treatedOf returns the treated units of s, in unit order, as a Sample
// of their own (copies).
func treatedOf(s *Sample) *Sample {
	tr, _ := s.split()
	t := &Sample{Treated: make([]bool, len(tr))}
	for k := range t.Treated {
		t.Treated[k] = true
	}
	for _, o := range s.Outcomes {
		st := o.stride()
		c := o
		c.Y, c.Binary = nil, nil
		for _, u := range tr {
			if o.Y != nil {
				c.Y = append(c.Y, o.Y[int(u)*st:(int(u)+1)*st]...)
			} else {
				c.Binary = append(c.Binary, o.Binary[int(u)*st:(int(u)+1)*st]...)
			}
		}
		t.Outcomes = append(t.Outcomes, c)
	}
	for _, g := range s.Subgroups {
		c := g
		c.Code = nil
		for _, u := range tr {
			c.Code = append(c.Code, g.Code[u])
		}
		t.Subgroups = append(t.Subgroups, c)
	}
	return t
}

// withBinary adds a compact 0/1 outcome with pre-programme months and a
// longer stride to s.
func withBinary(s *Sample) {
	const pre, h, stride = 2, 4, 9
	n := s.Len()
	b := make([]uint8, n*stride)
	for u := range n {
		for j := range stride {
			b[u*stride+j] = uint8((u*7 + j*3) % 5 % 2)
		}
		b[u*stride+stride-1] = missing // beyond H: never read
	}
	s.Outcomes = append(s.Outcomes, EventOutcome{Name: "b", H: h, Pre: pre, Stride: stride, Binary: b})
}

// NewEffectSumsPart on a part's own units equals NewEffectSums on the
// whole sample, and EffectsFromSumsTreated on the treated units alone
// equals EffectsFromSums, bit for bit (both encodings and every field
// of the result), for one nearest control and for sets with ties.
func TestEffectSumsPart(t *testing.T) {
	const n1, n0 = 300, 1200
	s, x := synthSample(n1, n0, 6, 23)
	withBinary(s)
	n := s.Len()
	xc := make([]float64, n)
	for u, v := range x {
		xc[u] = math.Round(v*50) / 50
	}
	one, err := psm.MatchUnits(x, s.Treated, nil)
	require.NoError(t, err)
	ties, err := psm.MatchUnits(xc, s.Treated, &psm.UnitOptions{Match: psm.MatchOptions{K: 2}})
	require.NoError(t, err)
	ts := treatedOf(s)
	for _, um := range []*psm.UnitMatching{one, ties} {
		for _, b := range [][]int{{0, n}, {0, n1, n1, n1 + 333, n}, {0, 100, n1 + 1, n - 7, n}} {
			var all EffectSums
			for k := range len(b) - 1 {
				want, err := NewEffectSums(s, um, b[k], b[k+1])
				require.NoError(t, err)
				got, err := NewEffectSumsPart(partOf(s, b[k], b[k+1]), b[k], um)
				require.NoError(t, err)
				wb, _ := want.MarshalBinary()
				gb, _ := got.MarshalBinary()
				require.Equal(t, wb, gb, "part %d of %v", k, b)
				require.NoError(t, all.Merge(got))
			}
			want, err := EffectsFromSums(s, um, &all, nil)
			require.NoError(t, err)
			got, err := EffectsFromSumsTreated(ts, um, &all, nil)
			require.NoError(t, err)
			d, differ := maxResultDiff(want, got)
			require.Zero(t, d)
			require.False(t, differ, "bit for bit")
		}
	}
}

// The errors of the part functions name the unit of the whole sample.
func TestEffectSumsPartErrors(t *testing.T) {
	s, x := synthSample(50, 200, 3, 5)
	n := s.Len()
	m, err := psm.MatchUnits(x, s.Treated, nil)
	require.NoError(t, err)

	// A part placed at the wrong units: its flags are not the matching's.
	_, err = NewEffectSumsPart(partOf(s, 40, 60), 41, m)
	require.ErrorIs(t, err, ErrInvalid)
	var e *Error
	require.ErrorAs(t, err, &e)
	require.Equal(t, 50, e.Unit)
	_, err = NewEffectSumsPart(partOf(s, 200, n), 201, m)
	require.ErrorContains(t, err, "want 0 <= lo <= hi")
	_, err = NewEffectSumsPart(nil, 0, m)
	require.ErrorIs(t, err, ErrInvalid)

	// A NaN outcome of a matched control of the part.
	c := m.ControlUnits[m.Control[0]]
	y := append([]float64(nil), s.Outcomes[0].Y...)
	y[c*4+2] = math.NaN()
	bad := *s
	bad.Outcomes = []EventOutcome{s.Outcomes[0]}
	bad.Outcomes[0].Y = y
	_, err = NewEffectSumsPart(partOf(&bad, 50, n), 50, m)
	require.ErrorIs(t, err, ErrNaNOutcome)
	require.ErrorAs(t, err, &e)
	require.Equal(t, c, e.Unit)

	sums, err := NewEffectSumsPart(partOf(s, 0, n), 0, m)
	require.NoError(t, err)
	ts := treatedOf(s)
	short := partOf(ts, 0, 49)
	_, err = EffectsFromSumsTreated(short, m, sums, nil)
	require.ErrorContains(t, err, "49 units for the 50 treated units")
	notT := partOf(ts, 0, 50)
	notT.Treated = append([]bool(nil), notT.Treated...)
	notT.Treated[3] = false
	_, err = EffectsFromSumsTreated(notT, m, sums, nil)
	require.ErrorAs(t, err, &e)
	require.Equal(t, m.TreatedUnits[3], e.Unit)
	_, err = EffectsFromSumsTreated(ts, m, nil, nil)
	require.ErrorIs(t, err, ErrInvalid)
	half, err := NewEffectSumsPart(partOf(s, 0, 120), 0, m)
	require.NoError(t, err)
	_, err = EffectsFromSumsTreated(ts, m, half, nil)
	require.ErrorContains(t, err, "shard missing")

	// A NaN outcome of a treated unit names its unit in the whole sample.
	yt := append([]float64(nil), ts.Outcomes[0].Y...)
	yt[7*4+1] = math.NaN()
	tb := *ts
	tb.Outcomes = []EventOutcome{ts.Outcomes[0]}
	tb.Outcomes[0].Y = yt
	_, err = EffectsFromSumsTreated(&tb, m, sums, nil)
	require.ErrorIs(t, err, ErrNaNOutcome)
	require.ErrorAs(t, err, &e)
	require.Equal(t, m.TreatedUnits[7], e.Unit)
}
