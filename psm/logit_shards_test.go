package psm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// lgShardData is a data set of lgShardN rows (8 blocks and a ragged
// ninth) with six normal covariates and a dummy, weights 0..3, no treated
// unit in block 1 and only zero weights in block 2.
const lgShardN = 8*lgBlock + 500

func lgShardData(seed uint64) (*mat.Dense, []float64, []float64) {
	base, y := lgSynth(seed, lgShardN, []float64{-1.5, 0.5, -0.25, 1, 0, 0.3, -0.7})
	x := mat.NewDense(lgShardN, 7, nil)
	rng := rand.New(rand.NewPCG(seed, 9))
	w := make([]float64, lgShardN)
	for i := range lgShardN {
		row := append(slices.Clone(base.RawRowView(i)), b2f(rng.Float64() < 0.3))
		x.SetRow(i, row)
		w[i] = float64(rng.IntN(4))
		switch i / lgBlock {
		case 1:
			y[i] = 0
		case 2:
			w[i] = 0
		}
	}
	return x, y, w
}

// lgShardsAt returns in-memory shards of x with the given cuts (row
// numbers 0 < c_1 < ... < n; an empty shard where two cuts are equal).
// With local, each shard holds a copy of its rows, numbered by Offset, as
// on another machine.
func lgShardsAt(t *testing.T, x *mat.Dense, y, w []float64, cuts []int, local bool) []LogitShard {
	t.Helper()
	n, p := x.Dims()
	cuts = append(append([]int{0}, cuts...), n)
	var shards []LogitShard
	for k := 0; k+1 < len(cuts); k++ {
		lo, hi := cuts[k], cuts[k+1]
		opts := &LogitRowsOptions{Workers: 1 + k%3}
		var s *LogitRows
		var err error
		if local && hi > lo {
			xl := mat.NewDense(hi-lo, p, nil)
			xl.Copy(x.Slice(lo, hi, 0, p))
			var wl []float64
			if w != nil {
				wl = slices.Clone(w[lo:hi])
			}
			opts.Offset = lo
			s, err = NewLogitRows(xl, slices.Clone(y[lo:hi]), wl, 0, hi-lo, opts)
		} else {
			s, err = NewLogitRows(x, y, w, lo, hi, opts)
		}
		require.NoError(t, err)
		shards = append(shards, s)
	}
	return shards
}

// lgWireShard is a shard on the other side of a wire: every scan partial,
// plan and partial goes through MarshalBinary and UnmarshalBinary, and
// with compact the partials are compacted first. It records the plans.
type lgWireShard struct {
	inner   LogitShard
	compact bool
	plans   []*LogitPlan
}

func (s *lgWireShard) Scan(ctx context.Context, start bool) (*LogitScanPartial, error) {
	part, err := s.inner.Scan(ctx, start)
	if err != nil {
		return nil, err
	}
	return overWire[LogitScanPartial](part)
}

func (s *lgWireShard) Pass(ctx context.Context, plan *LogitPlan, beta []float64) (*LogitPartial, error) {
	pl, err := overWire[LogitPlan](plan)
	if err != nil {
		return nil, err
	}
	s.plans = append(s.plans, pl)
	part, err := s.inner.Pass(ctx, pl, slices.Clone(beta))
	if err != nil {
		return nil, err
	}
	if s.compact {
		if err := part.Compact(); err != nil {
			return nil, err
		}
	}
	return overWire[LogitPartial](part)
}

// lgShardCase is a fit to compare: data and options.
type lgShardCase struct {
	name  string
	x     *mat.Dense
	y, w  []float64
	names []string
	opts  LogitOptions
}

func lgShardCases() []lgShardCase {
	x, y, w := lgShardData(1)
	xs, ys, nms := lgSparseDesign(7, lgShardN)
	ws := make([]float64, lgShardN)
	rng := rand.New(rand.NewPCG(7, 3))
	for i := range ws {
		ws[i] = float64(rng.IntN(4))
	}
	return []lgShardCase{
		{name: "dense", x: x, y: y, w: w},
		{name: "unweighted", x: x, y: y},
		{name: "no intercept", x: x, y: y, w: w, opts: LogitOptions{NoIntercept: true}},
		{name: "ridge", x: x, y: y, w: w, opts: LogitOptions{L2: 2}},
		{name: "warm start", x: x, y: y, w: w, opts: LogitOptions{Start: []float64{-1, 0.4, math.NaN(), 0.9, 0.1, 0.2, -0.5, 0}}},
		{name: "not converged", x: x, y: y, w: w, opts: LogitOptions{MaxIter: 2}},
		{name: "sparse", x: xs, y: ys, w: ws, names: nms},
	}
}

// lgBitsOf returns every result of a fit as bits (lgGoldenOf).
func lgBitsOf(fit *Logit, err error) lgGolden {
	var f *LogitFit
	if fit != nil {
		f = &LogitFit{Logit: fit}
	}
	return lgGoldenOf(f, err)
}

func TestFitLogitShardsBitIdentical(t *testing.T) {
	// Shards that start at multiples of 4096 rows: the sharded fit is
	// FitLogit's bit for bit (every coefficient, standard error,
	// covariance, deviance, iteration count and error), for 1, 2, 3 and 7
	// shards, in memory and across the wire (encoded partials), in any
	// order of shards, with an empty shard, a shard without treated units
	// (block 1) and one with only zero weights (block 2).
	ctx := context.Background()
	B := lgBlock
	splits := [][]int{
		nil,
		{4 * B},
		{B, 5 * B},
		{B, 2 * B, 3 * B, 4 * B, 5 * B, 6 * B},
		{B, 3 * B, 3 * B, 8 * B}, // an empty shard; the last holds 500 rows
	}
	for _, c := range lgShardCases() {
		ref, refErr := FitLogit(ctx, c.x, c.y, c.w, c.names, &c.opts)
		var refLogit *Logit
		if ref != nil {
			refLogit = ref.Logit
		}
		want := lgBitsOf(refLogit, refErr)
		if c.name != "not converged" {
			require.NoError(t, refErr, c.name)
		}
		for _, cuts := range splits {
			for _, mode := range []string{"memory", "wire", "reversed"} {
				shards := lgShardsAt(t, c.x, c.y, c.w, cuts, mode != "memory")
				var wire []*lgWireShard
				if mode == "wire" {
					for k, s := range shards {
						ws := &lgWireShard{inner: s}
						wire = append(wire, ws)
						shards[k] = ws
					}
				}
				if mode == "reversed" {
					slices.Reverse(shards)
				}
				fit, err := FitLogitShards(ctx, shards, c.names, &c.opts)
				msg := fmt.Sprintf("%s, %d shards, %s", c.name, len(shards), mode)
				assert.Equal(t, want, lgBitsOf(fit, err), msg)
				if c.name == "sparse" && mode == "wire" {
					require.NotEmpty(t, wire[0].plans)
					assert.NotNil(t, wire[0].plans[0].Sparse, "%s: the sparse pass", msg)
				}
			}
		}
	}
}

func TestFitLogitShardsUneven(t *testing.T) {
	// Shards that cut blocks, and compacted partials: the blocks at the
	// cuts (or the compacted sums) are added in another order, so the fit
	// agrees with FitLogit to rounding only. Tolerance 1e-12 relative for
	// coefficients (to max(|coef|, SE), lgMaxRelDiff), standard errors
	// and the deviance; the same iterations and aliasing.
	ctx := context.Background()
	cutsOf := map[int][]int{
		2: {17777},
		3: {1000, 5000},
		7: {1, 4095, 4097, 9000, 9001, 30000},
	}
	for _, c := range lgShardCases() {
		if c.name == "not converged" {
			continue
		}
		ref, err := FitLogit(ctx, c.x, c.y, c.w, c.names, &c.opts)
		require.NoError(t, err)
		for _, k := range []int{2, 3, 7} {
			for _, compact := range []bool{false, true} {
				shards := lgShardsAt(t, c.x, c.y, c.w, cutsOf[k], true)
				if compact {
					for j, s := range shards {
						shards[j] = &lgWireShard{inner: s, compact: true}
					}
				}
				fit, err := FitLogitShards(ctx, shards, c.names, &c.opts)
				msg := fmt.Sprintf("%s, %d shards, compact %v", c.name, k, compact)
				require.NoError(t, err, msg)
				dc, ds := lgMaxRelDiff(t, ref.Logit, fit)
				t.Logf("%s: max rel. diff coef %.1e, se %.1e", msg, dc, ds)
				assert.Less(t, dc, 1e-12, msg)
				assert.Less(t, ds, 1e-12, msg)
				assert.InDelta(t, ref.Deviance, fit.Deviance, 1e-12*ref.Deviance, msg)
				assert.Equal(t, ref.Iterations, fit.Iterations, msg)
				assert.Equal(t, ref.N, fit.N, msg)
				assert.Equal(t, ref.Boundary, fit.Boundary, msg)
			}
		}
	}
	// Compacting aligned shards also leaves the blocks' sums in another
	// order, but the 1-shard compacted fit is still close.
	x, y, w := lgShardData(2)
	ref, err := FitLogit(ctx, x, y, w, nil, nil)
	require.NoError(t, err)
	one := lgShardsAt(t, x, y, w, nil, false)
	fit, err := FitLogitShards(ctx, []LogitShard{&lgWireShard{inner: one[0], compact: true}}, nil, nil)
	require.NoError(t, err)
	dc, ds := lgMaxRelDiff(t, ref.Logit, fit)
	assert.Less(t, dc, 1e-12)
	assert.Less(t, ds, 1e-12)
}

func TestFitLogitShardsSeparation(t *testing.T) {
	// Separation, found before fitting or by divergence: FitLogit's error
	// and last iterate, bit for bit with one shard (rows 0..299 of a copy,
	// Offset 0), the same separating columns with three uneven shards.
	ctx := context.Background()
	for _, kind := range []string{"complete single", "quasi single", "complete joint", "quasi joint"} {
		x, y, names := lgSeparated(kind)
		ref, refErr := FitLogit(ctx, x, y, nil, names, nil)
		require.ErrorIs(t, refErr, ErrSeparation)
		var refLogit *Logit
		if ref != nil {
			refLogit = ref.Logit
		}
		fit, err := FitLogitShards(ctx, lgShardsAt(t, x, y, nil, nil, true), names, nil)
		assert.Equal(t, lgBitsOf(refLogit, refErr), lgBitsOf(fit, err), kind)
		_, err = FitLogitShards(ctx, lgShardsAt(t, x, y, nil, []int{100, 200}, true), names, nil)
		var a, b *SeparationError
		require.ErrorAs(t, refErr, &a)
		require.ErrorAs(t, err, &b, kind)
		assert.Equal(t, a.Columns, b.Columns, kind)
		assert.Equal(t, a.Complete, b.Complete, kind)
	}
}

// lgFailShard fails its Pass number fail with err.
type lgFailShard struct {
	LogitShard
	fail, n int
	err     error
}

func (s *lgFailShard) Pass(ctx context.Context, plan *LogitPlan, beta []float64) (*LogitPartial, error) {
	s.n++
	if s.n == s.fail {
		return nil, s.err
	}
	return s.LogitShard.Pass(ctx, plan, beta)
}

func TestFitLogitShardsErrors(t *testing.T) {
	ctx := context.Background()
	x, y, w := lgShardData(3)
	B := lgBlock
	fit := func(shards []LogitShard, names []string, opts *LogitOptions) error {
		_, err := FitLogitShards(ctx, shards, names, opts)
		return err
	}
	shards := func(cuts ...int) []LogitShard { return lgShardsAt(t, x, y, w, cuts, true) }

	// Options and shards.
	assert.ErrorIs(t, fit(nil, nil, nil), ErrBadOption)
	assert.ErrorIs(t, fit([]LogitShard{nil}, nil, nil), ErrBadOption)
	err := fit(shards(B), nil, &LogitOptions{DropSeparated: true})
	assert.ErrorIs(t, err, ErrBadOption)
	assert.ErrorContains(t, err, "DropSeparated")
	assert.ErrorIs(t, fit(shards(B), nil, &LogitOptions{MaxIter: -1}), ErrBadOption)
	assert.ErrorContains(t, fit(shards(B), []string{"a"}, nil), "names: length 1, want 7")
	assert.ErrorContains(t, fit(shards(B), nil, &LogitOptions{Start: []float64{1}}), "Start: length 1, want 8")

	// Rows missing or in two shards (Offset), other numbers of covariates.
	s := shards(B, 2*B)
	err = fit([]LogitShard{s[0], s[2]}, nil, nil)
	assert.ErrorIs(t, err, ErrBadOption)
	assert.ErrorContains(t, err, fmt.Sprintf("rows %d to %d are in no shard's partial", B, 2*B-1))
	again := shards(B, 2*B)[1] // (another shard of the same rows: a shard serves one fit at a time)
	err = fit([]LogitShard{s[0], s[1], again, s[2]}, nil, nil)
	assert.ErrorIs(t, err, ErrBadOption)
	assert.ErrorContains(t, err, "both have rows")
	narrow, err := NewLogitRows(lgCols(x, []int{0, 1}), y, w, 2*B, lgShardN, nil)
	require.NoError(t, err)
	err = fit([]LogitShard{s[0], s[1], narrow}, nil, nil)
	assert.ErrorIs(t, err, ErrBadOption)
	assert.ErrorContains(t, err, "shard 2 has 2 covariates")

	// A bad value in shard 2: FitLogit's error, with the row numbered in
	// the whole data.
	xb := mat.DenseCopyOf(x)
	xb.Set(20000, 3, math.Inf(-1))
	_, want := FitLogit(ctx, xb, y, w, nil, nil)
	var wantIE *InputError
	require.ErrorAs(t, want, &wantIE)
	_, err = FitLogitShards(ctx, lgShardsAt(t, xb, y, w, []int{B, 3 * B}, true), nil, nil)
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, *wantIE, *ie)
	assert.Equal(t, 20000, ie.Index)
	assert.Equal(t, "x4", ie.Field)
	yb := slices.Clone(y)
	yb[9000] = 2
	_, want = FitLogit(ctx, x, yb, w, nil, nil)
	_, err = FitLogitShards(ctx, lgShardsAt(t, x, yb, w, []int{B, 3 * B}, true), nil, nil)
	assert.ErrorIs(t, err, ErrNotBinary)
	assert.Equal(t, want.Error(), err.Error())

	// No variation; no rows.
	y0 := make([]float64, lgShardN)
	_, want = FitLogit(ctx, x, y0, w, nil, nil)
	_, err = FitLogitShards(ctx, lgShardsAt(t, x, y0, w, []int{B}, true), nil, nil)
	assert.ErrorIs(t, err, ErrNoVariation)
	assert.Equal(t, want.Error(), err.Error())
	empty, err := NewLogitRows(x, y, w, 5, 5, nil)
	require.NoError(t, err)
	assert.ErrorContains(t, fit([]LogitShard{empty}, nil, nil), "shards: no rows")

	// A shard's error is returned as it is, the lowest-numbered shard's
	// when several fail; a cancelled context stops the fit.
	boom, bang := errors.New("boom"), errors.New("bang")
	s = shards(B, 4*B)
	s[1] = &lgFailShard{LogitShard: s[1], fail: 3, err: boom}
	s[2] = &lgFailShard{LogitShard: s[2], fail: 3, err: bang}
	assert.Same(t, boom, fit(s, nil, nil))
	cctx, cancel := context.WithCancel(ctx)
	_, err = FitLogitShards(cctx, shards(B), nil, &LogitOptions{Progress: func(it int, _ float64) {
		if it == 2 {
			cancel()
		}
	}})
	assert.ErrorIs(t, err, context.Canceled)

	// NewLogitRows and Pass misuse.
	for name, f := range map[string]func() error{
		"nil x":    func() error { _, err := NewLogitRows(nil, y, w, 0, 1, nil); return err },
		"y":        func() error { _, err := NewLogitRows(x, y[1:], w, 0, 1, nil); return err },
		"w":        func() error { _, err := NewLogitRows(x, y, w[1:], 0, 1, nil); return err },
		"rows":     func() error { _, err := NewLogitRows(x, y, w, 5, 4, nil); return err },
		"rows > n": func() error { _, err := NewLogitRows(x, y, w, 0, lgShardN+1, nil); return err },
		"Offset":   func() error { _, err := NewLogitRows(x, y, w, 0, 1, &LogitRowsOptions{Offset: -1}); return err },
		"Workers":  func() error { _, err := NewLogitRows(x, y, w, 0, 1, &LogitRowsOptions{Workers: -1}); return err },
		"before Scan": func() error {
			r, _ := NewLogitRows(x, y, w, 0, 10, nil)
			_, err := r.Pass(ctx, &LogitPlan{Intercept: true, Center: make([]float64, 7)}, nil)
			return err
		},
		"plan": func() error {
			r, _ := NewLogitRows(x, y, w, 0, 10, nil)
			if _, err := r.Scan(ctx, true); err != nil {
				return err
			}
			_, err := r.Pass(ctx, &LogitPlan{Intercept: true, Center: make([]float64, 6)}, nil)
			return err
		},
		"beta": func() error {
			r, _ := NewLogitRows(x, y, w, 0, 10, nil)
			if _, err := r.Scan(ctx, true); err != nil {
				return err
			}
			_, err := r.Pass(ctx, &LogitPlan{Intercept: true, Center: make([]float64, 7)}, make([]float64, 7))
			return err
		},
	} {
		err := f()
		assert.ErrorIs(t, err, ErrBadOption, name)
		var ie *InputError
		assert.ErrorAs(t, err, &ie, name)
	}
}

func TestFitLogitShardsRace(t *testing.T) {
	// Seven shards called at once, across the wire, several fits in
	// parallel sharing x (run with -race): each equals FitLogit.
	ctx := context.Background()
	x, y, w := lgShardData(4)
	ref, err := FitLogit(ctx, x, y, w, nil, nil)
	require.NoError(t, err)
	want := lgBitsOf(ref.Logit, nil)
	B := lgBlock
	fits := make([][]LogitShard, 3)
	for r := range fits {
		fits[r] = lgShardsAt(t, x, y, w, []int{B, 2 * B, 3 * B, 4 * B, 5 * B, 6 * B}, r == 2)
		for k, s := range fits[r] {
			if r > 0 {
				fits[r][k] = &lgWireShard{inner: s}
			}
		}
	}
	errs := make(chan error, len(fits))
	got := make([]lgGolden, len(fits))
	for r, shards := range fits {
		go func() {
			fit, err := FitLogitShards(ctx, shards, nil, nil)
			got[r] = lgBitsOf(fit, err)
			errs <- err
		}()
	}
	for range fits {
		require.NoError(t, <-errs)
	}
	for r := range fits {
		assert.Equal(t, want, got[r], "fit %d", r)
	}
}
