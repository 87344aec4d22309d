package psm

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// MatchUnits is Match on the units split by the flag (the same sets and
// ATT, computed here on split arrays by hand), in unit space; its errors
// name the unit.
func TestMatchUnits(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	n := 300
	scores := make([]float64, n)
	tr := make([]bool, n)
	w := make([]float64, n)
	st := make([]int32, n)
	y := make([]float64, n)
	for u := range n {
		scores[u] = math.Round(r.Float64()*40) / 40 * 0.9
		tr[u] = r.Float64() < 0.3
		w[u] = float64(1 + r.IntN(2))
		st[u] = int32(r.IntN(2))
		y[u] = r.NormFloat64()
	}
	opts := &UnitOptions{Match: MatchOptions{K: 2}, Weights: w, Strata: st}
	um, err := MatchUnits(scores, tr, opts)
	require.NoError(t, err)
	var ts, cs, tw, cw, yt, yc []float64
	var tst, cst []int32
	var tu, cu []int
	for u := range n {
		if tr[u] {
			ts, tw, yt, tst, tu = append(ts, scores[u]), append(tw, w[u]), append(yt, y[u]), append(tst, st[u]), append(tu, u)
		} else {
			cs, cw, yc, cst, cu = append(cs, scores[u]), append(cw, w[u]), append(yc, y[u]), append(cst, st[u]), append(cu, u)
		}
	}
	require.Equal(t, tu, um.TreatedUnits)
	require.Equal(t, cu, um.ControlUnits)
	m, err := Match(ts, cs, &MatchOptions{K: 2, TreatedWeights: tw, ControlWeights: cw, TreatedStrata: tst, ControlStrata: cst})
	require.NoError(t, err)
	require.Equal(t, m.Control, um.Control)
	require.Equal(t, m.Weight, um.Weight)
	want, err := ATT(yt, yc, m, nil)
	require.NoError(t, err)
	got, err := um.ATT(y, nil)
	require.NoError(t, err)
	require.Equal(t, want, got)

	unitErr := func(err error, field string, index int, sentinel error) {
		t.Helper()
		var ie *InputError
		require.True(t, errors.As(err, &ie), "%v", err)
		require.Equal(t, field, ie.Field, "%v", err)
		require.Equal(t, index, ie.Index, "%v", err)
		require.ErrorIs(t, err, sentinel)
	}
	c := cu[5] // a control unit
	bad := append([]float64(nil), scores...)
	bad[c] = math.NaN()
	_, err = MatchUnits(bad, tr, opts)
	unitErr(err, "scores", c, ErrBadScore)
	bw := append([]float64(nil), w...)
	bw[tu[3]] = -1
	_, err = MatchUnits(scores, tr, &UnitOptions{Weights: bw})
	unitErr(err, "Weights", tu[3], ErrBadWeight)
	// a NaN outcome of a matched treated unit
	var mt int
	for i, u := range um.TreatedUnits {
		if um.Matched[i] {
			mt = u
			break
		}
	}
	by := append([]float64(nil), y...)
	by[mt] = math.Inf(1)
	_, err = um.ATT(by, nil)
	unitErr(err, "y", mt, ErrBadValue)
	_, err = MatchUnits(scores, tr, &UnitOptions{Match: MatchOptions{ControlWeights: cw}})
	unitErr(err, "Match", -1, ErrBadOption)
	_, err = MatchUnits(scores, tr[:5], nil)
	unitErr(err, "treated", -1, ErrBadOption)
}
