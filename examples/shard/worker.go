package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
	"github.com/psmeval/psmeval/psm"
)

// parsePart parses -part "i/N": part i (0-based) of N.
func parsePart(s string) (i, n int, err error) {
	a, b, ok := strings.Cut(s, "/")
	if ok {
		i, err = strconv.Atoi(a)
		if err == nil {
			n, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || n < 1 || i < 0 || i >= n {
		return 0, 0, fmt.Errorf("-part %q: want i/N with 0 <= i < N, N >= 1", s)
	}
	return i, n, nil
}

// worker is part i of the run: its units lo..hi-1 of all parts' units.
type worker struct {
	c           *config
	part, parts int

	// data mode, until its panel is built: the part's register, design
	// and start counts (pass 0)
	reg    *panel.Register
	design *panel.Design
	starts *panel.StartCounts

	lo, hi  int
	p       int              // covariates
	x       mat.Matrix       // the part's rows of the covariates (nil without units)
	treated []bool           // the part's units' treated flags
	sample  *estimate.Sample // the part's units' outcomes
	all     []bool           // every unit's treated flag (the matching of all units)
	rows    *psm.LogitRows
	ctrl    *psm.MatchControls
	ctrlOf  model // the model ctrl's scores come from
	stats   partStats
}

// newMemoryWorker builds the data of c (the whole population and panel)
// and keeps part i of n: its range of units.
func newMemoryWorker(ctx context.Context, c *config, i, n int) (*worker, error) {
	t0 := time.Now()
	d, err := buildData(ctx, c, n)
	if err != nil {
		return nil, err
	}
	w := &worker{c: c, part: i, parts: n, lo: d.bounds[i], hi: d.bounds[i+1], all: d.sample.Treated}
	w.stats = partStats{Part: i, Persons: d.pan.Counts.Persons, Generate: time.Since(t0).Seconds()}
	_, w.p = d.pan.X.Dims()
	if w.hi > w.lo {
		w.x = d.pan.X.Slice(w.lo, w.hi, 0, w.p)
	}
	w.treated = d.sample.Treated[w.lo:w.hi]
	w.sample = sampleRange(d.sample, w.lo, w.hi)
	return w, w.setupRows()
}

// newDataWorker reads part i of n from c.data (its own persons only),
// makes the design (with the dummies' levels of the whole population
// from the shard's manifest) and counts its treated start days (pass
// 0). Its panel waits for the merged counts (the treated-rows round).
func newDataWorker(ctx context.Context, c *config, i, n int) (*worker, error) {
	w := &worker{c: c, part: i, parts: n, stats: partStats{Part: i}}
	t0 := time.Now()
	r, dummies, err := readShard(ctx, c.data, i, n)
	if err != nil {
		return nil, err
	}
	w.stats.Read = time.Since(t0).Seconds()
	if err := benchdata.CheckOutcomes(c.outcomes, c.horizon); err != nil {
		return nil, err
	}
	d, _, err := benchdata.DesignWith(r, dummies, c.covariates, synth.OutcomeNames[:c.outcomes], c.seed, c.workers, nil)
	if err != nil {
		return nil, err
	}
	t1 := time.Now()
	if w.starts, err = panel.CountStarts(ctx, r, d); err != nil {
		return nil, err
	}
	w.stats.Starts = time.Since(t1).Seconds()
	w.reg, w.design, w.stats.Persons = r, d, r.Len()
	return w, nil
}

// build builds the part's panel with the merged start counts of all
// parts (pass 1) and returns its partInfo; the register is dropped.
func (w *worker) build(ctx context.Context, merged *panel.StartCounts) (*partInfo, error) {
	if w.reg == nil {
		return nil, fmt.Errorf("a treated-rows round, but this worker has no -data (or its panel is built)")
	}
	t0 := time.Now()
	d := *w.design
	d.Starts = merged
	pan, err := panel.Build(ctx, w.reg, &d)
	if err != nil {
		return nil, err
	}
	persons := w.reg.Len()
	w.reg, w.design = nil, nil
	w.p = len(pan.CovNames)
	if pan.X != nil { // w.x stays a nil interface without units
		w.x = pan.X
	}
	w.treated = pan.Treated
	w.sample = panelSample(pan, w.c.horizon)
	w.stats.Build = time.Since(t0).Seconds()
	w.stats.Units, w.stats.Treated = pan.Len(), pan.NTreated()
	return partInfoOf(pan, w.sample, persons), nil
}

// place sets the part's units among all parts' (data mode, from the
// logit scan's broadcast) and makes its logit rows.
func (w *worker) place(l *layout) error {
	if len(l.units) != w.parts {
		return fmt.Errorf("a layout of %d parts, want %d", len(l.units), w.parts)
	}
	if l.units[w.part] != len(w.treated) || l.treated[w.part] != w.stats.Treated {
		return fmt.Errorf("the layout gives this part %d units (%d treated), it has %d (%d)",
			l.units[w.part], l.treated[w.part], len(w.treated), w.stats.Treated)
	}
	b := l.bounds()
	w.lo, w.hi = b[w.part], b[w.part+1]
	w.all = l.flags()
	return w.setupRows()
}

// setupRows makes the part's logit shard: its rows at offset lo.
func (w *worker) setupRows() error {
	x, y, n := w.x, make([]float64, len(w.treated)), len(w.treated)
	for u, t := range w.treated {
		if t {
			y[u] = 1
		}
	}
	if n == 0 {
		x, y = mat.NewDense(1, max(w.p, 1), nil), []float64{0} // not read: no rows
	}
	var err error
	w.rows, err = psm.NewLogitRows(x, y, nil, 0, n, &psm.LogitRowsOptions{Offset: w.lo, Workers: w.c.workers})
	return err
}

// runWorker is the worker role: it builds the data (memory mode: the
// whole population and panel, keeping part i of n's units) or reads its
// own persons (data mode, c.data), and answers every round's broadcast in
// c.dir with its partial, until the coordinator writes the done file. An
// error during the rounds is also written to part-i.error, so the
// coordinator stops at once. Before its answer to the effect sums round
// it writes its timings and peak memory (part-i.stats.json). Cost per
// round: the part's share of the scan, an IRLS pass, the candidate
// search or the effect sums; in data mode also the part's start counts
// and panel.
func runWorker(ctx context.Context, c *config, i, n int) error {
	fail := func(err error) error {
		_ = writeFile(errorFile(c.dir, i), []byte(err.Error()+"\n"))
		return err
	}
	var w *worker
	var err error
	if c.data != "" {
		w, err = newDataWorker(ctx, c, i, n)
	} else {
		w, err = newMemoryWorker(ctx, c, i, n)
	}
	if err != nil {
		err = fmt.Errorf("part %d/%d: %w", i, n, err)
		if c.data != "" {
			return fail(err)
		}
		return err
	}
	for r := 0; ; r++ {
		path := broadcastFile(c.dir, r)
		finished := false
		msg, err := waitFile(ctx, path, c.poll, func() error {
			finished = exists(filepath.Join(c.dir, doneFile))
			if finished {
				return errDone
			}
			return nil
		})
		if finished {
			return nil
		}
		if err != nil {
			return fmt.Errorf("part %d/%d, round %d: %w", i, n, r, err)
		}
		out, err := w.answer(ctx, msg)
		if err != nil {
			return fail(fmt.Errorf("part %d/%d, round %d (%s): %w", i, n, r, path, err))
		}
		if err := writeFile(partFile(c.dir, r, i), out); err != nil {
			return fail(fmt.Errorf("part %d/%d, round %d: %w", i, n, r, err))
		}
	}
}

// answer computes the part's answer to a broadcast: the encoding of its
// partial.
func (w *worker) answer(ctx context.Context, msg []byte) ([]byte, error) {
	if len(msg) == 0 {
		return nil, fmt.Errorf("empty broadcast")
	}
	t0 := time.Now()
	defer func() {
		s := time.Since(t0).Seconds()
		switch msg[0] {
		case kindScan, kindPass:
			w.stats.Logit += s
		case kindMoments, kindCandidates:
			w.stats.Match += s
		}
	}()
	d := &dec{b: msg[1:]}
	switch msg[0] {
	case kindStarts:
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("start counts broadcast: %w", err)
		}
		if w.starts == nil {
			return nil, fmt.Errorf("a start counts round, but this worker has no -data (is the coordinator run with -data, the workers without?)")
		}
		return w.starts.MarshalBinary()
	case kindTreated:
		var merged panel.StartCounts
		if err := merged.UnmarshalBinary(d.bytes()); err != nil {
			return nil, err
		}
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("treated rows broadcast: %w", err)
		}
		in, err := w.build(ctx, &merged)
		if err != nil {
			return nil, err
		}
		return in.encode(), nil
	case kindScan:
		start := d.u8() == 1
		if len(d.b) > 0 {
			l, err := decodeLayout(d)
			if err != nil {
				return nil, fmt.Errorf("scan broadcast: %w", err)
			}
			if err := w.place(l); err != nil {
				return nil, err
			}
		}
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("scan broadcast: %w", err)
		}
		if w.rows == nil {
			return nil, fmt.Errorf("a logit scan without the parts' layout (is the coordinator run without -data, the workers with?)")
		}
		part, err := w.rows.Scan(ctx, start)
		if err != nil {
			return nil, err
		}
		return part.MarshalBinary()
	case kindPass:
		var plan psm.LogitPlan
		if err := plan.UnmarshalBinary(d.bytes()); err != nil {
			return nil, err
		}
		var beta []float64
		if d.u8() == 1 {
			beta = d.floats()
		}
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("pass broadcast: %w", err)
		}
		part, err := w.rows.Pass(ctx, &plan, beta)
		if err != nil {
			return nil, err
		}
		return part.MarshalBinary()
	case kindMoments:
		m, dist := d.model(), psm.Distance(d.u8())
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("moments broadcast: %w", err)
		}
		ctrl, err := w.controls(m)
		if err != nil {
			return nil, err
		}
		mo, err := ctrl.Moments(ctx, dist)
		if err != nil {
			return nil, err
		}
		return mo.MarshalBinary()
	case kindCandidates:
		m := d.model()
		var q psm.MatchQuery
		if err := q.UnmarshalBinary(d.bytes()); err != nil {
			return nil, err
		}
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("candidates broadcast: %w", err)
		}
		ctrl, err := w.controls(m)
		if err != nil {
			return nil, err
		}
		c, err := ctrl.Candidates(ctx, &q)
		if err != nil {
			return nil, err
		}
		return c.MarshalBinary()
	case kindEffects:
		ts := d.floats()
		var c psm.MatchCandidates
		if err := c.UnmarshalBinary(d.bytes()); err != nil {
			return nil, err
		}
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("effects broadcast: %w", err)
		}
		m, err := finishMatching(ts, w.all, &c)
		if err != nil {
			return nil, err
		}
		sums, err := estimate.NewEffectSumsPart(w.sample, w.lo, m)
		if err != nil {
			return nil, err
		}
		out, err := sums.MarshalBinary()
		if err != nil {
			return nil, err
		}
		w.stats.Sums = time.Since(t0).Seconds()
		w.stats.Units, w.stats.Treated = len(w.treated), countTrue(w.treated)
		if v, ok := peakRSS(); ok {
			w.stats.PeakRSSMB = v
		}
		if err := writeJSON(statsFile(w.c.dir, w.part), &w.stats); err != nil {
			return nil, err
		}
		return out, nil
	}
	return nil, fmt.Errorf("unknown broadcast kind %q", msg[0])
}

// finishMatching rebuilds the matching of all units from the treated
// units' scores and the merged candidates of all parts (psm.MatchRun
// with MatchUnits' defaults): the coordinator's matching, bit for bit.
func finishMatching(ts []float64, treated []bool, c *psm.MatchCandidates) (*psm.UnitMatching, error) {
	r, err := psm.NewMatchRun(ts, treated, nil)
	if err != nil {
		return nil, err
	}
	if _, err := r.Query(nil); err != nil {
		return nil, err
	}
	return r.Finish(c)
}

// controls returns the part's control units with their scores under m
// (built once per model).
func (w *worker) controls(m model) (*psm.MatchControls, error) {
	if w.ctrl != nil && w.ctrlOf.intercept == m.intercept && slicesEqualBits(w.ctrlOf.coef, m.coef) {
		return w.ctrl, nil
	}
	var units []int
	var scores []float64
	if w.x != nil {
		_, p := w.x.Dims()
		off := 0
		if m.intercept {
			off = 1
		}
		if len(m.coef) != p+off {
			return nil, fmt.Errorf("a model of %d coefficients for %d covariates", len(m.coef), p)
		}
		all := (&psm.Logit{Intercept: m.intercept, Coef: m.coef}).Predict(w.x, nil)
		for k, t := range w.treated {
			if !t {
				units = append(units, w.lo+k)
				scores = append(scores, all[k])
			}
		}
	}
	ctrl, err := psm.NewMatchControls(units, scores, nil)
	if err != nil {
		return nil, err
	}
	w.ctrl, w.ctrlOf = ctrl, m
	return ctrl, nil
}

// countTrue returns the number of true values of v.
func countTrue(v []bool) int {
	n := 0
	for _, t := range v {
		if t {
			n++
		}
	}
	return n
}

// slicesEqualBits reports whether a and b hold the same float64 bits.
func slicesEqualBits(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			return false
		}
	}
	return true
}
