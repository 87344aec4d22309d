package panel

import "gonum.org/v1/gonum/mat"

// ColumnRange returns the values of column j at rows lo..hi−1 as they
// are stored, without conversion: exactly one of u8, i16 and f64 has
// length hi−lo (the value at row lo+r is float64(u8[r]), float64(i16[r])
// or f64[r]), or all three are nil when the rows lie in more than one
// chunk (4096-row chunks; lo < hi). The slices are the store's own: do
// not modify them. It panics when j is out of range or 0 <= lo < hi <= n
// does not hold. It makes CovStore a psm.TypedColumns, which the logit's
// IRLS passes read directly. Cost: a chunk lookup.
func (s *CovStore) ColumnRange(j, lo, hi int) (u8 []uint8, i16 []int16, f64 []float64) {
	if uint(j) >= uint(s.c) {
		panic(mat.ErrColAccess)
	}
	if lo < 0 || hi <= lo || hi > s.n {
		panic(mat.ErrRowAccess)
	}
	k := lo / CovChunk
	if (hi-1)/CovChunk != k {
		return nil, nil, nil
	}
	ch := &s.chunks[k]
	o := int(ch.off[j]) + lo - k*CovChunk
	e := o + hi - lo
	switch ch.kind[j] {
	case kindU8:
		return ch.u8[o:e:e], nil, nil
	case kindI16:
		return nil, ch.i16[o:e:e], nil
	}
	return nil, nil, ch.f64[o:e:e]
}

// ColumnRange returns the values of column j of the view at its rows
// lo..hi−1 as they are stored (see CovStore.ColumnRange).
func (v *CovSlice) ColumnRange(j, lo, hi int) (u8 []uint8, i16 []int16, f64 []float64) {
	if uint(j) >= uint(v.l-v.j) {
		panic(mat.ErrColAccess)
	}
	if lo < 0 || hi <= lo || hi > v.k-v.i {
		panic(mat.ErrRowAccess)
	}
	return v.s.ColumnRange(v.j+j, v.i+lo, v.i+hi)
}
