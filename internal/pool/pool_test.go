package pool

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"
)

// Every job runs exactly once, each worker with its own state, and the
// progress count rises by one per job up to n.
func TestRunAllJobs(t *testing.T) {
	for _, workers := range []int{0, 1, 3, 100} {
		const n = 500
		var runs [n]atomic.Int32
		var states atomic.Int32
		last := 0
		err := Run(context.Background(), workers, n, func() *int { states.Add(1); return new(int) },
			func(s *int, i int) error { *s++; runs[i].Add(1); return nil },
			func(done, total int) {
				if done != last+1 || total != n {
					t.Errorf("progress %d/%d after %d", done, total, last)
				}
				last = done
			})
		if err != nil {
			t.Fatal(err)
		}
		for i := range runs {
			if runs[i].Load() != 1 {
				t.Fatalf("workers %d: job %d ran %d times", workers, i, runs[i].Load())
			}
		}
		if want := int32(max(1, min(workers, n))); states.Load() != want {
			t.Errorf("workers %d: %d states, want %d", workers, states.Load(), want)
		}
		if last != n {
			t.Errorf("workers %d: progress ended at %d", workers, last)
		}
	}
}

// The error is that of the lowest-numbered failing job, whatever the
// timing: here job 7 fails late and job 30 early.
func TestRunLowestError(t *testing.T) {
	for range 20 {
		err := Run(context.Background(), 4, 100, nil, func(_ struct{}, i int) error {
			switch i {
			case 7:
				time.Sleep(2 * time.Millisecond)
				return fmt.Errorf("job %d", i)
			case 30:
				return fmt.Errorf("job %d", i)
			}
			return nil
		}, nil)
		if err == nil || err.Error() != "job 7" {
			t.Fatalf("got %v, want job 7", err)
		}
	}
}

// A cancelled context stops the pool: no job starts after it, and Run
// returns the context's error.
func TestRunCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var ran atomic.Int32
	err := Run(ctx, 2, 1000, nil, func(_ struct{}, i int) error {
		if ran.Add(1) == 10 {
			cancel()
		}
		return nil
	}, nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if r := ran.Load(); r > 12 {
		t.Errorf("%d jobs ran after the cancellation at 10", r)
	}
	if err := Run(context.Background(), 2, 0, nil, func(struct{}, int) error { return nil }, nil); err != nil {
		t.Errorf("no jobs: %v", err)
	}
}
