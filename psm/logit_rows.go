package psm

import (
	"reflect"

	"gonum.org/v1/gonum/mat"
)

// RowBlocker is a matrix that copies blocks of its rows to float64, such
// as a compact covariate store (panel.CovStore). FitLogit, NewLogitRows
// and Logit.LinearPredictor read such a matrix a few hundred rows at a
// time into per-goroutine scratch instead of copying it whole.
type RowBlocker interface {
	mat.Matrix
	// Rows writes rows lo..hi-1 row-major to dst[:(hi-lo)*c] for c
	// columns. It must be safe for concurrent use.
	Rows(dst []float64, lo, hi int)
}

// lgX reads the covariate rows of a fit from x: in place from a
// *mat.Dense, block by block through Rows from a RowBlocker, optionally
// only the columns cols of either (a ColumnSelection). Any other
// mat.Matrix is copied to a *mat.Dense first (n·p At calls and 8n·p
// bytes).
type lgX struct {
	data   []float64 // row-major rows of a *mat.Dense, nil otherwise
	stride int
	src    RowBlocker   // when data is nil
	typed  TypedColumns // src, when it is one (see colBlock)
	srcC   int          // columns of data or src
	cols   []int        // the columns read, in order; nil: all
	p      int          // columns read
}

// lgXBuf is one goroutine's scratch for lgX.view.
type lgXBuf struct {
	rows, full []float64
}

func newLgX(x mat.Matrix) lgX {
	var cols []int
	if s, ok := x.(*ColumnSelection); ok {
		x, cols = s.x, s.cols
	}
	var r lgX
	switch m := x.(type) {
	case *mat.Dense:
		raw := m.RawMatrix()
		r = lgX{data: raw.Data, stride: raw.Stride, srcC: raw.Cols}
	case RowBlocker:
		_, c := m.Dims()
		r = lgX{src: m, srcC: c}
		r.typed, _ = m.(TypedColumns)
	default:
		d := mat.DenseCopyOf(m)
		raw := d.RawMatrix()
		r = lgX{data: raw.Data, stride: raw.Stride, srcC: raw.Cols}
	}
	r.cols, r.p = cols, r.srcC
	if cols != nil {
		r.p = len(cols)
	}
	return r
}

// view returns rows lo..hi-1 (lo < hi): row i is xb[(i-lo)*stride:][:p].
// It is a slice of the Dense itself when all its columns are read, else
// a copy in b. Cost: none, or one conversion per value read.
func (r *lgX) view(b *lgXBuf, lo, hi int) (xb []float64, stride int) {
	if r.data != nil && r.cols == nil {
		return r.data[lo*r.stride:], r.stride
	}
	nr := hi - lo
	if cap(b.rows) < nr*r.p {
		b.rows = make([]float64, nr*r.p)
	}
	out := b.rows[:nr*r.p]
	if r.cols == nil {
		r.src.Rows(out, lo, hi)
		return out, r.p
	}
	src, st := r.data, r.stride
	if src == nil {
		if cap(b.full) < nr*r.srcC {
			b.full = make([]float64, nr*r.srcC)
		}
		src, st = b.full[:nr*r.srcC], r.srcC
		r.src.Rows(src, lo, hi)
	} else {
		src = src[lo*st:]
	}
	for i := 0; i < nr; i++ {
		row, dst := src[i*st:], out[i*r.p:(i+1)*r.p]
		for k, j := range r.cols {
			dst[k] = row[j]
		}
	}
	return out, r.p
}

// ColumnSelection is a view of some columns of a matrix, as FitLogit
// with DropSeparated returns when it drops covariates: column k of the
// selection is column Cols()[k] of the underlying matrix. It is a
// RowBlocker; FitLogit reads it without copying.
type ColumnSelection struct {
	x    mat.Matrix
	cols []int
}

// selectColumns returns the columns cols of x (a selection of a
// selection selects from the underlying matrix).
func selectColumns(x mat.Matrix, cols []int) *ColumnSelection {
	if s, ok := x.(*ColumnSelection); ok {
		c := make([]int, len(cols))
		for k, j := range cols {
			c[k] = s.cols[j]
		}
		return &ColumnSelection{x: s.x, cols: c}
	}
	c := make([]int, len(cols)) // not nil: nil means all columns in lgX
	copy(c, cols)
	return &ColumnSelection{x: x, cols: c}
}

// Matrix returns the underlying matrix.
func (s *ColumnSelection) Matrix() mat.Matrix { return s.x }

// Cols returns the selected columns of the underlying matrix (do not
// modify).
func (s *ColumnSelection) Cols() []int { return s.cols }

// Dims returns the rows of the underlying matrix and the number of
// selected columns.
func (s *ColumnSelection) Dims() (r, c int) {
	r, _ = s.x.Dims()
	return r, len(s.cols)
}

// At returns the value at row i of selected column j.
func (s *ColumnSelection) At(i, j int) float64 {
	if uint(j) >= uint(len(s.cols)) {
		panic(mat.ErrColAccess)
	}
	return s.x.At(i, s.cols[j])
}

// T returns the transpose (a mat.Transpose view).
func (s *ColumnSelection) T() mat.Matrix { return mat.Transpose{Matrix: s} }

// Rows writes rows lo..hi-1 of the selected columns row-major to dst.
// Cost: one copy per value, plus (hi-lo)·c float64s of scratch for c
// underlying columns when the matrix is a RowBlocker; one At per value
// when it is neither that nor a *mat.Dense.
func (s *ColumnSelection) Rows(dst []float64, lo, hi int) {
	r, _ := s.x.Dims()
	if lo < 0 || hi < lo || hi > r {
		panic(mat.ErrRowAccess)
	}
	if len(dst) < (hi-lo)*len(s.cols) {
		panic(mat.ErrShape)
	}
	if lo == hi {
		return
	}
	switch s.x.(type) {
	case *mat.Dense, RowBlocker:
		rows := newLgX(s)
		b := lgXBuf{rows: dst}
		rows.view(&b, lo, hi)
	default:
		c := len(s.cols)
		for i := lo; i < hi; i++ {
			for k, j := range s.cols {
				dst[(i-lo)*c+k] = s.x.At(i, j)
			}
		}
	}
}

// nilMatrix reports whether x is nil or a nil pointer.
func nilMatrix(x mat.Matrix) bool {
	if x == nil {
		return true
	}
	v := reflect.ValueOf(x)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// denseOf returns x when it is a *mat.Dense, else a float64 copy of it
// (8 bytes per value, read lgSub rows at a time).
func denseOf(x mat.Matrix) *mat.Dense {
	if d, ok := x.(*mat.Dense); ok {
		return d
	}
	n, p := x.Dims()
	d := mat.NewDense(n, p, nil)
	xr := newLgX(x)
	var rb lgXBuf
	for lo := 0; lo < n; lo += lgSub {
		hi := min(lo+lgSub, n)
		xb, st := xr.view(&rb, lo, hi)
		for i := lo; i < hi; i++ {
			copy(d.RawRowView(i), xb[(i-lo)*st:(i-lo)*st+p])
		}
	}
	return d
}
