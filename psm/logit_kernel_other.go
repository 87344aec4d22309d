//go:build !amd64 || noasm

// The pure-Go kernels: on other architectures, and on amd64 with the
// noasm build tag (go test -tags noasm ./psm tests this path against the
// same R references).

package psm

var lgUseFMA = false

// lgRank4 adds sum_r w[r] u[r] u[r]' to the upper triangle of the
// m×lgStride(m) matrix g (see lgRank4Go).
func lgRank4(g []float64, m int, w *[4]float64, u *[4][]float64) { lgRank4Go(g, m, w, u) }

// lgNonzero sets mask to the nonzero pattern of row (see lgNonzeroGo).
func lgNonzero(row []float64, mask []uint64) { lgNonzeroGo(row, mask) }

// lgScanRow is lgScanRowGo.
func lgScanRow(x []float64, w float64, sumWX, nzW, mn, mx []float64) bool {
	return lgScanRowGo(x, w, sumWX, nzW, mn, mx)
}

// lgFiniteRow reports whether every value of x is finite.
func lgFiniteRow(x []float64) bool { return lgFiniteRowGo(x) }

// fill is fillGo (next is not used).
func (f *lgFill) fill(row, _, u []float64, cols []uint16, idx []int, val []float64) float64 {
	return f.fillGo(row, u, cols, idx, val)
}

// lgRank4Packed is lgRank4 with the four rows stored one after the other
// in u (stride lgStride(m)) and their weights in w[:4].
func lgRank4Packed(g []float64, m int, w, u []float64) {
	m4 := lgStride(m)
	lgRank4Go(g, m, (*[4]float64)(w[:4]), &[4][]float64{u[:m4], u[m4 : 2*m4], u[2*m4 : 3*m4], u[3*m4 : 4*m4]})
}

// lgSparseRows adds the sparse terms of the rows r < len(off)-1 of a
// buffer: lgSparseRowGo with weight w[r], dense vector ud[r*md4:(r+1)*md4]
// and nonzero sparse values idx/val[off[r]:off[r+1]].
func lgSparseRows(gsd []float64, md4 int, gss []float64, ns int, idx []int, val []float64, off []int, w, ud []float64) {
	for r := range len(off) - 1 {
		lgSparseRowGo(gsd, md4, gss, ns, idx[off[r]:off[r+1]], val[off[r]:off[r+1]], w[r], ud[r*md4:(r+1)*md4])
	}
}

// rows is rowsGo.
func (f *lgFill) rows(rows []int, list lgNzList, lo int, ud []float64, md4 int, idx []int, val []float64, off []int, e []float64) int {
	return f.rowsGo(rows, list, lo, ud, md4, idx, val, off, e)
}

// typedRows is colsFill.
func (f *lgFill) typedRows(cb *lgColBlock, rows []int, list lgNzList, ud []float64, md4 int, idx []int, val []float64, off []int, e []float64) int {
	return f.colsFill(cb, false, rows, list, ud, md4, idx, val, off, e)
}
