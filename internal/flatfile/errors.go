package flatfile

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; test with errors.Is on an *Error.
var (
	ErrMissingColumn = errors.New("missing column")
	ErrNotNumeric    = errors.New("not a number")
	ErrMissingValue  = errors.New("missing value")
	ErrFormat        = errors.New("unsupported file format")
	ErrEmpty         = errors.New("empty table")
	ErrShape         = errors.New("malformed table")
)

// Error reports a problem with a flat file and where it is: the file, the
// column, and the 0-based data row (the header is not counted; -1 when the
// problem is not about one row).
type Error struct {
	File   string
	Column string
	Row    int
	Err    error // one of the sentinels above
	Msg    string
}

func (e *Error) Error() string {
	s := "flatfile: "
	var where []string
	if e.File != "" {
		where = append(where, e.File)
	}
	if e.Column != "" {
		where = append(where, fmt.Sprintf("column %q", e.Column))
	}
	if e.Row >= 0 {
		where = append(where, fmt.Sprintf("row %d", e.Row))
	}
	if len(where) > 0 {
		s += strings.Join(where, " ") + ": "
	}
	s += e.Err.Error()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	return s
}

// Unwrap returns the sentinel.
func (e *Error) Unwrap() error { return e.Err }
