package psm

import (
	"errors"
	"fmt"
	"math"
)

// Sentinel errors of matching, balance, the estimators and (the last
// three) the logit. Errors returned by Match, NewIndex, (*Index).Match,
// ATT, Balance and FitLogit wrap one of these or of errors.go's (test with
// errors.Is); input errors are *InputError values that also name the
// argument, option or column and the unit.
//
// Panics are for programmer mistakes only (an internal invariant broken,
// NewTable-style constructors given mismatched lengths); every problem in
// the data or the options is an error.
var (
	// ErrEmptyGroup: no treated or no control units (or all weights zero).
	ErrEmptyGroup = errors.New("psm: empty treated or control group")
	// ErrTooFewControls: K is larger than the (weighted) number of controls.
	ErrTooFewControls = errors.New("psm: fewer controls than neighbours K")
	// ErrNoCommonSupport: trimming to the controls' score range leaves no treated unit.
	ErrNoCommonSupport = errors.New("psm: no treated unit inside the controls' score range (common support)")
	// ErrNoMatch: no treated unit found K controls (caliper, strata).
	ErrNoMatch = errors.New("psm: no treated unit could be matched")
	// ErrBadScore: a score is NaN or infinite, or outside (0,1) for LogitDistance.
	ErrBadScore = errors.New("psm: invalid propensity score")
	// ErrBadWeight: a frequency weight is negative, NaN or infinite (or not
	// an integer when matching without replacement).
	ErrBadWeight = errors.New("psm: invalid frequency weight")
	// ErrBadValue: a covariate, outcome or balance variable is NaN or
	// infinite.
	ErrBadValue = errors.New("psm: invalid value")
	// ErrBadOption: an option has an invalid value or a slice has the wrong length.
	ErrBadOption = errors.New("psm: invalid option")
)

// InputError reports bad input to the logit, matching, balance or the
// estimators. Field names the argument, option or covariate column
// ("treated", "control", "ControlWeights", "K", "Caliper", "yControl",
// "treatment", "weight", a covariate name, ...); Index is the unit (row) in that
// argument, or -1 when the error is not about one unit.
type InputError struct {
	Field string
	Index int
	Value float64
	Msg   string
	Err   error // one of the sentinels above
	// Column says that Field is a column of the logit's data (a
	// covariate, "treatment" or "weight") and Index its row: the message
	// then reads `column "a" row 9: +Inf`.
	Column bool
}

func (e *InputError) Error() string {
	switch {
	case e.Column:
		return fmt.Sprintf("%v: column %q row %d: %v", e.Err, e.Field, e.Index, e.Value)
	case e.Index >= 0 && e.Msg != "":
		return fmt.Sprintf("%v: %s[%d] = %v: %s", e.Err, e.Field, e.Index, e.Value, e.Msg)
	case e.Index >= 0:
		return fmt.Sprintf("%v: %s[%d] = %v", e.Err, e.Field, e.Index, e.Value)
	default:
		return fmt.Sprintf("%v: %s: %s", e.Err, e.Field, e.Msg)
	}
}

func (e *InputError) Unwrap() error { return e.Err }

func optionError(field, format string, args ...any) error {
	return &InputError{Field: field, Index: -1, Msg: fmt.Sprintf(format, args...), Err: ErrBadOption}
}

func lengthError(field string, got, want int, of string) error {
	return &InputError{Field: field, Index: -1,
		Msg: fmt.Sprintf("length %d, want %d (one per %s unit)", got, want, of), Err: ErrBadOption}
}

// checkWeights validates frequency weights: nil is fine (all 1), else
// the length must be n and every weight finite and >= 0; with integer set
// they must also be whole numbers.
func checkWeights(field string, w []float64, n int, of string, integer bool) error {
	if w == nil {
		return nil
	}
	if len(w) != n {
		return lengthError(field, len(w), n, of)
	}
	for i, v := range w {
		if err := weightError(field, i, v, integer); err != nil {
			return err
		}
	}
	return nil
}

// weightError returns the error for weight v of unit i, or nil if v is
// a valid weight.
func weightError(field string, i int, v float64, integer bool) error {
	if !(v >= 0) || math.IsInf(v, 1) {
		return &InputError{Field: field, Index: i, Value: v, Msg: "want a finite weight >= 0", Err: ErrBadWeight}
	}
	if integer && v != math.Trunc(v) {
		return &InputError{Field: field, Index: i, Value: v,
			Msg: "matching without replacement needs whole-number weights (copies)", Err: ErrBadWeight}
	}
	return nil
}
