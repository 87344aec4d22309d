package psm

import (
	"math"
	"unsafe"
)

// TypedColumns is a RowBlocker that also hands out its columns as they
// are stored, in small integer types where the values allow, such as
// panel.CovStore (uint8, int16 or float64 per 4096-row chunk column).
// The sparse IRLS pass reads such a matrix column by column without
// converting whole rows to float64: it converts only the dense columns
// and the nonzero values of the sparse ones.
type TypedColumns interface {
	RowBlocker
	// ColumnRange returns the values of column j at rows lo..hi-1
	// (lo < hi): exactly one of u8, i16 and f64 has length hi-lo, the
	// value at row lo+r being float64(u8[r]), float64(i16[r]) or f64[r];
	// or all three are nil when the rows are not stored together (then
	// the caller uses Rows). The slices are not modified. It must be
	// safe for concurrent use.
	ColumnRange(j, lo, hi int) (u8 []uint8, i16 []int16, f64 []float64)
}

// lgTypedCol is one column of an lgColBlock: exactly one slice is set.
type lgTypedCol struct {
	u8  []uint8
	i16 []int16
	f64 []float64
}

// at returns the value at row r of the column.
func (c *lgTypedCol) at(r int) float64 {
	switch {
	case c.u8 != nil:
		return float64(c.u8[r])
	case c.i16 != nil:
		return float64(c.i16[r])
	}
	return c.f64[r]
}

// lgColRef is an lgTypedCol as the assembly kernel reads it: the first
// value and the type (0 uint8, 1 int16, 2 float64).
type lgColRef struct {
	p    unsafe.Pointer
	kind int
}

// lgColBlock is one goroutine's view of the columns of the problem at a
// range of n rows (set by lgX.colBlock): col[j] and ref[j] are column j
// of the fit.
type lgColBlock struct {
	col []lgTypedCol
	ref []lgColRef
	n   int
}

// colBlock points cb at rows lo..hi-1 (lo < hi) of every column read by
// the fit and reports whether it could: r reads a TypedColumns and the
// rows are stored together. Cost: one ColumnRange call per column.
func (r *lgX) colBlock(cb *lgColBlock, lo, hi int) bool {
	if r.typed == nil {
		return false
	}
	if cap(cb.col) < r.p {
		cb.col = make([]lgTypedCol, r.p)
		cb.ref = make([]lgColRef, r.p)
	}
	cb.col, cb.ref, cb.n = cb.col[:r.p], cb.ref[:r.p], hi-lo
	for k := range cb.col {
		j := k
		if r.cols != nil {
			j = r.cols[k]
		}
		u8, i16, f64 := r.typed.ColumnRange(j, lo, hi)
		if u8 == nil && i16 == nil && f64 == nil {
			return false
		}
		cb.col[k] = lgTypedCol{u8: u8, i16: i16, f64: f64}
		switch {
		case u8 != nil:
			cb.ref[k] = lgColRef{unsafe.Pointer(unsafe.SliceData(u8)), 0}
		case i16 != nil:
			cb.ref[k] = lgColRef{unsafe.Pointer(unsafe.SliceData(i16)), 1}
		default:
			cb.ref[k] = lgColRef{unsafe.Pointer(unsafe.SliceData(f64)), 2}
		}
	}
	return true
}

// colsFill is rowsGo reading the rows from the typed columns cb instead
// of float64 rows: for the rows rows[t] of cb, whose nonzero sparse
// columns are in list (row r at list.off[r]), it fills the dense vectors
// ud[t*md4:] (from position 0: ud starts after the intercept), the
// nonzero sparse values idx/val[off[t]:off[t+1]] (off[0] = 0 is not
// written) and e[t] = eta, and returns the number of nonzero sparse
// values. Every number is the one rowsGo (without FMA) or the assembly
// rows (with FMA, fma true) gives: eta = (b0 + ed) + es with ed the sum
// of bd[a]*u[a] in column order and es that of bs[idx[t]]*val[t], each
// term fused when fma. The dense columns are read column by column (a
// type switch per column and lgSub rows), the sparse values row by row
// (one per nonzero). Cost: about nd + 2k operations per row for nd dense
// columns and k nonzero sparse values.
func (f *lgFill) colsFill(cb *lgColBlock, fma bool, rows []int, list lgNzList, ud []float64, md4 int, idx []int, val []float64, off []int, e []float64) int {
	f.colsDense(cb, fma, rows, ud, md4, e)
	return f.colsSparseGo(cb, fma, rows, list, idx, val, off, e)
}

// colsDense is the dense part of colsFill: it sets ud[t*md4+a] =
// x[rows[t]][dcol[a]] - dcen[a] and e[t] = ed (the sum of bd[a]*ud[t*md4+a]
// in column order, fused when fma), column by column: each row's sum is
// its own chain, so the rows proceed in parallel.
func (f *lgFill) colsDense(cb *lgColBlock, fma bool, rows []int, ud []float64, md4 int, e []float64) {
	e = e[:len(rows)]
	clear(e)
	for a, j := range f.dcol {
		c := &cb.col[j]
		cen, b := f.dcen[a], f.bd[a]
		switch {
		case c.u8 != nil:
			lgDenseCol(c.u8, rows, ud[a:], md4, cen, b, e, fma)
		case c.i16 != nil:
			lgDenseCol(c.i16, rows, ud[a:], md4, cen, b, e, fma)
		default:
			lgDenseCol(c.f64, rows, ud[a:], md4, cen, b, e, fma)
		}
	}
}

// colsSparseGo is the sparse part of colsFill: given e[t] = ed
// (colsDense), it fills idx/val[off[t]:off[t+1]] with the nonzero sparse
// values of row rows[t] and sets e[t] = (b0 + ed) + es.
func (f *lgFill) colsSparseGo(cb *lgColBlock, fma bool, rows []int, list lgNzList, idx []int, val []float64, off []int, e []float64) int {
	nz := 0
	for t, r := range rows {
		cols := list.col[list.off[r]:list.off[r+1]]
		ix, vx := idx[nz:nz+len(cols)], val[nz:nz+len(cols)]
		es := 0.0
		for q, j := range cols {
			v := cb.col[j].at(r)
			s := f.sidx[j]
			ix[q], vx[q] = s, v
			if fma {
				es = math.FMA(f.bs[s], v, es)
			} else {
				es += f.bs[s] * v
			}
		}
		nz += len(cols)
		off[t+1] = nz
		e[t] = (f.b0 + e[t]) + es
	}
	return nz
}

// lgDenseCol does one dense column of colsFill: for each t, with
// d = float64(v[rows[t]]) - cen, it sets ud[t*md4] = d and adds b*d to
// e[t] (fused when fma).
func lgDenseCol[T uint8 | int16 | float64](v []T, rows []int, ud []float64, md4 int, cen, b float64, e []float64, fma bool) {
	e = e[:len(rows)]
	if fma {
		for t, r := range rows {
			d := float64(v[r]) - cen
			ud[t*md4] = d
			e[t] = math.FMA(b, d, e[t])
		}
		return
	}
	for t, r := range rows {
		d := float64(v[r]) - cen
		ud[t*md4] = d
		e[t] += b * d
	}
}

// touch loads one value per 64 bytes of the columns cols at rows lo..hi-1
// and returns their sum (for the caller to keep). The loads are
// independent, so the memory system serves many at once; colsFill's
// reads of the sparse values, which jump from column to column and so
// defeat the hardware prefetcher, then find them in cache.
func (cb *lgColBlock) touch(cols []int, lo, hi int) uint64 {
	var s uint64
	for _, j := range cols {
		c := &cb.col[j]
		switch {
		case c.u8 != nil:
			for r := lo; r < hi; r += 64 {
				s += uint64(c.u8[r])
			}
		case c.i16 != nil:
			for r := lo; r < hi; r += 32 {
				s += uint64(c.i16[r])
			}
		default:
			for r := lo; r < hi; r += 8 {
				s += math.Float64bits(c.f64[r])
			}
		}
	}
	return s
}

// lgScanScratch is one goroutine's scratch for scanPartial.
type lgScanScratch struct {
	rb lgXBuf
	cb lgColBlock
}

// finite reports whether every value of cb is finite (only float64
// columns can hold others). Cost: one pass over the float64 columns.
func (cb *lgColBlock) finite() bool {
	for k := range cb.col {
		if c := &cb.col[k]; c.f64 != nil && !lgFiniteRow(c.f64) {
			return false
		}
	}
	return true
}

// scanTyped is scanPartial's work on block rows lo..hi-1 read from the
// typed columns cb (all finite, so every bad value is a treatment or
// weight): first the rows (validation, counts, weight sums, R's starting
// eta and its deviance), then each column's sums and ranges over the
// rows with nonzero weight (lgScanCol). These are the operations of the
// row-by-row scan in the same order within each column, so the sums are
// the same bits. unit holds the starting eta and deviance of a unit of
// weight 1 with y = 0 and y = 1.
func (pr *lgProblem) scanTyped(cb *lgColBlock, s *lgScan, lo, hi int, eta []float64, unit *[2]struct{ eta, dev float64 }) {
	for i := lo; i < hi; i++ {
		if !pr.scanUnit(s, i, pr.y[i], pr.weight(i), eta, unit) {
			return
		}
	}
	y := pr.y[lo:hi]
	var w []float64
	if pr.w != nil {
		w = pr.w[lo:hi]
	}
	// Weights of 0 and 1 (a subsample, such as the units of strata that
	// hold both groups) keep the integer sums exact: lgScanColInt.
	w01 := true
	for _, v := range w {
		if v != 0 && v != 1 {
			w01 = false
			break
		}
	}
	for j := range cb.col {
		c := &cb.col[j]
		var r lgColScan
		switch {
		case c.u8 != nil && w01:
			r = lgScanColInt(c.u8, y, w, s, j)
		case c.i16 != nil && w01:
			r = lgScanColInt(c.i16, y, w, s, j)
		case c.u8 != nil:
			r = lgScanCol(c.u8, y, w, s, j)
		case c.i16 != nil:
			r = lgScanCol(c.i16, y, w, s, j)
		default:
			r = lgScanCol(c.f64, y, w, s, j)
		}
		s.sumWX[j], s.nzW[j] = r.sumWX, r.nzW
		s.min0[j], s.max0[j], s.min1[j], s.max1[j] = r.min0, r.max0, r.min1, r.max1
	}
}

// lgColScan is one column's part of an lgScan.
type lgColScan struct {
	sumWX, nzW, min0, max0, min1, max1 float64
}

// lgScanCol returns column j of s updated with the values v of rows
// whose treatment is y and weight w (nil: all 1): for each row with
// nonzero weight, in order, sumWX += w*x, nzW += w where x != 0 (else
// +0), and
// the range of its group (y = 1 or not) widened to x, as lgScanRowGo
// does row by row.
func lgScanCol[T uint8 | int16 | float64](v []T, y, w []float64, s *lgScan, j int) lgColScan {
	// Locals, not the struct's fields, so that the compiler keeps them in
	// registers.
	sum, nz := s.sumWX[j], s.nzW[j]
	min0, max0, min1, max1 := s.min0[j], s.max0[j], s.min1[j], s.max1[j]
	y = y[:len(v)]
	if w != nil {
		w = w[:len(v)]
	}
	for i, xv := range v {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		if wi == 0 {
			continue
		}
		x := float64(xv)
		sum += wi * x
		b := math.Float64bits(x) << 1
		nz += math.Float64frombits(math.Float64bits(wi) & -((b | -b) >> 63)) // w or +0, without a branch
		if y[i] == 1 {
			if x < min1 {
				min1 = x
			}
			if x > max1 {
				max1 = x
			}
		} else {
			if x < min0 {
				min0 = x
			}
			if x > max0 {
				max0 = x
			}
		}
	}
	return lgColScan{sum, nz, min0, max0, min1, max1}
}

// lgScanColInt is lgScanCol for integer values and weights w of 0 or 1
// (nil: all 1), in integer arithmetic: a row of weight 0 is skipped, and
// with w = 1 every term w*x is the integer x and every partial sum an
// integer of magnitude at most 32768·len(v), exact in float64 for
// len(v) <= lgBlock, so the float64 sums of lgScanCol are the integer
// sums converted (and +0 when they are 0, as x + (-x) and sums of +0
// are), and the ranges are those of the integers. s is a new block's
// scan (its sums are 0).
func lgScanColInt[T uint8 | int16](v []T, y, w []float64, s *lgScan, j int) lgColScan {
	if len(v) > lgBlock {
		panic("psm: lgScanColInt: more rows than a block")
	}
	var sum, nz int
	var mn0, mx0, mn1, mx1 T
	var n0, n1 int
	y = y[:len(v)]
	add := func(x T, treated bool) {
		sum += int(x)
		if x != 0 {
			nz++
		}
		if treated {
			if n1 == 0 || x < mn1 {
				mn1 = x
			}
			if n1 == 0 || x > mx1 {
				mx1 = x
			}
			n1++
		} else {
			if n0 == 0 || x < mn0 {
				mn0 = x
			}
			if n0 == 0 || x > mx0 {
				mx0 = x
			}
			n0++
		}
	}
	if w == nil {
		for i, x := range v {
			add(x, y[i] == 1)
		}
	} else {
		w = w[:len(v)]
		for i, x := range v {
			if w[i] != 0 {
				add(x, y[i] == 1)
			}
		}
	}
	r := lgColScan{s.sumWX[j] + float64(sum), s.nzW[j] + float64(nz), s.min0[j], s.max0[j], s.min1[j], s.max1[j]}
	if n0 > 0 {
		r.min0, r.max0 = min(r.min0, float64(mn0)), max(r.max0, float64(mx0))
	}
	if n1 > 0 {
		r.min1, r.max1 = min(r.min1, float64(mn1)), max(r.max1, float64(mx1))
	}
	return r
}

// lgLinearCols sets dst[r] = b0 + sum_j b[j]*x[r][j] for the rows of cb,
// the sum in column order as LinearPredictor forms it row by row, but
// column by column (each row's sum is its own chain; no conversion of
// whole rows). Cost: one multiply-add per value.
func lgLinearCols(cb *lgColBlock, b0 float64, b, dst []float64) {
	dst = dst[:cb.n]
	for i := range dst {
		dst[i] = b0
	}
	for j := range cb.col {
		c := &cb.col[j]
		switch {
		case c.u8 != nil:
			lgAxpyCol(c.u8, b[j], dst)
		case c.i16 != nil:
			lgAxpyCol(c.i16, b[j], dst)
		default:
			lgAxpyCol(c.f64, b[j], dst)
		}
	}
}

// lgAxpyCol adds a*float64(v[i]) to dst[i].
func lgAxpyCol[T uint8 | int16 | float64](v []T, a float64, dst []float64) {
	dst = dst[:len(v)]
	for i, x := range v {
		dst[i] += a * float64(x)
	}
}
