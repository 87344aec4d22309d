package progress

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
)

type termBuf struct {
	bytes.Buffer
	term bool
}

func (b *termBuf) IsTerminal() bool { return b.term }

// A log gets one plain line per tenth, in order, ending at 100 %, and no
// carriage return.
func TestLogLines(t *testing.T) {
	var b bytes.Buffer
	f := New(&b, "persons")
	for d := 0; d <= 1000; d += 7 {
		f(d, 1000)
	}
	f(1000, 1000)
	f(1000, 1000) // done twice: printed once
	want := ""
	for p := 0; p <= 100; p += 10 {
		want += "  persons: " + strconv.Itoa(p) + "%\n"
	}
	if b.String() != want {
		t.Errorf("got\n%q\nwant\n%q", b.String(), want)
	}
	if strings.Contains(b.String(), "\r") {
		t.Error("carriage return in a log")
	}
}

// A terminal gets a bar redrawn with \r at each new percent, and a final
// newline.
func TestTerminalBar(t *testing.T) {
	b := &termBuf{term: true}
	f := New(b, "x")
	f(1, 4)
	f(1, 4) // same percent: nothing
	f(4, 4)
	want := "\rx [#####---------------]  25%" + "\rx [####################] 100%\n"
	if b.String() != want {
		t.Errorf("got %q, want %q", b.String(), want)
	}
}

// Out-of-order and concurrent calls never print a smaller value after a
// larger one, nothing after done, and nothing for total <= 0.
func TestConcurrentMonotone(t *testing.T) {
	var b bytes.Buffer
	var mu sync.Mutex
	w := writerFunc(func(p []byte) (int, error) { mu.Lock(); defer mu.Unlock(); return b.Write(p) })
	f := New(w, "r")
	f(5, 0)
	f(5, -1)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for d := g; d <= 999; d += 8 {
				f(d+1, 1000)
			}
		}(g)
	}
	wg.Wait()
	f(3, 1000)
	last := -1
	for _, line := range strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n") {
		var p int
		if _, err := fmt.Sscanf(line, "  r: %d%%", &p); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		if p <= last {
			t.Fatalf("%d%% after %d%%", p, last)
		}
		last = p
	}
	if last != 100 {
		t.Errorf("last line %d%%, want 100%%", last)
	}
}

func TestDiscard(t *testing.T) {
	New(io.Discard, "x")(1, 2) // a callback that does nothing, not nil
	New(nil, "x")(2, 2)
	if Terminal(&bytes.Buffer{}) || !Terminal(&termBuf{term: true}) {
		t.Error("Terminal")
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }
