package psm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// LogitFit is the result of FitLogit: the model (embedded, so its fields
// and methods are the fit's), the covariate matrix and names it was
// fitted on and, with LogitOptions.DropSeparated, the covariates dropped
// and the units left out for perfect prediction.
type LogitFit struct {
	*Logit
	// X is x itself when no column was dropped, else a *ColumnSelection
	// of x without the dropped columns (a view, not a copy).
	X mat.Matrix
	// Covariates names X's columns (Logit.Names, promoted as the fit's
	// Names, are the model's terms, the intercept first).
	Covariates []string
	Dropped    []string // covariates dropped for perfect prediction, in the order they were dropped
	// Excluded lists, in ascending order, the units (rows of x) whose
	// treatment a covariate predicts perfectly: they are left out of the
	// fit (weight 0), as Stata's logit leaves them out ("N obs not
	// used"). Their fitted probability in the limit of the likelihood is
	// their own treatment indicator, 0 for a control and 1 for a treated
	// unit, which is what Scores returns for them.
	Excluded []int

	y    []float64    // the treatment indicator fitted
	w    []float64    // the frequency weights given to FitLogit (nil: all 1)
	opts LogitOptions // the options given to FitLogit
}

// Scores returns the fitted probabilities of the units the model was
// fitted on (the rows of X) in dst (allocated when nil or of the wrong
// length): Logit.Predict(X) for the units in the fit and y_i, 0 or 1, for
// the Excluded units. The linear predictor is formed on up to the fit's
// LogitOptions.Workers goroutines; the result does not depend on them.
func (f *LogitFit) Scores(dst []float64) []float64 {
	dst = f.Logit.predict(f.X, dst, f.opts.Workers)
	for _, i := range f.Excluded {
		dst[i] = f.y[i]
	}
	return dst
}

// fitDropSeparated is FitLogit with LogitOptions.DropSeparated (see
// there for the rules).
func fitDropSeparated(ctx context.Context, x mat.Matrix, y, w []float64, names []string, opts *LogitOptions) (*LogitFit, error) {
	if nilMatrix(x) {
		return nil, fmt.Errorf("%w: x is nil", ErrBadOption)
	}
	if names == nil { // FitLogit's default names, so that columns can be named
		_, p := x.Dims()
		names = make([]string, p)
		for j := range names {
			names[j] = fmt.Sprintf("x%d", j+1)
		}
	}
	var o LogitOptions
	if opts != nil {
		o = *opts
	}
	out := &LogitFit{X: x, Covariates: names, y: y, w: w, opts: o}
	wcur, owned := w, false
	excl := func(i int) {
		if !owned {
			nw := make([]float64, len(y))
			for k := range nw {
				nw[k] = 1
				if w != nil {
					nw[k] = w[k]
				}
			}
			wcur, owned = nw, true
		}
		wcur[i] = 0
		out.Excluded = append(out.Excluded, i)
	}
	drop := func(cols []string) {
		if o.Start != nil {
			o.Start = dropStart(o.Start, out.Covariates, cols, !o.NoIntercept)
		}
		out.Dropped = append(out.Dropped, cols...)
		out.X, out.Covariates = dropColumns(out.X, out.Covariates, cols)
	}
	for {
		fit, err := fitLogit(ctx, out.X, y, wcur, out.Covariates, &o)
		var sep *SeparationError
		if err == nil {
			slices.Sort(out.Excluded)
			out.Logit = fit
			return out, nil
		}
		if !errors.As(err, &sep) || sep.Complete {
			return nil, err
		}
		before := len(out.Excluded)
		switch {
		case sep.Units < 0 && len(sep.Columns) > 0 && len(sep.Columns) < len(out.Covariates):
			// single covariates, found before fitting
			if !o.NoIntercept {
				for _, name := range sep.Columns {
					boundaryExclusions(out.X, slices.Index(out.Covariates, name), y, wcur, excl)
				}
			}
			drop(sep.Columns)
			continue
		case sep.Units == 0 && len(sep.Columns) > 0 && len(sep.Columns) < len(out.Covariates):
			// Divergence seen before any fitted probability reached 0 or
			// 1: the perfectly predicted units cannot be told; drop the
			// covariates along which IRLS diverged.
			drop(sep.Columns)
			continue
		case sep.Units > 0 && fit != nil:
			eta := fit.linearPredictor(out.X, nil, o.Workers, false)
			for i, e := range eta {
				// the clamped link of the IRLS passes, which count these
				_, mu, _ := lgMuEtaLinkinv(e)
				if (wcur == nil || wcur[i] > 0) && (mu < lgBoundary || mu > 1-lgBoundary) {
					excl(i)
				}
			}
		}
		if len(out.Excluded) == before {
			return nil, err
		}
	}
}

// dropStart returns the warm start without the coefficients of the
// dropped columns.
func dropStart(start []float64, names, drop []string, icpt bool) []float64 {
	off := 0
	var out []float64
	if icpt {
		off = 1
		out = append(out, start[0])
	}
	for j, n := range names {
		if !slices.Contains(drop, n) && off+j < len(start) {
			out = append(out, start[off+j])
		}
	}
	return out
}

// boundaryExclusions calls excl for every unit with positive weight whose
// value of column j differs from the boundary value c at which the
// treated and control ranges of x_j meet (units with x_j ≠ c are all
// treated or all controls).
func boundaryExclusions(x mat.Matrix, j int, y, w []float64, excl func(int)) {
	n, _ := x.Dims()
	min0, max0 := math.Inf(1), math.Inf(-1)
	min1, max1 := math.Inf(1), math.Inf(-1)
	for i := 0; i < n; i++ {
		if w != nil && !(w[i] > 0) {
			continue
		}
		v := x.At(i, j)
		if y[i] == 1 {
			min1, max1 = math.Min(min1, v), math.Max(max1, v)
		} else {
			min0, max0 = math.Min(min0, v), math.Max(max0, v)
		}
	}
	var c float64
	switch {
	case max0 <= min1:
		c = max0
	case max1 <= min0:
		c = max1
	default:
		return
	}
	for i := 0; i < n; i++ {
		if (w == nil || w[i] > 0) && x.At(i, j) != c {
			excl(i)
		}
	}
}

// dropColumns returns x and names without the named columns: a
// ColumnSelection of x (no copy).
func dropColumns(x mat.Matrix, names, drop []string) (mat.Matrix, []string) {
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
	return selectColumns(x, keep), kept
}
