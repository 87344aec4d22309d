package panel

import (
	"errors"
	"fmt"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrInvalid is wrapped by every data *Error.
	ErrInvalid = errors.New("invalid register data")
	// ErrEmptyWindow: no person starts a spell in the treatment window.
	ErrEmptyWindow = errors.New("no treated persons in the treatment window")
	// ErrNoControls: no eligible potential control.
	ErrNoControls = errors.New("no eligible potential controls")
)

// Error is the error this package returns for bad input: what is wrong
// (Msg) and where, either in the data (Table: "persons", "status",
// "outcomes", "spells" or a file name; Column; Row, the 0-based data row or
// -1 when not about one row) or in the design (Option: the Design field,
// covariate, rule or outcome). errors.Is(err, ErrInvalid) holds for every
// data error and errors.Is(err, ErrDesign) for every design error; Err is
// an optional further sentinel (ErrHorizon, ErrInvalid) for errors.Is.
type Error struct {
	Table  string
	Column string
	Row    int
	Option string
	Msg    string
	Err    error
}

func (e *Error) Error() string {
	if e.Option != "" {
		return fmt.Sprintf("panel: design option %s: %s", e.Option, e.Msg)
	}
	s := "panel: " + e.Table
	if e.Column != "" {
		s += fmt.Sprintf(" column %q", e.Column)
	}
	if e.Row >= 0 {
		s += fmt.Sprintf(" row %d", e.Row)
	}
	return s + ": " + e.Msg
}

// Unwrap returns ErrDesign for a design error (Option set), else
// ErrInvalid, and Err when set.
func (e *Error) Unwrap() []error {
	kind := ErrInvalid
	if e.Option != "" {
		kind = ErrDesign
	}
	if e.Err != nil && e.Err != kind {
		return []error{kind, e.Err}
	}
	return []error{kind}
}

func dataErr(table, column string, row int, format string, args ...any) error {
	return &Error{Table: table, Column: column, Row: row, Msg: fmt.Sprintf(format, args...)}
}

func designErr(option, format string, args ...any) error {
	return &Error{Option: option, Row: -1, Msg: fmt.Sprintf(format, args...)}
}
