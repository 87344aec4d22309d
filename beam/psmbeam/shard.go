package psmbeam

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/atomicfile"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/psm"
)

// shardFn is the ParDo of every pass: for each shard index it reads the
// round's request (Request, a file of the work directory) and emits the
// encoding of the shard's partial result, or nothing when the shard has
// no rows for it. Pass 1 (kindLayout) reads the shard's register from
// Dirs[k], builds its panel with the registered design and writes the
// shard's cache; the later passes read that cache. Its fields are
// serialized with the pipeline (JSON).
type shardFn struct {
	WorkDir string
	Request string
	Dirs    []string
	Design  string
	Strata  string
	Months  int
	Read    []byte // registerio.ReadOptions as JSON (nil: the defaults)
	Workers int
}

// ProcessElement computes shard k's answer to the request.
func (f *shardFn) ProcessElement(ctx context.Context, k int, emit func([]byte)) error {
	if k < 0 || k >= len(f.Dirs) {
		return fmt.Errorf("psmbeam: shard %d of %d", k, len(f.Dirs))
	}
	b, err := os.ReadFile(f.Request)
	if err != nil {
		return fmt.Errorf("psmbeam: shard %d (%s): %w", k, f.Dirs[k], err)
	}
	req, err := decodeRequest(b)
	if err != nil {
		return fmt.Errorf("psmbeam: shard %d (%s): %s: %w", k, f.Dirs[k], f.Request, err)
	}
	out, err := f.answer(ctx, k, req)
	if err != nil {
		return fmt.Errorf("psmbeam: shard %d (%s), %v: %w", k, f.Dirs[k], req.kind, err)
	}
	if out != nil {
		emit(out)
	}
	return nil
}

// cachePath is the file of shard k's cache in the work directory.
func cachePath(work string, k int) string {
	return filepath.Join(work, fmt.Sprintf("shard-%04d.bin", k))
}

// answer computes the encoding of shard k's partial for req (nil: none).
func (f *shardFn) answer(ctx context.Context, k int, req *request) ([]byte, error) {
	switch req.kind {
	case kindStarts:
		return f.starts(ctx, k)
	case kindLayout:
		return f.build(ctx, k, req.starts)
	}
	b, err := os.ReadFile(cachePath(f.WorkDir, k))
	if err != nil {
		return nil, err
	}
	sd, err := decodeShard(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cachePath(f.WorkDir, k), err)
	}
	if len(req.firstTreated) != len(f.Dirs) || len(req.firstControl) != len(f.Dirs) {
		return nil, fmt.Errorf("a request numbering %d shards, want %d", len(req.firstTreated), len(f.Dirs))
	}
	w := &shardWork{sd: sd, k: k, req: req, workers: f.Workers}
	switch req.kind {
	case kindScan, kindPass:
		return w.logit(ctx)
	case kindScores:
		return w.scores()
	case kindMoments, kindCandidates:
		return w.match(ctx)
	case kindSums:
		return w.sums()
	}
	return nil, fmt.Errorf("unknown request")
}

// design reads shard k's register and makes its design.
func (f *shardFn) design(ctx context.Context, k int) (*panel.Register, *panel.Design, error) {
	design, err := lookupDesign(f.Design)
	if err != nil {
		return nil, nil, err
	}
	var ro *registerio.ReadOptions
	if f.Read != nil {
		ro = &registerio.ReadOptions{}
		if err := json.Unmarshal(f.Read, ro); err != nil {
			return nil, nil, fmt.Errorf("the read options: %w", err)
		}
	}
	r, err := registerio.ReadDir(ctx, f.Dirs[k], ro)
	if err != nil {
		return nil, nil, err
	}
	d, err := design(r)
	if err != nil {
		return nil, nil, fmt.Errorf("design %q: %w", f.Design, err)
	}
	if d == nil {
		return nil, nil, fmt.Errorf("design %q: nil", f.Design)
	}
	return r, d, nil
}

// starts is pass 0 on shard k: read its register and count the start
// days of its eligible treated (panel.CountStarts).
func (f *shardFn) starts(ctx context.Context, k int) ([]byte, error) {
	r, d, err := f.design(ctx, k)
	if err != nil {
		return nil, err
	}
	sc, err := panel.CountStarts(ctx, r, d)
	if err != nil {
		return nil, err
	}
	return sc.MarshalBinary()
}

// build is pass 1 on shard k: read its register, build its panel with
// the registered design, its controls' starts drawn from the merged
// start counts of all shards (Design.Starts), write its cache and return
// its layout record.
func (f *shardFn) build(ctx context.Context, k int, starts []byte) ([]byte, error) {
	var sc panel.StartCounts
	if err := sc.UnmarshalBinary(starts); err != nil {
		return nil, err
	}
	var err error
	var strataFn StrataFunc
	if f.Strata != "" {
		if strataFn, err = lookupStrata(f.Strata); err != nil {
			return nil, err
		}
	}
	r, d, err := f.design(ctx, k)
	if err != nil {
		return nil, err
	}
	d.Starts = &sc
	pan, err := panel.Build(ctx, r, d)
	if err != nil {
		return nil, err
	}
	var strata []int32
	if strataFn != nil {
		if strata, err = strataFn(pan); err != nil {
			return nil, fmt.Errorf("strata %q: %w", f.Strata, err)
		}
		if len(strata) != pan.Len() {
			return nil, fmt.Errorf("strata %q: %d codes for %d units", f.Strata, len(strata), pan.Len())
		}
	}
	sd, lay, err := newShard(pan, f.Months, strata)
	if err != nil {
		return nil, err
	}
	cache := sd.encode()
	if err := atomicfile.WriteContext(ctx, cachePath(f.WorkDir, k), func(w io.Writer) error {
		_, err := w.Write(cache)
		return err
	}); err != nil {
		return nil, err
	}
	return (&byShard{recs: []shardRec{{shard: k, data: lay.encode()}}}).MarshalBinary()
}

// shardWork is one shard's part of a round after pass 1.
type shardWork struct {
	sd      *shardData
	k       int
	req     *request
	workers int
}

// x returns the shard's covariates (nil without units).
func (w *shardWork) x() *mat.Dense {
	if w.sd.n == 0 || w.sd.p == 0 {
		return nil
	}
	return mat.NewDense(w.sd.n, w.sd.p, w.sd.x)
}

// rows returns the shard's covariate rows lo..hi−1 (nil when empty).
func (w *shardWork) rows(lo, hi int) *mat.Dense {
	if hi <= lo || w.sd.p == 0 {
		return nil
	}
	return mat.NewDense(hi-lo, w.sd.p, w.sd.x[lo*w.sd.p:hi*w.sd.p])
}

// logit answers a logit round: the shard's rows as two psm.LogitRows,
// its treated (rows firstTreated..) and its controls (rows
// firstControl..), scanned, and for a pass brought back to the previous
// pass's linear predictor (a pass at the previous coefficients: a worker
// keeps nothing between pipelines) before the pass at the coefficients
// broadcast. The two partials merged.
func (w *shardWork) logit(ctx context.Context) ([]byte, error) {
	sd, req := w.sd, w.req
	x := w.x()
	if x == nil {
		return nil, nil
	}
	y := make([]float64, sd.n)
	for u := range sd.treated {
		y[u] = 1
	}
	type part struct{ lo, hi, offset int }
	var parts []part
	if sd.treated > 0 {
		parts = append(parts, part{0, sd.treated, req.firstTreated[w.k]})
	}
	if sd.n > sd.treated {
		parts = append(parts, part{sd.treated, sd.n, req.firstControl[w.k] - sd.treated})
	}
	var plan psm.LogitPlan
	if req.kind == kindPass {
		if err := plan.UnmarshalBinary(req.plan); err != nil {
			return nil, err
		}
	}
	var scan psm.LogitScanPartial
	var pass psm.LogitPartial
	for _, pt := range parts {
		r, err := psm.NewLogitRows(x, y, nil, pt.lo, pt.hi, &psm.LogitRowsOptions{Offset: pt.offset, Workers: w.workers})
		if err != nil {
			return nil, err
		}
		sp, err := r.Scan(ctx, req.start)
		if err != nil {
			return nil, err
		}
		if req.kind == kindScan {
			if err := scan.Merge(sp); err != nil {
				return nil, err
			}
			continue
		}
		if req.prev != nil {
			if _, err := r.Pass(ctx, &plan, req.prev); err != nil {
				return nil, err
			}
		}
		pp, err := r.Pass(ctx, &plan, req.beta)
		if err != nil {
			return nil, err
		}
		if err := pass.Merge(pp); err != nil {
			return nil, err
		}
	}
	if req.kind == kindScan {
		return scan.MarshalBinary()
	}
	return pass.MarshalBinary()
}

// predict returns the scores of the shard's rows lo..hi−1 under the
// broadcast model (psm.Logit.Predict, as the single-process fit's
// Predict: the same bits).
func (w *shardWork) predict(lo, hi int) ([]float64, error) {
	x := w.rows(lo, hi)
	if x == nil {
		return nil, nil
	}
	m := w.req.model
	off := 0
	if m.intercept {
		off = 1
	}
	if len(m.coef) != w.sd.p+off {
		return nil, fmt.Errorf("a model of %d coefficients for %d covariates", len(m.coef), w.sd.p)
	}
	return (&psm.Logit{Intercept: m.intercept, Coef: m.coef}).Predict(x, nil), nil
}

// scores answers the scores round: the treated units' scores, in unit
// order, as the shard's record.
func (w *shardWork) scores() ([]byte, error) {
	s, err := w.predict(0, w.sd.treated)
	if err != nil {
		return nil, err
	}
	var e enc
	e.floats(s)
	return (&byShard{recs: []shardRec{{shard: w.k, data: e.b}}}).MarshalBinary()
}

// match answers a matching round (moments or candidates) with the
// shard's controls as a psm.MatchControls, numbered among all units.
func (w *shardWork) match(ctx context.Context) ([]byte, error) {
	sd := w.sd
	if sd.n == sd.treated {
		return nil, nil
	}
	scores, err := w.predict(sd.treated, sd.n)
	if err != nil {
		return nil, err
	}
	units := make([]int, sd.n-sd.treated)
	for i := range units {
		units[i] = w.req.firstControl[w.k] + i
	}
	var o psm.MatchControlsOptions
	if sd.strata != nil {
		o.Strata = sd.strata[sd.treated:]
	}
	ctrl, err := psm.NewMatchControls(units, scores, &o)
	if err != nil {
		return nil, err
	}
	if w.req.kind == kindMoments {
		m, err := ctrl.Moments(ctx, w.req.dist)
		if err != nil {
			return nil, err
		}
		return m.MarshalBinary()
	}
	var q psm.MatchQuery
	if err := q.UnmarshalBinary(w.req.query); err != nil {
		return nil, err
	}
	c, err := ctrl.Candidates(ctx, &q)
	if err != nil {
		return nil, err
	}
	return c.MarshalBinary()
}

// sums answers the effects round: estimate.NewEffectSums over the
// shard's controls among the compact units of the broadcast sets.
func (w *shardWork) sums() ([]byte, error) {
	sd, cs := w.sd, w.req.sets
	if cs.treated() != w.req.treated {
		return nil, fmt.Errorf("match sets of %d treated units, want %d", cs.treated(), w.req.treated)
	}
	first := w.req.firstControl[w.k]
	lo, hi := cs.span(first, sd.n-sd.treated)
	shapes := make([]outcomeLayout, len(sd.outcomes))
	for i, o := range sd.outcomes {
		shapes[i] = outcomeLayout{name: o.name, pre: o.pre, h: o.h}
	}
	s := cs.sample(shapes)
	t := cs.treated()
	for i, o := range sd.outcomes {
		wd := o.width()
		dst := s.Outcomes[i].Binary
		for c := lo; c < hi; c++ {
			u := sd.treated + cs.units[c] - first // the shard's own unit
			copy(dst[(t+c)*wd:(t+c+1)*wd], o.y[u*wd:(u+1)*wd])
		}
	}
	es, err := estimate.NewEffectSums(s, cs.matching(), t+lo, t+hi)
	if err != nil {
		return nil, err
	}
	return es.MarshalBinary()
}

// writeFn writes the merged result of a pipeline to Path (atomically),
// where the driver reads it after the run.
type writeFn struct {
	Path string
}

// ProcessElement writes b.
func (f *writeFn) ProcessElement(ctx context.Context, b []byte) error {
	return atomicfile.WriteContext(ctx, f.Path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

func init() {
	register.DoFn3x1[context.Context, int, func([]byte), error](&shardFn{})
	register.Emitter1[[]byte]()
	register.DoFn2x1[context.Context, []byte, error](&writeFn{})
}
