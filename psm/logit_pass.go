package psm

import (
	"context"
	"math"

	"github.com/psmeval/psmeval/internal/pool"
)

// lgBlock is the number of rows per work block. Blocks are fixed by row
// number, never by worker count or shard, and their partial sums are
// reduced in block order, so every result is bit-identical for any
// Workers. Block b holds the rows 4096b to 4096(b+1)-1 of the whole data
// (cut at the ends of a shard's rows, see LogitRows).
const lgBlock = 4096

// lgProblem is the data of one shard of a fit, in the internal
// coordinates u = (1, x_1 - c_1, ..., x_p - c_p) (without the leading 1
// and without centering when there is no intercept). Its rows are lo..hi-1
// of x; row i of x is row base+i of the whole data.
type lgProblem struct {
	x       lgX // the covariates, read lgSub rows at a time (view)
	n, p, q int // n rows of x; q = p + 1 with an intercept, else p
	icpt    bool
	y, w    []float64 // indexed like the rows of x; w nil = all ones
	center  []float64 // c_j, len p
	workers int
	lo, hi  int // the shard's rows of x
	base    int // the number in the whole data of row 0 of x
	fb      int // the first block: (base+lo)/lgBlock
	nblocks int
	sp      *lgSparse // not nil: the sparse pass (logit_sparse.go)
}

// newLgProblem returns the problem of rows lo..hi-1 of x (row i of x is
// row base+i of the whole data), without centres or sparse split.
func newLgProblem(x lgX, n, p int, y, w []float64, lo, hi, base int, icpt bool, workers int) *lgProblem {
	pr := &lgProblem{x: x, n: n, p: p, q: p, icpt: icpt, y: y, w: w,
		center: make([]float64, p), workers: workers, lo: lo, hi: hi, base: base}
	if icpt {
		pr.q++
	}
	pr.fb = (base + lo) / lgBlock
	if hi > lo {
		pr.nblocks = (base+hi-1)/lgBlock - pr.fb + 1
	}
	return pr
}

func (pr *lgProblem) weight(i int) float64 {
	if pr.w == nil {
		return 1
	}
	return pr.w[i]
}

// blockRows returns the rows lo..hi-1 of x in block b of the shard.
func (pr *lgProblem) blockRows(b int) (lo, hi int) {
	g := (pr.fb+b)*lgBlock - pr.base
	return max(pr.lo, g), min(pr.hi, g+lgBlock)
}

// parallel runs f(scratch, block) for every block on pr.workers
// goroutines; newScratch makes per-goroutine scratch space. It stops
// taking blocks when ctx is cancelled and then returns ctx.Err().
func (pr *lgProblem) parallel(ctx context.Context, newScratch func() any, f func(s any, b int)) error {
	return pool.Run(ctx, pr.workers, pr.nblocks, newScratch, func(s any, b int) error { f(s, b); return nil }, nil)
}

// lgScan is the result of the validation pass.
type lgScan struct {
	badRow, badCol int // first bad value (row-major order), -1 if none
	badVal         float64
	badErr         error
	nPos, n1       int     // units with w > 0; of those, treated
	sumW, sumWY    float64 // weight sums
	sumWX          []float64
	nzW            []float64 // sum of w over units (w > 0) with x_ij != 0
	min0, max0     []float64 // covariate range among controls (w > 0)
	min1, max1     []float64 // among treated (w > 0)
	dev            float64   // deviance at the initial eta
}

func newLgScan(p int) *lgScan {
	s := &lgScan{badRow: -1, badCol: -1, sumWX: make([]float64, p), nzW: make([]float64, p),
		min0: make([]float64, p), max0: make([]float64, p),
		min1: make([]float64, p), max1: make([]float64, p)}
	for j := 0; j < p; j++ {
		s.min0[j], s.min1[j] = math.Inf(1), math.Inf(1)
		s.max0[j], s.max1[j] = math.Inf(-1), math.Inf(-1)
	}
	return s
}

// scanPartial validates every row of the shard (covariates, then
// treatment, then weight) and accumulates, block by block, the sums needed
// for centering and the single-column separation check; when eta (one
// value per row of the shard) is not nil it stores R's starting linear
// predictor logit((w*y + 0.5)/(w + 1)) and accumulates its deviance.
func (pr *lgProblem) scanPartial(ctx context.Context, eta []float64) (*LogitScanPartial, error) {
	var unit [2]struct{ eta, dev float64 }
	for y := range unit {
		unit[y].eta, unit[y].dev = lgStart(float64(y), 1)
	}
	parts := make([]*lgScan, pr.nblocks)
	err := pr.parallel(ctx, func() any { return &lgScanScratch{} }, func(scr any, b int) {
		s := newLgScan(pr.p)
		parts[b] = s
		lo, hi := pr.blockRows(b)
		sc := scr.(*lgScanScratch)
		if pr.x.colBlock(&sc.cb, lo, hi) && sc.cb.finite() {
			pr.scanTyped(&sc.cb, s, lo, hi, eta, &unit)
			return
		}
		var xb []float64
		var st int
		for i := lo; i < hi; i++ {
			if (i-lo)%lgSub == 0 {
				xb, st = pr.x.view(&sc.rb, i, min(i+lgSub, hi))
			}
			r0 := (i - lo) % lgSub * st
			row := xb[r0 : r0+pr.p]
			yi, wi := pr.y[i], pr.weight(i)
			mn, mx := s.min0, s.max0
			if yi == 1 {
				mn, mx = s.min1, s.max1
			}
			// Sums and ranges first, then the checks: on a bad value
			// (covariates first, then treatment, then weight) the block
			// stops and its sums are not used.
			var bad bool
			if wi != 0 {
				bad = lgScanRow(row, wi, s.sumWX, s.nzW, mn, mx)
			} else {
				bad = !lgFiniteRow(row)
			}
			if bad {
				for j, v := range row {
					if math.IsNaN(v) || math.IsInf(v, 0) {
						s.badRow, s.badCol, s.badVal, s.badErr = i, j, v, ErrBadValue
						return
					}
				}
			}
			if !pr.scanUnit(s, i, yi, wi, eta, &unit) {
				return
			}
		}
	})
	if err != nil {
		return nil, err
	}
	out := newLogitScanPartial(pr.p, eta != nil)
	for b, s := range parts {
		lo, hi := pr.blockRows(b)
		out.add(lgRange{pr.base + lo, pr.base + hi}, s, pr.base)
	}
	return out, nil
}

// scanUnit checks row i's treatment yi and weight wi and adds the row
// to the counts and weight sums of s and, when eta is not nil, R's
// starting eta and its deviance (unit: those of a unit of weight 1 with
// y = 0 and y = 1). It reports false, with the bad value recorded in s,
// when yi or wi is invalid.
func (pr *lgProblem) scanUnit(s *lgScan, i int, yi, wi float64, eta []float64, unit *[2]struct{ eta, dev float64 }) bool {
	switch {
	case math.IsNaN(yi) || math.IsInf(yi, 0):
		s.badRow, s.badCol, s.badVal, s.badErr = i, pr.p, yi, ErrBadValue
	case yi != 0 && yi != 1:
		s.badRow, s.badCol, s.badVal, s.badErr = i, pr.p, yi, ErrNotBinary
	case math.IsNaN(wi) || math.IsInf(wi, 0):
		s.badRow, s.badCol, s.badVal, s.badErr = i, pr.p+1, wi, ErrBadValue
	case wi < 0:
		s.badRow, s.badCol, s.badVal, s.badErr = i, pr.p+1, wi, ErrBadWeight
	}
	if s.badErr != nil {
		return false
	}
	if wi == 0 {
		if eta != nil {
			eta[i-pr.lo] = 0
		}
		return true
	}
	s.nPos++
	s.sumW += wi
	s.sumWY += wi * yi
	if yi == 1 {
		s.n1++
	}
	if eta != nil {
		var e, d float64
		if wi == 1 { // the common case: values computed once
			e, d = unit[int(yi)].eta, unit[int(yi)].dev
		} else {
			e, d = lgStart(yi, wi)
		}
		eta[i-pr.lo] = e
		s.dev += d
	}
	return true
}

// scan is scanPartial followed by the coordinator's sum of its blocks.
func (pr *lgProblem) scan(ctx context.Context, eta []float64) (*lgScan, error) {
	part, err := pr.scanPartial(ctx, eta)
	if err != nil {
		return nil, err
	}
	sc, _, err := lgFoldScan([]*LogitScanPartial{part})
	return sc, err
}

// lgScanRowGo adds w*x to sumWX and, where x != 0, w to nzW, and
// updates the ranges mn, mx (mn = x if x < mn, mx = x if x > mx) for one
// row x; it reports whether x has a non-finite value (the sums are then
// not meaningful).
func lgScanRowGo(x []float64, w float64, sumWX, nzW, mn, mx []float64) (bad bool) {
	sumWX, nzW, mn, mx = sumWX[:len(x)], nzW[:len(x)], mn[:len(x)], mx[:len(x)]
	wb := math.Float64bits(w)
	for j, v := range x {
		bad = bad || v-v != 0
		sumWX[j] += w * v
		b := math.Float64bits(v) << 1
		nzW[j] += math.Float64frombits(wb & -((b | -b) >> 63)) // w or +0
		if v < mn[j] {
			mn[j] = v
		}
		if v > mx[j] {
			mx[j] = v
		}
	}
	return bad
}

// lgFiniteRowGo reports whether every value of x is finite.
func lgFiniteRowGo(x []float64) bool {
	ok := true
	for _, v := range x {
		ok = ok && v-v == 0
	}
	return ok
}

// lgStart returns R's starting eta, logit((w*y + 0.5)/(w + 1)), and the
// unit's deviance term there.
func lgStart(y, w float64) (eta, dev float64) {
	eta = lgLinkfun((w*y + 0.5) / (w + 1))
	return eta, lgDevResid(y, lgLinkinv(eta), w)
}

// lgPassResult is the result of an IRLS pass.
type lgPassResult struct {
	dev      float64 // deviance at the (new) eta
	maxDelta float64 // max |eta_new - eta_old| over units with w > 0
	boundary int     // units with mu numerically 0 or 1
}

// lgStride returns m rounded up to a multiple of 4: the row stride of
// the Gram matrix and the length of the row buffers, so that every row of
// the kernel's upper-triangle update is a whole number of 4-vectors.
func lgStride(m int) int { return (m + 3) &^ 3 }

// lgGramLen is the length of the m×lgStride(m) row-major Gram matrix, of
// which the kernels fill the upper triangle (and a few entries left of
// the diagonal, which are never read).
func lgGramLen(m int) int { return m * lgStride(m) }

// lgPassScratch is one goroutine's buffer of up to four rows and their
// working weights.
type lgPassScratch struct {
	u  [4][]float64
	w  [4]float64
	rb lgXBuf
}

// passBlocks is one sweep over the rows of the shard. With beta not nil
// it first sets eta_i = u_i'beta (beta in internal coordinates; maxDelta
// compares with the previous eta), else it uses the stored eta (one value
// per row of the shard). At R's working weights W = w*mu.eta^2/var(mu)
// and working response z = eta + (y-mu)/mu.eta of that eta, block b
// accumulates in sums[b*k : b*k+k-1] (zero on entry) the upper triangle of
// the m×lgStride(m) row-major matrix (m = q+1) sum_i W_i v_i v_i' with
// v_i = (u_i, z_i): its leading q×q block is U'WU and its last column
// U'Wz; sums[b*k+k-1] gets the block's deviance. k is lgPartialLen; with
// pr.sp the layout is the sparse pass's (passSparse). It returns the
// boundary count and the largest change of eta over the shard (its
// deviance is the blocks' sum, in block order). Cost: n(p+1)
// multiply-adds for eta and n*m*(m+1)/2 for the triangle.
func (pr *lgProblem) passBlocks(ctx context.Context, beta, eta, sums []float64) (lgPassResult, error) {
	if pr.sp != nil {
		return pr.passSparse(ctx, beta, eta, sums)
	}
	m := pr.q + 1
	plen := lgGramLen(m)
	kt := plen + 1
	res := make([]lgPassResult, pr.nblocks)
	err := pr.parallel(ctx, func() any {
		s := &lgPassScratch{}
		for r := range s.u {
			s.u[r] = make([]float64, lgStride(m)) // zero padding stays zero
		}
		return s
	}, func(sc any, b int) {
		s := sc.(*lgPassScratch)
		var r lgPassResult
		gb := sums[b*kt : b*kt+plen]
		lo, hi := pr.blockRows(b)
		k := 0 // rows buffered
		var xb []float64
		var st int
		for i := lo; i < hi; i++ {
			if (i-lo)%lgSub == 0 {
				xb, st = pr.x.view(&s.rb, i, min(i+lgSub, hi))
			}
			r0 := (i - lo) % lgSub * st
			row := xb[r0 : r0+pr.p]
			wi := pr.weight(i)
			if wi == 0 {
				if beta != nil {
					eta[i-pr.lo] = pr.fillRowDot(s.u[k], row, beta)
				}
				continue
			}
			u := s.u[k]
			e := eta[i-pr.lo]
			if beta != nil {
				enew := pr.fillRowDot(u, row, beta)
				if d := math.Abs(enew - e); d > r.maxDelta || math.IsNaN(d) {
					r.maxDelta = d
				}
				e = enew
				eta[i-pr.lo] = e
			} else {
				pr.fillRowDot(u, row, nil)
			}
			me, mu, t := lgMuEtaLinkinv(e)
			yi := pr.y[i]
			r.dev += lgDevResidT(yi, mu, t, wi)
			if mu < lgBoundary || mu > 1-lgBoundary {
				r.boundary++
			}
			s.w[k] = wi * me * me / (mu * (1 - mu))
			u[pr.q] = e + (yi-mu)/me
			k++
			if k == 4 {
				lgRank4(gb, m, &s.w, &s.u)
				k = 0
			}
		}
		if k > 0 {
			for r := k; r < 4; r++ {
				s.w[r] = 0
				clear(s.u[r])
			}
			lgRank4(gb, m, &s.w, &s.u)
		}
		sums[b*kt+plen] = r.dev
		res[b] = r
	})
	return sumPassResults(res), err
}

// pass is passBlocks into a new partial followed by the coordinator's sum
// of its blocks: it returns the deviance, boundary count and largest
// change of eta, and writes the (centred) Gram to g, of length
// lgGramLen(q+1).
func (pr *lgProblem) pass(ctx context.Context, beta, eta, g []float64) (lgPassResult, error) {
	part := pr.newPartial(nil)
	r, err := pr.passBlocks(ctx, beta, eta, part.sums)
	if err != nil {
		return r, err
	}
	part.boundary, part.maxDelta = r.boundary, r.maxDelta
	return lgFoldPass([]*LogitPartial{part}, pr.base+pr.lo, pr.base+pr.hi, pr.sp, pr.q, g)
}

// fillRowDot writes (1, x_i - c) (or x_i without intercept) to u[:q]
// for row = x_i and, with beta not nil, returns u[:q]'beta summed in
// index order.
func (pr *lgProblem) fillRowDot(u, row []float64, beta []float64) float64 {
	off := 0
	s := 0.0
	if pr.icpt {
		u[0] = 1
		off = 1
		if beta != nil {
			s = beta[0]
		}
	}
	dst := u[off : off+pr.p]
	c := pr.center[:len(dst)]
	row = row[:len(dst)]
	if beta == nil {
		for j, v := range row {
			dst[j] = v - c[j]
		}
		return 0
	}
	b := beta[off : off+len(dst)]
	for j, v := range row {
		d := v - c[j]
		dst[j] = d
		s += b[j] * d
	}
	return s
}

// lgRank4Go adds sum_r w[r] u[r] u[r]' to the upper triangle of the
// row-major m×lgStride(m) matrix g (the portable kernel): for each row j,
// with s_r = w[r]*u[r][j], g[j, k] += s0 u0[k] + s1 u1[k] + s2 u2[k] +
// s3 u3[k] for k from j rounded down to a multiple of 4 up to the stride,
// in a fixed order of operations. u rows have length lgStride(m).
func lgRank4Go(g []float64, m int, w *[4]float64, u *[4][]float64) {
	m4 := lgStride(m)
	u0, u1, u2, u3 := u[0][:m4], u[1][:m4], u[2][:m4], u[3][:m4]
	for j := 0; j < m; j++ {
		k0 := j &^ 3
		gj := g[j*m4+k0 : j*m4+m4]
		v0, v1, v2, v3 := u0[k0:], u1[k0:], u2[k0:], u3[k0:]
		v0, v1, v2, v3 = v0[:len(gj)], v1[:len(gj)], v2[:len(gj)], v3[:len(gj)]
		s0, s1, s2, s3 := w[0]*u0[j], w[1]*u1[j], w[2]*u2[j], w[3]*u3[j]
		for k := range gj {
			gj[k] += s0*v0[k] + s1*v1[k] + s2*v2[k] + s3*v3[k]
		}
	}
}

// sumPassResults adds the blocks' deviances and boundary counts and takes
// the largest change of eta (NaN wins), in block order.
func sumPassResults(res []lgPassResult) lgPassResult {
	var tot lgPassResult
	for _, r := range res {
		tot.dev += r.dev
		tot.boundary += r.boundary
		if r.maxDelta > tot.maxDelta || math.IsNaN(r.maxDelta) {
			tot.maxDelta = r.maxDelta
		}
	}
	return tot
}
