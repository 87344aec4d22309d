package psm

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"

	"github.com/psmeval/psmeval/internal/pool"
	"gonum.org/v1/gonum/mat"
)

// InterceptName is the name of the intercept term, as in R.
const InterceptName = "(Intercept)"

// LogitOptions configure FitLogit. The zero value (or nil) gives R's
// glm(family = binomial) defaults.
type LogitOptions struct {
	// NoIntercept drops the intercept. Default false: an intercept named
	// "(Intercept)" is fitted as the first coefficient; x is not copied to
	// add a column of ones.
	NoIntercept bool
	// Epsilon is the convergence tolerance: IRLS stops when
	// |dev - devOld|/(|dev| + 0.1) < Epsilon (R's glm.control).
	// Default (0) 1e-8.
	Epsilon float64
	// MaxIter is the maximum number of IRLS iterations. Default (0) 25.
	MaxIter int
	// L2 is a ridge penalty: FitLogit minimises
	// deviance + L2 * sum_{j>=1} b_j^2 (the intercept is not penalized),
	// i.e. -loglik + (L2/2)||b||^2 as scikit-learn's
	// LogisticRegression(C = 1/L2). Default (0) unpenalized, as R's glm.
	// With L2 > 0 separation is not checked (the penalized estimate
	// exists), collinear columns are kept and standard errors come from
	// the penalized information (X'WX + L2 I)^{-1}.
	L2 float64
	// Start is a warm start: coefficients on the original scale, the
	// intercept first (as in Logit.Coef; NaN is read as 0). Default nil:
	// R's start, eta = logit((w*y + 0.5)/(w + 1)).
	Start []float64
	// Workers bounds the goroutines used for the passes over the rows.
	// Default (0) runtime.GOMAXPROCS(0). Results do not depend on it.
	Workers int
	// AliasTol is the aliasing tolerance: a covariate is dropped when
	// 1 - R² of its regression (W-weighted, with intercept) on the earlier
	// kept covariates is at most AliasTol. Default (0) 1e-10. R's glm.fit
	// drops a column whose pivoted-QR residual norm is below
	// min(1e-7, epsilon/1000) times its norm; both rules drop exact and
	// rounding-level dependencies and the same (later) column, but normal
	// equations cannot resolve 1 - R² below about 1e-13.
	AliasTol float64
	// Progress, if not nil, is called after each IRLS iteration with the
	// iteration number and the deviance.
	Progress func(iteration int, deviance float64)
	// DropSeparated takes perfect prediction out of the model as Stata's
	// logit does, and fits again, until the fit succeeds. Default false:
	// separation is an error (*SeparationError), as R's glm warns and
	// leaves it to the user.
	//
	//   - a single covariate that separates quasi-completely (found before
	//     fitting: the treated values of x_j lie at or above every control
	//     value, or at or below, with some units at the common boundary
	//     value c) predicts every unit with x_j ≠ c perfectly; those units
	//     are left out (LogitFit.Excluded) and x_j, now constant, is
	//     dropped (LogitFit.Dropped). This is the limit of the likelihood
	//     as the coefficient of x_j diverges: the other coefficients
	//     converge to the fit on the units with x_j = c, and the excluded
	//     units' fitted probabilities to their 0/1 treatment. Without an
	//     intercept the boundary must be 0 and only the column is dropped.
	//   - a separation found by divergence (IRLS moves the linear
	//     predictor along a combination of covariates without converging)
	//     with some fitted probabilities numerically 0 or 1 (within 10
	//     machine epsilons) at the last iterate leaves those units out:
	//     the units that the combination predicts perfectly. Every
	//     covariate is kept; one that is constant on the remaining units
	//     is aliased, as R's glm does.
	//   - a divergence seen before any fitted probability reaches 0 or 1
	//     (the perfectly predicted units cannot be told apart yet) drops
	//     the covariates along which IRLS diverged
	//     (SeparationError.Columns) and keeps the units. Stata's logit has
	//     no rule for this case.
	//
	// Complete separation (no unit left at the boundary, or only treated
	// or only controls left) is still an error, as Stata's logit stops
	// there, and so is ErrNotConverged (raise MaxIter). y and w are not
	// modified (w is copied when units are left out). Cost: one fit per
	// round (a round per separating covariate found before fitting or
	// divergence), a copy of x per round that drops columns, and O(n) per
	// round for the unit exclusions.
	DropSeparated bool
}

// Logit is a fitted logit propensity model. Coefficient slices have one
// entry per term: "(Intercept)" first (unless NoIntercept), then the
// covariates in the order of the columns of x.
type Logit struct {
	// Names of the terms.
	Names []string
	// Coef are the coefficients on the original scale of x; SE their
	// standard errors, sqrt(diag((X'WX)^{-1})) with the working weights W
	// of the last IRLS step, i.e. at the previous iterate, exactly as R's
	// summary.glm takes them from the QR of glm.fit's last step (they
	// differ from the information at Coef itself by the size of that last
	// step); Z = Coef/SE. Aliased terms are NaN in all three, like R's NA.
	Coef, SE, Z []float64
	// Cov is the covariance matrix of Coef (R's vcov), NaN in the rows and
	// columns of aliased terms.
	Cov *mat.SymDense
	// Aliased names the covariates that were dropped because they are
	// constant (aliased with the intercept) or linear combinations of
	// earlier columns, in column order, as R's glm drops them.
	Aliased []string
	// LogLik is the log-likelihood sum_i w_i [y_i log mu_i + (1-y_i)
	// log(1-mu_i)]; Deviance = -2 LogLik; NullDeviance is the deviance of
	// the intercept-only model (of mu = 1/2 without intercept);
	// AIC = Deviance + 2 Rank. These equal R's logLik, deviance,
	// null.deviance and AIC for whole-number weights.
	LogLik, Deviance, NullDeviance, AIC float64
	// Rank is the number of estimated (non-aliased) terms.
	Rank int
	// Iterations is the number of IRLS iterations; Converged reports
	// whether the convergence criterion was met.
	Iterations int
	Converged  bool
	// N is the number of units with positive weight, WeightSum the sum of
	// their weights, NTreated the number of them with y = 1.
	N         int
	NTreated  int
	WeightSum float64
	// Boundary is the number of units whose fitted probability is
	// numerically 0 or 1 (R warns "fitted probabilities numerically 0 or 1
	// occurred").
	Boundary int
	// Intercept reports whether the model has an intercept.
	Intercept bool
}

// FitLogit fits the logit model P(y=1 | x) = 1/(1+exp(-(b0 + x'b))) by
// iteratively reweighted least squares: each iteration solves
// (X'WX) b = X'Wz by a Cholesky factorization, with R's working weights
// W = w mu(1-mu) and working response z = eta + (y-mu)/(mu(1-mu)). It
// follows R's glm.fit step for step (starting values, clamped link,
// convergence rule, in-order aliasing), so its coefficients and standard
// errors equal glm(y ~ x, family = binomial, weights = w) to rounding.
//
// x is n×p with one row per unit; y holds 0/1; w are frequency weights
// (nil means all 1; a zero weight means the unit is absent; weights need
// not be whole numbers, as glm's prior weights: scaling all of them by c
// leaves the coefficients unchanged and divides the standard errors by
// sqrt(c)); names has
// one name per column of x (nil gives x1, x2, ...). x is read, never
// modified or copied.
//
// Internally the covariates are centered at their weighted means and
// X'WX is equilibrated to unit diagonal before the factorization, for
// conditioning; results are reported on the original scale. X'WX and
// X'Wz are accumulated in parallel over fixed blocks of rows and summed
// in block order, so the result is bit-identical for any Workers (on
// amd64 CPUs with AVX2 and FMA an assembly kernel with fused
// multiply-adds is used, so bits may differ from other CPUs by rounding).
// Each iteration is one pass over x that computes the new linear
// predictor, its deviance and the next X'WX: about n(p+2)(p+3)/2
// multiply-adds plus n(p+1), one exp per unit, and O(p³) for the
// factorization; memory is O(n) for the linear predictor beyond x. One
// pass more than iterations is made (the first at the start values).
// Register covariates are mostly zeros: when at least 4 columns have
// nonzero values carrying at most half of the weight and the estimated
// cost says it pays (the rule is in logit_sparse.go; it depends on the
// data only), those columns are summed without centring and only their
// nonzero values are visited, with d the number of other columns and k
// the mean number of nonzero values per row among the sparse ones, about
// n((d+2)(d+3)/2 + k(d+2) + k(k+1)/2) multiply-adds per pass instead, plus 2
// bytes of memory per such nonzero value and 4 per row; X'WX is then
// centred afterwards (losing at most a bit or two to cancellation, see
// logit_sparse.go), and agrees with the dense computation to rounding.
//
// Differences from R: R halves a step whose deviance is not finite; with
// R's clamped link that needs non-finite coefficients, which FitLogit
// reports as ErrNotConverged instead. Aliasing uses AliasTol (see there).
// AIC uses the exact log-likelihood; R rounds non-integer weights in it.
//
// Errors: an *InputError (ErrBadValue, ErrNotBinary, ErrBadWeight)
// naming the column (Field) and row (Index) of the first bad value;
// ErrNoVariation when all units with positive weight are treated or all
// are controls; a *SeparationError when a single covariate separates the
// groups (found before fitting) or when IRLS diverges along some
// covariates; ErrNotConverged when MaxIter is reached; ErrBadOption for
// wrong lengths or options; ctx.Err() when ctx is cancelled (checked
// between blocks of rows). On ErrSeparation found by divergence and on
// ErrNotConverged the returned fit holds the last iterate for
// diagnosis; on every other error it is nil.
//
// With opts.DropSeparated perfect prediction is taken out of the model
// as Stata's logit does (see LogitOptions.DropSeparated); the result then
// names the covariates dropped and the units left out. Without it the
// result's X is x and nothing is dropped or left out.
//
// FitLogit is FitLogitShards with one in-memory shard (LogitRows) over all
// rows of x; FitLogitShards fits the same model with the rows split over
// processes or machines.
func FitLogit(ctx context.Context, x mat.Matrix, y, w []float64, names []string, opts *LogitOptions) (*LogitFit, error) {
	if opts != nil && opts.DropSeparated {
		return fitDropSeparated(ctx, x, y, w, names, opts)
	}
	lg, err := fitLogit(ctx, x, y, w, names, opts)
	if lg == nil {
		return nil, err
	}
	cov := lg.Names
	if opts == nil || !opts.NoIntercept {
		cov = cov[1:]
	}
	var o LogitOptions
	if opts != nil {
		o = *opts
	}
	return &LogitFit{Logit: lg, X: x, Covariates: cov, y: y, w: w, opts: o}, err
}

// fitLogit is FitLogit without DropSeparated: the IRLS of lgFit on one
// in-memory shard over all rows of x.
func fitLogit(ctx context.Context, x mat.Matrix, y, w []float64, names []string, opts *LogitOptions) (*Logit, error) {
	if opts == nil {
		opts = &LogitOptions{}
	}
	if nilMatrix(x) {
		return nil, fmt.Errorf("%w: x is nil", ErrBadOption)
	}
	n, p := x.Dims()
	if err := lgCheckArgs(n, p, y, w, names, opts); err != nil {
		return nil, err
	}
	rows := newLogitRows(x, y, w, 0, n, 0, opts.Workers)
	return lgFit(ctx, []LogitShard{rows}, p, names, opts)
}

// lgFit runs the IRLS of FitLogit on shards (names and options checked;
// p the number of covariates, or -1 when the shards are to tell it).
func lgFit(ctx context.Context, shards []LogitShard, p int, names []string, opts *LogitOptions) (*Logit, error) {
	eps := opts.Epsilon
	if eps == 0 {
		eps = 1e-8
	}
	maxit := opts.MaxIter
	if maxit == 0 {
		maxit = 25
	}
	tol := opts.AliasTol
	if tol == 0 {
		tol = 1e-10
	}
	c := &lgCoord{shards: shards}

	// Round 0: validate, weighted means, ranges, R's starting eta.
	sc, ps, err := c.scan(ctx, opts.Start == nil)
	if err != nil {
		return nil, err
	}
	if p < 0 { // the shards' covariates: check what depends on them
		p = ps
		if c.n == 0 {
			return nil, optionError("shards", "no rows")
		}
		if err := lgCheckArgs(-1, p, nil, nil, names, opts); err != nil {
			return nil, err
		}
	}
	names = lgFitNames(names, p)
	pr := &lgProblem{p: p, q: p, icpt: !opts.NoIntercept}
	if pr.icpt {
		pr.q++
	}
	q := pr.q
	c.q = q
	if sc.badErr != nil {
		col := "treatment"
		switch {
		case sc.badCol < p:
			col = names[sc.badCol]
		case sc.badCol == p+1:
			col = "weight"
		}
		return nil, &InputError{Field: col, Index: sc.badRow, Value: sc.badVal, Err: sc.badErr, Column: true}
	}
	if sc.n1 == 0 || sc.n1 == sc.nPos {
		return nil, fmt.Errorf("%w: %d treated and %d controls among %d units with positive weight",
			ErrNoVariation, sc.n1, sc.nPos-sc.n1, sc.nPos)
	}

	// Centering and constant columns.
	pr.center = make([]float64, p)
	forced := make([]bool, q)
	off := q - p
	for j := 0; j < p; j++ {
		lo := math.Min(sc.min0[j], sc.min1[j])
		hi := math.Max(sc.max0[j], sc.max1[j])
		if pr.icpt {
			if lo == hi {
				pr.center[j] = lo // exactly zero after centering
				forced[off+j] = true
			} else {
				pr.center[j] = sc.sumWX[j] / sc.sumW
			}
		} else if lo == 0 && hi == 0 {
			forced[j] = true
		}
	}
	if opts.L2 == 0 {
		if err := lgSingleColumnSeparation(sc, pr, names, forced[off:]); err != nil {
			return nil, err
		}
	}

	// Mostly-zero columns are accumulated without centring when that pays
	// (logit_sparse.go); the Gram is the same up to rounding. The plan
	// tells the shards.
	c.sp = lgPlanSparse(pr, sc, forced[off:])
	c.plan = &LogitPlan{Intercept: pr.icpt, Center: pr.center}
	if c.sp != nil {
		c.plan.Sparse = make([]bool, p)
		for _, j := range c.sp.scol {
			c.plan.Sparse[j] = true
		}
		c.plan.Constant = slices.Clone(forced[off:])
	}

	// Coefficients in internal coordinates. The first pass gives the
	// deviance and X'WX at the starting eta; each iteration then solves
	// and makes one pass that computes the new eta, its deviance and, for
	// the next iteration, X'WX at it.
	beta := make([]float64, q)
	g := make([]float64, lgGramLen(q+1))
	var devold float64
	if opts.Start != nil {
		for j, v := range opts.Start {
			if !math.IsNaN(v) {
				beta[j] = v
			}
		}
		if pr.icpt {
			for j := 0; j < p; j++ {
				beta[0] += beta[off+j] * pr.center[j]
			}
		}
		r, err := c.pass(ctx, beta, g)
		if err != nil {
			return nil, err
		}
		devold = r.dev
	} else {
		if _, err := c.pass(ctx, nil, g); err != nil {
			return nil, err
		}
		devold = sc.dev
	}
	penalty := func(b []float64) float64 {
		if opts.L2 == 0 {
			return 0
		}
		s := 0.0
		for _, v := range b[off:] {
			s += v * v
		}
		return opts.L2 * s
	}
	devold += penalty(beta)

	var fac lgFactor
	var last lgPassResult
	prevDelta := math.Inf(1)
	conv := false
	iter := 0
	step := make([]float64, q)
	start := make([]float64, q)
	for iter = 1; iter <= maxit; iter++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		lgFactorize(&fac, g, q, pr.icpt, opts.L2, tol, forced)
		fac.solve(g, start)
		if !lgAllFinite(start) {
			fit := lgResult(pr, sc, names, beta, &fac, last, iter, false)
			return fit, fmt.Errorf("%w: non-finite coefficients at iteration %d", ErrNotConverged, iter)
		}
		r, err := c.pass(ctx, start, g)
		if err != nil {
			return nil, err
		}
		dev := r.dev + penalty(start)
		if math.IsNaN(dev) || math.IsInf(dev, 0) {
			// R halves the step here; with R's clamped logit link the
			// deviance is finite whenever eta is, so this cannot happen
			// for finite x and coefficients.
			fit := lgResult(pr, sc, names, start, &fac, r, iter, false)
			return fit, fmt.Errorf("%w: non-finite deviance at iteration %d", ErrNotConverged, iter)
		}
		for j := range step {
			step[j] = start[j] - beta[j]
		}
		prevDelta, last = last.maxDelta, r
		if iter == 1 {
			prevDelta = math.Inf(1)
		}
		beta, start = start, beta
		if opts.Progress != nil {
			opts.Progress(iter, r.dev)
		}
		if math.Abs(dev-devold)/(math.Abs(dev)+0.1) < eps {
			conv = true
			break
		}
		devold = dev
	}
	if iter > maxit {
		iter = maxit
	}
	fit := lgResult(pr, sc, names, beta, &fac, last, iter, conv)
	if opts.L2 == 0 {
		// Divergence: the last step moved some linear predictor by more
		// than 0.1 and did not shrink (Newton steps shrink quadratically
		// near a finite MLE, but stay near 1/margin along a separating
		// direction), or no convergence with fitted 0/1 probabilities.
		diverging := last.maxDelta > 0.1 && last.maxDelta >= 0.5*prevDelta
		if diverging || (!conv && last.boundary > 0) {
			return fit, lgDivergenceError(pr, sc, names, step, fit)
		}
	}
	if !conv {
		return fit, fmt.Errorf("%w: %d iterations (MaxIter), last relative deviance change above %g", ErrNotConverged, maxit, eps)
	}
	return fit, nil
}

// lgCheckArgs checks the lengths of y, w, names and Start against n rows
// and p covariates, and the options; n < 0 skips the checks of y and w,
// p < 0 those that need p.
func lgCheckArgs(n, p int, y, w []float64, names []string, opts *LogitOptions) error {
	bad := func(field, format string, args ...any) error {
		return &InputError{Field: field, Index: -1, Msg: fmt.Sprintf(format, args...), Err: ErrBadOption}
	}
	icpt := !opts.NoIntercept
	q := p
	if icpt {
		q++
	}
	switch {
	case n == 0:
		return bad("x", "no rows")
	case n > 0 && len(y) != n:
		return bad("y", "length %d, want %d (rows of x)", len(y), n)
	case n > 0 && w != nil && len(w) != n:
		return bad("w", "length %d, want %d (rows of x)", len(w), n)
	case p >= 0 && names != nil && len(names) != p:
		return bad("names", "length %d, want %d (columns of x)", len(names), p)
	case p >= 0 && opts.Start != nil && len(opts.Start) != q:
		return bad("Start", "length %d, want %d (intercept and covariates)", len(opts.Start), q)
	case !(opts.Epsilon >= 0) || math.IsInf(opts.Epsilon, 1):
		return bad("Epsilon", "%v, want >= 0", opts.Epsilon)
	case opts.MaxIter < 0:
		return bad("MaxIter", "%d, want >= 0", opts.MaxIter)
	case opts.Workers < 0:
		return bad("Workers", "%d, want >= 0 (0: GOMAXPROCS)", opts.Workers)
	case !(opts.L2 >= 0) || math.IsInf(opts.L2, 1):
		return bad("L2", "%v, want a finite value >= 0", opts.L2)
	case !(opts.AliasTol >= 0) || opts.AliasTol >= 1:
		return bad("AliasTol", "%v, want 0 <= AliasTol < 1", opts.AliasTol)
	case p >= 0 && q == 0:
		return bad("NoIntercept", "no intercept and no covariates")
	}
	for _, v := range opts.Start {
		if math.IsInf(v, 0) {
			return bad("Start", "an infinite value")
		}
	}
	seen := make(map[string]int, len(names))
	for j, nm := range names {
		if k, dup := seen[nm]; dup {
			return bad("names", "columns %d and %d are both named %q (the coefficients could not be told apart)", k, j, nm)
		}
		if !icpt || nm != InterceptName {
			seen[nm] = j
		} else {
			return bad("names", "column %d is named %q, the intercept's name", j, nm)
		}
	}
	return nil
}

func lgAllFinite(v []float64) bool {
	for _, x := range v {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}

// lgResult converts the internal state to a Logit on the original scale.
func lgResult(pr *lgProblem, sc *lgScan, names []string, beta []float64, fac *lgFactor, last lgPassResult, iter int, conv bool) *Logit {
	q, p, off := pr.q, pr.p, pr.q-pr.p
	fit := &Logit{
		Names:      make([]string, 0, q),
		Coef:       make([]float64, q),
		SE:         make([]float64, q),
		Z:          make([]float64, q),
		Iterations: iter,
		Converged:  conv,
		N:          sc.nPos,
		NTreated:   sc.n1,
		WeightSum:  sc.sumW,
		Boundary:   last.boundary,
		Intercept:  pr.icpt,
		Rank:       fac.rank,
	}
	if pr.icpt {
		fit.Names = append(fit.Names, InterceptName)
	}
	fit.Names = append(fit.Names, names...)
	// b_j = beta_j for covariates; b_0 = beta_0 - sum_j c_j beta_j.
	copy(fit.Coef, beta)
	if pr.icpt {
		for j := 0; j < p; j++ {
			fit.Coef[0] -= pr.center[j] * beta[off+j]
		}
	}
	// Cov(b) = T Cov(beta) T' with T = [1 -c'; 0 I].
	cov := fac.inverse()
	if pr.icpt {
		t := make([]float64, q)
		t[0] = 1
		for j := 0; j < p; j++ {
			t[off+j] = -pr.center[j]
		}
		// Row/column 0 of T Cov T'.
		c0 := make([]float64, q)
		for k := 0; k < q; k++ {
			s := 0.0
			for l := 0; l < q; l++ {
				if t[l] != 0 && !fac.alias[l] {
					s += t[l] * cov[l*q+k]
				}
			}
			c0[k] = s
		}
		v00 := 0.0
		for k := 0; k < q; k++ {
			if t[k] != 0 && !fac.alias[k] {
				v00 += c0[k] * t[k]
			}
		}
		for k := 1; k < q; k++ {
			if !fac.alias[k] {
				cov[k], cov[k*q] = c0[k], c0[k]
			}
		}
		cov[0] = v00
	}
	fit.Cov = mat.NewSymDense(q, cov)
	for j := 0; j < q; j++ {
		if fac.alias[j] {
			fit.Coef[j], fit.SE[j], fit.Z[j] = math.NaN(), math.NaN(), math.NaN()
			if j >= off {
				fit.Aliased = append(fit.Aliased, names[j-off])
			}
			continue
		}
		fit.SE[j] = math.Sqrt(cov[j*q+j])
		fit.Z[j] = fit.Coef[j] / fit.SE[j]
	}
	fit.Deviance = last.dev
	fit.LogLik = -last.dev / 2
	fit.AIC = last.dev + 2*float64(fac.rank)
	if pr.icpt {
		mu := sc.sumWY / sc.sumW
		fit.NullDeviance = 2*sc.sumWY*math.Log(1/mu) + 2*(sc.sumW-sc.sumWY)*math.Log(1/(1-mu))
	} else {
		fit.NullDeviance = 2 * sc.sumW * math.Log(2)
	}
	return fit
}

// lgSingleColumnSeparation is the single-covariate check (as Stata's
// logit does it): covariate j separates when, among units with positive
// weight, max over controls <= min over treated or max over treated <=
// min over controls (strictly: complete separation). Without intercept the
// threshold must be 0. Constant columns are skipped.
func lgSingleColumnSeparation(sc *lgScan, pr *lgProblem, names []string, constant []bool) error {
	var cols []string
	complete := true
	for j := 0; j < pr.p; j++ {
		if constant[j] {
			continue
		}
		var sep, strict bool
		if pr.icpt {
			a := sc.max0[j] <= sc.min1[j]
			b := sc.max1[j] <= sc.min0[j]
			sep = a || b
			strict = (a && sc.max0[j] < sc.min1[j]) || (b && sc.max1[j] < sc.min0[j])
		} else {
			a := sc.max0[j] <= 0 && 0 <= sc.min1[j]
			b := sc.max1[j] <= 0 && 0 <= sc.min0[j]
			sep = a || b
			strict = (a && sc.max0[j] < 0 && 0 < sc.min1[j]) || (b && sc.max1[j] < 0 && 0 < sc.min0[j])
		}
		if sep {
			cols = append(cols, names[j])
			complete = complete && strict
		}
	}
	if cols == nil {
		return nil
	}
	return &SeparationError{Columns: cols, Complete: complete, Units: -1,
		Detail: "found before fitting: the treated and control ranges of a single covariate do not overlap"}
}

// lgDivergenceError names the covariates along which the last IRLS step
// moved the linear predictor most: |step_j| * max_i |x_ij - c_j| at least a
// quarter of the largest.
func lgDivergenceError(pr *lgProblem, sc *lgScan, names []string, step []float64, fit *Logit) error {
	off := pr.q - pr.p
	contrib := make([]float64, pr.p)
	best := 0.0
	for j := 0; j < pr.p; j++ {
		if math.IsNaN(fit.Coef[off+j]) {
			continue
		}
		lo := math.Min(sc.min0[j], sc.min1[j])
		hi := math.Max(sc.max0[j], sc.max1[j])
		r := math.Max(math.Abs(hi-pr.center[j]), math.Abs(lo-pr.center[j]))
		contrib[j] = math.Abs(step[off+j]) * r
		best = math.Max(best, contrib[j])
	}
	var cols []string
	for j, c := range contrib {
		if best > 0 && c >= 0.25*best {
			cols = append(cols, names[j])
		}
	}
	complete := fit.Boundary == fit.N || fit.Deviance < 1e-4*fit.NullDeviance
	return &SeparationError{Columns: cols, Complete: complete, Units: fit.Boundary,
		Detail: fmt.Sprintf("IRLS diverged: after %d iterations the linear predictor still moves, %d units have fitted probability numerically 0 or 1",
			fit.Iterations, fit.Boundary)}
}

// LinearPredictor returns b0 + x'b for each row of x (n×p, the covariates
// in the order of the fit) in dst, allocated when nil or of the wrong
// length. Aliased terms count as 0. It panics if x has the wrong number of
// columns. It runs on the calling goroutine.
func (l *Logit) LinearPredictor(x mat.Matrix, dst []float64) []float64 {
	return l.linearPredictor(x, dst, 1, false)
}

// linearPredictor is LinearPredictor on up to workers goroutines (0:
// GOMAXPROCS), followed when prob by Predict's probabilities: the rows go
// in blocks of lgBlock (4096, a panel.CovStore chunk), and each row's
// value is formed as on one goroutine, so dst is the same bits for any
// workers. Cost: one multiply-add per value (and one exp per row when
// prob), spread over the goroutines.
func (l *Logit) linearPredictor(x mat.Matrix, dst []float64, workers int, prob bool) []float64 {
	n, p := x.Dims()
	off := 0
	if l.Intercept {
		off = 1
	}
	if p != len(l.Coef)-off {
		panic(fmt.Sprintf("psm: LinearPredictor: x has %d columns, the model %d covariates", p, len(l.Coef)-off))
	}
	if len(dst) != n {
		dst = make([]float64, n)
	}
	b0 := 0.0
	if l.Intercept {
		b0 = l.Coef[0]
	}
	b := make([]float64, p)
	for j := range b {
		if v := l.Coef[off+j]; !math.IsNaN(v) {
			b[j] = v
		}
	}
	rows := newLgX(x)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	type scratch struct {
		rb lgXBuf
		cb lgColBlock
	}
	nb := (n + lgBlock - 1) / lgBlock
	_ = pool.Run(context.Background(), workers, nb, func() *scratch { return new(scratch) }, func(s *scratch, k int) error {
		lo, hi := k*lgBlock, min((k+1)*lgBlock, n)
		lgLinearRows(&rows, &s.rb, &s.cb, b0, b, dst, lo, hi)
		if prob {
			lgPlogis(dst[lo:hi])
		}
		return nil
	}, nil)
	return dst
}

// lgLinearRows sets dst[i] = b0 + sum_j b[j]*x[i][j] for rows lo..hi-1
// of rows (the sum in column order), lgSub rows at a time: from the typed
// columns where rows can hand them out (lgLinearCols), else row by row
// from float64 rows. rb and cb are the goroutine's scratch. Cost: one
// multiply-add per value.
func lgLinearRows(rows *lgX, rb *lgXBuf, cb *lgColBlock, b0 float64, b, dst []float64, lo, hi int) {
	p := len(b)
	for sub := lo; sub < hi; sub += lgSub {
		end := min(sub+lgSub, hi)
		if rows.colBlock(cb, sub, end) {
			lgLinearCols(cb, b0, b, dst[sub:end])
			continue
		}
		xb, st := rows.view(rb, sub, end)
		for i := sub; i < end; i++ {
			row := xb[(i-sub)*st : (i-sub)*st+p]
			s := b0
			for j, v := range row {
				s += b[j] * v
			}
			dst[i] = s
		}
	}
}

// Predict returns the fitted probabilities 1/(1+exp(-eta)) for each row
// of x in dst (see LinearPredictor), computed as R's plogis (no
// clamping).
func (l *Logit) Predict(x mat.Matrix, dst []float64) []float64 {
	return l.predict(x, dst, 1)
}

// predict is Predict on up to workers goroutines (see
// linearPredictor); the result does not depend on workers.
func (l *Logit) predict(x mat.Matrix, dst []float64, workers int) []float64 {
	return l.linearPredictor(x, dst, workers, true)
}

// lgPlogis replaces each eta in v by 1/(1+exp(-eta)), as R's plogis (no
// clamping). Cost: one exp per value.
func lgPlogis(v []float64) {
	for i, e := range v {
		if e >= 0 {
			v[i] = 1 / (1 + math.Exp(-e))
		} else {
			t := math.Exp(e)
			v[i] = t / (1 + t)
		}
	}
}
