package panel

import (
	"math"

	"gonum.org/v1/gonum/mat"
)

// CovChunk is the number of rows of a chunk of a CovStore.
const CovChunk = 4096

// Kinds of a chunk column of a CovStore.
const (
	kindU8  uint8 = iota // integers 0..255
	kindI16              // integers -32768..32767
	kindF64              // anything else
)

// CovStore is a read-only n×c matrix of float64 values stored column by
// column in chunks of CovChunk (4096) rows, each chunk column in the
// narrowest type that holds all its values exactly: uint8 when they are
// all integers 0..255, int16 when they are all integers -32768..32767,
// float64 otherwise (−0, NaN, ±Inf and fractions are float64). Every
// value reads back bit for bit as it was stored. Register covariates are
// mostly 0/1 dummies and small counts, so a chunk column usually takes 1
// byte per row instead of 8: 3.3 million units × 40 such covariates take
// 132 MB instead of 1.06 GB.
//
// The type of a chunk column depends on its own values only, so chunks
// are packed independently (in parallel, without a pass over the whole
// column first). Chunk k holds rows k·4096 .. min(n, (k+1)·4096)−1.
//
// CovStore implements mat.Matrix (At costs a chunk lookup and a type
// switch: use Rows or Col for many values). Rows copies a block of rows
// to row-major float64 and Col a column; both cost one conversion per
// value (about 1 ns of CPU per value for Rows of 256 rows of 40 mostly
// uint8 columns, BenchmarkCovStoreRows). ColumnRange hands out a chunk
// column's stored values without conversion (the logit's IRLS passes
// read them so, psm.TypedColumns). Memory: n·c bytes per uint8 chunk
// column, 2n·c int16, 8n·c float64, plus about 40·c bytes per chunk.
type CovStore struct {
	n, c   int
	chunks []covChunk
}

// covChunk holds rows of a CovStore: column j is u8[off[j]:off[j]+rows]
// when kind[j] is kindU8, and likewise i16 or f64.
type covChunk struct {
	kind []uint8
	off  []int32
	u8   []uint8
	i16  []int16
	f64  []float64
}

// newCovStore returns an n×c store whose chunks are to be set by pack.
func newCovStore(n, c int) *CovStore {
	return &CovStore{n: n, c: c, chunks: make([]covChunk, (n+CovChunk-1)/CovChunk)}
}

// NewCovStore returns a CovStore holding the values of x. Cost: one At
// per value (a row-major copy for *mat.Dense), 8·4096·c bytes of scratch.
func NewCovStore(x mat.Matrix) *CovStore {
	n, c := x.Dims()
	s := newCovStore(n, c)
	buf := make([]float64, CovChunk*c)
	for k := range s.chunks {
		lo, hi := k*CovChunk, min(n, (k+1)*CovChunk)
		for i := lo; i < hi; i++ {
			row := buf[(i-lo)*c : (i-lo+1)*c]
			if d, ok := x.(*mat.Dense); ok {
				copy(row, d.RawRowView(i))
				continue
			}
			for j := range row {
				row[j] = x.At(i, j)
			}
		}
		s.pack(k, buf[:(hi-lo)*c])
	}
	return s
}

// exactU8 and exactI16 report whether v converts to the type and back
// to the same bits (so not −0, NaN or a fraction).
func exactU8(v float64) bool {
	return v >= 0 && v <= 255 && math.Float64bits(float64(uint8(v))) == math.Float64bits(v)
}

func exactI16(v float64) bool {
	return v >= -32768 && v <= 32767 && math.Float64bits(float64(int16(v))) == math.Float64bits(v)
}

// newCovChunk returns a chunk of nr rows whose column j has type
// kinds[j] (kinds is kept): the columns of each type lie one after the
// other, in column order, in that type's array.
func newCovChunk(kinds []uint8, nr int) covChunk {
	ch := covChunk{kind: kinds, off: make([]int32, len(kinds))}
	nu8, ni16, nf64 := 0, 0, 0
	for j, kind := range kinds {
		switch kind {
		case kindU8:
			ch.off[j], nu8 = int32(nu8), nu8+nr
		case kindI16:
			ch.off[j], ni16 = int32(ni16), ni16+nr
		default:
			ch.off[j], nf64 = int32(nf64), nf64+nr
		}
	}
	if nu8 > 0 {
		ch.u8 = make([]uint8, nu8)
	}
	if ni16 > 0 {
		ch.i16 = make([]int16, ni16)
	}
	if nf64 > 0 {
		ch.f64 = make([]float64, nf64)
	}
	return ch
}

// pack sets chunk k from rows, its rows row-major (len = rows·c). Chunks
// may be packed concurrently. Cost: two passes over the values.
func (s *CovStore) pack(k int, rows []float64) {
	c := s.c
	nr := 0
	if c > 0 {
		nr = len(rows) / c
	}
	kinds := make([]uint8, c)
	for j := 0; j < c; j++ {
		kind := kindU8
		for i := j; i < len(rows); i += c {
			v := rows[i]
			if kind == kindU8 && !exactU8(v) {
				kind = kindI16
			}
			if kind == kindI16 && !exactI16(v) {
				kind = kindF64
				break
			}
		}
		kinds[j] = kind
	}
	ch := newCovChunk(kinds, nr)
	for j := 0; j < c; j++ {
		o := int(ch.off[j])
		switch ch.kind[j] {
		case kindU8:
			d := ch.u8[o : o+nr]
			for i := range d {
				d[i] = uint8(rows[i*c+j])
			}
		case kindI16:
			d := ch.i16[o : o+nr]
			for i := range d {
				d[i] = int16(rows[i*c+j])
			}
		default:
			d := ch.f64[o : o+nr]
			for i := range d {
				d[i] = rows[i*c+j]
			}
		}
	}
	s.chunks[k] = ch
}

// Dims returns the numbers of rows and columns.
func (s *CovStore) Dims() (r, c int) { return s.n, s.c }

// At returns the value at row i, column j. It panics with
// mat.ErrRowAccess or mat.ErrColAccess when out of range.
func (s *CovStore) At(i, j int) float64 {
	if uint(i) >= uint(s.n) {
		panic(mat.ErrRowAccess)
	}
	if uint(j) >= uint(s.c) {
		panic(mat.ErrColAccess)
	}
	ch := &s.chunks[i/CovChunk]
	r := int(ch.off[j]) + i%CovChunk
	switch ch.kind[j] {
	case kindU8:
		return float64(ch.u8[r])
	case kindI16:
		return float64(ch.i16[r])
	}
	return ch.f64[r]
}

// T returns the transpose (a mat.Transpose view).
func (s *CovStore) T() mat.Matrix { return mat.Transpose{Matrix: s} }

// Rows writes rows lo..hi−1 row-major to dst[:(hi−lo)·c] (row i at
// dst[(i−lo)·c:]). It panics when 0 <= lo <= hi <= n does not hold or
// dst is short. Rows may be called concurrently. Cost: one conversion
// per value (see rows).
func (s *CovStore) Rows(dst []float64, lo, hi int) {
	if lo < 0 || hi < lo || hi > s.n {
		panic(mat.ErrRowAccess)
	}
	if len(dst) < (hi-lo)*s.c {
		panic(mat.ErrShape)
	}
	s.rows(dst, lo, hi, 0, s.c)
}

// rows writes rows lo..hi−1 of columns j0..j1−1 row-major to dst (row i
// at dst[(i−lo)·(j1−j0):]), converting only those columns, column by
// column within each chunk. (Tiles of 32 rows, a uint8 lookup table and
// a row-outer loop were no faster on BenchmarkCovStoreRows.)
func (s *CovStore) rows(dst []float64, lo, hi, j0, j1 int) {
	c := j1 - j0
	for k := lo / CovChunk; k*CovChunk < hi; k++ {
		ch := &s.chunks[k]
		a, b := max(lo, k*CovChunk), min(hi, (k+1)*CovChunk)
		r0, nr := a-k*CovChunk, b-a
		out := dst[(a-lo)*c : (b-lo)*c]
		for j := j0; j < j1; j++ {
			o := int(ch.off[j]) + r0
			q := j - j0
			switch ch.kind[j] {
			case kindU8:
				for _, v := range ch.u8[o : o+nr] {
					out[q] = float64(v)
					q += c
				}
			case kindI16:
				for _, v := range ch.i16[o : o+nr] {
					out[q] = float64(v)
					q += c
				}
			default:
				for _, v := range ch.f64[o : o+nr] {
					out[q] = v
					q += c
				}
			}
		}
	}
}

// Col returns a copy of column j in dst (allocated when it is not of
// length n). It panics with mat.ErrColAccess when j is out of range.
func (s *CovStore) Col(dst []float64, j int) []float64 {
	if uint(j) >= uint(s.c) {
		panic(mat.ErrColAccess)
	}
	if len(dst) != s.n {
		dst = make([]float64, s.n)
	}
	for k := range s.chunks {
		ch := &s.chunks[k]
		lo := k * CovChunk
		nr := min(s.n, lo+CovChunk) - lo
		o := int(ch.off[j])
		out := dst[lo : lo+nr]
		switch ch.kind[j] {
		case kindU8:
			for i, v := range ch.u8[o : o+nr] {
				out[i] = float64(v)
			}
		case kindI16:
			for i, v := range ch.i16[o : o+nr] {
				out[i] = float64(v)
			}
		default:
			copy(out, ch.f64[o:o+nr])
		}
	}
	return dst
}

// Bytes returns the memory held by the values and chunk headers.
func (s *CovStore) Bytes() int {
	t := 0
	for k := range s.chunks {
		ch := &s.chunks[k]
		t += len(ch.u8) + 2*len(ch.i16) + 8*len(ch.f64) + 5*len(ch.kind) + 120
	}
	return t
}

// Slice returns a view of rows i..k−1 and columns j..l−1 (as
// mat.Dense.Slice; it panics when out of range). The view is a
// mat.Matrix with Rows, which converts only the view's columns.
func (s *CovStore) Slice(i, k, j, l int) mat.Matrix {
	if i < 0 || k < i || k > s.n {
		panic(mat.ErrIndexOutOfRange)
	}
	if j < 0 || l < j || l > s.c {
		panic(mat.ErrIndexOutOfRange)
	}
	return &CovSlice{s: s, i: i, k: k, j: j, l: l}
}

// CovSlice is a view of a block of a CovStore (see CovStore.Slice).
type CovSlice struct {
	s          *CovStore
	i, k, j, l int
}

// Dims returns the numbers of rows and columns of the view.
func (v *CovSlice) Dims() (r, c int) { return v.k - v.i, v.l - v.j }

// At returns the value at row i, column j of the view.
func (v *CovSlice) At(i, j int) float64 {
	if uint(i) >= uint(v.k-v.i) {
		panic(mat.ErrRowAccess)
	}
	if uint(j) >= uint(v.l-v.j) {
		panic(mat.ErrColAccess)
	}
	return v.s.At(v.i+i, v.j+j)
}

// T returns the transpose (a mat.Transpose view).
func (v *CovSlice) T() mat.Matrix { return mat.Transpose{Matrix: v} }

// Rows writes rows lo..hi−1 of the view row-major to dst (see
// CovStore.Rows).
func (v *CovSlice) Rows(dst []float64, lo, hi int) {
	if lo < 0 || hi < lo || hi > v.k-v.i {
		panic(mat.ErrRowAccess)
	}
	if len(dst) < (hi-lo)*(v.l-v.j) {
		panic(mat.ErrShape)
	}
	v.s.rows(dst, v.i+lo, v.i+hi, v.j, v.l)
}

// Slice returns a view of rows i..k−1 and columns j..l−1 of the view
// (as CovStore.Slice).
func (v *CovSlice) Slice(i, k, j, l int) mat.Matrix {
	if i < 0 || k < i || k > v.k-v.i || j < 0 || l < j || l > v.l-v.j {
		panic(mat.ErrIndexOutOfRange)
	}
	return &CovSlice{s: v.s, i: v.i + i, k: v.i + k, j: v.j + j, l: v.j + l}
}
