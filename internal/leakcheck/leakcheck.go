// Package leakcheck finds goroutines a test leaves behind, and makes
// contexts that cancel themselves in the middle of a run. It is for
// tests only and has no dependencies beyond the standard library.
//
//	defer leakcheck.Check(t)()
//	ctx := leakcheck.CancelAfter(context.Background(), 5)
//	_, err := registerio.ReadDir(ctx, dir, nil)
//
// Check compares goroutine ids, not counts: goroutines that were running
// before (other tests' leftovers, the runtime's) are ignored, so it is
// exact as long as no other test runs at the same time (no t.Parallel in
// the package, or call it from a test that is not parallel with others).
package leakcheck

import (
	"bytes"
	"context"
	"fmt"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TB is the part of testing.TB that Check uses.
type TB interface {
	Helper()
	Errorf(format string, args ...any)
}

// Wait is how long Check waits for goroutines started during the test to
// end before it reports them; they are polled every few milliseconds, so
// a clean test costs about nothing.
var Wait = 5 * time.Second

// Check records the running goroutines and returns a function that, when
// called (defer it), waits up to Wait for every goroutine started since
// to end, and fails t listing the stacks of those that did not.
func Check(t TB) func() {
	t.Helper()
	before := snapshot()
	return func() {
		t.Helper()
		if leaked := Leaked(before, Wait); len(leaked) > 0 {
			t.Errorf("leakcheck: %d goroutine(s) left behind:\n\n%s", len(leaked), strings.Join(leaked, "\n\n"))
		}
	}
}

// Snapshot is the set of goroutine ids running at one moment.
type Snapshot map[int]bool

// Take returns the goroutines running now.
func Take() Snapshot { return snapshot() }

// Leaked waits up to wait for the goroutines that are not in before to
// end and returns the stacks of those still running (nil when none).
func Leaked(before Snapshot, wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for delay := time.Millisecond; ; delay *= 2 {
		extra := newSince(before)
		if len(extra) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return extra
		}
		runtime.GC() // lets finalizer-driven goroutines move on
		if delay > 100*time.Millisecond {
			delay = 100 * time.Millisecond
		}
		time.Sleep(delay)
	}
}

func snapshot() Snapshot {
	s := Snapshot{}
	for _, g := range goroutines() {
		s[g.id] = true
	}
	return s
}

type goroutine struct {
	id    int
	stack string
}

// newSince returns the stacks of the goroutines not in before, except
// the caller's own and the runtime's.
func newSince(before Snapshot) []string {
	var out []string
	all := goroutines()
	self := -1
	if len(all) > 0 {
		self = all[0].id // runtime.Stack lists the calling goroutine first
	}
	for _, g := range all {
		if before[g.id] || g.id == self || ignored(g.stack) {
			continue
		}
		out = append(out, g.stack)
	}
	sort.Strings(out)
	return out
}

// ignored reports goroutines that belong to the testing package (the
// runners of tests and subtests) or to os/signal, not to the code under
// test.
func ignored(stack string) bool {
	for _, s := range []string{"\ncreated by testing.", "os/signal.loop(", "os/signal.signal_recv("} {
		if strings.Contains(stack, s) {
			return true
		}
	}
	return false
}

// goroutines parses runtime.Stack(all).
func goroutines() []goroutine {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []goroutine
	for _, block := range bytes.Split(buf, []byte("\n\n")) {
		s := string(bytes.TrimSpace(block))
		rest, ok := strings.CutPrefix(s, "goroutine ")
		if !ok {
			continue
		}
		idStr, _, _ := strings.Cut(rest, " ")
		id, err := strconv.Atoi(idStr)
		if err != nil {
			continue
		}
		out = append(out, goroutine{id: id, stack: s})
	}
	return out
}

// countdown is a context that cancels itself on the n-th call of its
// Err or Done method.
type countdown struct {
	context.Context
	cancel context.CancelFunc
	left   atomic.Int64
	once   sync.Once
}

// CancelAfter returns a child of parent that is cancelled (Err returns
// context.Canceled, Done is closed) once its Err and Done methods have
// been called n times in all: code that polls ctx.Err() per record or
// per block is stopped in the middle of its work, deterministically, at
// the n-th poll. n <= 0 cancels at the first call. Contexts derived from
// it (context.WithCancel) see the cancellation too.
func CancelAfter(parent context.Context, n int) context.Context {
	ctx, cancel := context.WithCancel(parent)
	c := &countdown{Context: ctx, cancel: cancel}
	c.left.Store(int64(n))
	return c
}

func (c *countdown) tick() {
	if c.left.Add(-1) <= 0 {
		c.once.Do(c.cancel)
	}
}

func (c *countdown) Done() <-chan struct{} { c.tick(); return c.Context.Done() }
func (c *countdown) Err() error            { c.tick(); return c.Context.Err() }
func (c *countdown) String() string {
	return fmt.Sprintf("leakcheck.CancelAfter(%d left)", c.left.Load())
}
