package registerio

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
)

// countingAllocator counts the allocations it serves.
type countingAllocator struct {
	*memory.CheckedAllocator
	n int
}

func (c *countingAllocator) Allocate(size int) []byte {
	c.n++
	return c.CheckedAllocator.Allocate(size)
}

// ReadOptions.Allocator provides the Parquet reader's memory: it serves
// allocations while the bundled example register is read, and none are
// left outstanding once ReadDir returns.
func TestReadDirAllocator(t *testing.T) {
	mem := &countingAllocator{CheckedAllocator: memory.NewCheckedAllocator(memory.NewGoAllocator())}
	if _, err := ReadDir(context.Background(), filepath.Join("..", "..", "testdata", "example", "parquet"), &ReadOptions{Allocator: mem}); err != nil {
		t.Fatal(err)
	}
	if mem.n == 0 {
		t.Error("the allocator served no allocation")
	}
	mem.AssertSize(t, 0)
}
