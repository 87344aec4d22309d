package psm

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/psmeval/psmeval/internal/pool"
	"gonum.org/v1/gonum/mat"
)

// LogitPlan is what the coordinator of a logit fit tells every shard
// after the scan: the internal coordinates of the rows. Row i enters the
// passes as u_i = (1, x_i1 - c_1, ..., x_ip - c_p) with an intercept and
// as u_i = x_i without one; coefficients broadcast to the shards are in
// these coordinates. It is the same for every pass of a fit.
type LogitPlan struct {
	// Intercept says that the model has an intercept (the first term).
	Intercept bool
	// Center holds the centres c_j, one per covariate: the weighted mean
	// of a covariate, or its value when it is constant; all zero without
	// an intercept.
	Center []float64
	// Sparse selects the sparse pass when not nil (logit_sparse.go): one
	// entry per covariate, true for the mostly-zero covariates that are
	// summed without centring over their nonzero values. nil: the dense
	// pass, every covariate centred.
	Sparse []bool
	// Constant marks, with Sparse, the covariates that are constant (all
	// zero without an intercept) among the units with positive weight:
	// the sparse pass leaves them out. nil: none. Not used by the dense
	// pass.
	Constant []bool
}

// terms returns the number of terms q.
func (pl *LogitPlan) terms() int {
	if pl.Intercept {
		return len(pl.Center) + 1
	}
	return len(pl.Center)
}

// check reports whether the plan is valid for p covariates.
func (pl *LogitPlan) check(p int) error {
	bad := func(format string, args ...any) error { return optionError("plan", format, args...) }
	switch {
	case len(pl.Center) != p:
		return bad("Center has %d values, want %d (covariates)", len(pl.Center), p)
	case pl.Sparse != nil && len(pl.Sparse) != p:
		return bad("Sparse has %d values, want %d (covariates)", len(pl.Sparse), p)
	case pl.Constant != nil && len(pl.Constant) != p:
		return bad("Constant has %d values, want %d (covariates)", len(pl.Constant), p)
	case pl.Sparse != nil && (p == 0 || p > math.MaxUint16+1):
		return bad("the sparse pass takes 1 to %d covariates, not %d", math.MaxUint16+1, p)
	case !pl.Intercept && p == 0:
		return bad("no intercept and no covariates")
	}
	for j, c := range pl.Center {
		switch {
		case math.IsNaN(c) || math.IsInf(c, 0):
			return bad("Center[%d] = %v", j, c)
		case !pl.Intercept && c != 0:
			return bad("Center[%d] = %v without an intercept, want 0", j, c)
		case pl.Sparse != nil && pl.Constant != nil && pl.Sparse[j] && pl.Constant[j]:
			return bad("covariate %d is both sparse and constant", j)
		}
	}
	return nil
}

// equal reports whether two plans give the same coordinates: the same
// centres bit for bit and the same pass (Constant nil is all false, and
// is not used by the dense pass).
func (pl *LogitPlan) equal(o *LogitPlan) bool {
	if pl.Intercept != o.Intercept || len(pl.Center) != len(o.Center) ||
		(pl.Sparse == nil) != (o.Sparse == nil) || !slices.Equal(pl.Sparse, o.Sparse) {
		return false
	}
	for j, c := range pl.Center {
		if math.Float64bits(c) != math.Float64bits(o.Center[j]) {
			return false
		}
	}
	if pl.Sparse != nil {
		for j := range pl.Sparse {
			if pl.constant(j) != o.constant(j) {
				return false
			}
		}
	}
	return true
}

func (pl *LogitPlan) constant(j int) bool { return pl.Constant != nil && pl.Constant[j] }

// LogitShard is one part of the rows of a logit fit, in its own process
// or on another machine: FitLogitShards asks every shard for its partial
// results and adds them. A fit makes Iterations + 2 rounds, each one call
// of every shard: Scan, then Pass at the start values, then one Pass per
// IRLS iteration at the coefficients solved from the previous one (the
// passes FitLogit makes). A shard keeps its linear predictor between
// calls (one float64 per row); the calls of one fit come one at a time.
// The rows of a shard's partials are numbered in the whole data (rows
// 0..n-1 over all shards). LogitRows is the in-memory shard; a shard on
// another machine can send the encodings of the plan (the same for every
// pass of a fit), beta and the partials (MarshalBinary).
type LogitShard interface {
	// Scan validates the shard's rows and returns their scan partial;
	// with start it also sets the linear predictor to R's starting
	// values and includes their deviance (otherwise the linear
	// predictor is 0). Scan starts a fit.
	Scan(ctx context.Context, start bool) (*LogitScanPartial, error)
	// Pass returns the shard's partial at the coefficients beta, in the
	// internal coordinates of plan (q values: the intercept first), and
	// keeps the new linear predictor; beta nil means at the kept linear
	// predictor (R's starting values after Scan(ctx, true)). Pass must
	// not modify plan or beta.
	Pass(ctx context.Context, plan *LogitPlan, beta []float64) (*LogitPartial, error)
}

// LogitRowsOptions configure NewLogitRows. The zero value gives the
// defaults.
type LogitRowsOptions struct {
	// Offset is the number in the whole data of row 0 of x: row i of x is
	// row Offset+i of the fit (of FitLogitShards's errors and of the
	// blocks). Default 0: x holds the whole data, or its first rows.
	Offset int
	// Workers bounds the goroutines of the shard's passes. Default (0)
	// runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int
}

// LogitRows is the in-memory LogitShard: rows lo..hi-1 of a covariate
// matrix x with treatment y and frequency weights w (as FitLogit takes
// them), read, never modified or copied. FitLogit fits with one LogitRows
// over all of x. Its blocks are blocks of 4096 rows of the whole data
// (rows 4096b to 4096(b+1)-1, counted with LogitRowsOptions.Offset), cut
// at lo and hi. Memory: one float64 per row (the linear predictor) and
// the last partial. A LogitRows serves one fit at a time; it is not safe
// for concurrent use.
type LogitRows struct {
	pr      *lgProblem
	eta     []float64 // the linear predictor, one value per row
	scanned bool      // Scan has run
	plan    LogitPlan // the plan pr is set up for
	planSet bool
	spare   []float64 // a partial's storage given back by the coordinator
}

// NewLogitRows returns the shard of rows lo..hi-1 (0 <= lo <= hi <= n) of
// x (n×p), y and w (n values; w nil means all 1). Errors (*InputError,
// ErrBadOption): x nil, wrong lengths, a bad row range or option. The
// values are checked by Scan.
func NewLogitRows(x mat.Matrix, y, w []float64, lo, hi int, opts *LogitRowsOptions) (*LogitRows, error) {
	var o LogitRowsOptions
	if opts != nil {
		o = *opts
	}
	if nilMatrix(x) {
		return nil, optionError("x", "nil")
	}
	n, _ := x.Dims()
	switch {
	case len(y) != n:
		return nil, optionError("y", "length %d, want %d (rows of x)", len(y), n)
	case w != nil && len(w) != n:
		return nil, optionError("w", "length %d, want %d (rows of x)", len(w), n)
	case lo < 0 || hi < lo || hi > n:
		return nil, optionError("rows", "%d to %d, want 0 <= lo <= hi <= %d (rows of x)", lo, hi, n)
	case o.Offset < 0 || o.Offset > lgMaxRow-n:
		return nil, optionError("Offset", "%d, want 0 <= Offset <= 2^62 - %d (rows of x)", o.Offset, n)
	case o.Workers < 0:
		return nil, optionError("Workers", "%d, want >= 0 (0: GOMAXPROCS)", o.Workers)
	}
	return newLogitRows(x, y, w, lo, hi, o.Offset, o.Workers), nil
}

// newLogitRows is NewLogitRows with the arguments checked.
func newLogitRows(x mat.Matrix, y, w []float64, lo, hi, offset, workers int) *LogitRows {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	n, p := x.Dims()
	return &LogitRows{pr: newLgProblem(newLgX(x), n, p, y, w, lo, hi, offset, true, workers)}
}

// Scan implements LogitShard: one pass over the rows, about n(p+3)
// operations (and a logarithm per row of weight other than 0 and 1 with
// start).
func (r *LogitRows) Scan(ctx context.Context, start bool) (*LogitScanPartial, error) {
	pr := r.pr
	r.scanned, r.planSet, pr.sp = false, false, nil
	if n := pr.hi - pr.lo; r.eta == nil || len(r.eta) != n {
		r.eta = make([]float64, n) // (not nil: scanPartial reads a nil eta as no start)
	} else {
		clear(r.eta)
	}
	var eta []float64
	if start {
		eta = r.eta
	}
	part, err := pr.scanPartial(ctx, eta)
	if err != nil {
		return nil, err
	}
	r.scanned = true
	return part, nil
}

// Pass implements LogitShard: one pass over the rows, about
// n(q+1)(q+2)/2 multiply-adds and an exponential per row in the dense
// pass (see FitLogit for the sparse pass). It is an error (*InputError,
// ErrBadOption) to call it before Scan (or after a failed Pass) or with a
// plan or beta of the wrong size.
func (r *LogitRows) Pass(ctx context.Context, plan *LogitPlan, beta []float64) (*LogitPartial, error) {
	pr := r.pr
	if !r.scanned {
		return nil, optionError("LogitRows", "Pass before Scan")
	}
	if plan == nil {
		return nil, optionError("plan", "nil")
	}
	if !r.planSet || !plan.equal(&r.plan) {
		if err := plan.check(pr.p); err != nil {
			return nil, err
		}
		r.setPlan(plan)
	}
	if beta != nil && len(beta) != pr.q {
		return nil, optionError("beta", "length %d, want %d (terms)", len(beta), pr.q)
	}
	part := pr.newPartial(r.spare)
	r.spare = nil
	res, err := pr.passBlocks(ctx, beta, r.eta, part.sums)
	if err != nil {
		r.scanned = false // the linear predictor is partly updated
		return nil, err
	}
	part.boundary, part.maxDelta = res.boundary, res.maxDelta
	return part, nil
}

// setPlan sets up the shard's coordinates from a checked plan (and drops
// the sparse pass's nonzero lists when the split changes).
func (r *LogitRows) setPlan(plan *LogitPlan) {
	pr := r.pr
	r.plan = LogitPlan{Intercept: plan.Intercept, Center: slices.Clone(plan.Center),
		Sparse: slices.Clone(plan.Sparse), Constant: slices.Clone(plan.Constant)}
	r.planSet = true
	pr.icpt = plan.Intercept
	pr.q = plan.terms()
	pr.center = r.plan.Center
	pr.sp = nil
	if plan.Sparse != nil {
		fixed := plan.Constant
		if fixed == nil {
			fixed = make([]bool, pr.p)
		}
		pr.sp = lgNewSparse(pr.p, pr.q, pr.icpt, pr.center, plan.Sparse, fixed)
	}
}

// recycle takes back the storage of a partial that the coordinator has
// added (and will not read again).
func (r *LogitRows) recycle(p *LogitPartial) {
	r.spare = p.sums
	p.sums, p.rows, p.k = nil, nil, 0
}

// lgRecycler is a shard that takes back its partials' storage.
type lgRecycler interface{ recycle(p *LogitPartial) }

// FitLogitShards fits the logit model of FitLogit with the rows split over
// shards: it runs FitLogit's IRLS, with the same starting values,
// convergence rule, aliasing, options and errors, as a coordinator. Each
// round it calls every shard at once (each in its own goroutine), adds
// their partials in order of rows, and, after a Pass round, solves for the
// next coefficients, which the next round broadcasts. names has one name
// per covariate (nil gives x1, x2, ...). The shards' rows must be the rows
// 0..n-1 of the whole data, once each (LogitRowsOptions.Offset numbers
// them), in any order of shards.
//
// Rounds: Iterations + 2 (the scan, the start values, one per IRLS
// iteration). Bytes per round and shard, encoded, with p covariates, q
// terms and B blocks of 4096 rows: the scan returns 58 + 32p +
// B(40 + 16p); every pass sends the plan and beta, 13 + 8p + 8q (plus p
// with the sparse pass), and returns 44 + B(24 + 4(q+1)(q+2)) in the
// dense pass (see LogitPartial for the sparse pass), or that with B = 1
// after LogitPartial.Compact: about 23 KB per block for 74 covariates.
//
// The fit is bit-identical to FitLogit on the whole data (same kernels)
// when every shard's rows start at a multiple of 4096 (a whole number of
// blocks; the last shard may end anywhere) and no partial is compacted:
// the coordinator then adds the same block sums in the same order.
// Otherwise the blocks at the shard boundaries, or the compacted sums,
// are added in another order, and the fit agrees with FitLogit to
// rounding (coefficients and standard errors to about 1e-13 relative in
// well-conditioned models).
//
// LogitOptions.DropSeparated is not supported (it needs the whole data to
// leave units out; an error with ErrBadOption): a separation is then a
// *SeparationError naming the covariates, as FitLogit's. Workers is not
// used: each shard has its own (LogitRowsOptions.Workers). Errors are
// FitLogit's, with rows numbered in the whole data; a shard's own error
// is returned as it is (the lowest-numbered shard's when several fail),
// and partials that do not fit together (other numbers of covariates,
// rows missing or in two shards) are an *InputError with ErrBadOption.
func FitLogitShards(ctx context.Context, shards []LogitShard, names []string, opts *LogitOptions) (*Logit, error) {
	if opts == nil {
		opts = &LogitOptions{}
	}
	switch {
	case len(shards) == 0:
		return nil, optionError("shards", "none")
	case opts.DropSeparated:
		return nil, optionError("DropSeparated", "not supported by FitLogitShards (it leaves units out, which needs the whole data)")
	}
	for k, s := range shards {
		if s == nil {
			return nil, optionError("shards", "shard %d is nil", k)
		}
	}
	if err := lgCheckArgs(-1, -1, nil, nil, names, opts); err != nil {
		return nil, err
	}
	return lgFit(ctx, shards, -1, names, opts)
}

// lgCoord is the coordinator's side of a fit: the shards, the plan and
// the sparse split.
type lgCoord struct {
	shards []LogitShard
	n      int // rows of the whole data
	plan   *LogitPlan
	sp     *lgSparse
	q      int
}

// lgEach calls f(k) for every shard at once and returns the error of the
// lowest-numbered failing shard, or ctx.Err().
func lgEach(ctx context.Context, n int, f func(k int) error) error {
	return pool.Run(ctx, n, n, nil, func(_ struct{}, k int) error { return f(k) }, nil)
}

// scan is the scan round: it returns the sums of the shards' partials and
// the number of covariates.
func (c *lgCoord) scan(ctx context.Context, start bool) (*lgScan, int, error) {
	parts := make([]*LogitScanPartial, len(c.shards))
	err := lgEach(ctx, len(c.shards), func(k int) error {
		part, err := c.shards[k].Scan(ctx, start)
		if err == nil && part == nil {
			err = optionError("shards", "shard %d: Scan returned no partial", k)
		}
		parts[k] = part
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	p := -1
	for k, part := range parts {
		switch {
		case part.k == 0:
			continue
		case p >= 0 && part.p != p:
			return nil, 0, optionError("shards", "shard %d has %d covariates, an earlier shard %d", k, part.p, p)
		case part.start != start:
			return nil, 0, optionError("shards", "shard %d: a scan partial with start values %v, want %v", k, part.start, start)
		}
		p = part.p
	}
	sc, n, err := lgFoldScan(parts)
	if err != nil {
		return nil, 0, err
	}
	c.n = n
	return sc, max(p, 0), nil
}

// pass is a Pass round at beta (nil: the start values): it returns the
// deviance, boundary count and largest change of eta, and writes the Gram
// to g.
func (c *lgCoord) pass(ctx context.Context, beta, g []float64) (lgPassResult, error) {
	parts := make([]*LogitPartial, len(c.shards))
	err := lgEach(ctx, len(c.shards), func(k int) error {
		part, err := c.shards[k].Pass(ctx, c.plan, beta)
		if err == nil && part == nil {
			err = optionError("shards", "shard %d: Pass returned no partial", k)
		}
		parts[k] = part
		return err
	})
	if err != nil {
		return lgPassResult{}, err
	}
	r, err := lgFoldPass(parts, 0, c.n, c.sp, c.q, g)
	for k, s := range c.shards {
		if rc, ok := s.(lgRecycler); ok {
			rc.recycle(parts[k])
		}
	}
	return r, err
}

// lgFitNames returns names, or x1, ..., xp when nil.
func lgFitNames(names []string, p int) []string {
	if names != nil {
		return names
	}
	names = make([]string, p)
	for j := range names {
		names[j] = fmt.Sprintf("x%d", j+1)
	}
	return names
}
