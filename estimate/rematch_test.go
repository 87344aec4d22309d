package estimate

import (
	"sync/atomic"
	"testing"
)

// parallelRange calls f on chunks that cover [0, n) exactly once, for n
// below, at and far above its chunk size.
func TestParallelRange(t *testing.T) {
	for _, n := range []int{0, 1, 1000, 1 << 16, 1<<17 + 3, 5_000_001} {
		seen := make([]int32, n)
		var calls atomic.Int32
		parallelRange(n, func(lo, hi int) {
			calls.Add(1)
			for i := lo; i < hi; i++ {
				seen[i]++
			}
		})
		for i, c := range seen {
			if c != 1 {
				t.Fatalf("n %d: index %d covered %d times", n, i, c)
			}
		}
		if calls.Load() == 0 {
			t.Fatalf("n %d: f never called", n)
		}
	}
}
