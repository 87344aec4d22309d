// Package pool is the one worker pool of psmeval: numbered jobs on a
// bounded set of goroutines, each with its own state, stopped by a
// context or by a failing job, with an error that does not depend on
// scheduling.
package pool

import (
	"context"
	"math"
	"sync"
	"sync/atomic"
)

// Run calls job(s, i) for the jobs i = 0..n−1 on min(workers, n)
// goroutines (at least one; workers <= 0 means one), each with its own
// state s from newState (nil: the zero S). Jobs are handed out in
// increasing order. When a job fails, no job with a higher number is
// started (those already running finish) and the jobs with lower
// numbers still run, so Run returns the error of the lowest-numbered
// failing job whatever the scheduling. When ctx is cancelled no further
// job starts and Run returns ctx.Err(). progress, when not nil, is
// called after every successful job with the number of jobs done and n;
// the calls are serialized and the count increases by one each time.
// Jobs must write only their own results (the pool gives no ordering
// between them).
func Run[S any](ctx context.Context, workers, n int, newState func() S, job func(s S, i int) error, progress func(done, total int)) error {
	if n <= 0 {
		return ctx.Err()
	}
	workers = max(1, min(workers, n))
	var next, done atomic.Int64
	var failAt atomic.Int64
	failAt.Store(math.MaxInt64)
	errs := make([]error, n)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s S
			if newState != nil {
				s = newState()
			}
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if int64(i) > failAt.Load() {
					continue
				}
				if err := job(s, i); err != nil {
					errs[i] = err
					for {
						cur := failAt.Load()
						if int64(i) >= cur || failAt.CompareAndSwap(cur, int64(i)) {
							break
						}
					}
					continue
				}
				if progress != nil {
					mu.Lock()
					progress(int(done.Add(1)), n)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
