package interrupt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"
)

// TestContextSignal: SIGTERM sent to the process cancels the context
// with an *Error naming it, and Exit reports it on a line of its own
// after an unfinished progress line, with status 143.
func TestContextSignal(t *testing.T) {
	ctx, stop := Context(context.Background())
	defer stop()
	if err := syscall.Kill(syscall.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("context not cancelled by SIGTERM")
	}
	e := Cause(ctx)
	if e == nil || e.Signal != syscall.SIGTERM {
		t.Fatalf("cause %v, want SIGTERM", context.Cause(ctx))
	}
	var buf bytes.Buffer
	w := NewLineWriter(&buf)
	fmt.Fprint(w, "\r  replicates:  40%")
	code := Exit(ctx, w, "prog", fmt.Errorf("bootstrap: %w", ctx.Err()), 1)
	if code != 143 {
		t.Errorf("exit status %d, want 143", code)
	}
	if want := "\r  replicates:  40%\nprog: interrupted (terminated)\n"; buf.String() != want {
		t.Errorf("stderr %q, want %q", buf.String(), want)
	}
}

// TestExitOther: without a signal, Exit prints the error on a line of
// its own and returns the given status; nil is status 0 and prints
// nothing.
func TestExitOther(t *testing.T) {
	var buf bytes.Buffer
	w := NewLineWriter(&buf)
	if code := Exit(context.Background(), w, "prog", nil, 1); code != 0 || buf.Len() != 0 {
		t.Errorf("nil error: status %d, output %q", code, buf.String())
	}
	fmt.Fprint(w, "done\n")
	if code := Exit(context.Background(), w, "prog", errors.New("bad"), 2); code != 2 {
		t.Errorf("status %d, want 2", code)
	}
	if want := "done\nprog: bad\n"; buf.String() != want {
		t.Errorf("stderr %q, want %q", buf.String(), want)
	}
}

// TestStop: after stop the context is done but not by a signal.
func TestStop(t *testing.T) {
	ctx, stop := Context(context.Background())
	stop()
	stop()
	<-ctx.Done()
	if Cause(ctx) != nil {
		t.Errorf("cause %v after stop, want none", context.Cause(ctx))
	}
}
