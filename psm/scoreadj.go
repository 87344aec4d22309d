package psm

import (
	"cmp"
	"math"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/mat"
)

// ScoreAdjustOptions configures NewScoreAdjuster. The zero value is the
// documented default.
type ScoreAdjustOptions struct {
	// K is the number of nearest units of the other group whose mean
	// outcome imputes each unit's missing potential outcome in the
	// derivative term d (ties at exactly the K-th distance are averaged,
	// as Match's default rule). Use the K of the matching; default (0) 1.
	K int
	// L is the number of nearest units of the same group (by score, the
	// unit itself left out) from which the conditional covariances
	// Cov(X, Y | p, W = w) are estimated; default (0) 2, Stata's
	// vce(robust, nn(2)) default. L must be at least 2.
	L int
	// Include, when not nil (one flag per row), restricts the sums that
	// make c and d to the flagged units, for the ATT of a subgroup: N_1 is
	// then its number of treated units (see NewScoreAdjuster). Neighbours
	// are still searched among all units. Default nil: all units.
	Include []bool
	// Strata, when not nil (one code per row), restricts every
	// neighbour search to the row's stratum, as exact matching within
	// strata (UnitOptions.Strata) does, and the sums that make c and d
	// (and N_1) to the rows of strata that hold both treated and control
	// rows (no other row can be matched). Within a stratum the covariance
	// of group w is taken over min(L, m) neighbours when only m < L rows of
	// group w besides the row itself are there, and is 0 when m < 2; the
	// imputation uses min(K, m) rows of the other group. Default nil: one
	// stratum, whose groups must hold L+1 and K rows.
	Strata []int32
	// NoDerivativeTerm leaves the term d̂' Cov d̂ out of Var (it is still
	// reported in DTerm): Var = SE_AI² − ĉ' Cov ĉ. In the Monte Carlo of
	// docs/ai2016.md the variance of matching on the estimated score is
	// that of matching on the true score minus c'I⁻¹c, with no sign of the
	// derivative term (which is there, on the same designs, 0.7 times the
	// size of the whole adjustment). Default false: the formula of
	// Abadie and Imbens (2016) as documented by Stata.
	NoDerivativeTerm bool
	// PlugIn uses the quadratic forms ĉ'Cov ĉ and d̂'Cov d̂ as they are,
	// without subtracting their noise (ScoreAdjustResult.CNoise and
	// DNoise): the plain plug-in formula. Default false: the
	// noise-corrected terms (see NewScoreAdjuster).
	PlugIn bool
}

// ScoreAdjustResult is the Abadie–Imbens (2016) variance of the ATT for
// matching on an estimated logit score.
type ScoreAdjustResult struct {
	// SE = sqrt(Var); NaN when Var < 0 (the estimated correction exceeds
	// the Abadie–Imbens variance, possible in small samples).
	SE float64
	// Var = VarAI - max(0, CTerm - CNoise) + max(0, DTerm - DNoise);
	// without the last term with ScoreAdjustOptions.NoDerivativeTerm, and
	// with CNoise = DNoise = 0 with ScoreAdjustOptions.PlugIn.
	Var float64
	// VarAI = ATTResult.SE^2, the variance for a known score.
	VarAI float64
	// CTerm = ĉ' Cov ĉ and DTerm = d̂' Cov d̂, with Cov the logit's vcov:
	// the plug-in quadratic forms.
	CTerm, DTerm float64
	// CNoise and DNoise estimate the part of CTerm and DTerm that is
	// the outcome noise in ĉ and d̂ (see NewScoreAdjuster).
	CNoise, DNoise float64
	// C and D are the estimates ĉ and d̂, one entry per non-aliased term
	// of the logit (the intercept first when it has one); CrossTerm is
	// c' Cov d.
	C, D      []float64
	CrossTerm float64
}

// ScoreAdjuster computes the Abadie and Imbens (2016) adjustment of the
// Abadie–Imbens variance of the ATT for the estimation of the propensity
// score by a logit, for many outcomes of one design (see
// NewScoreAdjuster). It is safe for concurrent use once built.
type ScoreAdjuster struct {
	n, q  int
	terms []int     // the non-aliased terms of the logit
	cov   []float64 // q×q vcov of those terms
	g     []float64 // n×q: c = sum_j g_j y_j
	h     []float64 // n×q: d = sum_j h_j y_j - ATT s
	s     []float64 // q
	used  []bool    // y_j is read
	n1    float64
	noD   bool
	plain bool // ScoreAdjustOptions.PlugIn

	// The noise terms: kc[j] = g_j'Cov g_j and kd[j] = h_j'Cov h_j, and
	// nn[j] the row of j's group and stratum nearest to it in score (-1
	// when there is none), whose outcome estimates the variance of y_j.
	kc, kd []float64
	nn     []int32
	// usedRows lists the rows j with used[j], ascending.
	usedRows []int32
}

// NewScoreAdjuster prepares the Abadie and Imbens (2016) variance of the
// ATT of nearest-neighbour matching with replacement on the score
// p = F(x̃'θ̂), F the logistic function, x̃ = (1, x) the design of fit (the
// intercept when fit has one), θ̂ the logit's estimate. x holds the
// covariates of every unit, one row per unit as given to FitLogit (the
// same columns, without the intercept); treated flags the treated rows;
// fit is the logit fitted on them (its Cov, and Coef for the scores). The
// units are unweighted: N is the number of rows, N_1 the number of
// treated rows (those with Include set).
//
// Abadie and Imbens (2016, Econometrica 84(2), Theorem 2) show that
// √N(τ̂_t − τ_t) is normal with variance
//
//	σ_t² − c_t' I⁻¹ c_t + (∂τ_t/∂θ)' I⁻¹ (∂τ_t/∂θ),
//
// where σ_t² is the variance for a known score (Abadie and Imbens 2006,
// the ATT's SE² times N), I the Fisher information of the logit,
//
//	c_t     = E[ f(x̃'θ) ( Cov(X, μ(1,X) | p) + p/(1−p) Cov(X, μ(0,X) | p) ) ] / E[p]
//	∂τ_t/∂θ = E[ f(x̃'θ) X ( μ̄(1,p) − μ̄(0,p) − τ_t ) ] / E[p]
//
// with f = F' = p(1−p) for the logit, μ(w,x) = E[Y(w) | X = x] and
// μ̄(w,p) = E[Y | W = w, p(X) = p]. On the scale of τ̂ (dividing by N) and
// with N·I⁻¹ estimated by the logit's covariance matrix Cov = (X̃'ŴX̃)⁻¹,
// the estimated variance is
//
//	Var = SE_AI² − ĉ' Cov ĉ + d̂' Cov d̂
//	ĉ   = (1/N_1) Σ_i [ f_i Ĉov_1(i) + p_i² Ĉov_0(i) ]      (f_i p_i/(1−p_i) = p_i²)
//	d̂   = (1/N_1) Σ_i f_i x̃_i ( Ŷ_i(1) − Ŷ_i(0) − τ̂ )
//
// summed over all units i (treated and controls), where Ĉov_w(i) is the
// sample covariance (divisor L−1) of x̃ and y over the L units of group w
// nearest to i in score (i itself left out when it belongs to w), the
// matching estimate of Cov(X, μ(w,X) | p_i) the paper proposes; the
// imputed Ŷ_i(W_i) = y_i and Ŷ_i(1−W_i) is the mean outcome of the K
// nearest units of the other group (ties averaged), so d̂ uses the
// controls' effects too; τ̂ is the ATT's estimate. The intercept's entry of
// ĉ is 0. Aliased terms of fit (NaN in Cov) are left out. Neighbours are
// found on p itself, ties at equal distance broken towards the lower
// score, then the lower row. The term −c'I⁻¹c is never positive
// (c'I⁻¹c ≥ 0) and d'I⁻¹d never negative, so, unlike for the ATE (where
// the adjustment is −c'I⁻¹c ≤ 0), the adjusted variance of the ATT may be
// larger or smaller than the unadjusted one, depending on the design.
//
// Checked by Monte Carlo against matching on the true score
// (docs/ai2016.md): with a constant effect the mean adjustment equals the
// Monte Carlo difference to 1 % and the adjusted 95 % interval covers
// 96 %; with an effect that varies with the score, the Monte Carlo
// difference is −c'I⁻¹c alone, without the derivative term (see
// ScoreAdjustOptions.NoDerivativeTerm), so the default adjusted variance
// is conservative there.
//
// The theorem covers matching with replacement of all treated units on
// the score, without caliper, trimming or strata. Exact matching within
// strata is matching on (stratum, score): give the strata (Strata) and
// every neighbour is found within the row's stratum, so that the
// conditional covariances are those given the stratum and the score (a
// covariate constant within strata, such as a stratum's dummy, then
// has none) and a stratum without treated or without controls adds
// nothing. With a caliper, trimming or Include (a subgroup) the same
// plug-in formula is applied as an approximation. R's Matching has no such adjustment; Stata's teffects
// psmatch reports it for the ATET, with its own heteroskedasticity-robust
// σ_t² (vce(robust, nn(L))) instead of the homoskedastic one of ATT.
//
// The noise of the plug-in. ĉ and d̂ are linear in y: ĉ = Σ_j g_j y_j
// and d̂ = Σ_j h_j y_j − τ̂ s, with τ̂ = Σ_j t_j y_j the ATT of the
// imputation's matching. The outcome noise ε_j = y_j − μ(w_j, x_j) makes
// the quadratic forms too large on average:
//
//	E[ĉ'Cov ĉ | X] = c_μ'Cov c_μ + Σ_j σ_j² g_j'Cov g_j
//
// (c_μ the ĉ of the noise-free outcomes; the same for d̂ with h_j − t_j s
// in place of g_j). With many covariates the second sum is not small
// (it grows with their number while c does not): in a seed of the SFI
// design at scale 0.1 it was 80-100 % of ĉ'Cov ĉ from month 2 on for the
// employment outcomes (docs/ai2016.md). Adjust estimates it,
// CNoise = Σ_j s_j² g_j'Cov g_j and DNoise likewise, with
// s_j² = (y_j − y_k)²/2 and k the row of j's group and stratum nearest
// to j in score (Abadie and Imbens' 2006 matching estimator of σ_j² with
// one neighbour), and uses max(0, CTerm − CNoise) and max(0, DTerm −
// DNoise) in Var. s_j² estimates Var(Y | p, W) ≥ Var(Y | X, W), so the
// correction errs towards the unadjusted variance when the outcome
// depends on covariates beyond the score.
//
// Because ĉ and d̂ are linear in y, NewScoreAdjuster stores their
// coefficients and each Adjust costs O(N q) for q terms. Cost here:
// O(N log N) for sorting the scores plus O(N (L + K) q) for the
// neighbour sets and O(N q²) for the noise coefficients; memory 2 N q
// floats, plus a float64 copy of x (N p floats) when x is not a
// *mat.Dense.
//
// Errors (*InputError, ErrBadOption): nil x or fit, a fit without
// Cov, lengths that do not agree, K < 0 or L = 1 or L < 0, a group with
// fewer than L + 1 units or fewer than K units, a non-finite score.
func NewScoreAdjuster(x mat.Matrix, treated []bool, fit *Logit, opts *ScoreAdjustOptions) (*ScoreAdjuster, error) {
	var o ScoreAdjustOptions
	if opts != nil {
		o = *opts
	}
	if nilMatrix(x) || fit == nil {
		return nil, optionError("x", "the covariates and the fitted logit are required")
	}
	if fit.Cov == nil {
		return nil, optionError("fit", "the logit has no covariance matrix")
	}
	n, p := x.Dims()
	off := 0
	if fit.Intercept {
		off = 1
	}
	if p+off != len(fit.Coef) {
		return nil, optionError("x", "%d columns, the logit has %d covariates", p, len(fit.Coef)-off)
	}
	if len(treated) != n {
		return nil, lengthError("treated", len(treated), n, "row")
	}
	if o.Include != nil && len(o.Include) != n {
		return nil, lengthError("Include", len(o.Include), n, "row")
	}
	if o.Strata != nil && len(o.Strata) != n {
		return nil, lengthError("Strata", len(o.Strata), n, "row")
	}
	K, L := o.K, o.L
	if K < 0 {
		return nil, optionError("K", "%d; want K >= 1 (0 = default 1)", K)
	}
	if K == 0 {
		K = 1
	}
	if L < 0 || L == 1 {
		return nil, optionError("L", "%d; want L >= 2 (0 = default 2): a covariance needs two units", L)
	}
	if L == 0 {
		L = 2
	}
	a := &ScoreAdjuster{n: n, noD: o.NoDerivativeTerm, plain: o.PlugIn}
	for j := range fit.Coef {
		if !math.IsNaN(fit.Cov.At(j, j)) {
			a.terms = append(a.terms, j)
		}
	}
	q := len(a.terms)
	a.q = q
	a.cov = make([]float64, q*q)
	for r, j := range a.terms {
		for c, k := range a.terms {
			a.cov[r*q+c] = fit.Cov.At(j, k)
		}
	}
	score := fit.Predict(x, nil)
	for i, v := range score {
		if !(v >= 0 && v <= 1) {
			return nil, &InputError{Field: "x", Index: i, Value: v, Msg: "the logit's score of this row is not finite", Err: ErrBadScore}
		}
	}
	// cells[c][w]: the rows of stratum c and group w, sorted by score
	cellOf := make([]int32, n)
	var cells [][2][]int32
	if o.Strata == nil {
		cells = make([][2][]int32, 1)
	} else {
		index := map[int32]int32{}
		for i, st := range o.Strata {
			c, ok := index[st]
			if !ok {
				c = int32(len(cells))
				index[st] = c
				cells = append(cells, [2][]int32{})
			}
			cellOf[i] = c
		}
	}
	for i, t := range treated {
		w := 0
		if t {
			w = 1
		}
		c := &cells[cellOf[i]]
		c[w] = append(c[w], int32(i))
	}
	if o.Strata == nil {
		for w, gr := range cells[0] {
			if len(gr) < L+1 || len(gr) < K {
				name := [2]string{"control", "treated"}[w]
				return nil, optionError("treated", "%d %s rows; want at least L+1 = %d and K = %d", len(gr), name, L+1, K)
			}
		}
	}
	pos := make([]int, n) // position of each row in its cell's group, sorted by score
	for _, c := range cells {
		for _, gr := range c {
			slices.SortStableFunc(gr, func(u, v int32) int { return cmp.Compare(score[u], score[v]) })
			for k, i := range gr {
				pos[i] = k
			}
		}
	}
	counted := func(i int) bool {
		c := &cells[cellOf[i]]
		return (o.Include == nil || o.Include[i]) && len(c[0]) > 0 && len(c[1]) > 0
	}
	for i, t := range treated {
		if t && counted(i) {
			a.n1++
		}
	}
	if a.n1 == 0 {
		return nil, optionError("Include", "no treated row is included")
	}
	// design returns x̃_i restricted to the kept terms in dst.
	raw := denseOf(x).RawMatrix()
	design := func(i int, dst []float64) {
		row := raw.Data[i*raw.Stride : i*raw.Stride+p]
		for r, j := range a.terms {
			if j < off {
				dst[r] = 1
			} else {
				dst[r] = row[j-off]
			}
		}
	}
	a.g = make([]float64, n*q)
	a.h = make([]float64, n*q)
	// tau[j] = ∂τ̂/∂y_j for the ATT of the imputation's matching, so that
	// the noise of d̂ = Σ h_j y_j − τ̂ s is that of Σ (h_j − tau_j s) y_j
	tau := make([]float64, n)
	a.s = make([]float64, q)
	a.used = make([]bool, n)
	xi := make([]float64, q)
	xj := make([]float64, q)
	mean := make([]float64, q)
	for i := 0; i < n; i++ {
		if !counted(i) {
			continue
		}
		groups := &cells[cellOf[i]]
		pi := score[i]
		fi := pi * (1 - pi)
		wi := 0
		if treated[i] {
			wi = 1
		}
		design(i, xi)
		// covariance terms: weight f_i for group 1, p_i^2 for group 0
		for w, gr := range groups {
			coef := pi * pi
			if w == 1 {
				coef = fi
			}
			l := min(L, len(gr))
			if w == wi {
				l = min(L, len(gr)-1)
			}
			if l < 2 {
				continue // no covariance from fewer than two rows
			}
			coef /= float64(l-1) * a.n1
			lo, hi := nearestSame(gr, score, pi, w == wi, pos[i], l)
			clear(mean)
			for k := lo; k < hi; k++ {
				if w == wi && k == pos[i] {
					continue
				}
				design(int(gr[k]), xj)
				for r := range mean {
					mean[r] += xj[r] / float64(l)
				}
			}
			for k := lo; k < hi; k++ {
				if w == wi && k == pos[i] {
					continue
				}
				j := int(gr[k])
				design(j, xj)
				a.used[j] = true
				for r := range mean {
					a.g[j*q+r] += coef * (xj[r] - mean[r])
				}
			}
		}
		// derivative terms: f_i x̃_i (Ŷ_i(1) − Ŷ_i(0)) / N_1, sign +1 for
		// the own outcome of a treated unit and the matches of a control.
		sign := 1.0
		if wi == 0 {
			sign = -1
		}
		for r := range xi {
			v := fi * xi[r] / a.n1
			a.s[r] += v
			a.h[i*q+r] += sign * v
		}
		a.used[i] = true
		other := groups[1-wi]
		lo, hi := nearestOther(other, score, pi, min(K, len(other)))
		m := float64(hi - lo)
		if wi == 1 {
			tau[i] += 1 / a.n1
		}
		for k := lo; k < hi; k++ {
			j := int(other[k])
			a.used[j] = true
			for r := range xi {
				a.h[j*q+r] -= sign * fi * xi[r] / a.n1 / m
			}
			if wi == 1 {
				tau[j] -= 1 / a.n1 / m
			}
		}
	}
	a.noiseTerms(cells, cellOf, pos, score, treated, tau)
	for j, u := range a.used {
		if u {
			a.usedRows = append(a.usedRows, int32(j))
		}
	}
	return a, nil
}

// noiseTerms sets kc, kd and nn for the rows whose outcome a sum reads.
// Cost: O(N q²).
func (a *ScoreAdjuster) noiseTerms(cells [][2][]int32, cellOf []int32, pos []int, score []float64, treated []bool, tau []float64) {
	n, q := a.n, a.q
	a.kc = make([]float64, n)
	a.kd = make([]float64, n)
	a.nn = make([]int32, n)
	hj := make([]float64, q)
	for j := range a.nn {
		a.nn[j] = -1
		if !a.used[j] {
			continue
		}
		a.kc[j] = quadForm(a.cov, a.g[j*q:(j+1)*q], a.g[j*q:(j+1)*q])
		for r := range hj {
			hj[r] = a.h[j*q+r] - tau[j]*a.s[r]
		}
		a.kd[j] = quadForm(a.cov, hj, hj)
		w := 0
		if treated[j] {
			w = 1
		}
		gr, k := cells[cellOf[j]][w], pos[j]
		switch {
		case k > 0 && (k+1 == len(gr) || score[j]-score[gr[k-1]] <= score[gr[k+1]]-score[j]):
			a.nn[j] = gr[k-1]
		case k+1 < len(gr):
			a.nn[j] = gr[k+1]
		}
	}
}

// noise returns CNoise = Σ_j kc_j s_j² and DNoise = Σ_j kd_j s_j² for
// the outcome y, s_j² = (y_j − y_nn(j))²/2. Cost: O(N).
func (a *ScoreAdjuster) noise(y []float64) (cNoise, dNoise float64) {
	for _, j := range a.usedRows {
		k := a.nn[j]
		if k < 0 || math.IsNaN(y[k]) || math.IsInf(y[k], 0) || y[j] == y[k] {
			continue
		}
		e := y[j] - y[k]
		s2 := e * e / 2
		cNoise += a.kc[j] * s2
		dNoise += a.kd[j] * s2
	}
	return cNoise, dNoise
}

// nearestSame returns the range [lo, hi) of positions in gr (sorted by
// score) holding the L units nearest to score t; when self is true,
// position at is the unit itself, which is in the range but not counted.
// Ties go to the lower side.
func nearestSame(gr []int32, score []float64, t float64, self bool, at, L int) (lo, hi int) {
	if self {
		lo, hi = at, at+1
	} else {
		lo, _ = slices.BinarySearchFunc(gr, t, func(u int32, t float64) int { return cmp.Compare(score[u], t) })
		hi = lo
	}
	for k := 0; k < L; k++ {
		switch {
		case lo == 0:
			hi++
		case hi == len(gr):
			lo--
		case t-score[gr[lo-1]] <= score[gr[hi]]-t:
			lo--
		default:
			hi++
		}
	}
	return lo, hi
}

// nearestOther returns the range [lo, hi) of positions in gr (sorted by
// score) of the K units nearest to score t plus those tied with the K-th
// at exactly its distance.
func nearestOther(gr []int32, score []float64, t float64, K int) (lo, hi int) {
	lo, _ = slices.BinarySearchFunc(gr, t, func(u int32, t float64) int { return cmp.Compare(score[u], t) })
	hi = lo
	var dk float64
	for k := 0; k < K; k++ {
		switch {
		case lo == 0:
			dk = score[gr[hi]] - t
			hi++
		case hi == len(gr):
			lo--
			dk = t - score[gr[lo]]
		case t-score[gr[lo-1]] <= score[gr[hi]]-t:
			lo--
			dk = t - score[gr[lo]]
		default:
			dk = score[gr[hi]] - t
			hi++
		}
	}
	for lo > 0 && t-score[gr[lo-1]] <= dk {
		lo--
	}
	for hi < len(gr) && score[gr[hi]]-t <= dk {
		hi++
	}
	return lo, hi
}

// Adjust returns the adjusted variance of the ATT r (ATT or
// ATTEvaluator.ATT on the matching of the same units, with y's values)
// for the outcome y, one value per row of the design given to
// NewScoreAdjuster. Values of rows that no sum reads may be NaN. Cost:
// O(N q + q²).
func (a *ScoreAdjuster) Adjust(y []float64, r ATTResult) (ScoreAdjustResult, error) {
	if len(y) != a.n {
		return ScoreAdjustResult{}, lengthError("y", len(y), a.n, "row")
	}
	q := a.q
	c := make([]float64, q)
	d := make([]float64, q)
	for _, j := range a.usedRows {
		v := y[j]
		if v == 0 { // adds nothing (x + ±0 = x, bit for bit)
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ScoreAdjustResult{}, &InputError{Field: "y", Index: int(j), Value: v, Msg: "outcome is not finite", Err: ErrBadValue}
		}
		floats.AddScaled(c, v, a.g[int(j)*q:int(j+1)*q])
		floats.AddScaled(d, v, a.h[int(j)*q:int(j+1)*q])
	}
	for k := range d {
		d[k] -= r.ATT * a.s[k]
	}
	res := ScoreAdjustResult{VarAI: r.SE * r.SE, CTerm: quadForm(a.cov, c, c), DTerm: quadForm(a.cov, d, d),
		CrossTerm: quadForm(a.cov, c, d), C: c, D: d}
	cAdj, dAdj := res.CTerm, res.DTerm
	if !a.plain {
		res.CNoise, res.DNoise = a.noise(y)
		cAdj, dAdj = max(0, cAdj-res.CNoise), max(0, dAdj-res.DNoise)
	}
	res.Var = res.VarAI - cAdj + dAdj
	if a.noD {
		res.Var = res.VarAI - cAdj
	}
	res.SE = math.NaN()
	if res.Var >= 0 {
		res.SE = math.Sqrt(res.Var)
	}
	return res, nil
}

// quadForm returns u' A v for the q×q matrix A (row major).
func quadForm(A, u, v []float64) float64 {
	q := len(v)
	var s float64
	for r := 0; r < q; r++ {
		var t float64
		for c := 0; c < q; c++ {
			t += A[r*q+c] * v[c]
		}
		s += u[r] * t
	}
	return s
}
