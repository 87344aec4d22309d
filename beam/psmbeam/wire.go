package psmbeam

import (
	"encoding/binary"
	"fmt"
	"math"
)

// enc appends little-endian numbers to a message: the broadcasts, the
// shard records and the shard cache of this package (its own formats; the
// partial results travel in the library's encodings).
type enc struct{ b []byte }

func (e *enc) u8(v uint8)  { e.b = append(e.b, v) }
func (e *enc) u64(v int)   { e.b = binary.LittleEndian.AppendUint64(e.b, uint64(v)) }
func (e *enc) i64(v int64) { e.b = binary.LittleEndian.AppendUint64(e.b, uint64(v)) }
func (e *enc) bool(v bool) {
	if v {
		e.u8(1)
	} else {
		e.u8(0)
	}
}
func (e *enc) bytes(v []byte) { e.u64(len(v)); e.b = append(e.b, v...) }
func (e *enc) str(v string)   { e.u64(len(v)); e.b = append(e.b, v...) }
func (e *enc) strs(v []string) {
	e.u64(len(v))
	for _, s := range v {
		e.str(s)
	}
}
func (e *enc) floats(v []float64) {
	e.u64(len(v))
	for _, x := range v {
		e.b = binary.LittleEndian.AppendUint64(e.b, math.Float64bits(x))
	}
}
func (e *enc) ints(v []int) {
	e.u64(len(v))
	for _, x := range v {
		e.u64(x)
	}
}
func (e *enc) int32s(v []int32) {
	e.u64(len(v))
	for _, x := range v {
		e.b = binary.LittleEndian.AppendUint32(e.b, uint32(x))
	}
}

// optFloats writes v, or nil as absent (a distinct value from an empty
// slice).
func (e *enc) optFloats(v []float64) {
	e.bool(v != nil)
	if v != nil {
		e.floats(v)
	}
}

// dec reads what enc wrote; the first error sticks and every later read
// returns zero values.
type dec struct {
	b   []byte
	err error
}

func (d *dec) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n < 0 || n > len(d.b) {
		d.err = fmt.Errorf("truncated: %d bytes wanted, %d left", n, len(d.b))
		return nil
	}
	v := d.b[:n:n]
	d.b = d.b[n:]
	return v
}

func (d *dec) u8() uint8 {
	if v := d.take(1); v != nil {
		return v[0]
	}
	return 0
}

func (d *dec) bool() bool {
	switch v := d.u8(); v {
	case 0:
		return false
	case 1:
		return true
	default:
		if d.err == nil {
			d.err = fmt.Errorf("a flag of %d, want 0 or 1", v)
		}
		return false
	}
}

func (d *dec) i64() int64 {
	if v := d.take(8); v != nil {
		return int64(binary.LittleEndian.Uint64(v))
	}
	return 0
}

// u64 reads a count or an index: an error when it does not fit in an
// int or is negative.
func (d *dec) u64() int {
	v := d.i64()
	if v < 0 || v > math.MaxInt32*int64(1<<31) {
		if d.err == nil {
			d.err = fmt.Errorf("a count of %d", v)
		}
		return 0
	}
	return int(v)
}

// count reads a length of elements of size bytes each, checked against
// the bytes left.
func (d *dec) count(size int) int {
	n := d.u64()
	if d.err == nil && n > len(d.b)/size {
		d.err = fmt.Errorf("truncated: %d values of %d bytes, %d bytes left", n, size, len(d.b))
		return 0
	}
	return n
}

func (d *dec) bytes() []byte { return d.take(d.count(1)) }
func (d *dec) str() string   { return string(d.bytes()) }

func (d *dec) strs() []string {
	n := d.count(8)
	v := make([]string, 0, n)
	for range n {
		v = append(v, d.str())
	}
	return v
}

func (d *dec) floats() []float64 {
	n := d.count(8)
	v := make([]float64, n)
	if b := d.take(8 * n); b != nil {
		for i := range v {
			v[i] = math.Float64frombits(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
	return v
}

func (d *dec) ints() []int {
	n := d.count(8)
	v := make([]int, n)
	for i := range v {
		v[i] = d.u64()
	}
	return v
}

func (d *dec) int32s() []int32 {
	n := d.count(4)
	v := make([]int32, n)
	if b := d.take(4 * n); b != nil {
		for i := range v {
			v[i] = int32(binary.LittleEndian.Uint32(b[4*i:]))
		}
	}
	return v
}

func (d *dec) optFloats() []float64 {
	if !d.bool() {
		return nil
	}
	return d.floats()
}

// end returns the error, or one for bytes left over.
func (d *dec) end() error {
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes left over", len(d.b))
	}
	return d.err
}
