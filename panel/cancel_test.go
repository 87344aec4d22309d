package panel

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/psmeval/psmeval/internal/leakcheck"
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
	r := synthRegister(20_000, 50, 3)
	for _, stage := range []string{"spells", "treated", "controls", "units"} {
		t.Run(stage, func(t *testing.T) {
			defer leakcheck.Check(t)()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			d := synthDesign()
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
			p, err := Build(ctx, r, d)
			require.True(t, seen, "stage %s not reached", stage)
			require.ErrorIs(t, err, context.Canceled)
			assert.Nil(t, p)
		})
	}
}

// TestReadDirCancelMidRun cancels ReadDirContext at its k-th poll of the
// context (CSV and Parquet, several tables, many small records).
func TestReadDirCancelMidRun(t *testing.T) {
	r := ioRandomRegister(300, 60, 5)
	for _, f := range []Format{FormatCSV, FormatParquet} {
		dir := t.TempDir()
		require.NoError(t, WriteDir(dir, r, &WriteOptions{Format: f, NoSync: true, RowGroupRows: 50}))
		// count the polls of an uncancelled read
		counter := &pollCounter{Context: context.Background()}
		got, err := ReadDir(counter, dir, &ReadOptions{ChunkRows: 16})
		require.NoError(t, err)
		ioRequireSameRegister(t, r, got)
		n := counter.n
		require.Greater(t, n, 20, "too few polls to cancel mid-run")
		polls := []int{1, 2, n / 3, n / 2, n - 1}
		if testing.Short() {
			polls = []int{1, n / 2}
		}
		for _, k := range polls {
			t.Run(fmt.Sprintf("%v/poll %d of %d", f, k, n), func(t *testing.T) {
				defer leakcheck.Check(t)()
				reg, err := ReadDir(leakcheck.CancelAfter(context.Background(), k), dir, &ReadOptions{ChunkRows: 16})
				require.ErrorIs(t, err, context.Canceled)
				assert.Nil(t, reg)
			})
		}
	}
}

// pollCounter counts calls of Err and Done.
type pollCounter struct {
	context.Context
	mu sync.Mutex
	n  int
}

func (c *pollCounter) Err() error {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Context.Err()
}

func (c *pollCounter) Done() <-chan struct{} {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return c.Context.Done()
}
