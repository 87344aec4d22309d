package synth_test

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
	"github.com/psmeval/psmeval/psm"
)

// SelectionIndex is the true log-odds of starting in the window, up to
// a constant: window starters at their start day against the persons
// who do not start in the window at start days drawn from the starters'
// (the design's simulated start dates), a logit of the treatment on the
// index alone has slope 1 (the generator accepts pool candidates with
// probability exp(index)), within 4 standard errors; every starter is
// eligible at its own start.
func TestSelectionIndexIsTheTrueScore(t *testing.T) {
	pop, err := synth.Generate(context.Background(), &synth.Options{Scale: 0.1, Seed: 21, ControlFraction: 0.05})
	require.NoError(t, err)
	first, last := panel.DayFromDate(2012, 2, 1), panel.DayFromDate(2012, 7, 31)
	var persons []int32
	var days []panel.Day
	var treated []float64
	var starts []panel.Day
	for i, d := range pop.FirstStart {
		if d >= first && d <= last {
			persons = append(persons, int32(i))
			days = append(days, d)
			treated = append(treated, 1)
			starts = append(starts, d)
		}
	}
	nt := len(persons)
	require.Greater(t, nt, 500)
	r := rand.New(rand.NewPCG(1, 2))
	for i, d := range pop.FirstStart {
		if d < first || d > last {
			persons = append(persons, int32(i))
			days = append(days, starts[r.IntN(len(starts))])
			treated = append(treated, 0)
		}
	}
	idx, err := pop.SelectionIndex(context.Background(), persons, days)
	require.NoError(t, err)
	var x, y []float64
	for j, v := range idx {
		if j < nt {
			require.False(t, math.IsInf(v, -1), "starter %d not eligible at its start", persons[j])
		}
		if !math.IsInf(v, -1) {
			x = append(x, v)
			y = append(y, treated[j])
		}
	}
	fit, err := psm.FitLogit(context.Background(), mat.NewDense(len(x), 1, x), y, nil, []string{"index"}, nil)
	require.NoError(t, err)
	slope, se := fit.Coef[1], math.Sqrt(fit.Cov.At(1, 1))
	t.Logf("%d starters, %d others eligible: slope %.3f (SE %.3f)", nt, len(x)-nt, slope, se)
	assert.InDelta(t, 1, slope, 4*se)

	_, err = pop.SelectionIndex(context.Background(), persons[:2], days[:1])
	assert.Error(t, err)
}
