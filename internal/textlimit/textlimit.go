// Package textlimit bounds what a CSV reader may buffer: it passes CSV
// text through and fails as soon as the header or a record is longer than
// its limit, a field is longer than its limit, or a NUL byte appears (CSV
// text never holds one; a file of NUL bytes is not text). It tracks
// double quotes, so a quoted comma or newline does not end a field or a
// record; it does not otherwise parse the CSV.
//
// Without it, encoding/csv and arrow/csv buffer a whole record before
// looking at it, so a 2 GB line without a newline is read whole into
// memory before any error.
package textlimit

import (
	"fmt"
	"io"
)

// Defaults of the limits in bytes.
const (
	DefaultHeaderBytes = 4 << 20
	DefaultRecordBytes = 4 << 20
	DefaultFieldBytes  = 64 << 10
)

// Limits are the bounds in bytes; zero means the default, negative means
// no bound.
type Limits struct {
	HeaderBytes int
	RecordBytes int
	FieldBytes  int
}

func pick(v, def int) int64 {
	switch {
	case v == 0:
		return int64(def)
	case v < 0:
		return -1
	}
	return int64(v)
}

// Option names the ReadOptions field that raises the limit of e
// ("MaxHeaderBytes", "MaxRecordBytes", "MaxFieldBytes"; "" for a NUL
// byte).
func (e *Error) Option() string {
	switch e.Limit {
	case "header":
		return "MaxHeaderBytes"
	case "record":
		return "MaxRecordBytes"
	case "field":
		return "MaxFieldBytes"
	}
	return ""
}

// Error is the error of a limit or a NUL byte. Record is the 0-based
// record (0 = the header, 1 = the first data row); Limit is "header",
// "record" or "field" for a limit, "" for a NUL byte.
type Error struct {
	Record int
	Limit  string
	Msg    string
}

func (e *Error) Error() string { return e.Msg }

// Reader is an io.Reader over r that enforces the limits.
type Reader struct {
	r                     io.Reader
	header, record, field int64
	quoted                bool
	rec, fld              int64 // bytes of the current record and field
	records               int   // records ended so far
	off                   int64 // bytes passed so far
	err                   error
}

// NewReader returns a Reader over r with limits l.
func NewReader(r io.Reader, l Limits) *Reader {
	return &Reader{r: r, header: pick(l.HeaderBytes, DefaultHeaderBytes),
		record: pick(l.RecordBytes, DefaultRecordBytes), field: pick(l.FieldBytes, DefaultFieldBytes)}
}

func (t *Reader) Read(p []byte) (int, error) {
	if t.err != nil {
		return 0, t.err
	}
	n, err := t.r.Read(p)
	// On a NUL byte or a limit the bytes before it are returned and the
	// error on the next call, so that the caller sees the records before
	// the bad one and the error comes with the right record.
	for i, b := range p[:n] {
		switch b {
		case 0:
			t.err = &Error{t.records, "", fmt.Sprintf("NUL byte at byte %d: not CSV text", t.off+int64(i))}
			return t.pass(i)
		case '"':
			t.quoted = !t.quoted
		case '\n':
			if !t.quoted {
				if t.check() != nil {
					return t.pass(i)
				}
				t.records++
				t.rec, t.fld = 0, 0
				continue
			}
		case ',':
			if !t.quoted {
				if t.check() != nil {
					return t.pass(i)
				}
				t.rec++
				t.fld = 0
				continue
			}
		}
		t.rec++
		t.fld++
	}
	// the record and field under way; checking once per read bounds what
	// the caller buffers to the limits plus one read
	if t.check() != nil {
		return 0, t.err
	}
	t.off += int64(n)
	return n, err
}

// pass returns the first i bytes of a read that found an error at i.
func (t *Reader) pass(i int) (int, error) {
	t.off += int64(i)
	if i == 0 {
		return 0, t.err
	}
	return i, nil
}

// check sets t.err if the current record or field is over its limit.
func (t *Reader) check() error {
	limit, what := t.record, "record"
	if t.records == 0 {
		limit, what = t.header, "header"
	}
	switch {
	case limit >= 0 && t.rec > limit:
		t.err = &Error{t.records, what, fmt.Sprintf("%s longer than %d bytes (a line without its end?)", what, limit)}
	case t.field >= 0 && t.fld > t.field:
		t.err = &Error{t.records, "field", fmt.Sprintf("field longer than %d bytes", t.field)}
	}
	return t.err
}
