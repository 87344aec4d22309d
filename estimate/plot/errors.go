package plot

import (
	"errors"
	"fmt"
	"math"
)

// ErrInvalid is wrapped by every *ArgError; test with errors.Is.
var ErrInvalid = errors.New("invalid plot input")

// ArgError reports bad input to a figure constructor: which argument
// (for example "Curve.Control" or "controlWeights"), and what is wrong,
// including the index when it is about one element (Index -1 otherwise).
type ArgError struct {
	Arg   string
	Index int
	Msg   string
}

func (e *ArgError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("plot: %s[%d]: %s", e.Arg, e.Index, e.Msg)
	}
	return fmt.Sprintf("plot: %s: %s", e.Arg, e.Msg)
}

// Unwrap makes errors.Is(err, ErrInvalid) true.
func (e *ArgError) Unwrap() error { return ErrInvalid }

func argErr(arg string, format string, a ...any) error {
	return &ArgError{Arg: arg, Index: -1, Msg: fmt.Sprintf(format, a...)}
}

func elemErr(arg string, i int, format string, a ...any) error {
	return &ArgError{Arg: arg, Index: i, Msg: fmt.Sprintf(format, a...)}
}

// checkLen checks that x has n elements; ref names what n is.
func checkLen(arg string, x []float64, n int, ref string) error {
	if len(x) != n {
		return argErr(arg, "has %d values, want %d (the length of %s)", len(x), n, ref)
	}
	return nil
}

// checkOptional checks an optional slice: nil, or n elements.
func checkOptional(arg string, x []float64, n int, ref string) error {
	if x == nil {
		return nil
	}
	return checkLen(arg, x, n, ref)
}

// checkNoInf rejects ±Inf; NaN is allowed and means "missing".
func checkNoInf(arg string, x []float64) error {
	for i, v := range x {
		if math.IsInf(v, 0) {
			return elemErr(arg, i, "is %v; use NaN for a missing value", v)
		}
	}
	return nil
}

// checkShares rejects ±Inf and finite values outside [0, 1].
func checkShares(arg string, x []float64) error {
	for i, v := range x {
		if math.IsInf(v, 0) || (!math.IsNaN(v) && (v < 0 || v > 1)) {
			return elemErr(arg, i, "is %v; shares must be fractions in [0, 1] (NaN = missing)", v)
		}
	}
	return nil
}

// checkBand checks an optional pair of band limits: both nil or both of
// length n, no ±Inf, and low <= high where both are finite.
func checkBand(lowArg, highArg string, low, high []float64, n int, ref string) error {
	if (low == nil) != (high == nil) {
		if low == nil {
			return argErr(lowArg, "is nil but %s is not; give both or neither", highArg)
		}
		return argErr(highArg, "is nil but %s is not; give both or neither", lowArg)
	}
	if low == nil {
		return nil
	}
	if err := checkLen(lowArg, low, n, ref); err != nil {
		return err
	}
	if err := checkLen(highArg, high, n, ref); err != nil {
		return err
	}
	if err := checkNoInf(lowArg, low); err != nil {
		return err
	}
	if err := checkNoInf(highArg, high); err != nil {
		return err
	}
	for i := range low {
		if low[i] > high[i] { // false when either is NaN
			return elemErr(lowArg, i, "is %v, above %s[%d] = %v", low[i], highArg, i, high[i])
		}
	}
	return nil
}

// checkMonths checks that months is non-empty and strictly increasing.
func checkMonths(arg string, months []int) error {
	if len(months) == 0 {
		return argErr(arg, "is empty")
	}
	for i := 1; i < len(months); i++ {
		if months[i] <= months[i-1] {
			return elemErr(arg, i, "is %d, not above the previous month %d; months must increase strictly", months[i], months[i-1])
		}
	}
	return nil
}

// anyFinite reports whether x has a finite value.
func anyFinite(x []float64) bool {
	for _, v := range x {
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			return true
		}
	}
	return false
}
