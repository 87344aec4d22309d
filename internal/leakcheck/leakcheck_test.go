package leakcheck

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeT records Errorf calls.
type fakeT struct{ msgs []string }

func (f *fakeT) Helper() {}
func (f *fakeT) Errorf(format string, args ...any) {
	f.msgs = append(f.msgs, fmt.Sprintf(format, args...))
}

func TestCheckFindsLeak(t *testing.T) {
	old := Wait
	Wait = 50 * time.Millisecond
	defer func() { Wait = old }()
	stop := make(chan struct{})
	defer close(stop)
	ft := &fakeT{}
	done := Check(ft)
	go func() { <-stop }() // leaks until the test ends
	done()
	require.Len(t, ft.msgs, 1)
	assert.Contains(t, ft.msgs[0], "1 goroutine(s) left behind")
	assert.Contains(t, ft.msgs[0], "TestCheckFindsLeak")
}

func TestCheckWaitsForEndingGoroutines(t *testing.T) {
	ft := &fakeT{}
	done := Check(ft)
	for range 4 {
		go time.Sleep(30 * time.Millisecond) // ends on its own
	}
	t.Run("subtest", func(t *testing.T) {}) // test runners are ignored
	done()
	assert.Empty(t, ft.msgs)
}

func TestCheckIgnoresEarlierGoroutines(t *testing.T) {
	stop := make(chan struct{})
	defer close(stop)
	go func() { <-stop }() // started before Check
	ft := &fakeT{}
	Check(ft)()
	assert.Empty(t, ft.msgs)
}

func TestCancelAfter(t *testing.T) {
	ctx := CancelAfter(context.Background(), 3)
	require.NoError(t, ctx.Err())
	select {
	case <-ctx.Done():
		t.Fatal("done after 2 calls")
	default:
	}
	require.ErrorIs(t, ctx.Err(), context.Canceled) // third call
	<-ctx.Done()
	// derived contexts see it
	ctx = CancelAfter(context.Background(), 2)
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	ctx.Err()
	ctx.Err()
	select {
	case <-child.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("child not cancelled")
	}
	assert.True(t, errors.Is(child.Err(), context.Canceled))
	assert.True(t, strings.HasPrefix(fmt.Sprint(ctx), "leakcheck.CancelAfter("))
	// n <= 0: cancelled at the first call
	assert.ErrorIs(t, CancelAfter(context.Background(), 0).Err(), context.Canceled)
}
