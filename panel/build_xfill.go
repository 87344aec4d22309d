package panel

import "slices"

// xTileRows is the number of covariate rows an xFill holds as float64
// before it moves them to its typed column buffers: 64 rows of 40
// columns are 20 KiB, so the rows the fill functions write and the flush
// reads stay in the L1 cache.
const xTileRows = 64

// xFill stages the covariate rows of one chunk of Panel.X (up to
// CovChunk units) and packs them into the chunk as CovStore.pack would:
// the fill functions write a unit's row into a small row-major float64
// tile; every xTileRows rows the tile is moved column by column into
// typed column buffers, each column in the narrowest type that has held
// all its values so far (uint8, then int16, then float64: a column is
// widened, its earlier values converted, when a value does not fit).
// At the end of the chunk the columns are copied into the chunk's
// arrays. The result is the chunk pack gives for the same rows: the
// kinds follow the same rule (exactU8, exactI16) and every value keeps
// its bits.
//
// Cost per value: one float64 write and read in L1 and one check and
// store of 1, 2 or 8 bytes, plus a copy of those bytes at the end of the
// chunk; widening a column converts its values so far once. Memory per
// worker: 8·xTileRows·c bytes of tile, CovChunk·c bytes of uint8
// columns, and 2·CovChunk (8·CovChunk) bytes for each column ever
// widened to int16 (float64), kept for the next chunk.
type xFill struct {
	nx   int
	tile []float64 // row-major, nt rows
	nt   int       // rows in the tile
	nr   int       // rows already moved to the columns
	bad  bool      // a moved value is NaN or ±Inf
	kind []uint8
	u8   []uint8     // column j at u8[j*CovChunk:]
	i16  [][]int16   // column j, CovChunk long once widened to int16
	f64  [][]float64 // column j, CovChunk long once widened to float64
}

func newXFill(nx int) *xFill {
	return &xFill{
		nx: nx, tile: make([]float64, xTileRows*nx), kind: make([]uint8, nx),
		u8: make([]uint8, CovChunk*nx), i16: make([][]int16, nx), f64: make([][]float64, nx),
	}
}

// next returns the row for the next unit (its previous contents are
// stale: the fill functions set every value).
func (f *xFill) next() []float64 {
	r := f.tile[f.nt*f.nx : (f.nt+1)*f.nx]
	f.nt++
	return r
}

// full reports whether the tile has no room for another row.
func (f *xFill) full() bool { return f.nt == xTileRows }

// firstBad returns the row and column of the first non-finite value in
// row-major order among the first n rows of the tile, or -1, -1.
func (f *xFill) firstBad(n int) (int, int) {
	for i := range n {
		for j, v := range f.tile[i*f.nx : (i+1)*f.nx] {
			if v-v != 0 { // NaN or ±Inf
				return i, j
			}
		}
	}
	return -1, -1
}

// flush moves the tile's rows to the column buffers and empties the
// tile (its values stay until the next row is filled). It sets f.bad
// when a value is NaN or ±Inf; the caller finds it with firstBad.
func (f *xFill) flush() {
	nt, nx, r0 := f.nt, f.nx, f.nr
	for j := range nx {
		i := 0
		for i < nt {
			switch f.kind[j] {
			case kindU8:
				d := f.u8[j*CovChunk+r0 : j*CovChunk+r0+nt]
				for ; i < nt; i++ {
					v := f.tile[i*nx+j]
					if !exactU8(v) {
						f.widen(j, r0+i, v)
						break
					}
					d[i] = uint8(v)
				}
			case kindI16:
				d := f.i16[j][r0 : r0+nt]
				for ; i < nt; i++ {
					v := f.tile[i*nx+j]
					if !exactI16(v) {
						f.widen(j, r0+i, v)
						break
					}
					d[i] = int16(v)
				}
			default:
				d := f.f64[j][r0 : r0+nt]
				for ; i < nt; i++ {
					v := f.tile[i*nx+j]
					if v-v != 0 { // NaN or ±Inf
						f.bad = true
					}
					d[i] = v
				}
			}
		}
	}
	f.nr += nt
	f.nt = 0
}

// widen changes column j, whose rows 0..n−1 are set, to the narrowest
// wider kind that holds v (int16 or float64) and converts those rows.
func (f *xFill) widen(j, n int, v float64) {
	to := kindF64
	if f.kind[j] == kindU8 && exactI16(v) {
		to = kindI16
	}
	if to == kindI16 {
		if f.i16[j] == nil {
			f.i16[j] = make([]int16, CovChunk)
		}
		d := f.i16[j]
		for i, x := range f.u8[j*CovChunk : j*CovChunk+n] {
			d[i] = int16(x)
		}
	} else {
		if f.f64[j] == nil {
			f.f64[j] = make([]float64, CovChunk)
		}
		d := f.f64[j]
		if f.kind[j] == kindU8 {
			for i, x := range f.u8[j*CovChunk : j*CovChunk+n] {
				d[i] = float64(x)
			}
		} else {
			for i, x := range f.i16[j][:n] {
				d[i] = float64(x)
			}
		}
	}
	f.kind[j] = to
}

// finish flushes the tile, sets chunk k of s from the staged rows and
// resets f for the next chunk. The chunk's arrays are laid out as pack
// lays them out (newCovChunk).
func (f *xFill) finish(s *CovStore, k int) {
	if f.nt > 0 {
		f.flush()
	}
	nr := f.nr
	ch := newCovChunk(slices.Clone(f.kind), nr)
	for j, kind := range f.kind {
		o := int(ch.off[j])
		switch kind {
		case kindU8:
			copy(ch.u8[o:o+nr], f.u8[j*CovChunk:j*CovChunk+nr])
		case kindI16:
			copy(ch.i16[o:o+nr], f.i16[j][:nr])
		default:
			copy(ch.f64[o:o+nr], f.f64[j][:nr])
		}
	}
	s.chunks[k] = ch
	f.reset()
}

// reset empties f for a new chunk.
func (f *xFill) reset() {
	for j := range f.kind {
		f.kind[j] = kindU8
	}
	f.nr, f.nt, f.bad = 0, 0, false
}
