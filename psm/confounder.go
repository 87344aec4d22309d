package psm

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/psmeval/psmeval/internal/pool"
	"github.com/psmeval/psmeval/internal/rng"
)

// ConfounderCells are the probabilities that the simulated confounder U
// is 1 in each cell of treatment T and binary outcome Y:
// P11 = P(U=1 | T=1, Y=1), P10 = P(U=1 | T=1, Y=0), P01 = P(U=1 | T=0,
// Y=1) and P00 = P(U=1 | T=0, Y=0), as the p11 ... p00 of Stata's
// sensatt. U confounds when P01 ≠ P00 (it moves the untreated outcome)
// and P1· ≠ P0· (it moves selection).
type ConfounderCells struct {
	P11, P10, P01, P00 float64
}

// p returns P(U=1 | T=t, Y=y).
func (c ConfounderCells) p(t, y bool) float64 {
	switch {
	case t && y:
		return c.P11
	case t:
		return c.P10
	case y:
		return c.P01
	}
	return c.P00
}

// SimulatedConfounderOptions configures SimulatedConfounder. The zero
// value (or nil) is the default: 1000 draws from seed 0, GOMAXPROCS
// workers, a binary outcome, R's glm defaults and the SFI matching rule.
type SimulatedConfounderOptions struct {
	// Draws is the number of draws of U; default (0) 1000, as sensatt;
	// at least 2.
	Draws int
	// Seed seeds the draws: draw r's U comes from a PCG stream keyed by
	// (Seed, r), the same for any Workers.
	Seed uint64
	// Workers bounds the draws run at once; default (0) GOMAXPROCS.
	Workers int
	// Threshold, when set, defines the outcome cell of a unit as
	// Y = 1{y > *Threshold} (sensatt's ycent for a continuous outcome);
	// default nil: y must be 0 or 1.
	Threshold *float64
	// Weights are frequency weights of the units in both logits (the
	// propensity model and the outcome model among the controls), nil
	// meaning 1; a unit with weight 0 is left out of the models and is
	// not matched (as a unit outside the strata that hold both groups).
	Weights []float64
	// Logit configures the propensity model re-fitted with U in each
	// draw (its Workers, Start and DropSeparated are set by
	// SimulatedConfounder: one worker per fit, a start at the fit
	// without U, and perfect prediction taken out as Stata does).
	Logit LogitOptions
	// Match is the matching rule of every draw (weights and strata
	// included, indexed as the treated and the controls in unit order).
	// Units that a draw's logit leaves out for perfect prediction are not
	// matched in that draw.
	Match MatchOptions
}

// SimulatedConfounderResult is the ATT under a simulated confounder.
type SimulatedConfounderResult struct {
	Cells ConfounderCells
	// ATT is the mean over the draws of the ATT estimated with U in the
	// propensity model.
	ATT float64
	// SE combines the draws as multiple imputations (Rubin's rules, as
	// sensatt): SE² = WithinSE² + (1 + 1/R) BetweenSD², with WithinSE² the
	// mean of the draws' squared Abadie-Imbens standard errors and
	// BetweenSD² the variance (divisor R − 1) of their ATTs.
	SE, WithinSE, BetweenSD float64
	// OutcomeOddsRatio (sensatt's Γ) is the mean over the draws of
	// exp(coefficient of U) in the logit of the outcome cell Y on U and
	// the covariates among the controls: U's effect on the untreated
	// outcome. SelectionOddsRatio (Λ) is the mean of exp(coefficient of
	// U) in the propensity model: U's effect on selection. Draws in which
	// the model left U out (aliased or dropped for perfect prediction)
	// do not enter the means; NaN when none is left.
	OutcomeOddsRatio, SelectionOddsRatio float64
	// Draws[r] is draw r's ATT; DrawSE[r] its standard error.
	Draws, DrawSE []float64
}

// Stream id of SimulatedConfounder's per-draw PCG generators.
const confounderStream uint64 = 0x636f6e666f756e64 // "confound"

// SimulatedConfounder estimates the ATT of outcome y under a simulated
// binary confounder U (Ichino, Mealli and Nannicini 2008, "From temporary
// help jobs to permanent employment: what can we learn from matching
// estimators and their sensitivity?", J. Appl. Econometrics 23:305-327;
// Stata's sensatt, Nannicini 2007). x holds the covariates of the
// propensity model (one row per unit, names their names), treated the
// treatment (0 or 1) and y the outcome of every unit.
//
// In each of opts.Draws draws, every unit gets U = 1 with probability
// cells.p(T, Y) (Y the outcome cell, y itself or 1{y > Threshold}); the
// logit of the treatment on the covariates and U is fitted (FitLogit,
// perfect prediction taken out as LogitOptions.DropSeparated does),
// treated are matched to controls on the fitted scores with opts.Match,
// and the ATT of y and its Abadie-Imbens standard error are computed
// (Match and ATT). The draws are combined by Rubin's rules. A U whose
// cells are those of a real unobserved confounder moves the estimate
// toward the one that conditions on it (most of the way in the package's
// test); the question the method answers is how strong U must be
// (OutcomeOddsRatio, SelectionOddsRatio) to explain the effect away.
//
// Draw r depends on (Seed, r) and the order of the units, whose row is
// their identity here (as in R's sample): the results are bit-identical
// for any Workers, and change with a reordering of the rows. Cost per draw: two logit fits on n rows
// and p + 1 columns (warm-started), one Match and one ATT; memory: one
// n × (p+1) matrix per worker. Errors: *InputError values for bad
// arguments or options, any error of FitLogit, Match or ATT with the draw
// named, ctx's error when cancelled.
func SimulatedConfounder(ctx context.Context, x mat.Matrix, names []string, treated, y []float64, cells ConfounderCells, opts *SimulatedConfounderOptions) (*SimulatedConfounderResult, error) {
	var o SimulatedConfounderOptions
	if opts != nil {
		o = *opts
	}
	if o.Draws == 0 {
		o.Draws = 1000
	}
	if o.Draws < 2 {
		return nil, optionError("Draws", "%d draws; want at least 2", o.Draws)
	}
	if o.Workers < 0 {
		return nil, optionError("Workers", "%d; want >= 0 (0 = GOMAXPROCS)", o.Workers)
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	for _, c := range []struct {
		name string
		v    float64
	}{{"P11", cells.P11}, {"P10", cells.P10}, {"P01", cells.P01}, {"P00", cells.P00}} {
		if !(c.v >= 0 && c.v <= 1) {
			return nil, optionError("cells."+c.name, "%v; want a probability in [0, 1]", c.v)
		}
	}
	if nilMatrix(x) {
		return nil, optionError("x", "nil covariate matrix")
	}
	n, p := x.Dims()
	if len(treated) != n {
		return nil, optionError("treated", "%d values for %d rows of x", len(treated), n)
	}
	if len(y) != n {
		return nil, optionError("y", "%d values for %d rows of x", len(y), n)
	}
	if names == nil {
		names = make([]string, p)
		for j := range names {
			names[j] = fmt.Sprintf("x%d", j+1)
		}
	}
	if len(names) != p {
		return nil, optionError("names", "%d names for %d columns of x", len(names), p)
	}
	ycell := make([]float64, n)
	for i, v := range y {
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			return nil, &InputError{Field: "y", Index: i, Value: v, Msg: "want a finite outcome", Err: ErrBadValue}
		case o.Threshold != nil:
			if v > *o.Threshold {
				ycell[i] = 1
			}
		case v == 0 || v == 1:
			ycell[i] = v
		default:
			return nil, &InputError{Field: "y", Index: i, Value: v, Msg: "the outcome must be 0 or 1 (or set Threshold)", Err: ErrBadValue}
		}
	}
	for i, t := range treated {
		if t != 0 && t != 1 {
			return nil, &InputError{Field: "treated", Index: i, Value: t, Msg: "want 0 or 1", Err: ErrNotBinary}
		}
	}
	nt := 0
	for _, t := range treated {
		nt += int(t)
	}
	if w := o.Match.TreatedWeights; w != nil && len(w) != nt {
		return nil, lengthError("TreatedWeights", len(w), nt, "treated")
	}
	if w := o.Match.ControlWeights; w != nil && len(w) != n-nt {
		return nil, lengthError("ControlWeights", len(w), n-nt, "control")
	}
	// The fit without U: its coefficients start every draw's fit.
	if o.Weights != nil && len(o.Weights) != n {
		return nil, optionError("Weights", "%d weights for %d rows of x", len(o.Weights), n)
	}
	bo := o.Logit
	bo.DropSeparated = true
	base, err := FitLogit(ctx, x, treated, o.Weights, names, &bo)
	if err != nil {
		return nil, err
	}
	var start []float64 // a warm start when the fit kept every column
	if len(base.Dropped) == 0 {
		start = append(append([]float64{}, base.Coef...), 0)
		for j, v := range start {
			if math.IsNaN(v) {
				start[j] = 0
			}
		}
	}
	wc := make([]float64, n) // the controls, for the outcome model
	for i, t := range treated {
		wc[i] = 1 - t
		if o.Weights != nil {
			wc[i] *= o.Weights[i]
		}
	}
	anames := append(append([]string{}, names...), "U")

	res := &SimulatedConfounderResult{Cells: cells, Draws: make([]float64, o.Draws), DrawSE: make([]float64, o.Draws)}
	gamma := make([]float64, o.Draws)
	lambda := make([]float64, o.Draws)
	newX := func() *mat.Dense { // one worker's covariates with U last
		xa := mat.NewDense(n, p+1, nil)
		xr := newLgX(x)
		var rb lgXBuf
		for lo := 0; lo < n; lo += lgSub {
			hi := min(lo+lgSub, n)
			xb, st := xr.view(&rb, lo, hi)
			for i := lo; i < hi; i++ {
				copy(xa.RawRowView(i)[:p], xb[(i-lo)*st:(i-lo)*st+p])
			}
		}
		return xa
	}
	err = pool.Run(ctx, o.Workers, o.Draws, newX, func(xa *mat.Dense, r int) error {
		g := rand.NewPCG(rng.ReplicateKey(o.Seed, r), confounderStream)
		for i := 0; i < n; i++ {
			u := 0.0
			if float64(g.Uint64()>>11)*0x1p-53 < cells.p(treated[i] == 1, ycell[i] == 1) {
				u = 1
			}
			xa.Set(i, p, u)
		}
		return confounderDraw(ctx, xa, anames, treated, y, ycell, wc, start, &o, r, res, gamma, lambda)
	}, nil)
	if err != nil {
		return nil, err
	}
	R := float64(o.Draws)
	var mean, w2 float64
	for r, v := range res.Draws {
		mean += v
		w2 += res.DrawSE[r] * res.DrawSE[r]
	}
	mean /= R
	w2 /= R
	var b2 float64
	for _, v := range res.Draws {
		b2 += (v - mean) * (v - mean)
	}
	b2 /= R - 1
	res.ATT, res.WithinSE, res.BetweenSD = mean, math.Sqrt(w2), math.Sqrt(b2)
	res.SE = math.Sqrt(w2 + (1+1/R)*b2)
	res.OutcomeOddsRatio, res.SelectionOddsRatio = finiteMean(gamma), finiteMean(lambda)
	return res, nil
}

// confounderDraw fits, matches and estimates draw r with U in the last
// column of xa.
func confounderDraw(ctx context.Context, xa *mat.Dense, names []string, treated, y, ycell, wc, start []float64, o *SimulatedConfounderOptions, r int, res *SimulatedConfounderResult, gamma, lambda []float64) error {
	fit, a, err := confounderATT(ctx, xa, names, treated, y, start, 1, o)
	if err != nil {
		return fmt.Errorf("simulated confounder draw %d: %w", r, err)
	}
	lambda[r] = uOddsRatio(fit)
	res.Draws[r], res.DrawSE[r] = a.ATT, a.SE
	oo := LogitOptions{Workers: 1, DropSeparated: true}
	of, err := FitLogit(ctx, xa, ycell, wc, names, &oo)
	if err != nil {
		gamma[r] = math.NaN() // no outcome model among the controls (e.g. U or a covariate separates Y)
		return nil
	}
	gamma[r] = uOddsRatio(of)
	return nil
}

// confounderATT is the pipeline of one estimate on covariates x: the
// propensity model (o.Logit with o.Weights, perfect prediction taken out,
// warm start start, workers goroutines), the matching of its scores with
// o.Match (units the fit left out or with weight 0 are not matched, as
// units of no common support) and the ATT of y.
func confounderATT(ctx context.Context, x mat.Matrix, names []string, treated, y, start []float64, workers int, o *SimulatedConfounderOptions) (*LogitFit, ATTResult, error) {
	lo := o.Logit
	lo.Workers, lo.Start, lo.DropSeparated = workers, start, true
	fit, err := FitLogit(ctx, x, treated, o.Weights, names, &lo)
	if err != nil {
		return nil, ATTResult{}, fmt.Errorf("propensity model: %w", err)
	}
	sc := fit.Scores(nil)
	out := make(map[int]bool, len(fit.Excluded))
	for _, i := range fit.Excluded {
		out[i] = true
	}
	mo := o.Match
	var st, scn, yt, yc, wt, wcn []float64
	var kt, kc int
	for i, t := range treated {
		w := 1.0
		if out[i] || (o.Weights != nil && o.Weights[i] == 0) {
			w = 0
		}
		if t == 1 {
			if mo.TreatedWeights != nil {
				w *= mo.TreatedWeights[kt]
			}
			st, yt, wt = append(st, sc[i]), append(yt, y[i]), append(wt, w)
			kt++
		} else {
			if mo.ControlWeights != nil {
				w *= mo.ControlWeights[kc]
			}
			scn, yc, wcn = append(scn, sc[i]), append(yc, y[i]), append(wcn, w)
			kc++
		}
	}
	if len(out) > 0 || o.Weights != nil || mo.TreatedWeights != nil || mo.ControlWeights != nil {
		mo.TreatedWeights, mo.ControlWeights = wt, wcn
	}
	m, err := Match(st, scn, &mo)
	if err != nil {
		return nil, ATTResult{}, err
	}
	a, err := ATT(yt, yc, m, nil)
	return fit, a, err
}

// uOddsRatio is exp(coefficient of U, the last term) of a fit, NaN when
// U was dropped or aliased.
func uOddsRatio(f *LogitFit) float64 {
	if f.Covariates[len(f.Covariates)-1] != "U" {
		return math.NaN()
	}
	return math.Exp(f.Coef[len(f.Coef)-1])
}

// finiteMean is the mean of the finite values of v, NaN when none is.
func finiteMean(v []float64) float64 {
	s, k := 0.0, 0
	for _, x := range v {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			s += x
			k++
		}
	}
	if k == 0 {
		return math.NaN()
	}
	return s / float64(k)
}

// ConfounderSearchOptions configures SearchConfounder. The zero value is
// the default.
type ConfounderSearchOptions struct {
	// Base is P00, the probability of U = 1 among the untreated with
	// Y = 0; default (0) 0.2.
	Base float64
	// Steps are the outcome effects d = P01 − P00 and the selection
	// effects s = P1y − P0y tried; default (nil) 0.1, 0.2, 0.3, 0.4, 0.5.
	Steps []float64
	// Level is the confidence level at which the effect counts as
	// explained away; default (0) 0.95.
	Level float64
	// Confounder configures each SimulatedConfounder (choose fewer
	// Draws than its default 1000: the grid has len(Steps)² points).
	Confounder SimulatedConfounderOptions
}

// ConfounderSearch is the result of SearchConfounder.
type ConfounderSearch struct {
	// ATT and SE are the estimate without U (the draws' pipeline on the
	// covariates as given); Significant says whether its interval at
	// Level excludes 0.
	ATT, SE     float64
	Significant bool
	// D and S are the outcome and selection effect of each grid point,
	// Results its estimate under U, in the order tried: by d + s, then d.
	D, S    []float64
	Results []*SimulatedConfounderResult
	// Killer is the index of the first grid point whose confounder
	// explains the effect away (its interval at Level covers 0, or its
	// ATT has the other sign than without U), −1 when none does or the
	// effect without U is not significant (nothing to explain away).
	Killer int
}

// SearchConfounder looks for a simulated confounder that explains the
// effect away (the "killer confounder" of Ichino, Mealli and Nannicini
// 2008, section 4): on a grid of outcome effects d and selection effects
// s it runs SimulatedConfounder with the cells
//
//	P00 = Base,  P01 = Base + d,  P10 = Base + s,  P11 = Base + d + s
//
// (points with a probability above 1 are skipped), in the order of
// d + s, then d, and reports the first point at which the ATT's interval
// covers 0 or the ATT changes sign. The odds ratios of each result
// (OutcomeOddsRatio, SelectionOddsRatio) say how strong that confounder
// is, to be judged against the observed covariates' own associations.
// Arguments and errors as SimulatedConfounder. Cost: len(Steps)² times
// that of SimulatedConfounder, plus one fit without U.
func SearchConfounder(ctx context.Context, x mat.Matrix, names []string, treated, y []float64, opts *ConfounderSearchOptions) (*ConfounderSearch, error) {
	var o ConfounderSearchOptions
	if opts != nil {
		o = *opts
	}
	if o.Base == 0 {
		o.Base = 0.2
	}
	if o.Steps == nil {
		o.Steps = []float64{0.1, 0.2, 0.3, 0.4, 0.5}
	}
	if o.Level == 0 {
		o.Level = 0.95
	}
	if !(o.Base > 0 && o.Base < 1) {
		return nil, optionError("Base", "%v; want a probability in (0, 1)", o.Base)
	}
	if !(o.Level > 0 && o.Level < 1) {
		return nil, optionError("Level", "%v; want 0 < Level < 1", o.Level)
	}
	for i, v := range o.Steps {
		if !(v >= 0 && v <= 1) {
			return nil, optionError("Steps", "step %d is %v; want a difference of probabilities in [0, 1]", i, v)
		}
	}
	// the estimate without U, by the pipeline of every draw
	_, a, err := confounderATT(ctx, x, names, treated, y, nil, o.Confounder.Workers, &o.Confounder)
	if err != nil {
		return nil, err
	}
	z := distuv.UnitNormal.Quantile(0.5 + o.Level/2)
	res := &ConfounderSearch{ATT: a.ATT, SE: a.SE, Significant: math.Abs(a.ATT) > z*a.SE, Killer: -1}
	type point struct{ d, s float64 }
	var grid []point
	for _, d := range o.Steps {
		for _, s := range o.Steps {
			if o.Base+d+s <= 1 {
				grid = append(grid, point{d, s})
			}
		}
	}
	slices.SortStableFunc(grid, func(a, b point) int {
		if c := cmp.Compare(a.d+a.s, b.d+b.s); c != 0 {
			return c
		}
		return cmp.Compare(a.d, b.d)
	})
	for _, g := range grid {
		cells := ConfounderCells{P11: o.Base + g.d + g.s, P10: o.Base + g.s, P01: o.Base + g.d, P00: o.Base}
		r, err := SimulatedConfounder(ctx, x, names, treated, y, cells, &o.Confounder)
		if err != nil {
			return nil, err
		}
		res.D, res.S, res.Results = append(res.D, g.d), append(res.S, g.s), append(res.Results, r)
		if res.Significant && res.Killer < 0 && (math.Abs(r.ATT) <= z*r.SE || r.ATT*res.ATT < 0) {
			res.Killer = len(res.Results) - 1
		}
	}
	return res, nil
}
