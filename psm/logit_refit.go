package psm

import (
	"context"
	"errors"
	"slices"
)

// RefitOptions configures LogitFit.Refit. The zero value is the default.
type RefitOptions struct {
	// Workers bounds the goroutines of each re-fit; default (0) 1, since
	// a bootstrap runs its replicates in parallel.
	Workers int
	// MaxIter is the IRLS iteration limit of a re-fit; default (0) 25,
	// R's glm default (a replicate that does not converge within it gets
	// the ridge fit).
	MaxIter int
	// RidgeL2 is the penalty (LogitOptions.L2) of the fallback fit of a
	// replicate whose logit has no maximum-likelihood estimate; default
	// (0) 1.
	RidgeL2 float64
}

// RefitInfo says how a re-fit went.
type RefitInfo struct {
	// Separated: the replicate's fit took perfect prediction out (a
	// covariate dropped or units left out, LogitOptions.DropSeparated).
	Separated bool
	// Ridge: the replicate had no maximum-likelihood estimate even after
	// that (complete separation by a combination of covariates, or no
	// convergence within MaxIter), and was fitted with the ridge penalty
	// RidgeL2, whose estimate always exists.
	Ridge bool
}

// Refit re-fits the model with frequency weights r, one per row of X (a
// bootstrap replicate's counts, as estimate.BootstrapOptions.Refit
// passes them), and returns the fitted probabilities of every row in dst
// (allocated when nil or of the wrong length). It is the re-fit of the
// re-fitted bootstrap:
//
//   - the weights are r times the weights the model was fitted with, and
//     the units the fit left out (Excluded) stay out with their limit
//     score y_i, 0 or 1;
//   - the fit is warm-started from Coef, with the original fit's
//     intercept, tolerance and aliasing options, and perfect prediction
//     in the replicate is handled as LogitOptions.DropSeparated does;
//   - a replicate that still has no estimate is fitted with the ridge
//     penalty opts.RidgeL2 instead (RefitInfo.Ridge).
//
// Refit does not modify f or r and is safe for concurrent use. Cost: one
// or two FitLogit calls on X, usually a few iterations from the warm
// start.
func (f *LogitFit) Refit(ctx context.Context, r, dst []float64, opts *RefitOptions) ([]float64, RefitInfo, error) {
	var info RefitInfo
	var ro RefitOptions
	if opts != nil {
		ro = *opts
	}
	if ro.Workers == 0 {
		ro.Workers = 1
	}
	if ro.RidgeL2 == 0 {
		ro.RidgeL2 = 1
	}
	n, _ := f.X.Dims()
	if len(r) != n {
		return nil, info, optionError("r", "%d weights for %d rows of X", len(r), n)
	}
	w := r
	if len(f.Excluded) > 0 || f.w != nil {
		w = slices.Clone(r)
		for _, u := range f.Excluded {
			w[u] = 0
		}
		for u, v := range f.w {
			w[u] *= v
		}
	}
	o := LogitOptions{NoIntercept: f.opts.NoIntercept, Epsilon: f.opts.Epsilon, AliasTol: f.opts.AliasTol,
		MaxIter: ro.MaxIter, Workers: ro.Workers, Start: f.Coef, DropSeparated: true}
	fit, err := FitLogit(ctx, f.X, f.y, w, f.Covariates, &o)
	if errors.Is(err, ErrSeparation) || errors.Is(err, ErrNotConverged) {
		info.Ridge = true
		o.L2 = ro.RidgeL2
		fit, err = FitLogit(ctx, f.X, f.y, w, f.Covariates, &o)
	}
	if err != nil {
		return nil, info, err
	}
	info.Separated = len(fit.Dropped) > 0 || len(fit.Excluded) > 0
	dst = fit.Scores(dst)
	for _, u := range f.Excluded {
		dst[u] = f.y[u]
	}
	return dst, info, nil
}
