// Package progress prints the progress of a long step for the callbacks
// of the library's options (panel.BuildOptions.Progress,
// estimate.BootstrapOptions.Progress, synth.Options.Progress, ...), which
// all have the shape func(done, total int).
//
// On a terminal the line is redrawn in place as a bar; anywhere else (a
// log file, a pipe, a CI console) it prints plain lines at every tenth,
// never a carriage return:
//
//	persons [##########----------]  50%     (terminal, redrawn)
//	  persons: 50%                          (log, one line per tenth)
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Width is the number of cells of the terminal bar.
const Width = 20

// Terminal reports whether w is a terminal: an *os.File on a character
// device, or a writer with an IsTerminal method (such as a wrapper of
// os.Stderr) that says so.
func Terminal(w io.Writer) bool {
	switch w := w.(type) {
	case interface{ IsTerminal() bool }:
		return w.IsTerminal()
	case *os.File:
		st, err := w.Stat()
		return err == nil && st.Mode()&os.ModeCharDevice != 0
	}
	return false
}

// New returns a callback that prints the progress of the step named what
// on w: a bar redrawn at every percent on a terminal (Terminal), plain
// lines "  what: NN%" at every tenth elsewhere; the line is ended when
// done reaches total. Calls with total <= 0 print nothing. It is safe for
// concurrent use (the library calls it from its workers) and prints each
// step at most once even when calls arrive out of order. For w == nil or
// io.Discard it returns a callback that does nothing.
func New(w io.Writer, what string) func(done, total int) {
	if w == nil || w == io.Discard {
		return func(int, int) {}
	}
	p := &printer{w: w, what: what, term: Terminal(w), last: -1}
	return p.update
}

type printer struct {
	w    io.Writer
	what string
	term bool
	mu   sync.Mutex
	last int // last unit printed (percent on a terminal, tenth elsewhere), -1 none
	done bool
}

func (p *printer) update(done, total int) {
	if total <= 0 {
		return
	}
	done = min(max(done, 0), total)
	pct := int(int64(done) * 100 / int64(total)) // 100 only when done == total
	unit := pct
	if !p.term {
		unit = pct / 10
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.done || unit <= p.last {
		return
	}
	p.last = unit
	if p.term {
		filled := pct * Width / 100
		fmt.Fprintf(p.w, "\r%s [%s%s] %3d%%", p.what, strings.Repeat("#", filled), strings.Repeat("-", Width-filled), pct)
	} else {
		fmt.Fprintf(p.w, "  %s: %d%%\n", p.what, unit*10)
	}
	if done == total {
		p.done = true
		if p.term {
			fmt.Fprintln(p.w)
		}
	}
}
