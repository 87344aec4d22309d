// Package sigtest runs a program and sends it a signal when its log shows
// a given step, for tests of how programs honour SIGINT and SIGTERM. It
// is for tests only.
package sigtest

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Build builds the main package pkg (an import path or a ./dir relative
// to the test's directory) into a temporary directory and returns the
// binary's path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "prog")
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// Result is what Run observed.
type Result struct {
	Reached  bool          // the step appeared on stderr and the signal was sent
	ExitCode int           // -1 when the program was killed by a signal
	Signaled bool          // the program died of a signal (did not handle it)
	Stderr   string        // everything written to stderr
	Latency  time.Duration // from the signal to the program's exit
}

// Run starts bin with args, sends sig as soon as a write to stderr
// contains step, and waits for the program to end, killing it after
// limit. The caller asserts on the Result.
func Run(t testing.TB, bin string, args []string, step string, sig syscall.Signal, limit time.Duration) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stdout = io.Discard
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = pw
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	var (
		res    Result
		buf    bytes.Buffer
		mu     sync.Mutex
		sentAt time.Time
	)
	done := make(chan struct{})
	go func() {
		defer close(done)
		r := bufio.NewReader(pr)
		chunk := make([]byte, 4096)
		for {
			n, err := r.Read(chunk)
			mu.Lock()
			buf.Write(chunk[:n])
			if !res.Reached && strings.Contains(buf.String(), step) {
				res.Reached = true
				sentAt = time.Now()
				_ = cmd.Process.Signal(sig)
			}
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	werr := cmd.Wait()
	end := time.Now()
	<-done
	pr.Close()
	mu.Lock()
	defer mu.Unlock()
	res.Stderr = buf.String()
	if res.Reached {
		res.Latency = end.Sub(sentAt)
	}
	res.ExitCode = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		res.Signaled = true
	}
	if werr != nil && ctx.Err() != nil {
		t.Errorf("%s did not end within %v (step %q reached: %v)\n%s", bin, limit, step, res.Reached, res.Stderr)
	}
	return res
}

// CheckInterrupted reports an error unless the program was interrupted
// as the example programs promise: it handled sig (exit status 128 +
// sig), its last line of stderr is "prog: interrupted (...)" and stands
// on a line of its own, and it ended within promptly of the signal.
func CheckInterrupted(t testing.TB, res Result, prog string, sig syscall.Signal, promptly time.Duration) {
	t.Helper()
	if !res.Reached {
		t.Fatalf("step not reached before the program ended (exit %d)\n%s", res.ExitCode, res.Stderr)
	}
	if res.Signaled || res.ExitCode != 128+int(sig) {
		t.Errorf("exit status %d (killed by the signal: %v), want %d", res.ExitCode, res.Signaled, 128+int(sig))
	}
	if res.Latency > promptly {
		t.Errorf("ended %v after the signal, want within %v", res.Latency, promptly)
	}
	lines := strings.Split(strings.TrimRight(res.Stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	if !strings.HasPrefix(last, prog+": interrupted") {
		t.Errorf("last line of stderr %q, want %q on a line of its own; stderr:\n%s", last, prog+": interrupted", res.Stderr)
	}
}

// CheckDir reports an error if dir holds a temporary file (a name
// starting with "." and holding ".tmp") or a file not in complete; a
// missing dir is fine.
func CheckDir(t testing.TB, dir string, complete map[string]bool) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") || !complete[e.Name()] {
			t.Errorf("%s: unexpected file %s after the interruption", dir, e.Name())
		}
	}
}
