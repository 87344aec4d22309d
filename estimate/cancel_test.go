package estimate

import (
	"context"
	"testing"

	"github.com/psmeval/psmeval/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCancelMidRunNoLeak cancels Bootstrap (fixed and re-fitted scores)
// and OtsuRai from their progress callbacks after a few replicates, with
// several workers busy: each returns context.Canceled, no result, and
// leaves no goroutine behind. TestBootstrapCancel checks that
// the workers stop promptly.
func TestCancelMidRunNoLeak(t *testing.T) {
	s, x := synthSample(100, 1000, 6, 9)
	refit := func(ctx context.Context, w []float64) ([]float64, error) {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return x, nil
	}
	runs := map[string]func(ctx context.Context, progress func(done, total int)) (*Result, error){
		"bootstrap fixed": func(ctx context.Context, progress func(done, total int)) (*Result, error) {
			return Bootstrap(ctx, s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 100_000, Workers: 4, Progress: progress})
		},
		"bootstrap refit": func(ctx context.Context, progress func(done, total int)) (*Result, error) {
			return Bootstrap(ctx, s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 100_000, Workers: 4, Refit: refit, Progress: progress})
		},
		"otsu-rai": func(ctx context.Context, progress func(done, total int)) (*Result, error) {
			return OtsuRai(ctx, s, unitsFor(t, s, x, nil), &OtsuRaiOptions{Replicates: 100_000, Workers: 4, Progress: progress})
		},
	}
	for name, run := range runs {
		t.Run(name, func(t *testing.T) {
			defer leakcheck.Check(t)()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			res, err := run(ctx, func(done, total int) {
				if done == 3 {
					cancel()
				}
			})
			require.ErrorIs(t, err, context.Canceled)
			assert.Nil(t, res)
		})
	}
}
