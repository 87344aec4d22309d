package estimate

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors; test with errors.Is. Every *Error wraps one of them.
var (
	// ErrInvalid: an argument, option or the Sample is invalid.
	ErrInvalid = errors.New("estimate: invalid input")
	// ErrNaNOutcome: an outcome is NaN (missing) or infinite inside the
	// estimated horizon for a unit that enters an estimate.
	ErrNaNOutcome = errors.New("estimate: NaN or infinite outcome inside the horizon")
	// ErrNoMatches: no treated unit has a match set.
	ErrNoMatches = errors.New("estimate: no matched treated units")
)

// Error is the error this package returns for bad input: what is wrong
// (Msg), where (Field, Unit, Month) and which kind (Err, one of the
// sentinels above, for errors.Is). Its message reads
//
//	estimate: invalid input: matchRule.K: 4 neighbours, but the sample has 3 control units
//	estimate: NaN or infinite outcome inside the horizon: outcome "emp", unit 4 (person 22), event month 1: value +Inf
//
// Errors that are not about this package's input pass through unchanged
// or wrapped with fmt.Errorf: a cancelled context gives ctx.Err() itself;
// FromPanel returns package panel's errors; an error of
// BootstrapOptions.Refit, and an error of package psm on data this
// package has checked (an index or variance that fails for a replicate or
// an outcome month), come wrapped with the replicate or the outcome and
// month; Result.WriteCSV returns the writer's errors. When package psm
// rejects part of this package's input (the covariates z and options of
// BiasAdjusted, the EstimatedScore of AbadieImbens), the *Error keeps
// psm's error as Cause, so that errors.Is and errors.As see both it and
// Err.
type Error struct {
	// Field names what is wrong: an argument ("scores", "z", "sets"), an
	// option ("matchRule.K", "BootstrapOptions.Level"), a field of an
	// argument ("Sample.Person", "Matches.Weight[3]", "psm.Matching"), an
	// outcome (`outcome "emp"`) or a subgroup attribute (`subgroup "sex"`).
	// It is empty when the error concerns the call as a whole.
	Field string
	// Unit is the unit the error is about (its row in the Sample), or -1.
	Unit int
	// Person is the person of Unit: Sample.Person[Unit], or Unit when
	// Sample.Person is nil (-1 when Unit is -1, or when Sample.Person is
	// too short to hold Unit).
	Person int64
	// Month is the event month the error is about when HasMonth is set
	// (a NaN outcome), else 0.
	Month    int
	HasMonth bool
	// Value is the offending number when the error is about one (an
	// outcome, score, weight, subgroup code, covariate), else 0. A
	// missing outcome of a compact 0/1 EventOutcome (Binary) is NaN.
	Value float64
	// Msg says what is wrong.
	Msg string
	// Err is ErrInvalid, ErrNaNOutcome or ErrNoMatches.
	Err error
	// Cause is the error of another package that the input was rejected
	// with (a *psm.InputError's sentinel, a psm error), or nil.
	Cause error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Err != nil {
		b.WriteString(e.Err.Error())
	} else {
		b.WriteString("estimate: error")
	}
	sep := ": "
	if e.Field != "" {
		b.WriteString(sep + e.Field)
		sep = ", "
	}
	if e.Unit >= 0 {
		fmt.Fprintf(&b, "%sunit %d (person %d)", sep, e.Unit, e.Person)
		sep = ", "
	}
	if e.HasMonth {
		fmt.Fprintf(&b, "%sevent month %d", sep, e.Month)
	}
	if e.Msg != "" {
		b.WriteString(": " + e.Msg)
	}
	if e.Cause != nil {
		b.WriteString(": " + e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns Err and, when set, Cause: errors.Is(err, ErrInvalid)
// and errors.As(err, &psmErr) both look through an *Error.
func (e *Error) Unwrap() []error {
	if e.Cause == nil {
		return []error{e.Err}
	}
	return []error{e.Err, e.Cause}
}

// invalid returns an *Error wrapping ErrInvalid about field, not about
// one unit.
func invalid(field, format string, args ...any) error {
	return &Error{Field: field, Unit: -1, Person: -1, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

// invalidValue returns an *Error wrapping ErrInvalid about the value v
// of field, not about one unit.
func invalidValue(field string, v float64, format string, args ...any) error {
	return &Error{Field: field, Unit: -1, Person: -1, Value: v, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

// invalidUnit returns an *Error wrapping ErrInvalid about field and unit
// u of s, whose offending value is v.
func invalidUnit(s *Sample, field string, u int, v float64, format string, args ...any) error {
	return &Error{Field: field, Unit: u, Person: errPerson(s, u), Value: v,
		Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

// outcomeError returns the *Error wrapping ErrNaNOutcome for the value v
// of outcome o of unit u of s in event month month.
func outcomeError(s *Sample, o *EventOutcome, u, month int, v float64) error {
	return &Error{Field: fmt.Sprintf("outcome %q", o.Name), Unit: u, Person: errPerson(s, u),
		Month: month, HasMonth: true, Value: v, Msg: fmt.Sprintf("value %v", v), Err: ErrNaNOutcome}
}

// errPerson is s.person(u) for an error: -1 when s.Person (not yet
// validated) does not hold u.
func errPerson(s *Sample, u int) int64 {
	if s == nil || u < 0 || (s.Person != nil && u >= len(s.Person)) {
		return -1
	}
	return s.person(u)
}

// nilField returns a when aNil, else b: the name of the nil one of two
// required arguments.
func nilField(aNil bool, a, b string) string {
	if aNil {
		return a
	}
	return b
}
