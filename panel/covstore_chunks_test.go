package panel_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// TestCovStoreColumnRange: ColumnRange of a CovStore and of a CovSlice
// returns the stored values of one chunk column (each reads back as At
// gives it, in the narrowest type), and nothing for rows in two chunks.
func TestCovStoreColumnRange(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	n := 2*panel.CovChunk + 50
	x := mat.NewDense(n, 3, nil)
	for i := range n {
		x.Set(i, 0, float64(rng.IntN(2)))
		x.Set(i, 1, float64(rng.IntN(600)-300))
		x.Set(i, 2, rng.NormFloat64())
	}
	s := panel.NewCovStore(x)
	var _ psm.TypedColumns = s
	check := func(m interface {
		At(i, j int) float64
		ColumnRange(j, lo, hi int) ([]uint8, []int16, []float64)
	}, j, lo, hi int, kind int) {
		u8, i16, f64 := m.ColumnRange(j, lo, hi)
		got := [3]bool{u8 != nil, i16 != nil, f64 != nil}
		want := [3]bool{}
		want[kind] = true
		require.Equal(t, want, got, "column %d rows %d..%d", j, lo, hi)
		for r := range hi - lo {
			var v float64
			switch kind {
			case 0:
				v = float64(u8[r])
			case 1:
				v = float64(i16[r])
			default:
				v = f64[r]
			}
			assert.Equal(t, math.Float64bits(m.At(lo+r, j)), math.Float64bits(v), "column %d row %d", j, lo+r)
		}
	}
	for j, kind := range []int{0, 1, 2} {
		check(s, j, 0, 256, kind)
		check(s, j, panel.CovChunk+100, 2*panel.CovChunk, kind)
		check(s, j, 2*panel.CovChunk, n, kind)
		u8, i16, f64 := s.ColumnRange(j, panel.CovChunk-1, panel.CovChunk+1)
		assert.True(t, u8 == nil && i16 == nil && f64 == nil, "rows in two chunks")
	}
	v := s.Slice(panel.CovChunk, n, 1, 3).(*panel.CovSlice)
	check(v, 0, 10, 300, 1)
	check(v, 1, panel.CovChunk, n-panel.CovChunk, 2)
	u8, i16, f64 := v.ColumnRange(0, panel.CovChunk-5, panel.CovChunk+5)
	assert.True(t, u8 == nil && i16 == nil && f64 == nil, "view rows in two chunks")
	assert.Panics(t, func() { s.ColumnRange(3, 0, 1) })
	assert.Panics(t, func() { s.ColumnRange(0, 5, 5) })
	assert.Panics(t, func() { v.ColumnRange(2, 0, 1) })
}
