package psm

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the propensity model. Errors returned by FitLogit
// wrap one of these (test with errors.Is); input errors are
// *LogitInputError values naming the column and row, separation is a
// *SeparationError naming the separating columns.
var (
	// ErrNonFinite: a covariate, treatment or weight is NaN or infinite.
	ErrNonFinite = errors.New("psm: non-finite value")
	// ErrNotBinary: a treatment value is neither 0 nor 1.
	ErrNotBinary = errors.New("psm: treatment value is not 0 or 1")
	// ErrNegativeWeight: a frequency weight is negative.
	ErrNegativeWeight = errors.New("psm: negative frequency weight")
	// ErrNoVariation: among units with positive weight the treatment is
	// all 0 or all 1 (or there are no such units).
	ErrNoVariation = errors.New("psm: treatment is all 0 or all 1")
	// ErrSeparation: the covariates separate treated from controls
	// completely or quasi-completely, so the maximum-likelihood estimate
	// does not exist (coefficients diverge).
	ErrSeparation = errors.New("psm: separation: the logit MLE does not exist")
	// ErrNotConverged: IRLS did not meet the convergence criterion within
	// MaxIter iterations, or produced non-finite coefficients.
	ErrNotConverged = errors.New("psm: logit did not converge")
	// ErrLogitArgs: FitLogit got slices of the wrong length or an invalid
	// option value.
	ErrLogitArgs = errors.New("psm: invalid FitLogit argument")
)

// LogitInputError reports a bad input value to FitLogit and where it is:
// Column is a covariate name, "treatment" or "weight"; Row is the 0-based
// row (unit) of x, y and w.
type LogitInputError struct {
	Column string
	Row    int
	Value  float64
	Err    error // ErrNonFinite, ErrNotBinary or ErrNegativeWeight
}

func (e *LogitInputError) Error() string {
	return fmt.Sprintf("%v: column %q row %d: %v", e.Err, e.Column, e.Row, e.Value)
}

// Unwrap returns the sentinel.
func (e *LogitInputError) Unwrap() error { return e.Err }

// SeparationError reports complete or quasi-complete separation. Columns
// names the covariates that separate (alone, found by the single-column
// check, or jointly, the covariates along which IRLS diverged); it may be
// empty when they cannot be told apart.
type SeparationError struct {
	Columns []string
	// Complete is true for complete separation (every unit is predicted
	// perfectly), false for quasi-complete separation.
	Complete bool
	// Units is the number of units with positive weight whose fitted
	// probability is numerically 0 or 1 at the last iterate (-1 when the
	// error was found before fitting).
	Units int
	// Detail says how it was found.
	Detail string
}

func (e *SeparationError) Error() string {
	kind := "quasi-complete"
	if e.Complete {
		kind = "complete"
	}
	s := fmt.Sprintf("%v: %s separation", ErrSeparation, kind)
	if len(e.Columns) > 0 {
		s += " by " + strings.Join(e.Columns, ", ")
	}
	if e.Detail != "" {
		s += " (" + e.Detail + ")"
	}
	return s
}

// Unwrap returns ErrSeparation.
func (e *SeparationError) Unwrap() error { return ErrSeparation }
