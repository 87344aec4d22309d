package estimate

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/psm"
)

// sumsOver returns the merged sums of the shards of units cut at bounds,
// merged in the order given and, with wire, each sent through its
// binary encoding.
func sumsOver(t *testing.T, s *Sample, m *psm.UnitMatching, bounds []int, order []int, wire bool) *EffectSums {
	t.Helper()
	var all EffectSums
	for _, k := range order {
		part, err := NewEffectSums(s, m, bounds[k], bounds[k+1])
		require.NoError(t, err)
		if wire {
			b, err := part.MarshalBinary()
			require.NoError(t, err)
			var back EffectSums
			require.NoError(t, back.UnmarshalBinary(b))
			b2, err := back.MarshalBinary()
			require.NoError(t, err)
			require.Equal(t, b, b2)
			part = &back
		}
		require.NoError(t, all.Merge(part))
	}
	return &all
}

// maxResultDiff returns the largest absolute difference of the effects'
// means, ATTs and accumulated effects, and whether the results differ in
// any bit.
func maxResultDiff(a, b *Result) (float64, bool) {
	d := 0.0
	for i, se := range a.Series {
		for j, e := range se.Effects {
			f := b.Series[i].Effects[j]
			for _, p := range [][2]float64{{e.TreatedMean, f.TreatedMean}, {e.ControlMean, f.ControlMean}, {e.ATT, f.ATT}, {e.Accumulated, f.Accumulated}} {
				if !(math.IsNaN(p[0]) && math.IsNaN(p[1])) {
					d = math.Max(d, math.Abs(p[0]-p[1]))
				}
			}
		}
	}
	return d, fmt.Sprintf("%#v", a) != fmt.Sprintf("%#v", b)
}

// EffectsFromSums on the merged sums of control shards equals Effects:
// bit for bit when every match set lies in one shard (one nearest
// control, continuous scores), to 1e-12 when sets with ties cross the
// shards (their terms are then added in another order), in any order of
// merges and through the binary encoding. The splits include an empty
// shard and a shard of treated units only (no controls).
func TestEffectSums(t *testing.T) {
	const n1, n0 = 300, 1200
	s, x := synthSample(n1, n0, 6, 21)
	n := s.Len()
	xc := make([]float64, n) // coarse scores: ties
	for u, v := range x {
		xc[u] = math.Round(v*50) / 50
	}
	one, err := psm.MatchUnits(x, s.Treated, nil)
	require.NoError(t, err)
	ties, err := psm.MatchUnits(xc, s.Treated, &psm.UnitOptions{Match: psm.MatchOptions{K: 2}})
	require.NoError(t, err)
	splits := [][]int{
		{0, n},
		{0, n1 + 500, n},
		{0, n1, n1, n1 + 333, n1 + 900, n}, // treated only, empty, controls
		{0, 100, n1 + 1, n1 + 2, n - 7, n}, // treated only, one control, ...
	}
	for _, m := range []struct {
		name string
		um   *psm.UnitMatching
	}{{"K=1", one}, {"K=2 ties", ties}} {
		want, err := Effects(s, m.um, nil)
		require.NoError(t, err)
		for _, b := range splits {
			S := len(b) - 1
			fwd, rev := make([]int, S), make([]int, S)
			for k := range S {
				fwd[k], rev[k] = k, S-1-k
			}
			for _, order := range [][]int{fwd, rev} {
				for _, wire := range []bool{false, true} {
					got, err := EffectsFromSums(s, m.um, sumsOver(t, s, m.um, b, order, wire), nil)
					require.NoError(t, err)
					d, differ := maxResultDiff(want, got)
					require.LessOrEqual(t, d, 1e-12, "%s %v %v", m.name, b, order)
					if m.name == "K=1" || S == 1 {
						require.False(t, differ, "%s %v %v: bit-identical", m.name, b, order)
					}
				}
			}
		}
	}
}

// The sums' errors: a shard missing or shards overlapping, other
// shapes, bad ranges and encodings, NaN outcomes of a shard's controls.
func TestEffectSumsErrors(t *testing.T) {
	s, x := synthSample(50, 200, 3, 5)
	n := s.Len()
	m, err := psm.MatchUnits(x, s.Treated, nil)
	require.NoError(t, err)
	part, err := NewEffectSums(s, m, 0, 120)
	require.NoError(t, err)

	_, err = EffectsFromSums(s, m, part, nil)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "shard missing")
	_, err = EffectsFromSums(s, m, nil, nil)
	require.ErrorIs(t, err, ErrInvalid)

	all, err := NewEffectSums(s, m, 0, n)
	require.NoError(t, err)
	require.NoError(t, part.Merge(&EffectSums{}))
	err = all.Merge(part)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "overlapping")
	var e *Error
	require.ErrorAs(t, err, &e)

	s2, x2 := synthSample(50, 200, 4, 5)
	m2, err := psm.MatchUnits(x2, s2.Treated, nil)
	require.NoError(t, err)
	other, err := NewEffectSums(s2, m2, 0, n)
	require.NoError(t, err)
	require.ErrorIs(t, all.Merge(other), ErrInvalid)
	_, err = EffectsFromSums(s, m, other, nil)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorIs(t, all.Merge(nil), ErrInvalid)

	for _, b := range [][2]int{{-1, 3}, {5, 4}, {0, n + 1}} {
		_, err = NewEffectSums(s, m, b[0], b[1])
		require.ErrorIs(t, err, ErrInvalid, "%v", b)
	}

	enc, err := all.MarshalBinary()
	require.NoError(t, err)
	for i, bad := range [][]byte{
		nil, enc[:20], enc[:len(enc)-1], append(append([]byte{}, enc...), 0),
		append([]byte("PSEX"), enc[4:]...),
		append(append([]byte{}, enc[:4]...), append([]byte{2, 0}, enc[6:]...)...),
	} {
		var back EffectSums
		err := back.UnmarshalBinary(bad)
		require.ErrorIs(t, err, ErrInvalid, "case %d", i)
		require.ErrorContains(t, err, "EffectSums encoding", "case %d", i)
	}

	// a matched control's NaN outcome is its shard's error
	c := m.ControlUnits[m.Control[0]]
	s.Outcomes[0].Y[c*s.Outcomes[0].stride()+1] = math.NaN()
	_, err = NewEffectSums(s, m, c, c+1)
	require.ErrorIs(t, err, ErrNaNOutcome)
	_, err = NewEffectSums(s, m, 0, c) // the shard without it
	require.NoError(t, err)
}
