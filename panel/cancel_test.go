package panel_test

import (
	"context"
	"sync"
	"testing"

	"github.com/psmeval/psmeval/internal/leakcheck"
	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Cancellation in the middle of the long steps of this package:
// the step returns an error wrapping context.Canceled, no result, and
// leaves no goroutine behind (leakcheck compares goroutine ids before and
// after, waiting up to leakcheck.Wait for stragglers).

// TestBuildCancelMidRun cancels Build from its progress callback at the
// first block of each stage, with several workers busy.
func TestBuildCancelMidRun(t *testing.T) {
	r := panel.SynthRegister(20_000, 50, 3)
	for _, stage := range []string{"spells", "treated", "controls", "units"} {
		t.Run(stage, func(t *testing.T) {
			defer leakcheck.Check(t)()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			d := panel.SynthDesign()
			d.Workers = 4
			var mu sync.Mutex
			seen := false
			d.Progress = func(s string, done, total int) {
				mu.Lock()
				defer mu.Unlock()
				if s == stage && !seen {
					seen = true
					require.Less(t, done, total, "stage %s has a single block: not cancelled mid-run", s)
					cancel()
				}
			}
			p, err := panel.Build(ctx, r, d)
			require.True(t, seen, "stage %s not reached", stage)
			require.ErrorIs(t, err, context.Canceled)
			assert.Nil(t, p)
		})
	}
}
