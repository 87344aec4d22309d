package psm

import (
	"context"
	"errors"
	"fmt"

	"gonum.org/v1/gonum/mat"
)

// LogitFit is the result of FitLogitDropSeparated: the fit, the
// covariate matrix and names it was fitted on, and the covariates dropped
// for perfect prediction, in the order they were dropped.
type LogitFit struct {
	*Logit
	X       *mat.Dense // x itself when nothing was dropped, else a copy without the dropped columns
	Names   []string   // the names of X's columns
	Dropped []string
}

// FitLogitDropSeparated fits as FitLogit does, but when FitLogit reports
// perfect prediction by some (not all) of the covariates (a
// *SeparationError naming columns) it drops those columns and fits again,
// as Stata's logit drops a variable that predicts the outcome perfectly,
// until the fit succeeds or no column can be dropped; any other error, or
// a separation that names no column or every column, is returned. R's glm
// has no such step: there the user removes the variable. Cost: one
// FitLogit per round plus a copy of x per round that drops columns.
func FitLogitDropSeparated(ctx context.Context, x *mat.Dense, y, w []float64, names []string, opts *LogitOptions) (*LogitFit, error) {
	if x == nil {
		return nil, fmt.Errorf("%w: x is nil", ErrLogitArgs)
	}
	if names == nil { // FitLogit's default names, so that columns can be named
		_, p := x.Dims()
		names = make([]string, p)
		for j := range names {
			names[j] = fmt.Sprintf("x%d", j+1)
		}
	}
	out := &LogitFit{X: x, Names: names}
	for {
		fit, err := FitLogit(ctx, out.X, y, w, out.Names, opts)
		var sep *SeparationError
		if errors.As(err, &sep) && len(sep.Columns) > 0 && len(sep.Columns) < len(out.Names) {
			out.Dropped = append(out.Dropped, sep.Columns...)
			out.X, out.Names = dropColumns(out.X, out.Names, sep.Columns)
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Logit = fit
		return out, nil
	}
}

// dropColumns returns x and names without the named columns (a copy).
func dropColumns(x *mat.Dense, names, drop []string) (*mat.Dense, []string) {
	gone := map[string]bool{}
	for _, d := range drop {
		gone[d] = true
	}
	var keep []int
	var kept []string
	for j, n := range names {
		if !gone[n] {
			keep, kept = append(keep, j), append(kept, n)
		}
	}
	r, _ := x.Dims()
	out := mat.NewDense(r, len(keep), nil)
	for i := 0; i < r; i++ {
		src, dst := x.RawRowView(i), out.RawRowView(i)
		for k, j := range keep {
			dst[k] = src[j]
		}
	}
	return out, kept
}
