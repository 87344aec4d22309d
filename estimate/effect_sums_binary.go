package estimate

import (
	"encoding/binary"
	"math"
)

// The binary encoding of EffectSums (version 1): little-endian numbers,
// a float64 as its IEEE 754 bits; an 8-byte header "PSE", the type byte
// 'S', the version (uint16, 1) and a reserved uint16 (0); then the number
// of treated units uint64, of set entries uint64, of entries covered
// uint64, of outcomes uint32, per outcome its Pre and its number of
// months Pre+H+1, uint32 each; then the sums, treated × columns float64,
// treated unit by treated unit. Decoding accepts exactly the encodings
// MarshalBinary makes; anything else is an *Error with ErrInvalid, Field
// "EffectSums encoding", saying what is wrong.

const effectSumsVersion = 1

var effectSumsHeader = [4]byte{'P', 'S', 'E', 'S'}

// MarshalBinary encodes the sums: 36 + 8 per outcome + 8 per treated
// unit and column bytes.
func (e *EffectSums) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, 36+8*len(e.widths)+8*len(e.sums))
	b = append(b, effectSumsHeader[:]...)
	b = binary.LittleEndian.AppendUint16(b, effectSumsVersion)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint64(b, uint64(e.treated))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.entries))
	b = binary.LittleEndian.AppendUint64(b, uint64(e.covered))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(e.widths)))
	for k, w := range e.widths {
		b = binary.LittleEndian.AppendUint32(b, uint32(e.pres[k]))
		b = binary.LittleEndian.AppendUint32(b, uint32(w))
	}
	for _, v := range e.sums {
		b = binary.LittleEndian.AppendUint64(b, math.Float64bits(v))
	}
	return b, nil
}

// UnmarshalBinary decodes sums encoded by MarshalBinary into e.
func (e *EffectSums) UnmarshalBinary(data []byte) error {
	bad := func(format string, args ...any) error { return invalid("EffectSums encoding", format, args...) }
	const fixed = 36
	if len(data) < fixed {
		return bad("%d bytes, want at least %d", len(data), fixed)
	}
	if [4]byte(data[:4]) != effectSumsHeader {
		return bad("header %q, want %q", data[:4], effectSumsHeader[:])
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != effectSumsVersion {
		return bad("version %d, want %d", v, effectSumsVersion)
	}
	if r := binary.LittleEndian.Uint16(data[6:]); r != 0 {
		return bad("reserved field %d, want 0", r)
	}
	treated := binary.LittleEndian.Uint64(data[8:])
	entries := binary.LittleEndian.Uint64(data[16:])
	covered := binary.LittleEndian.Uint64(data[24:])
	no := uint64(binary.LittleEndian.Uint32(data[32:]))
	const most = math.MaxInt32
	switch {
	case treated > most || entries > math.MaxInt64/2:
		return bad("%d treated units and %d set entries, too many", treated, entries)
	case covered > entries:
		return bad("%d set entries covered of %d", covered, entries)
	case uint64(len(data)-fixed) < 8*no:
		return bad("%d outcomes in %d bytes", no, len(data))
	}
	d := data[fixed:]
	widths, pres := make([]int, no), make([]int, no)
	cols := uint64(0)
	for k := range widths {
		pre, w := binary.LittleEndian.Uint32(d[8*k:]), binary.LittleEndian.Uint32(d[8*k+4:])
		if w == 0 || pre >= w {
			return bad("outcome %d: Pre %d and %d months, want Pre < months", k, pre, w)
		}
		pres[k], widths[k] = int(pre), int(w)
		cols += uint64(w)
	}
	d = d[8*no:]
	if cols > most || len(d)%8 != 0 || treated*cols != uint64(len(d)/8) {
		return bad("%d bytes of sums, want 8 × %d treated units × %d columns", len(d), treated, cols)
	}
	sums := make([]float64, treated*cols)
	for i := range sums {
		sums[i] = math.Float64frombits(binary.LittleEndian.Uint64(d[8*i:]))
	}
	*e = EffectSums{treated: int(treated), entries: int(entries), covered: int(covered),
		widths: widths, pres: pres, cols: int(cols), sums: sums}
	return nil
}
