package psm

import (
	"encoding/binary"
	"fmt"
	"math"
)

// The binary encodings of LogitScanPartial, LogitPartial and LogitPlan
// (version 1). All numbers are little-endian; a float64 is its IEEE 754
// bits (NaN payloads included), so a decoded value is the encoded one bit
// for bit. Every encoding starts with an 8-byte header: "PSM", a type
// byte ('S' scan partial, 'P' pass partial, 'L' plan), the version
// (uint16, 1) and a reserved uint16 (0). Then:
//
//	scan partial: p uint32, flags uint8 (bit 0: start values), nPos
//	    uint64, n1 uint64, bad value: code uint8 (0 none, 1 ErrBadValue,
//	    2 ErrNotBinary, 3 ErrBadWeight), row uint64, column uint32, value
//	    float64 (all zero without one); min0, max0, min1, max1 (p float64
//	    each); the number of terms B uint64; per term its rows lo, hi
//	    (uint64, lo..hi-1) and 3+2p float64: sum w, sum w*y, deviance, sum
//	    w*x_j (p), weight of the nonzero x_j (p).
//	pass partial: q, md, ns uint32 (md = ns = 0: the dense pass);
//	    boundary count uint64; largest change of eta float64; B uint64;
//	    per term lo, hi uint64, the deviance and K float64: the upper
//	    triangle of the (q+1)×(q+1) Gram row by row (dense pass), or the
//	    upper triangle of G_DD (md×md), G_SD (ns×md) and the upper triangle
//	    of G_SS (ns×ns), row by row (sparse pass).
//	plan: p uint32, flags uint8 (bit 0: intercept, bit 1: sparse pass),
//	    the centres (p float64), and with the sparse pass p bytes (0 dense,
//	    1 sparse, 2 constant).
//
// Terms are in increasing order of rows and do not overlap. Decoding
// accepts exactly the encodings MarshalBinary makes (so decoding and
// encoding again gives the same bytes); anything else is an *InputError
// with ErrBadEncoding naming what is wrong.

const lgVersion = 1

// lgMaxRow bounds the row numbers of an encoding.
const lgMaxRow = 1 << 62

func encodingError(what, format string, args ...any) error {
	return &InputError{Field: what, Index: -1, Msg: fmt.Sprintf(format, args...), Err: ErrBadEncoding}
}

type lgWriter struct{ b []byte }

func (w *lgWriter) u8(v uint8)    { w.b = append(w.b, v) }
func (w *lgWriter) u16(v uint16)  { w.b = binary.LittleEndian.AppendUint16(w.b, v) }
func (w *lgWriter) u32(v uint32)  { w.b = binary.LittleEndian.AppendUint32(w.b, v) }
func (w *lgWriter) u64(v uint64)  { w.b = binary.LittleEndian.AppendUint64(w.b, v) }
func (w *lgWriter) f64(v float64) { w.u64(math.Float64bits(v)) }

func (w *lgWriter) header(kind byte) { w.headerVersion(kind, lgVersion) }

func (w *lgWriter) headerVersion(kind byte, version uint16) {
	w.b = append(w.b, 'P', 'S', 'M', kind)
	w.u16(version)
	w.u16(0)
}

func (w *lgWriter) floats(v []float64) {
	for _, x := range v {
		w.f64(x)
	}
}

// lgReader decodes; the first error sticks and later reads return 0.
type lgReader struct {
	b    []byte
	off  int
	what string
	err  error
}

func (r *lgReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = encodingError(r.what, format, args...)
	}
}

func (r *lgReader) take(n int, field string) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b)-r.off < n {
		r.fail("truncated: %d bytes, %s needs %d at byte %d", len(r.b), field, n, r.off)
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

func (r *lgReader) u8(field string) uint8 {
	if s := r.take(1, field); s != nil {
		return s[0]
	}
	return 0
}

func (r *lgReader) u16(field string) uint16 {
	if s := r.take(2, field); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (r *lgReader) u32(field string) uint32 {
	if s := r.take(4, field); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

func (r *lgReader) u64(field string) uint64 {
	if s := r.take(8, field); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

func (r *lgReader) f64(field string) float64 { return math.Float64frombits(r.u64(field)) }

// floats reads n float64, after checking that the input holds them.
func (r *lgReader) floats(n int, field string) []float64 {
	s := r.take(8*n, field)
	if s == nil {
		return nil
	}
	v := make([]float64, n)
	for i := range v {
		v[i] = math.Float64frombits(binary.LittleEndian.Uint64(s[8*i:]))
	}
	return v
}

func (r *lgReader) header(kind byte) { r.headerVersion(kind, lgVersion) }

func (r *lgReader) headerVersion(kind byte, version uint16) {
	magic := r.take(4, "the header")
	if magic == nil {
		return
	}
	if magic[0] != 'P' || magic[1] != 'S' || magic[2] != 'M' {
		r.fail("magic %q, want %q", magic[:3], "PSM")
		return
	}
	if magic[3] != kind {
		r.fail("type %q, want %q (%s)", magic[3], kind, r.what)
		return
	}
	if v := r.u16("the version"); r.err == nil && v != version {
		r.fail("version %d, want %d", v, version)
	}
	if v := r.u16("the reserved field"); r.err == nil && v != 0 {
		r.fail("reserved field %d, want 0", v)
	}
}

// count reads a uint64 count of items of each bytes and checks that the
// input holds them.
func (r *lgReader) count(each int, field string) int {
	n := r.u64(field)
	if r.err != nil {
		return 0
	}
	if rest := uint64(len(r.b) - r.off); n > rest/uint64(each) {
		r.fail("%s: %d of %d bytes each, but %d bytes are left", field, n, each, rest)
		return 0
	}
	return int(n)
}

// rows reads a term's rows, checking that they follow prev.
func (r *lgReader) rows(t int, prev lgRange) lgRange {
	lo, hi := r.u64("rows"), r.u64("rows")
	if r.err != nil {
		return lgRange{}
	}
	switch {
	case hi > lgMaxRow || lo >= hi:
		r.fail("term %d: rows %d to %d, want lo < hi <= 2^62", t, lo, hi)
	case t > 0 && int(lo) < prev.hi:
		r.fail("term %d: rows from %d, before the end %d of term %d (terms are in order of rows)", t, lo, prev.hi, t-1)
	}
	return lgRange{int(lo), int(hi)}
}

func (r *lgReader) end() {
	if r.err == nil && r.off != len(r.b) {
		r.fail("%d trailing bytes after byte %d", len(r.b)-r.off, r.off)
	}
}

// MarshalBinary encodes the partial (see logit_partial_binary.go for the
// format): 58 + 32p + B(40 + 16p) bytes for p covariates and B blocks.
// The zero value has no layout and is an error.
func (sp *LogitScanPartial) MarshalBinary() ([]byte, error) {
	if sp.k == 0 {
		return nil, optionError("LogitScanPartial", "MarshalBinary: the zero value has no layout")
	}
	w := &lgWriter{b: make([]byte, 0, 58+32*sp.p+len(sp.rows)*16+8*len(sp.sums))}
	w.header('S')
	w.u32(uint32(sp.p))
	var flags uint8
	if sp.start {
		flags = 1
	}
	w.u8(flags)
	w.u64(uint64(sp.nPos))
	w.u64(uint64(sp.n1))
	w.u8(sp.bad.code)
	w.u64(uint64(sp.bad.row))
	w.u32(uint32(sp.bad.col))
	w.f64(sp.bad.val)
	w.floats(sp.min0)
	w.floats(sp.max0)
	w.floats(sp.min1)
	w.floats(sp.max1)
	w.u64(uint64(len(sp.rows)))
	for t, r := range sp.rows {
		w.u64(uint64(r.lo))
		w.u64(uint64(r.hi))
		w.floats(sp.sums[t*sp.k : (t+1)*sp.k])
	}
	return w.b, nil
}

// UnmarshalBinary decodes an encoding of MarshalBinary into sp. Bad input
// (truncated, another type or version, inconsistent counts, overlapping
// rows, trailing bytes) is an *InputError with ErrBadEncoding, and sp is
// left unchanged.
func (sp *LogitScanPartial) UnmarshalBinary(data []byte) error {
	r := &lgReader{b: data, what: "LogitScanPartial"}
	r.header('S')
	p32 := r.u32("p")
	flags := r.u8("flags")
	nPos, n1 := r.u64("nPos"), r.u64("n1")
	var bad lgBad
	bad.code = r.u8("the bad value's code")
	brow, bcol := r.u64("the bad value's row"), r.u32("the bad value's column")
	bad.val = r.f64("the bad value")
	if r.err != nil {
		return r.err
	}
	p := int(p32)
	switch {
	case p32 > math.MaxInt32:
		r.fail("p = %d", p32)
	case flags > 1:
		r.fail("flags %#x, want 0 or 1", flags)
	case bad.code >= uint8(len(lgBadErrs)):
		r.fail("bad value code %d, want 0 to %d", bad.code, len(lgBadErrs)-1)
	case bad.code == 0 && (brow != 0 || bcol != 0 || math.Float64bits(bad.val) != 0):
		r.fail("a bad value's row, column or value without its code")
	case bad.code != 0 && (brow >= lgMaxRow || int(bcol) > p+1):
		r.fail("bad value at row %d, column %d (p = %d)", brow, bcol, p)
	}
	if r.err != nil {
		return r.err
	}
	bad.row, bad.col = int(brow), int(bcol)
	out := LogitScanPartial{p: p, k: 3 + 2*p, start: flags == 1, bad: bad}
	out.min0 = r.floats(p, "min0")
	out.max0 = r.floats(p, "max0")
	out.min1 = r.floats(p, "min1")
	out.max1 = r.floats(p, "max1")
	nt := r.count(16+8*out.k, "the terms")
	if r.err != nil {
		return r.err
	}
	out.rows = make([]lgRange, nt)
	out.sums = make([]float64, 0, nt*out.k)
	for t := range nt {
		prev := lgRange{}
		if t > 0 {
			prev = out.rows[t-1]
		}
		out.rows[t] = r.rows(t, prev)
		out.sums = append(out.sums, r.floats(out.k, "a term's sums")...)
	}
	r.end()
	if r.err != nil {
		return r.err
	}
	rows := uint64(out.Rows())
	switch {
	case n1 > nPos || nPos > rows:
		r.fail("%d treated among %d units with positive weight in %d rows", n1, nPos, rows)
	case bad.code != 0 && !lgInRows(out.rows, bad.row):
		r.fail("bad value at row %d, not a row of the partial", bad.row)
	}
	if r.err != nil {
		return r.err
	}
	out.nPos, out.n1 = int(nPos), int(n1)
	*sp = out
	return nil
}

func lgInRows(rows []lgRange, i int) bool {
	for _, r := range rows {
		if r.lo <= i && i < r.hi {
			return true
		}
	}
	return false
}

// lgPackedLen is len(lgPacked(q, md, ns)).
func lgPackedLen(q, md, ns int) int {
	if md == 0 {
		return (q + 1) * (q + 2) / 2
	}
	return md*(md+1)/2 + ns*md + ns*(ns+1)/2
}

// lgPacked returns, for the layout (q, md, ns), the positions in a term's
// padded values of the values an encoding holds (after the deviance): the
// upper triangles that the coordinator reads (the padding and the entries
// left of the diagonal that the kernels also write are never read).
func lgPacked(q, md, ns int) []int {
	var idx []int
	if md == 0 {
		m := q + 1
		m4 := lgStride(m)
		for j := range m {
			for c := j; c < m; c++ {
				idx = append(idx, j*m4+c)
			}
		}
		return idx
	}
	md4 := lgStride(md)
	for a := range md {
		for b := a; b < md; b++ {
			idx = append(idx, a*md4+b)
		}
	}
	for s := range ns {
		for a := range md {
			idx = append(idx, md*md4+s*md4+a)
		}
	}
	for s := range ns {
		for t := s; t < ns; t++ {
			idx = append(idx, (md+ns)*md4+s*ns+t)
		}
	}
	return idx
}

// MarshalBinary encodes the partial (see logit_partial_binary.go for the
// format; its size is in LogitPartial's documentation). Only the values
// the coordinator reads are encoded. The zero value has no layout and is
// an error.
func (p *LogitPartial) MarshalBinary() ([]byte, error) {
	if p.k == 0 {
		return nil, optionError("LogitPartial", "MarshalBinary: the zero value has no layout")
	}
	var idx []int
	if len(p.rows) > 0 { // (a partial without terms may have any q)
		idx = lgPacked(p.q, p.md, p.ns)
	}
	w := &lgWriter{b: make([]byte, 0, 44+len(p.rows)*(24+8*len(idx)))}
	w.header('P')
	w.u32(uint32(p.q))
	w.u32(uint32(p.md))
	w.u32(uint32(p.ns))
	w.u64(uint64(p.boundary))
	w.f64(p.maxDelta)
	w.u64(uint64(len(p.rows)))
	for t, r := range p.rows {
		w.u64(uint64(r.lo))
		w.u64(uint64(r.hi))
		term := p.sums[t*p.k : (t+1)*p.k]
		w.f64(term[p.k-1])
		for _, i := range idx {
			w.f64(term[i])
		}
	}
	return w.b, nil
}

// lgMaxTerms bounds the number of terms q of an encoded partial (its
// Gram has about q²/2 values per block).
const lgMaxTerms = 1 << 20

// UnmarshalBinary decodes an encoding of MarshalBinary into p. Bad input
// (truncated, another type or version, an impossible layout, overlapping
// rows, trailing bytes) is an *InputError with ErrBadEncoding, and p is
// left unchanged. Values left out of the encoding are zero.
func (p *LogitPartial) UnmarshalBinary(data []byte) error {
	r := &lgReader{b: data, what: "LogitPartial"}
	r.header('P')
	q, md, ns := r.u32("q"), r.u32("md"), r.u32("ns")
	boundary := r.u64("the boundary count")
	maxDelta := r.f64("the largest change of eta")
	if r.err != nil {
		return r.err
	}
	switch {
	case q == 0 || q > lgMaxTerms:
		r.fail("q = %d terms, want 1 to %d", q, lgMaxTerms)
	case md == 0 && ns != 0:
		r.fail("dense pass (md = 0) with ns = %d", ns)
	case md != 0 && (md > q+1 || ns > q || md-1+ns > q):
		r.fail("sparse pass with md = %d, ns = %d for q = %d terms", md, ns, q)
	case !(maxDelta >= 0) && !math.IsNaN(maxDelta):
		r.fail("largest change of eta %v", maxDelta)
	}
	if r.err != nil {
		return r.err
	}
	out := LogitPartial{q: int(q), md: int(md), ns: int(ns), maxDelta: maxDelta}
	out.k = lgPartialLen(out.q, out.md, out.ns)
	nt := r.count(24+8*lgPackedLen(out.q, out.md, out.ns), "the terms")
	if r.err != nil {
		return r.err
	}
	var idx []int
	if nt > 0 { // (the input holds the values: idx is not too long)
		idx = lgPacked(out.q, out.md, out.ns)
	}
	out.rows = make([]lgRange, nt)
	out.sums = make([]float64, nt*out.k)
	for t := range nt {
		prev := lgRange{}
		if t > 0 {
			prev = out.rows[t-1]
		}
		out.rows[t] = r.rows(t, prev)
		term := out.sums[t*out.k : (t+1)*out.k]
		term[out.k-1] = r.f64("a term's deviance")
		vals := r.floats(len(idx), "a term's Gram")
		if r.err != nil {
			return r.err
		}
		for j, i := range idx {
			term[i] = vals[j]
		}
	}
	r.end()
	if r.err == nil && boundary > uint64(out.Rows()) {
		r.fail("boundary count %d in %d rows", boundary, out.Rows())
	}
	if r.err != nil {
		return r.err
	}
	out.boundary = int(boundary)
	*p = out
	return nil
}

// MarshalBinary encodes the plan (see logit_partial_binary.go for the
// format): 13 + 8p bytes, plus p with the sparse pass. An invalid plan is
// an error (*InputError, ErrBadOption).
func (pl *LogitPlan) MarshalBinary() ([]byte, error) {
	p := len(pl.Center)
	if err := pl.check(p); err != nil {
		return nil, err
	}
	w := &lgWriter{b: make([]byte, 0, 13+9*p)}
	w.header('L')
	w.u32(uint32(p))
	var flags uint8
	if pl.Intercept {
		flags |= 1
	}
	if pl.Sparse != nil {
		flags |= 2
	}
	w.u8(flags)
	w.floats(pl.Center)
	if pl.Sparse != nil {
		for j, s := range pl.Sparse {
			switch {
			case s:
				w.u8(1)
			case pl.Constant != nil && pl.Constant[j]:
				w.u8(2)
			default:
				w.u8(0)
			}
		}
	}
	return w.b, nil
}

// UnmarshalBinary decodes an encoding of MarshalBinary into pl (Constant
// is nil unless some covariate is constant). Bad input is an *InputError
// with ErrBadEncoding, and pl is left unchanged.
func (pl *LogitPlan) UnmarshalBinary(data []byte) error {
	r := &lgReader{b: data, what: "LogitPlan"}
	r.header('L')
	p32 := r.u32("p")
	flags := r.u8("flags")
	if r.err == nil && (p32 > math.MaxInt32 || flags > 3) {
		r.fail("p = %d, flags %#x", p32, flags)
	}
	if r.err != nil {
		return r.err
	}
	p := int(p32)
	out := LogitPlan{Intercept: flags&1 != 0}
	out.Center = r.floats(p, "the centres")
	if flags&2 != 0 {
		cls := r.take(p, "the column classes")
		if r.err == nil {
			out.Sparse = make([]bool, p)
			for j, c := range cls {
				switch c {
				case 0:
				case 1:
					out.Sparse[j] = true
				case 2:
					if out.Constant == nil {
						out.Constant = make([]bool, p)
					}
					out.Constant[j] = true
				default:
					r.fail("column %d has class %d, want 0, 1 or 2", j, c)
				}
			}
		}
	}
	r.end()
	if r.err != nil {
		return r.err
	}
	if out.Center == nil {
		out.Center = []float64{}
	}
	if err := out.check(p); err != nil {
		return encodingError("LogitPlan", "%s", err.(*InputError).Msg)
	}
	*pl = out
	return nil
}
