package psm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// LogitFit is the result of FitLogitDropSeparated: the fit on the units
// and covariates that remain after perfect prediction is taken out, the
// covariate matrix and names it was fitted on, the covariates dropped and
// the units left out.
type LogitFit struct {
	*Logit
	X       *mat.Dense // x itself when no column was dropped, else a copy without the dropped columns
	Names   []string   // the names of X's columns
	Dropped []string   // covariates dropped for perfect prediction, in the order they were dropped
	// Excluded lists, in ascending order, the units (rows of x) whose
	// treatment a covariate predicts perfectly: they are left out of the
	// fit (weight 0), as Stata's logit leaves them out ("N obs not
	// used"). Their fitted probability in the limit of the likelihood is
	// their own treatment indicator, 0 for a control and 1 for a treated
	// unit, which is what Scores returns for them.
	Excluded []int

	y []float64
}

// Scores returns the fitted probabilities of the units the model was
// fitted on (the rows of X) in dst (allocated when nil or of the wrong
// length): Logit.Predict(X) for the units in the fit and y_i, 0 or 1, for
// the Excluded units.
func (f *LogitFit) Scores(dst []float64) []float64 {
	dst = f.Logit.Predict(f.X, dst)
	for _, i := range f.Excluded {
		dst[i] = f.y[i]
	}
	return dst
}

// FitLogitDropSeparated fits as FitLogit does, but takes perfect
// prediction out of the model as Stata's logit does, and fits again,
// until the fit succeeds:
//
//   - a single covariate that separates quasi-completely (found before
//     fitting: the treated values of x_j lie at or above every control
//     value, or at or below, with some units at the common boundary value
//     c) predicts every unit with x_j ≠ c perfectly; those units are left
//     out (Excluded) and x_j, now constant, is dropped (Dropped). This is
//     the limit of the likelihood as the coefficient of x_j diverges: the
//     other coefficients converge to the fit on the units with x_j = c,
//     and the excluded units' fitted probabilities to their 0/1
//     treatment. Without an intercept the boundary must be 0 and only the
//     column is dropped.
//   - a separation found by divergence (IRLS moves the linear predictor
//     along a combination of covariates without converging) with some
//     fitted probabilities numerically 0 or 1 (within 10 machine
//     epsilons) at the last iterate leaves those units out: the units
//     that the combination predicts perfectly. Every covariate is kept;
//     one that is constant on the remaining units is aliased, as R's glm
//     does.
//   - a divergence seen before any fitted probability reaches 0 or 1
//     (the perfectly predicted units cannot be told apart yet) drops the
//     covariates along which IRLS diverged (SeparationError.Columns) and
//     keeps the units. Stata's logit has no rule for this case.
//
// Complete separation (no unit left at the boundary, or only treated or
// only controls left) is returned as FitLogit's error, as Stata's logit
// stops there. Any other error of FitLogit is returned as is; FitLogit's
// ErrNotConverged is an error here too (raise LogitOptions.MaxIter). R's
// glm has no such step: there the user removes the variable and rows.
// y and w are not modified (w is copied when units are left out).
//
// Cost: one FitLogit per round (a round per separating covariate found
// before fitting or divergence), a copy of x per round that
// drops columns, and O(n) per round for the unit exclusions.
func FitLogitDropSeparated(ctx context.Context, x *mat.Dense, y, w []float64, names []string, opts *LogitOptions) (*LogitFit, error) {
	if x == nil {
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
	out := &LogitFit{X: x, Names: names, y: y}
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
			o.Start = dropStart(o.Start, out.Names, cols, !o.NoIntercept)
		}
		out.Dropped = append(out.Dropped, cols...)
		out.X, out.Names = dropColumns(out.X, out.Names, cols)
	}
	for {
		fit, err := FitLogit(ctx, out.X, y, wcur, out.Names, &o)
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
		case sep.Units < 0 && len(sep.Columns) > 0 && len(sep.Columns) < len(out.Names):
			// single covariates, found before fitting
			if !o.NoIntercept {
				for _, name := range sep.Columns {
					boundaryExclusions(out.X, slices.Index(out.Names, name), y, wcur, excl)
				}
			}
			drop(sep.Columns)
			continue
		case sep.Units == 0 && len(sep.Columns) > 0 && len(sep.Columns) < len(out.Names):
			// Divergence seen before any fitted probability reached 0 or
			// 1: the perfectly predicted units cannot be told; drop the
			// covariates along which IRLS diverged.
			drop(sep.Columns)
			continue
		case sep.Units > 0 && fit != nil:
			eta := fit.LinearPredictor(out.X, nil)
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
func boundaryExclusions(x *mat.Dense, j int, y, w []float64, excl func(int)) {
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
