package plot

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/estimate"
)

// The adapters copy a series field by field: months −Pre..H, means,
// effects, the chosen interval, the band only when the method has one,
// the truth; the accumulated adapter keeps months 0..H.
func TestSeriesAdapters(t *testing.T) {
	nan := math.NaN()
	b := func(lo, hi, blo float64) estimate.Bounds {
		return estimate.Bounds{Normal: estimate.Interval{Lo: lo, Hi: hi}, Percentile: estimate.Interval{Lo: lo - 1, Hi: hi + 1},
			Band: estimate.Interval{Lo: blo, Hi: -blo}}
	}
	se := &estimate.Series{Pre: 1,
		Effects: []estimate.Effect{
			{Month: -1, TreatedMean: 0.3, ControlMean: 0.2, ATT: 0.1},
			{Month: 0, TreatedMean: 0.4, ControlMean: 0.5, ATT: -0.1},
			{Month: 1, TreatedMean: 0.5, ControlMean: 0.5, ATT: 0, Accumulated: 0},
		},
		Monthly:          []estimate.Bounds{b(0, 0.2, -0.3), b(-0.2, 0, -0.3), b(-0.1, 0.1, -0.3)},
		Accumulated:      []estimate.Bounds{b(0, 0, nan), b(0, 0, nan), b(-0.2, 0.2, nan)},
		Truth:            []float64{0, -0.05, 0},
		TruthAccumulated: []float64{0, 0, 0},
	}
	normal := func(b estimate.Bounds) estimate.Interval { return b.Normal }
	c := SeriesCurve(se, 0.9, normal)
	assert.Equal(t, []int{-1, 0, 1}, c.Months)
	assert.Equal(t, []float64{0.3, 0.4, 0.5}, c.Treated)
	assert.Equal(t, []float64{0.2, 0.5, 0.5}, c.Control)
	assert.Equal(t, []float64{0.1, -0.1, 0}, c.Effect)
	assert.Equal(t, []float64{0, -0.2, -0.1}, c.Low)
	assert.Equal(t, []float64{0.2, 0, 0.1}, c.High)
	assert.Equal(t, []float64{-0.3, -0.3, -0.3}, c.BandLow)
	assert.Equal(t, []float64{0, -0.05, 0}, c.Truth)
	assert.Equal(t, 0.9, c.Level)
	_, err := Monthly("", "x", c)
	require.NoError(t, err)

	// no band, no interval chosen
	for i := range se.Monthly {
		se.Monthly[i].Band = estimate.Interval{Lo: nan, Hi: nan}
	}
	c = SeriesCurve(se, 0.9, nil)
	assert.Nil(t, c.BandLow)
	assert.Nil(t, c.Low)

	m, eff, lo, hi, tr := SeriesAccumulated(se, func(b estimate.Bounds) estimate.Interval { return b.Percentile })
	assert.Equal(t, []int{0, 1}, m)
	assert.Equal(t, []float64{0, 0}, eff)
	assert.Equal(t, []float64{-1, -1.2}, lo)
	assert.Equal(t, []float64{1, 1.2}, hi)
	assert.Equal(t, []float64{0, 0}, tr)
}
