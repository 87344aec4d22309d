//go:build amd64 && !noasm

package psm

import "math"

// lgRank4FMA is lgRank4Go with AVX2 fused multiply-adds: for each j the
// packed row g[j, j:m] += s0*u0[j:m] + s1*u1[j:m] + s2*u2[j:m] + s3*u3[j:m]
// with s_r = w_r*u_r[j] (rounded as in lgRank4Go), each element as ((g + s0 u0) + s1 u1) + s2 u2) + s3 u3
// with one rounding per fused step, whether it falls in a vector or in the
// scalar tail, so the result does not depend on alignment or on how rows
// are split into blocks.
//
//go:noescape
func lgRank4FMA(dst *float64, m, m4 int, w *[4]float64, u0, u1, u2, u3 *float64)

//go:noescape
func lgCPUID(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

//go:noescape
func lgXGETBV() (eax, edx uint32)

// lgHaveFMA reports AVX2 and FMA support by the CPU and the OS.
func lgHaveFMA() bool {
	maxID, _, _, _ := lgCPUID(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := lgCPUID(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&fma == 0 || ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := lgXGETBV(); xcr0&6 != 6 { // XMM and YMM state enabled
		return false
	}
	_, ebx7, _, _ := lgCPUID(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

var lgUseFMA = lgHaveFMA()

// lgRank4 adds sum_r w[r] u[r] u[r]' to the upper triangle of the
// m×lgStride(m) matrix g (see lgRank4Go).
func lgRank4(g []float64, m int, w *[4]float64, u *[4][]float64) {
	if !lgUseFMA {
		lgRank4Go(g, m, w, u)
		return
	}
	m4 := lgStride(m)
	if m < 1 || len(g) < m*m4 {
		panic("psm: lgRank4: short g")
	}
	for r := range u {
		if len(u[r]) < m4 {
			panic("psm: lgRank4: short row")
		}
	}
	lgRank4FMA(&g[0], m, m4, w, &u[0][0], &u[1][0], &u[2][0], &u[3][0])
}

// lgNonzeroMask sets bit c of mask[c/64] to x[c] != 0 for c < 4*n4,
// writing the first ceil(n4/16) words (AVX).
//
//go:noescape
func lgNonzeroMask(x *float64, n4 int, mask *uint64)

// lgNonzero sets mask (ceil(len(row)/64) words) to the nonzero pattern of
// row: bit c of mask[c/64] is row[c] != 0.
func lgNonzero(row []float64, mask []uint64) {
	n4 := len(row) / 4
	if !lgUseFMA || n4 == 0 {
		lgNonzeroGo(row, mask)
		return
	}
	if len(mask) < (len(row)+63)/64 {
		panic("psm: lgNonzero: short mask")
	}
	lgNonzeroMask(&row[0], n4, &mask[0])
	for w := (n4 + 15) / 16; w < len(mask); w++ {
		mask[w] = 0
	}
	for c := 4 * n4; c < len(row); c++ {
		b := math.Float64bits(row[c]) << 1
		mask[c>>6] |= ((b | -b) >> 63) << (c & 63)
	}
}

// lgScanRowFMA is lgScanRowGo on the first 4*p4 values of x (AVX2).
//
//go:noescape
func lgScanRowFMA(x *float64, p4 int, w float64, sumWX, nzW, mn, mx *float64) (bad bool)

// lgScanRow is lgScanRowGo, vectorized on CPUs with AVX2 (same results).
func lgScanRow(x []float64, w float64, sumWX, nzW, mn, mx []float64) bool {
	p4 := len(x) / 4
	if !lgUseFMA || p4 == 0 {
		return lgScanRowGo(x, w, sumWX, nzW, mn, mx)
	}
	n := len(x)
	if len(sumWX) < n || len(nzW) < n || len(mn) < n || len(mx) < n {
		panic("psm: lgScanRow: short sums")
	}
	bad := lgScanRowFMA(&x[0], p4, w, &sumWX[0], &nzW[0], &mn[0], &mx[0])
	if c := 4 * p4; c < n {
		bad = lgScanRowGo(x[c:], w, sumWX[c:], nzW[c:], mn[c:], mx[c:]) || bad
	}
	return bad
}

// lgFiniteRow reports whether every value of x is finite.
func lgFiniteRow(x []float64) bool { return lgFiniteRowGo(x) }

// lgSparseFillFMA is lgFill.fillGo with fused multiply-adds in the two
// partial sums, for k = len(cols) nonzero sparse values; it first
// prefetches the f.p values at pf.
//
//go:noescape
func lgSparseFillFMA(f *lgFillArgs, row, u, pf *float64, cols *uint16, k int, idx *int, val *float64) (eta float64)

// fill is fillGo, with fused multiply-adds on CPUs with FMA, and
// prefetches next (a later row: the scattered reads of a row defeat the
// hardware prefetcher). u, cols, idx and val need a capacity of at least
// 1 (they may be empty); the column numbers come from the problem's own
// lists.
func (f *lgFill) fill(row, next, u []float64, cols []uint16, idx []int, val []float64) float64 {
	if !lgUseFMA {
		return f.fillGo(row, u, cols, idx, val)
	}
	k := len(cols)
	if len(u) < f.args.nd || len(idx) < k || len(val) < k || len(next) < f.args.p {
		panic("psm: lgFill: short slices")
	}
	return lgSparseFillFMA(&f.args, &row[0], &u[:1][0], &next[0], &cols[:1][0], k, &idx[:1][0], &val[:1][0])
}

// lgRank4Packed is lgRank4 with the four rows stored one after the other
// in u (stride lgStride(m)) and their weights in w[:4].
func lgRank4Packed(g []float64, m int, w, u []float64) {
	m4 := lgStride(m)
	if !lgUseFMA {
		lgRank4Go(g, m, (*[4]float64)(w[:4]), &[4][]float64{u[:m4], u[m4 : 2*m4], u[2*m4 : 3*m4], u[3*m4 : 4*m4]})
		return
	}
	if m < 1 || len(g) < m*m4 || len(u) < 4*m4 {
		panic("psm: lgRank4Packed: short g or u")
	}
	lgRank4FMA(&g[0], m, m4, (*[4]float64)(w[:4]), &u[0], &u[m4], &u[2*m4], &u[3*m4])
}

// lgSparseRowsFMA is lgSparseRows with fused multiply-adds: one rounding
// per update, a = w[r]*val[t] rounded first.
//
//go:noescape
func lgSparseRowsFMA(gsd *float64, md4 int, gss *float64, ns int, idx *int, val *float64, off *int, nr int, w, ud *float64)

// lgSparseRows adds the sparse terms of the rows r < len(off)-1 of a
// buffer: lgSparseRowGo with weight w[r], dense vector ud[r*md4:(r+1)*md4]
// and nonzero sparse values idx/val[off[r]:off[r+1]]. idx and val need a
// capacity of at least 1.
func lgSparseRows(gsd []float64, md4 int, gss []float64, ns int, idx []int, val []float64, off []int, w, ud []float64) {
	nr := len(off) - 1
	if !lgUseFMA {
		for r := range nr {
			lgSparseRowGo(gsd, md4, gss, ns, idx[off[r]:off[r+1]], val[off[r]:off[r+1]], w[r], ud[r*md4:(r+1)*md4])
		}
		return
	}
	if nr <= 0 || ns == 0 {
		return
	}
	if off[0] < 0 || off[nr] > len(idx) || off[nr] > len(val) || len(w) < nr || len(ud) < nr*md4 || md4&3 != 0 || len(gsd) < ns*md4 || len(gss) < ns*ns {
		panic("psm: lgSparseRows: bad lengths")
	}
	lgSparseRowsFMA(&gsd[0], md4, &gss[0], ns, &idx[:1][0], &val[:1][0], &off[0], nr, &w[0], &ud[0])
}

// lgSparseFillRowsFMA is lgFill.rowsGo with fused multiply-adds.
//
//go:noescape
func lgSparseFillRowsFMA(f *lgFillArgs, rows *int, nr int, loff *int32, lcol *uint16, lo int, ud *float64, md4 int, idx *int, val *float64, off *int, e *float64) (nz int)

// rows is rowsGo, with fused multiply-adds and prefetching on CPUs with
// FMA.
func (f *lgFill) rows(rows []int, list lgNzList, lo int, ud []float64, md4 int, idx []int, val []float64, off []int, e []float64) int {
	nr := len(rows)
	if !lgUseFMA {
		return f.rowsGo(rows, list, lo, ud, md4, idx, val, off, e)
	}
	if nr == 0 {
		return 0
	}
	if len(ud) < (nr-1)*md4+f.args.nd || len(off) < nr+1 || len(e) < nr || len(idx) < nr*f.ns || len(val) < nr*f.ns ||
		rows[0] < lo || rows[nr-1]-lo+1 >= len(list.off) {
		panic("psm: lgFill.rows: bad lengths")
	}
	return lgSparseFillRowsFMA(&f.args, &rows[0], nr, &list.off[0], &list.col[:1][0], lo, &ud[:1][0], md4, &idx[0], &val[0], &off[0], &e[0])
}

// lgTypedSparseFMA is lgFill.colsSparseGo with fused multiply-adds.
//
//go:noescape
func lgTypedSparseFMA(f *lgFillArgs, ref *lgColRef, rows *int, nr int, loff *int32, lcol *uint16, idx *int, val *float64, off *int, e *float64) (nz int)

// typedRows is colsFill, its sparse part in assembly with fused
// multiply-adds on CPUs with FMA. rows must be increasing.
func (f *lgFill) typedRows(cb *lgColBlock, rows []int, list lgNzList, ud []float64, md4 int, idx []int, val []float64, off []int, e []float64) int {
	nr := len(rows)
	if !lgUseFMA {
		return f.colsFill(cb, false, rows, list, ud, md4, idx, val, off, e)
	}
	if nr == 0 {
		return 0
	}
	f.colsDense(cb, true, rows, ud, md4, e)
	if len(off) < nr+1 || len(e) < nr || len(idx) < nr*f.ns || len(val) < nr*f.ns ||
		len(cb.ref) < f.p || rows[0] < 0 || rows[nr-1] >= cb.n || rows[nr-1]+1 >= len(list.off) {
		panic("psm: lgFill.typedRows: bad lengths")
	}
	return lgTypedSparseFMA(&f.args, &cb.ref[0], &rows[0], nr, &list.off[0], &list.col[:1][0], &idx[0], &val[0], &off[0], &e[0])
}
