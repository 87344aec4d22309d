package psm

import (
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/internal/buf"
)

// rowBlock is a RowBlocker that Balance reads, with its number of
// columns.
type rowBlock struct {
	m RowBlocker
	c int
}

// rowSlicer is a matrix with views of its blocks (Slice as in
// mat.Dense.Slice), such as panel.CovStore and panel.CovSlice.
type rowSlicer interface {
	Slice(i, k, j, l int) mat.Matrix
}

// blockRows reads blocks of rows of consecutive columns of a
// RowBlocker: variable v of row i of a block starting at lo is
// buf[(i-lo)*st+off+v].
type blockRows struct {
	m       RowBlocker
	off, st int
	nv      int
	buf     []float64
}

// newBlockRows returns a reader of the sources s when they are the
// consecutive columns of one RowBlocker, else nil. When they are not all
// its columns and it has a Slice that is a RowBlocker, the reader reads
// that view (converting only the columns of s); otherwise it reads whole
// rows.
func newBlockRows(s []colSrc) *blockRows {
	if len(s) == 0 || s[0].blk == nil {
		return nil
	}
	for v := range s {
		if s[v].blk != s[0].blk || s[v].j != s[0].j+v {
			return nil
		}
	}
	b := &blockRows{m: s[0].blk.m, off: s[0].j, st: s[0].blk.c, nv: len(s)}
	if b.nv < b.st {
		if sl, ok := b.m.(rowSlicer); ok {
			n, _ := b.m.Dims()
			if r, ok := sl.Slice(0, n, s[0].j, s[0].j+len(s)).(RowBlocker); ok {
				b.m, b.off, b.st = r, 0, len(s)
			}
		}
	}
	return b
}

// rows reads rows lo..hi-1 into b.buf and returns it.
func (b *blockRows) rows(lo, hi int) []float64 {
	b.buf = buf.Resize(b.buf, (hi-lo)*b.st)
	b.m.Rows(b.buf, lo, hi)
	return b.buf
}

// columns copies rows lo..hi-1 into dst by variable: variable v of row
// i at dst[v*bst+i-lo] (dst holds nv columns bst apart).
func (b *blockRows) columns(dst []float64, bst, lo, hi int) {
	rows := b.rows(lo, hi)
	for i := 0; i < hi-lo; i++ {
		p := i
		for _, x := range rows[i*b.st+b.off : i*b.st+b.off+b.nv] {
			dst[p] = x
			p += bst
		}
	}
}
