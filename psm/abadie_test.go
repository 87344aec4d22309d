package psm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A tiny example worked by hand (and confirmed with R:
// Match(Y = c(3,1,0,2,1), Tr = c(1,1,0,0,0), X = c(.5,.2,.25,.75,.25),
// ties = TRUE, distance.tolerance = 1e-12) gives est 1.25,
// se 0.605243293597248, se.standard 0.71443450831176).
//
// Treated 0.5 (y 3) is tied with all three controls (0.25, 0.75, 0.25; y
// 0, 2, 1) at distance 0.25: m = 1, effect 2. Treated 0.2 (y 1) has the
// two controls at 0.25: m = 0.5, effect 0.5. ATT = 1.25.
// SSE = (0.75^2 + 2/3) + (0.75^2 + 1/4) = 49/24, se.standard = sqrt(SSE)/2.
// K = (5/6, 1/3, 5/6), KK = (13/36, 1/9, 13/36): sum K^2 - KK = 2/3;
// sigma^2 = SSE/4; SE^2 = (sigma^2 2/3 + 2 * 0.75^2) / 4.
func TestATTHand(t *testing.T) {
	m, err := Match([]float64{0.5, 0.2}, []float64{0.25, 0.75, 0.25}, nil)
	require.NoError(t, err)
	r, err := ATT([]float64{3, 1}, []float64{0, 2, 1}, m, nil)
	require.NoError(t, err)
	sse := 49.0 / 24
	assert.InDelta(t, 1.25, r.ATT, 1e-15)
	assert.InDelta(t, 2.0, r.TreatedMean, 1e-15)
	assert.InDelta(t, 0.75, r.ControlMean, 1e-15)
	assert.InDelta(t, math.Sqrt(sse)/2, r.SEStandard, 1e-15)
	assert.InDelta(t, math.Sqrt((sse/4*2/3+2*0.5625)/4), r.SE, 1e-15)
	assert.InDelta(t, 0.605243293597248, r.SE, 1e-14)        // R
	assert.InDelta(t, 0.71443450831176, r.SEStandard, 1e-14) // R
	assert.Equal(t, 2, r.NMatched)
	assert.Equal(t, 2.0, r.SumWeights)
}

// The block path (ranges over the index) and the expanded-set path give
// the same results on random data with heavy ties and weights, and an
// ATTEvaluator reused over several outcomes gives ATT's results.
func TestATTBlockVsSets(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for rep := 0; rep < 50; rep++ {
		nt, nc := 5+rng.IntN(30), 5+rng.IntN(200)
		tr, yt := make([]float64, nt), make([]float64, nt)
		co, yc := make([]float64, nc), make([]float64, nc)
		cw := make([]float64, nc)
		for i := range tr {
			tr[i] = float64(rng.IntN(15)) / 15
			yt[i] = rng.NormFloat64()
		}
		for j := range co {
			co[j] = float64(rng.IntN(20)) / 20
			yc[j] = rng.NormFloat64()
			cw[j] = float64(rng.IntN(3)) + 0.5*float64(rng.IntN(2))
		}
		o := &MatchOptions{K: 1 + rng.IntN(3), ControlWeights: cw, TieTolerance: 0.02 * float64(rng.IntN(2))}
		m, err := Match(tr, co, o)
		require.NoError(t, err)
		rb, err := ATT(yt, yc, m, nil)
		require.NoError(t, err)
		lo, hi := m.BlockLo, m.BlockHi
		m.BlockLo, m.BlockHi = nil, nil
		rs, err := ATT(yt, yc, m, nil)
		require.NoError(t, err)
		m.BlockLo, m.BlockHi = lo, hi
		msg := fmt.Sprintf("rep %d", rep)
		// One evaluator reused over other outcomes and back gives ATT's bits.
		ev, err := NewATTEvaluator(m, nil)
		require.NoError(t, err)
		for k := 0; k < 3; k++ {
			y2t, y2c := make([]float64, nt), make([]float64, nc)
			for i := range y2t {
				y2t[i] = rng.NormFloat64()
			}
			for j := range y2c {
				y2c[j] = rng.NormFloat64()
			}
			want, err := ATT(y2t, y2c, m, nil)
			require.NoError(t, err)
			got, err := ev.ATT(y2t, y2c)
			require.NoError(t, err)
			require.Equal(t, want, got, msg)
		}
		again, err := ev.ATT(yt, yc)
		require.NoError(t, err)
		require.Equal(t, rb, again, msg)
		assert.InDelta(t, rs.ATT, rb.ATT, 1e-12, msg)
		assert.InDelta(t, rs.SE, rb.SE, 1e-12, msg)
		assert.InDelta(t, rs.SEStandard, rb.SEStandard, 1e-12, msg)
		assert.InDelta(t, rs.ControlMean, rb.ControlMean, 1e-12, msg)
		// The control mean is also sum ControlWeight y / WeightedControls.
		var s float64
		for j, w := range m.ControlWeight {
			s += w * yc[j]
		}
		assert.InDelta(t, s/m.WeightedControls, rb.ControlMean, 1e-12, msg)
	}
}

func TestATTErrors(t *testing.T) {
	m, err := Match([]float64{0.5, 0.2}, []float64{0.25, 0.75, 0.45, 0.9}, nil)
	require.NoError(t, err)
	_, err = ATT([]float64{1}, []float64{0, 1, 2, 3}, m, nil)
	assert.ErrorIs(t, err, ErrBadOption)
	assert.Contains(t, err.Error(), "yTreated")
	_, err = ATT([]float64{1, 2}, []float64{0, 1, 2}, m, nil)
	assert.Contains(t, err.Error(), "yControl")
	_, err = ATT([]float64{1, math.NaN()}, []float64{0, 1, 2, 3}, m, nil)
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "yTreated", ie.Field)
	assert.Equal(t, 1, ie.Index)
	// control 2 (0.45) is matched to treated 0.5, so its outcome is read
	_, err = ATT([]float64{1, 2}, []float64{0, 1, math.NaN(), 3}, m, nil)
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "yControl", ie.Field)
	assert.Equal(t, 2, ie.Index)
	// control 3 (0.9) is not matched: a NaN there is fine
	_, err = ATT([]float64{1, 2}, []float64{0, 1, 2, math.NaN()}, m, nil)
	assert.NoError(t, err)
	_, err = ATT(nil, nil, nil, nil)
	assert.ErrorIs(t, err, ErrBadOption)
}

// Without replacement each control copy is used once: the control term
// vanishes and SE^2 = sum (tau_i - ATT)^2 / N1^2.
func TestATTNoReplacement(t *testing.T) {
	m, err := Match([]float64{0.5, 0.2, 0.8}, []float64{0.45, 0.25, 0.75, 0.1}, &MatchOptions{NoReplacement: true})
	require.NoError(t, err)
	yt := []float64{3, 1, 2}
	yc := []float64{1, 0.5, 1.5, 9}
	r, err := ATT(yt, yc, m, nil)
	require.NoError(t, err)
	tau := []float64{3 - 1, 1 - 0.5, 2 - 1.5}
	att := (tau[0] + tau[1] + tau[2]) / 3
	var ss float64
	for _, v := range tau {
		ss += (v - att) * (v - att)
	}
	assert.InDelta(t, att, r.ATT, 1e-15)
	assert.InDelta(t, math.Sqrt(ss)/3, r.SE, 1e-15)
	assert.InDelta(t, math.Sqrt(ss)/3, r.SEStandard, 1e-15)
}
