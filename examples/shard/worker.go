package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/estimate"
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

// worker is part i of the run: its units lo..hi-1 of the panel.
type worker struct {
	c      *config
	d      *data
	part   int
	lo, hi int
	rows   *psm.LogitRows
	x      *mat.Dense // the part's rows of the covariates
	ctrl   *psm.MatchControls
	ctrlOf model // the model ctrl's scores come from
}

// runWorker is the worker role: it builds the data, keeps part i of n
// (its range of units), and answers every round's broadcast in c.dir
// with its partial, until the coordinator writes the done file. An error
// during the rounds is also written to part-i.error, so the coordinator
// stops at once. Cost per round: the part's share of the scan, an IRLS
// pass, the candidate search or the effect sums.
func runWorker(ctx context.Context, c *config, i, n int) error {
	d, err := buildData(ctx, c, n)
	if err != nil {
		return fmt.Errorf("part %d/%d: %w", i, n, err)
	}
	w := &worker{c: c, d: d, part: i, lo: d.bounds[i], hi: d.bounds[i+1]}
	_, p := d.pan.X.Dims()
	if w.hi > w.lo {
		w.x = d.pan.X.Slice(w.lo, w.hi, 0, p).(*mat.Dense)
	} else {
		w.x = mat.NewDense(1, p, nil) // not read: no rows
	}
	y := d.pan.TreatedIndicator()[w.lo:w.hi]
	w.rows, err = psm.NewLogitRows(w.x, y, nil, 0, w.hi-w.lo, &psm.LogitRowsOptions{Offset: w.lo, Workers: c.workers})
	if err != nil {
		return fmt.Errorf("part %d/%d: %w", i, n, err)
	}
	if w.hi == w.lo {
		w.x = nil
	}
	fail := func(err error) error {
		_ = writeFile(errorFile(c.dir, i), []byte(err.Error()+"\n"))
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
	d := &dec{b: msg[1:]}
	switch msg[0] {
	case kindScan:
		start := d.u8() == 1
		if err := d.end(); err != nil {
			return nil, fmt.Errorf("scan broadcast: %w", err)
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
		m, err := finishMatching(ts, w.d.sample.Treated, &c)
		if err != nil {
			return nil, err
		}
		sums, err := estimate.NewEffectSums(w.d.sample, m, w.lo, w.hi)
		if err != nil {
			return nil, err
		}
		return sums.MarshalBinary()
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
		treated := w.d.sample.Treated
		for u := w.lo; u < w.hi; u++ {
			if !treated[u] {
				units = append(units, u)
				scores = append(scores, all[u-w.lo])
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
