package psm

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors of the propensity model (the shared ones, ErrBadValue,
// ErrBadWeight and ErrBadOption, are with those of matching in
// match_errors.go). Errors returned by FitLogit wrap one of these or of
// those (test with errors.Is); input errors are *InputError values naming
// the column (Field) and row (Index); separation is a *SeparationError
// naming the separating columns.
var (
	// ErrNotBinary: a treatment value is neither 0 nor 1.
	ErrNotBinary = errors.New("psm: treatment value is not 0 or 1")
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
	// ErrBadEncoding: an encoded LogitPartial, LogitScanPartial,
	// LogitPlan, MatchQuery, MatchMoments or MatchCandidates is
	// truncated, of another type or version, or not valid.
	ErrBadEncoding = errors.New("psm: invalid encoding")
)

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
