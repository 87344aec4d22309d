package psm

import (
	"context"
	"math"
	"math/bits"
	"slices"
)

// The sparse IRLS pass. Register covariates are mostly zeros (dummies of
// rare categories, counts of weeks on a benefit); centring every column,
// as the dense pass does, destroys the zeros and makes each row cost a
// full (q+1)×(q+1) rank-one update. The sparse pass splits the columns:
//
//   - dense columns D keep explicit centring: the dense vector
//     u_D = (1, x_D - c_D, z) (without the 1 and uncentred when there is
//     no intercept) gets the dense rank-4 update of a small Gram G_DD;
//   - sparse columns S are not centred: each nonzero x_s of a row adds
//     W x_s u_D to row s of G_SD and W x_s x_t to G_SS[s][t] for the
//     nonzero sparse t >= s of the row.
//
// After the pass the centred Gram in the dense pass's layout is assembled
// from these (c the centres, G[0][.] the intercept row, so that
// G_SD[s][0] = sum W x_s and G_DD[0][0] = sum W):
//
//	G_c[s][t] = G_SS[s][t] - c_s G_SD[t][0] - c_t G_SD[s][0] + c_s c_t G_DD[0][0]
//	G_c[s][d] = G_SD[s][d] - c_s G_DD[0][d]   (d a dense column, the intercept or z)
//
// Without an intercept nothing is centred (c = 0) and nothing is corrected.
//
// Accuracy of the uncentred sums. Column j is sparse when the weight
// share of its nonzero values, q_j = sum_{x_ij != 0} w_i / sum_i w_i
// (units with w > 0), is at most 1/2. By Cauchy-Schwarz the weighted mean
// satisfies mean² <= q E[x²], so var = E[x²] - mean² >= (1-q) E[x²]:
// forming sum w (x-c)² as sum w x² - 2c sum w x + c² sum w loses at most
// log2(1/(1-q)) <= 1 bit to cancellation, and the off-diagonal terms are
// bounded by the same norms (Cauchy-Schwarz again). Under the IRLS weights
// W the same bound holds with the W-weighted share of nonzeros in place of
// q (sum W (x-c)² >= sum W (x - mean_W)²), and for a 0/1 dummy with
// c = q <= 1/2 every one contributes (1-c)² >= x²/4, so a dummy loses at
// most 2 bits whatever W is. Columns with q > 1/2 (and age, year, rates)
// are dense and centred explicitly, as before.
//
// Choice of pass (lgPlanSparse): the sparse pass is used when there are
// at least lgSparseMinCols sparse columns and its estimated cost per row,
// in multiply-adds of the dense rank-4 kernel,
//
//	md(md+1)/2 + lgSparseRowCost*k*md4 + lgSparsePairCost*k(k+1)/2
//
// (md the length of u_D, md4 it rounded up to a multiple of 4, k the mean
// number of nonzero sparse values per row, by weight) is at most
// lgSparseGain times that of the dense pass, m(m+1)/2 with m = q+1. The
// costs were measured with BenchmarkLogitPass (AMD EPYC, AVX2): a row of
// G_SD costs about 3 kernel multiply-adds per element, a pair of G_SS
// about 14. The rule depends on the data only (never on Workers), and
// both passes reduce fixed blocks of rows in block order, so results stay
// bit-identical for any Workers.

const (
	// lgSparseMinCols is the least number of sparse columns for which the
	// sparse pass is considered.
	lgSparseMinCols = 4
	// lgSparseRowCost is the cost of one element of a G_SD row update,
	// lgSparsePairCost that of one G_SS update (finding the nonzero value
	// and its eta term included), in dense-kernel multiply-adds.
	lgSparseRowCost  = 3
	lgSparsePairCost = 14
	// lgSparseGain is the largest ratio of estimated sparse to dense cost
	// at which the sparse pass is used (a margin for the first pass, which
	// also records the nonzero lists).
	lgSparseGain = 0.8
)

// lgPathOverride forces the pass for tests: 0 chooses by the rule of
// lgPlanSparse, 1 always the dense pass, 2 always the sparse pass (with
// the columns classified as usual, even when none is sparse).
var lgPathOverride = 0

// lgSparse is the column split of the sparse pass.
type lgSparse struct {
	dcol  []int     // covariate columns in u_D, increasing
	dcen  []float64 // their centres
	dfull []int     // index in the full layout of each position of u_D
	scol  []int     // sparse covariate columns, increasing
	scen  []float64 // their centres (0 without intercept)
	sfull []int     // index in the full layout of each sparse column
	smask []uint64  // bit j of smask[j/64]: column j is sparse
	sidx  []int     // index in scol of each sparse column j (else -1)
	icpt  int       // 1 with an intercept (u_D[0] = 1), else 0
	md    int       // len(u_D) = icpt + len(dcol) + 1 (z last)
	md4   int       // lgStride(md)
	ns    int       // len(scol)
	plen  int       // per-block partial: G_DD md×md4, G_SD ns×md4, G_SS ns×ns
	// lists[b] holds the columns of the nonzero sparse values of the rows
	// of block b, found by the first pass (from each row's nonzero mask,
	// or from the sparse columns when they are typed) and read by the
	// later ones: 2 bytes per nonzero sparse value and 4 per row, at most
	// a quarter of the size of x (the sparse pass needs p <= 65536).
	lists []lgNzList
}

// lgNzList is the nonzero pattern of the sparse columns in one block:
// row lo+r has its nonzero sparse values in the columns col[off[r]:off[r+1]].
type lgNzList struct {
	off []int32
	col []uint16
}

// lgPlanSparse classifies the columns (fixed[j]: column j is constant or,
// without intercept, all zero; it is left out of both parts and its rows
// of the Gram stay zero, as the dense pass makes them) and returns the
// sparse layout, or nil when the dense pass is to be used (see the rule
// above).
func lgPlanSparse(pr *lgProblem, sc *lgScan, fixed []bool) *lgSparse {
	if lgPathOverride == 1 || pr.p == 0 || pr.p > math.MaxUint16+1 {
		return nil // (column numbers of the nonzero lists are uint16)
	}
	sparse := make([]bool, pr.p)
	kbar := 0.0
	for j := 0; j < pr.p; j++ {
		// Sparse when nonzero values carry at most half the weight; the
		// comparison is exact (2x is exact in floating point).
		if !fixed[j] && 2*sc.nzW[j] <= sc.sumW {
			sparse[j] = true
			kbar += sc.nzW[j]
		}
	}
	kbar /= sc.sumW
	sp := lgNewSparse(pr.p, pr.q, pr.icpt, pr.center, sparse, fixed)
	if lgPathOverride == 2 {
		return sp
	}
	m := float64(pr.q + 1)
	md := float64(sp.md)
	dense := m * (m + 1) / 2
	cost := md*(md+1)/2 + lgSparseRowCost*kbar*float64(sp.md4) + lgSparsePairCost*kbar*(kbar+1)/2
	if sp.ns < lgSparseMinCols || cost > lgSparseGain*dense {
		return nil
	}
	return sp
}

// lgNewSparse returns the split of p covariates (q terms, with or without
// intercept, centres center) into the sparse columns (sparse[j]), the
// fixed ones (fixed[j], in neither part) and the dense ones (the others),
// without nonzero lists (passSparse makes them).
func lgNewSparse(p, q int, icpt bool, center []float64, sparse, fixed []bool) *lgSparse {
	sp := &lgSparse{}
	if icpt {
		sp.icpt = 1
		sp.dfull = append(sp.dfull, 0)
	}
	off := q - p
	sp.smask = make([]uint64, (p+63)/64)
	sp.sidx = make([]int, p)
	for j := 0; j < p; j++ {
		sp.sidx[j] = -1
		switch {
		case fixed[j]:
		case sparse[j]:
			sp.smask[j>>6] |= 1 << (j & 63)
			sp.sidx[j] = len(sp.scol)
			sp.scol = append(sp.scol, j)
			sp.scen = append(sp.scen, center[j])
			sp.sfull = append(sp.sfull, off+j)
		default:
			sp.dcol = append(sp.dcol, j)
			sp.dcen = append(sp.dcen, center[j])
			sp.dfull = append(sp.dfull, off+j)
		}
	}
	sp.dfull = append(sp.dfull, q) // z
	sp.md = len(sp.dfull)
	sp.md4 = lgStride(sp.md)
	sp.ns = len(sp.scol)
	sp.plen = sp.md*sp.md4 + sp.ns*sp.md4 + sp.ns*sp.ns
	return sp
}

// lgSub is the number of rows that the sparse pass takes through each of
// its three phases (dense vectors, nonzero values and eta; working
// weights and deviance; accumulation) before the next, so that phases 1
// and 3 are one assembly call each per group. A multiple of 4 that
// divides lgBlock.
const lgSub = 256

// lgSparseScratch is one goroutine's buffer for lgSub rows with positive
// weight: their dense vectors, eta, row numbers, working weights and
// nonzero sparse values (those of slot r at idx/val[off[r]:off[r+1]]).
type lgSparseScratch struct {
	ud   []float64 // lgSub vectors u_D of md4 values (zero padding stays zero)
	e    []float64
	row  []int
	w    []float64
	off  []int
	idx  []int
	val  []float64
	mask []uint64
	boff []int32 // a block's lgNzList being built
	bcol []uint16
	rb   lgXBuf
	fill lgFill // the pass's, reading the rows of the current lgSub rows
	rrow []int  // the rows of row, counted from the first of the lgSub
	cb   lgColBlock
	arow []int   // the rows with zero weight, counted like rrow
	sink uint64  // keeps lgColBlock.touch's loads
	cnt  []int32 // lgNzCols's scratch, lgSub values
}

// passSparse is passBlocks (same arguments and results) with the column
// split of pr.sp: eta_i = b0 + u_D'beta_D + sum_{x_is != 0} beta_s x_is
// with b0 = beta_0 - sum_s beta_s c_s, and block b's G_DD | G_SD | G_SS
// (sp.plen values) and deviance in sums[b*(sp.plen+1):], to be summed and
// assembled as described above. The first pass finds each row's nonzero
// sparse values (from its nonzero mask, or on typed columns from the
// sparse columns, lgNzCols) and records their columns (sp.lists); later
// passes read them from there. Rows go through in
// groups of lgSub (see there). Cost per row: md(md+1)/2 multiply-adds for
// G_DD, md4 per nonzero sparse value for G_SD and k(k+1)/2 for G_SS with
// k nonzero sparse values.
func (pr *lgProblem) passSparse(ctx context.Context, beta, eta, sums []float64) (lgPassResult, error) {
	sp := pr.sp
	md, md4, ns := sp.md, sp.md4, sp.ns
	plen := sp.plen
	kt := plen + 1
	if len(sp.lists) != pr.nblocks {
		sp.lists = make([]lgNzList, pr.nblocks)
	}
	// Coefficients in the split: bd over u_D (zero at the intercept, z
	// and padding), bs over the sparse columns, b0 = beta_0 - sum_s
	// beta_s c_s the constant; all zero when beta is nil.
	bd := make([]float64, md4)
	bs := make([]float64, max(ns, 1))
	b0 := 0.0
	if beta != nil {
		off := pr.q - pr.p
		for a, j := range sp.dcol {
			bd[sp.icpt+a] = beta[off+j]
		}
		if pr.icpt {
			b0 = beta[0]
		}
		for s, j := range sp.scol {
			bs[s] = beta[off+j]
			b0 -= bs[s] * sp.scen[s]
		}
	}
	fill := newLgFill(pr, bd[sp.icpt:], bs, b0)
	res := make([]lgPassResult, pr.nblocks)
	err := pr.parallel(ctx, func() any {
		ud := make([]float64, lgSub*md4)
		for t := 0; t < lgSub && sp.icpt == 1; t++ {
			ud[t*md4] = 1 // u_D[0], never overwritten
		}
		return &lgSparseScratch{ud: ud, e: make([]float64, lgSub),
			row: make([]int, lgSub), w: make([]float64, lgSub), off: make([]int, lgSub+1),
			idx: make([]int, lgSub*ns+1), val: make([]float64, lgSub*ns+1), mask: make([]uint64, len(sp.smask)),
			boff: make([]int32, lgBlock+1), fill: *fill, rrow: make([]int, lgSub), arow: make([]int, lgSub),
			cnt: make([]int32, lgSub)}
	}, func(scr any, b int) {
		s := scr.(*lgSparseScratch)
		var r lgPassResult
		gb := sums[b*kt : b*kt+plen]
		gdd := gb[:md*md4]
		gsd := gb[md*md4 : (md+ns)*md4]
		gss := gb[(md+ns)*md4:]
		lo, hi := pr.blockRows(b)
		list := sp.lists[b]
		build := list.off == nil // first pass: record the block's list
		s.bcol = s.bcol[:0]
		for sub := lo; sub < hi; sub += lgSub {
			// Phase 1: the rows with positive weight, their dense
			// vectors, nonzero sparse values and eta.
			nr, nz := 0, 0
			end := min(sub+lgSub, hi)
			f := &s.fill
			typed := pr.x.colBlock(&s.cb, sub, end)
			switch {
			case build && !typed:
				// First pass: find each row's nonzero sparse columns from
				// its nonzero mask and record them (also for the rows with
				// zero weight).
				xb, st := pr.x.view(&s.rb, sub, end)
				f.setRows(xb, st, end-sub)
				for i := sub; i < end; i++ {
					row := xb[(i-sub)*st : (i-sub)*st+pr.p]
					n0 := len(s.bcol)
					s.bcol = sp.fromMask(s.bcol, row, s.mask)
					s.boff[i-lo+1] = int32(len(s.bcol))
					if len(s.bcol) == cap(s.bcol) { // lgFill.fill needs cap(cols) >= 1
						s.bcol = append(s.bcol, 0)[:len(s.bcol)]
					}
					wi := pr.weight(i)
					if wi == 0 && beta == nil {
						continue
					}
					cols := s.bcol[n0:]
					k := len(cols)
					enew := f.fill(row, row, s.ud[nr*md4+sp.icpt:nr*md4+md-1], cols, s.idx[nz:nz+k], s.val[nz:nz+k])
					if wi == 0 { // absent unit: only its eta (not used by the fit)
						eta[i-pr.lo] = enew
						continue
					}
					s.e[nr], s.row[nr] = enew, i
					nz += k
					nr++
					s.off[nr] = nz
				}
			case typed:
				// Passes on typed columns: the same numbers read without
				// converting whole rows (colsFill). The first pass first
				// records the rows' nonzero sparse columns from the
				// columns (lgNzCols), the same lists as fromMask's.
				var sl lgNzList // entry 0: row sub
				if build {
					s.bcol = lgNzCols(&s.cb, sp.scol, s.boff[sub-lo:end-lo+1], s.bcol, s.cnt)
					if len(s.bcol) == cap(s.bcol) { // typedRows needs cap(col) >= 1
						s.bcol = append(s.bcol, 0)[:len(s.bcol)]
					}
					sl = lgNzList{off: s.boff[sub-lo:], col: s.bcol}
				} else {
					sl = lgNzList{off: list.off[sub-lo:], col: list.col}
				}
				na := 0
				for i := sub; i < end; i++ {
					if pr.weight(i) != 0 {
						s.row[nr], s.rrow[nr] = i, i-sub
						nr++
					} else if beta != nil { // absent unit: only its eta
						s.arow[na] = i - sub
						na++
					}
				}
				if na > 0 {
					f.typedRows(&s.cb, s.arow[:na], sl, s.ud[sp.icpt:], md4, s.idx, s.val, s.off, s.e)
					for t, r := range s.arow[:na] {
						eta[sub+r-pr.lo] = s.e[t]
					}
				}
				if nr > 0 {
					s.sink += s.cb.touch(sp.scol, s.rrow[0], s.rrow[nr-1]+1)
				}
				nz = f.typedRows(&s.cb, s.rrow[:nr], sl, s.ud[sp.icpt:], md4, s.idx, s.val, s.off, s.e)
			default:
				xb, st := pr.x.view(&s.rb, sub, end)
				f.setRows(xb, st, end-sub)
				for i := sub; i < end; i++ {
					if pr.weight(i) != 0 {
						s.row[nr] = i
						nr++
					} else if beta != nil { // absent unit: only its eta
						row := xb[(i-sub)*st : (i-sub)*st+pr.p]
						cols := list.col[list.off[i-lo]:list.off[i-lo+1]]
						eta[i-pr.lo] = f.fill(row, row, s.ud[sp.icpt:md-1], cols, s.idx[:len(cols)], s.val[:len(cols)])
					}
				}
				for t, i := range s.row[:nr] {
					s.rrow[t] = i - sub
				}
				sl := lgNzList{off: list.off[sub-lo:], col: list.col} // entry 0: row sub
				nz = f.rows(s.rrow[:nr], sl, 0, s.ud[sp.icpt:], md4, s.idx, s.val, s.off, s.e)
			}
			if beta != nil {
				for t, i := range s.row[:nr] {
					e := s.e[t]
					if d := math.Abs(e - eta[i-pr.lo]); d > r.maxDelta || math.IsNaN(d) {
						r.maxDelta = d
					}
					eta[i-pr.lo] = e
				}
			} else {
				for t, i := range s.row[:nr] {
					s.e[t] = eta[i-pr.lo]
				}
			}
			// Phase 2: deviance, working weights and responses.
			for t, e := range s.e[:nr] {
				i := s.row[t]
				wi := pr.weight(i)
				me, mu, tt := lgMuEtaLinkinv(e)
				yi := pr.y[i]
				r.dev += lgDevResidT(yi, mu, tt, wi)
				if mu < lgBoundary || mu > 1-lgBoundary {
					r.boundary++
				}
				s.w[t] = wi * me * me / (mu * (1 - mu))
				s.ud[t*md4+md-1] = e + (yi-mu)/me
			}
			// Phase 3: G_DD by rank-4 updates (a ragged group padded with
			// zero rows), then G_SD and G_SS row by row.
			for t := nr; t < (nr+3)&^3; t++ {
				s.w[t] = 0
				clear(s.ud[t*md4 : t*md4+md4])
				if sp.icpt == 1 {
					s.ud[t*md4] = 1
				}
			}
			for t := 0; t < nr; t += 4 {
				lgRank4Packed(gdd, md, s.w[t:t+4], s.ud[t*md4:(t+4)*md4])
			}
			lgSparseRows(gsd, md4, gss, ns, s.idx, s.val, s.off[:nr+1], s.w, s.ud)
		}
		if build {
			// col gets one spare element: lgFill.fill needs cap(cols) >= 1.
			sp.lists[b] = lgNzList{off: append([]int32(nil), s.boff[:hi-lo+1]...),
				col: append(make([]uint16, 0, len(s.bcol)+1), s.bcol...)}
		}
		sums[b*kt+plen] = r.dev
		res[b] = r
	})
	return sumPassResults(res), err
}

// lgNzCols appends to cols the nonzero sparse columns (scol, increasing)
// of the n = len(off)-1 rows of cb, row by row and each row's in
// increasing order, and sets off[r+1] to the length of cols after row r
// (off[0] is the length before): the lists fromMask makes from the rows
// (x != 0, so -0 counts as zero). cnt is scratch of at least n values.
// Cost: two passes over each sparse column (a count, then the placing of
// each nonzero value's column) and one over the rows.
func lgNzCols(cb *lgColBlock, scol []int, off []int32, cols []uint16, cnt []int32) []uint16 {
	n := len(off) - 1
	cnt = cnt[:n]
	clear(cnt)
	for _, j := range scol {
		c := &cb.col[j]
		switch {
		case c.u8 != nil:
			lgNzCount(c.u8[:n], cnt)
		case c.i16 != nil:
			lgNzCount(c.i16[:n], cnt)
		default:
			lgNzCount(c.f64[:n], cnt)
		}
	}
	for r, k := range cnt {
		cnt[r] = off[r] // the next place of row r
		off[r+1] = off[r] + k
	}
	cols = slices.Grow(cols, int(off[n]-off[0]))[:off[n]]
	for _, j := range scol {
		c := &cb.col[j]
		switch {
		case c.u8 != nil:
			lgNzPlace(c.u8[:n], uint16(j), cnt, cols)
		case c.i16 != nil:
			lgNzPlace(c.i16[:n], uint16(j), cnt, cols)
		default:
			lgNzPlace(c.f64[:n], uint16(j), cnt, cols)
		}
	}
	return cols
}

// lgNzCount adds 1 to cnt[r] for each v[r] != 0.
func lgNzCount[T uint8 | int16 | float64](v []T, cnt []int32) {
	cnt = cnt[:len(v)]
	for r, x := range v {
		if x != 0 {
			cnt[r]++
		}
	}
}

// lgNzPlace writes j at cols[pos[r]] and advances pos[r] for each
// v[r] != 0.
func lgNzPlace[T uint8 | int16 | float64](v []T, j uint16, pos []int32, cols []uint16) {
	pos = pos[:len(v)]
	for r, x := range v {
		if x != 0 {
			cols[pos[r]] = j
			pos[r]++
		}
	}
}

// fromMask appends to cols the nonzero sparse columns of row, in
// increasing order, found from the row's nonzero bit mask (mask is
// scratch): p/4 vector compares plus a few operations per nonzero value.
func (sp *lgSparse) fromMask(cols []uint16, row []float64, mask []uint64) []uint16 {
	lgNonzero(row, mask)
	for w, word := range mask {
		word &= sp.smask[w]
		for word != 0 {
			cols = append(cols, uint16(w<<6|bits.TrailingZeros64(word)))
			word &= word - 1
		}
	}
	return cols
}

// lgFill computes, for one row, the dense vector, the nonzero sparse
// values and eta (fill) with the coefficients of one pass.
type lgFill struct {
	args lgFillArgs // for the assembly kernel
	dcol []int
	dcen []float64
	bd   []float64 // coefficients of the dense columns
	sidx []int
	bs   []float64
	b0   float64
	// The rows: x[i*stride : i*stride+p] (set by setRows); ns sparse
	// columns.
	x         []float64
	stride, p int
	ns        int
}

// lgFillArgs is lgFill's data as the assembly kernel reads it.
type lgFillArgs struct {
	dcol   *int
	dcen   *float64
	nd     int
	bd     *float64
	sidx   *int
	bs     *float64
	b0     float64
	p      int // values per row, prefetched
	x      *float64
	stride int
	n      int
}

func newLgFill(pr *lgProblem, bd, bs []float64, b0 float64) *lgFill {
	sp := pr.sp
	dcol, dcen, sidx := sp.dcol, sp.dcen, sp.sidx
	nd := len(dcol)
	f := &lgFill{dcol: dcol, dcen: dcen[:nd], bd: bd[:nd], sidx: sidx, bs: bs, b0: b0,
		p: pr.p, ns: sp.ns}
	f.args = lgFillArgs{nd: nd, sidx: &sidx[0], bs: &bs[0], b0: b0, p: pr.p}
	if nd > 0 {
		f.args.dcol, f.args.dcen, f.args.bd = &dcol[0], &dcen[0], &bd[0]
	}
	return f
}

// setRows makes f read its n rows from x: row i at x[i*stride:][:p]
// (x not empty).
func (f *lgFill) setRows(x []float64, stride, n int) {
	f.x, f.stride = x, stride
	f.args.x, f.args.stride, f.args.n = &x[0], stride, n
}

// fillGo writes u[a] = row[dcol[a]] - dcen[a] for the dense columns and
// idx[t] = sidx[cols[t]], val[t] = row[cols[t]] for the nonzero sparse
// ones, and returns eta = (b0 + sum_a bd[a]*u[a]) + sum_t
// bs[idx[t]]*val[t] (each partial sum in index order).
func (f *lgFill) fillGo(row, u []float64, cols []uint16, idx []int, val []float64) float64 {
	u = u[:len(f.dcol)]
	ed := 0.0
	for a, j := range f.dcol {
		d := row[j] - f.dcen[a]
		u[a] = d
		ed += f.bd[a] * d
	}
	idx, val = idx[:len(cols)], val[:len(cols)]
	es := 0.0
	for t, j := range cols {
		s, v := f.sidx[j], row[j]
		idx[t], val[t] = s, v
		es += f.bs[s] * v
	}
	return (f.b0 + ed) + es
}

// rowsGo fills, for the rows rows[t] of a block starting at row lo whose
// nonzero sparse columns are in list, the dense vectors ud[t*md4:] (from
// position 0: ud starts after the intercept), the nonzero sparse values
// idx/val[off[t]:off[t+1]] (off[0] = 0 is not written) and e[t] = eta
// (see fillGo); it returns the number of nonzero sparse values.
func (f *lgFill) rowsGo(rows []int, list lgNzList, lo int, ud []float64, md4 int, idx []int, val []float64, off []int, e []float64) int {
	nz := 0
	for t, i := range rows {
		row := f.x[i*f.stride : i*f.stride+f.p]
		cols := list.col[list.off[i-lo]:list.off[i-lo+1]]
		k := len(cols)
		e[t] = f.fillGo(row, ud[t*md4:], cols, idx[nz:nz+k], val[nz:nz+k])
		nz += k
		off[t+1] = nz
	}
	return nz
}

// lgNonzeroGo is the portable lgNonzero: bit c of mask[c/64] is
// row[c] != 0 (-0 counts as zero), without branches.
func lgNonzeroGo(row []float64, mask []uint64) {
	clear(mask)
	for c, v := range row {
		b := math.Float64bits(v) << 1
		mask[c>>6] |= ((b | -b) >> 63) << (c & 63)
	}
}

// lgSparseRowGo adds the sparse terms of one row: for each nonzero t
// (s = idx[t], a = w*val[t]) the row s of G_SD (md4 values at gsd[s*md4])
// gets a*u[:md4], and G_SS[s][idx[t2]] (at gss[s*ns+idx[t2]]) gets
// a*val[t2] for t2 >= t.
func lgSparseRowGo(gsd []float64, md4 int, gss []float64, ns int, idx []int, val []float64, w float64, u []float64) {
	u = u[:md4]
	val = val[:len(idx)]
	for t, s := range idx {
		a := w * val[t]
		g := gsd[s*md4 : s*md4+md4]
		for k, v := range u {
			g[k] += a * v
		}
		gr := gss[s*ns : s*ns+ns]
		for t2 := t; t2 < len(idx); t2++ {
			gr[idx[t2]] += a * val[t2]
		}
	}
}

// assemble writes the centred Gram (upper triangle of the m×lgStride(m)
// layout of pass) from the summed partial sum = G_DD | G_SD | G_SS.
func (sp *lgSparse) assemble(g []float64, m int, sum []float64) {
	md, md4, ns := sp.md, sp.md4, sp.ns
	gdd := sum[:md*md4]
	gsd := sum[md*md4 : (md+ns)*md4]
	gss := sum[(md+ns)*md4:]
	m4 := lgStride(m)
	clear(g[:m*m4])
	set := func(i, j int, v float64) {
		if i > j {
			i, j = j, i
		}
		g[i*m4+j] = v
	}
	for a := 0; a < md; a++ {
		for b := a; b < md; b++ {
			g[sp.dfull[a]*m4+sp.dfull[b]] = gdd[a*md4+b]
		}
	}
	icpt := sp.icpt == 1
	for s := 0; s < ns; s++ {
		cs := sp.scen[s]
		fs := sp.sfull[s]
		rs := gsd[s*md4 : s*md4+md]
		for a, v := range rs {
			if icpt {
				v -= cs * gdd[a]
			}
			set(fs, sp.dfull[a], v)
		}
		for t := s; t < ns; t++ {
			v := gss[s*ns+t]
			if icpt {
				ct := sp.scen[t]
				v = v - cs*gsd[t*md4] - ct*rs[0] + cs*ct*gdd[0]
			}
			set(fs, sp.sfull[t], v)
		}
	}
}
