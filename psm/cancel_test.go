package psm

import (
	"context"
	"fmt"
	"testing"

	"github.com/psmeval/psmeval/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFitLogitCancelMidRun cancels FitLogit between IRLS iterations and
// at the k-th poll of its context inside an iteration, with several
// workers over several row blocks: it returns context.Canceled, no fit,
// and leaves no goroutine behind.
func TestFitLogitCancelMidRun(t *testing.T) {
	x, y := lgSynth(43, 5*lgBlock+17, []float64{-1, 1, -0.5, 0.25})
	t.Run("progress", func(t *testing.T) {
		defer leakcheck.Check(t)()
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		fit, err := FitLogit(ctx, x, y, nil, nil, &LogitOptions{Workers: 4, Progress: func(it int, _ float64) {
			if it == 1 {
				cancel()
			}
		}})
		require.ErrorIs(t, err, context.Canceled)
		assert.Nil(t, fit)
	})
	for _, k := range []int{1, 2, 3, 5, 8, 13} {
		t.Run(fmt.Sprintf("poll %d", k), func(t *testing.T) {
			defer leakcheck.Check(t)()
			fit, err := FitLogit(leakcheck.CancelAfter(context.Background(), k), x, y, nil, nil, &LogitOptions{Workers: 4})
			require.ErrorIs(t, err, context.Canceled, "cancelled at poll %d", k)
			assert.Nil(t, fit)
		})
	}
}
