package panel

import (
	"encoding/binary"
	"math"
)

// The binary encoding of StartCounts (version 1), in the framing of the
// partials of packages psm and estimate: little-endian numbers; an 8-byte
// header "PSP" (panel), the type byte 'S', the version (uint16, 1) and a
// reserved uint16 (0); then the calendar, the first day of week 0 int32
// (days since 1970-01-01) and the number of weeks uint32 (both 0 for the
// zero value); the number D of distinct start days uint32; and per day,
// ascending, the day int32 and its count uint32. Size: 20 + 8D bytes
// (1.5 KB for a six-month window).
//
// Decoding accepts exactly the encodings MarshalBinary makes (decoding
// and encoding again gives the same bytes): anything else (truncated or
// trailing bytes, another header, type or version, days not strictly
// ascending or outside the calendar's grid, a count of 0, more than
// 2^31−1 treated) is a data *Error with Table "StartCounts encoding"
// saying what is wrong.

const startCountsVersion = 1

var startCountsHeader = [4]byte{'P', 'S', 'P', 'S'}

const startCountsFixed = 20

// MarshalBinary encodes s (see starts_binary.go for the format): 20 + 8
// bytes per distinct start day. It does not fail.
func (s *StartCounts) MarshalBinary() ([]byte, error) {
	b := make([]byte, 0, startCountsFixed+8*len(s.days))
	b = append(b, startCountsHeader[:]...)
	b = binary.LittleEndian.AppendUint16(b, startCountsVersion)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, uint32(int32(s.firstWeek)))
	b = binary.LittleEndian.AppendUint32(b, uint32(s.weeks))
	b = binary.LittleEndian.AppendUint32(b, uint32(len(s.days)))
	for k, day := range s.days {
		b = binary.LittleEndian.AppendUint32(b, uint32(int32(day)))
		b = binary.LittleEndian.AppendUint32(b, uint32(s.counts[k]))
	}
	return b, nil
}

// UnmarshalBinary decodes an encoding of MarshalBinary into s. Bad input
// is a data *Error (Table "StartCounts encoding"), and s is left
// unchanged.
func (s *StartCounts) UnmarshalBinary(data []byte) error {
	bad := func(format string, args ...any) error {
		return dataErr("StartCounts encoding", "", -1, format, args...)
	}
	if len(data) < startCountsFixed {
		return bad("%d bytes, want at least %d", len(data), startCountsFixed)
	}
	if [4]byte(data[:4]) != startCountsHeader {
		return bad("header %q, want %q", data[:4], startCountsHeader[:])
	}
	if v := binary.LittleEndian.Uint16(data[4:]); v != startCountsVersion {
		return bad("version %d, want %d", v, startCountsVersion)
	}
	if v := binary.LittleEndian.Uint16(data[6:]); v != 0 {
		return bad("reserved field %d, want 0", v)
	}
	first := Day(int32(binary.LittleEndian.Uint32(data[8:])))
	weeks := binary.LittleEndian.Uint32(data[12:])
	nd := uint64(binary.LittleEndian.Uint32(data[16:]))
	rest := uint64(len(data) - startCountsFixed)
	switch {
	case rest != 8*nd:
		return bad("%d start days in %d bytes, want %d bytes", nd, len(data), startCountsFixed+8*nd)
	case weeks == 0 && (first != 0 || nd != 0):
		return bad("no calendar (0 weeks) with first week %v and %d start days, want neither", first, nd)
	case weeks > math.MaxInt32/7:
		return bad("%d weeks, too many", weeks)
	}
	lastDay := int64(first) + 7*int64(weeks) - 1
	out := StartCounts{firstWeek: first, weeks: int(weeks)}
	if nd > 0 {
		out.days, out.counts = make([]Day, nd), make([]int64, nd)
	}
	d := data[startCountsFixed:]
	for k := range out.days {
		day := Day(int32(binary.LittleEndian.Uint32(d[8*k:])))
		c := int64(binary.LittleEndian.Uint32(d[8*k+4:]))
		switch {
		case k > 0 && day <= out.days[k-1]:
			return bad("start day %d: %v after %v (days are strictly ascending)", k, day, out.days[k-1])
		case day < first || int64(day) > lastDay:
			return bad("start day %d: %v outside the status grid %v..%v", k, day, first, Day(lastDay))
		case c == 0:
			return bad("start day %d (%v): count 0, want > 0", k, day)
		case out.n+c > maxStarts:
			return bad("more than %d treated", maxStarts)
		}
		out.days[k], out.counts[k] = day, c
		out.n += c
	}
	*s = out
	return nil
}
