package synth

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/psmeval/psmeval/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGenerateCancelMidRun cancels Generate from its progress callback
// after the first block of persons, with several workers busy: it
// returns context.Canceled, no population, and no goroutine is left
// behind.
func TestGenerateCancelMidRun(t *testing.T) {
	defer leakcheck.Check(t)()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls, lastDone, total atomic.Int64
	p, err := Generate(ctx, &Options{Scale: 0.01, Workers: 4, Progress: func(done, tot int) {
		if calls.Add(1) == 1 {
			lastDone.Store(int64(done))
			total.Store(int64(tot))
			cancel()
		}
	}})
	require.ErrorIs(t, err, context.Canceled)
	assert.Nil(t, p)
	require.Positive(t, calls.Load())
	assert.Less(t, lastDone.Load(), total.Load(), "cancelled before the end")
}
