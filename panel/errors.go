package panel

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrInvalid is wrapped by every DataError.
	ErrInvalid = errors.New("invalid register data")
	// ErrEmptyWindow: no person starts a spell in the treatment window.
	ErrEmptyWindow = errors.New("no treated persons in the treatment window")
	// ErrNoControls: no eligible potential control.
	ErrNoControls = errors.New("no eligible potential controls")
)

// DataError reports a problem with input data and where it is: the
// table (persons, status, outcomes, spells, or a file name), the column,
// and the row (0-based data row; -1 when not about a single row).
type DataError struct {
	Table  string
	Column string
	Row    int
	Msg    string
}

func (e *DataError) Error() string {
	s := "panel: " + e.Table
	if e.Column != "" {
		s += fmt.Sprintf(" column %q", e.Column)
	}
	if e.Row >= 0 {
		s += fmt.Sprintf(" row %d", e.Row)
	}
	return s + ": " + e.Msg
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *DataError) Unwrap() error { return ErrInvalid }

func dataErr(table, column string, row int, format string, args ...any) error {
	return &DataError{Table: table, Column: column, Row: row, Msg: fmt.Sprintf(format, args...)}
}
