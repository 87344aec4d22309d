package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/psmeval/psmeval/internal/atomicfile"
)

// The files of a run in the shared directory D. Every file is written
// atomically (a temporary file in D, renamed), so a file that exists is
// complete.
const (
	doneFile   = "done"        // the coordinator has finished (empty)
	resultFile = "result.json" // the coordinator's result
)

// broadcastFile is the coordinator's request of round r.
func broadcastFile(dir string, r int) string {
	return filepath.Join(dir, fmt.Sprintf("round-%d.in", r))
}

// partFile is part i's answer to round r.
func partFile(dir string, r, i int) string {
	return filepath.Join(dir, fmt.Sprintf("round-%d.part-%d", r, i))
}

// errorFile holds the error that stopped part i.
func errorFile(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("part-%d.error", i))
}

// statsFile holds part i's timings and peak memory (partStats), written
// before its answer to the effect sums round.
func statsFile(dir string, i int) string {
	return filepath.Join(dir, fmt.Sprintf("part-%d.stats.json", i))
}

// The kinds of round, the first byte of a broadcast.
const (
	kindStarts     = 'C' // start counts (data mode, pass 0): nothing
	kindTreated    = 'T' // treated rows (data mode, pass 1): the merged start counts' encoding
	kindScan       = 'S' // logit scan: start (1 byte); in data mode then the layout of the parts' units
	kindPass       = 'P' // logit pass: the plan's encoding and beta
	kindMoments    = 'M' // matching moments: the model and the distance (1 byte)
	kindCandidates = 'Q' // matching candidates: the model and the query's encoding
	kindEffects    = 'E' // effect sums: the treated units' scores and the merged candidates' encoding
)

// kindName names a kind of round in result.json.
func kindName(k byte) string {
	switch k {
	case kindStarts:
		return "start counts"
	case kindTreated:
		return "treated rows"
	case kindScan:
		return "logit scan"
	case kindPass:
		return "logit pass"
	case kindMoments:
		return "match moments"
	case kindCandidates:
		return "match candidates"
	case kindEffects:
		return "effect sums"
	}
	return fmt.Sprintf("unknown %q", k)
}

// writeFile writes data to path atomically.
func writeFile(path string, data []byte) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// waitFile polls every poll for path and returns its content once it
// exists. Before each wait it calls check (when not nil), whose error
// ends the wait; a done ctx ends it with ctx's cause.
func waitFile(ctx context.Context, path string, poll time.Duration, check func() error) ([]byte, error) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return b, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		if check != nil {
			if err := check(); err != nil {
				return nil, err
			}
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %s: %w", path, context.Cause(ctx))
		case <-t.C:
		}
	}
}

// errDone ends a worker's wait: the coordinator has finished.
var errDone = errors.New("the coordinator has finished")

// exists reports whether path exists.
func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// enc appends little-endian numbers to a message.
type enc struct{ b []byte }

func (e *enc) u8(v uint8)     { e.b = append(e.b, v) }
func (e *enc) u32(v int)      { e.b = binary.LittleEndian.AppendUint32(e.b, uint32(v)) }
func (e *enc) u64(v int64)    { e.b = binary.LittleEndian.AppendUint64(e.b, uint64(v)) }
func (e *enc) bytes(v []byte) { e.u32(len(v)); e.b = append(e.b, v...) }
func (e *enc) floats(v []float64) {
	e.u32(len(v))
	for _, x := range v {
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(x))
	}
}

// dec reads what enc wrote; the first error sticks.
type dec struct {
	b   []byte
	err error
}

func (d *dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("truncated: %d bytes wanted, %d left", n, len(d.b))
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) u8() uint8 {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *dec) u32() int {
	if v := d.take(4); v != nil {
		return int(binary.LittleEndian.Uint32(v))
	}
	return 0
}

// u64 reads a count or an id: an error beyond 2^62.
func (d *dec) u64() int64 {
	if v := d.take(8); v != nil {
		x := binary.LittleEndian.Uint64(v)
		if x > 1<<62 {
			d.err = fmt.Errorf("number %d out of range", x)
			return 0
		}
		return int64(x)
	}
	return 0
}

func (d *dec) bytes() []byte { return d.take(d.u32()) }

func (d *dec) floats() []float64 {
	n := d.u32()
	if d.err == nil && n > len(d.b)/8 {
		d.err = fmt.Errorf("truncated: %d floats, %d bytes left", n, len(d.b))
	}
	v := make([]float64, 0, max(n, 0))
	for range n {
		if b := d.take(8); b != nil {
			v = append(v, math.Float64frombits(binary.LittleEndian.Uint64(b)))
		}
	}
	return v
}

// end returns the error, or one for bytes left over.
func (d *dec) end() error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	return d.err
}

// model is the fitted logit the matching rounds broadcast: the workers
// score their units with it.
type model struct {
	intercept bool
	coef      []float64
}

func (e *enc) model(m model) {
	b := uint8(0)
	if m.intercept {
		b = 1
	}
	e.u8(b)
	e.floats(m.coef)
}

func (d *dec) model() model { return model{intercept: d.u8() == 1, coef: d.floats()} }
