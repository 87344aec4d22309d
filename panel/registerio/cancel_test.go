package registerio

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/psmeval/psmeval/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestReadDirCancelMidRun cancels ReadDir at its k-th poll of the
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
