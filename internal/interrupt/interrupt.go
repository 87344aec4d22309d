// Package interrupt gives the example programs one way to honour SIGINT
// (Ctrl-C) and SIGTERM (timeout, Slurm, docker stop): the first signal
// cancels a context, the program's steps return with that context's
// error, and the program reports "interrupted" on a line of its own and
// exits with 128 + the signal number (130 for SIGINT, 143 for SIGTERM).
//
// While the context is live the signals are caught, not fatal, so a
// program always gets to remove its temporary files; later signals are
// caught too until stop is called.
package interrupt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"

	"github.com/psmeval/psmeval/progress"
)

// Signals are the signals Context catches.
var Signals = []os.Signal{os.Interrupt, syscall.SIGTERM}

// Error is the cause of a context cancelled by a signal.
type Error struct {
	Signal os.Signal
}

func (e *Error) Error() string { return "interrupted by " + e.Signal.String() }

// ExitCode is 128 + the signal number, the shell's convention.
func (e *Error) ExitCode() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 130
}

// Context returns a copy of parent that is cancelled, with cause *Error,
// when the process receives SIGINT or SIGTERM. stop releases the signals
// (their default action applies again) and cancels the context.
func Context(parent context.Context) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, Signals...)
	done := make(chan struct{})
	go func() {
		select {
		case s := <-ch:
			cancel(&Error{Signal: s})
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel(context.Canceled)
		})
	}
}

// Cause returns the *Error that cancelled ctx, or nil.
func Cause(ctx context.Context) *Error {
	var e *Error
	if errors.As(context.Cause(ctx), &e) {
		return e
	}
	return nil
}

// Exit reports err of program prog on w and returns the exit status: 0
// for nil; for a run stopped by a signal (ctx cancelled by Context; the
// error is then the cancellation or a consequence of it)
// "prog: interrupted (SIGNAL)" on a line of its own, even when w is in
// the middle of a progress line, and 128 + the signal number; otherwise
// "prog: err" on a line of its own and code.
func Exit(ctx context.Context, w *LineWriter, prog string, err error, code int) int {
	if err == nil {
		return 0
	}
	if e := Cause(ctx); e != nil {
		w.EndLine()
		fmt.Fprintf(w, "%s: interrupted (%s)\n", prog, e.Signal)
		return e.ExitCode()
	}
	w.EndLine()
	fmt.Fprintf(w, "%s: %v\n", prog, err)
	return code
}

// LineWriter passes writes through to W and remembers whether the last
// byte written ended a line, so that a message can start on a line of
// its own after a progress line ("\r  step:  40%"). It is safe for
// concurrent use.
type LineWriter struct {
	W       io.Writer
	mu      sync.Mutex
	partial bool
}

// NewLineWriter returns a LineWriter on w.
func NewLineWriter(w io.Writer) *LineWriter { return &LineWriter{W: w} }

func (l *LineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	n, err := l.W.Write(p)
	if n > 0 {
		l.partial = p[n-1] != '\n'
	}
	return n, err
}

// IsTerminal reports whether W is a terminal (progress.Terminal), so that
// progress printed through a LineWriter on os.Stderr is a bar there and
// plain lines in a log.
func (l *LineWriter) IsTerminal() bool { return progress.Terminal(l.W) }

// EndLine writes a newline if the last write left a line unfinished.
func (l *LineWriter) EndLine() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.partial {
		_, _ = l.W.Write([]byte{'\n'})
		l.partial = false
	}
}
