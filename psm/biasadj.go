package psm

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// rMatchingTolerance is the default of R Matching::Match's tolerance
// argument, sqrt(.Machine$double.eps): the bias-adjustment regression
// gets a ridge when the smallest eigenvalue of its weighted Gram matrix
// is at most this, and the ridge is this times the largest column sd.
var rMatchingTolerance = math.Sqrt(0x1p-52)

// BiasAdjustOptions configures BiasAdjustedATT. The zero value is the
// documented default.
type BiasAdjustOptions struct {
	// MatchingCaliperQuirk: see ATTOptions (default false).
	MatchingCaliperQuirk bool
	// Names names the columns of Z in errors; nil means "column k".
	Names []string
	// Tolerance is R Match's tolerance argument, the singularity threshold
	// of the adjustment regression (see BiasAdjustedATT); 0 means
	// sqrt(2^-52) ≈ 1.49e-8, Match's default.
	Tolerance float64
}

// BiasAdjustResult is the bias-corrected ATT and its standard error.
type BiasAdjustResult struct {
	// ATTResult holds the bias-corrected estimate in ATT and its
	// Abadie–Imbens standard error in SE (R's se with BiasAdjust).
	// SEStandard is the naive standard error of the adjusted pairs (R's
	// se.standard is that of the unadjusted pairs, ATT's SEStandard).
	// TreatedMean is the weighted mean outcome of the matched treated and
	// ControlMean = TreatedMean - ATT, the adjusted mean of their matched
	// controls.
	ATTResult
	// Unadjusted is the plain matching estimate (ATT's ATT).
	Unadjusted float64
	// Intercept and Coef are the coefficients of mu_0(z) = Intercept +
	// z·Coef fitted on the matched controls (Coef[k] for column k of Z).
	Intercept float64
	Coef      []float64
	// Ridge is the value added to the diagonal of the regression's Gram
	// matrix because it was (numerically) singular; 0 otherwise.
	Ridge float64
	// PseudoInverse reports that the (ridged) Gram matrix was still
	// computationally singular and its Moore–Penrose inverse was used.
	PseudoInverse bool
}

// BiasAdjustedATT estimates the bias-corrected matching estimator of the
// average treatment effect on the treated (Abadie and Imbens 2011) and
// its Abadie–Imbens standard error. yTreated, yControl and the rows of
// zTreated, zControl (one row per unit, one column per covariate) are in
// the order given to Match; only matched treated units and controls in
// their sets are read (other values may be NaN).
//
// With K_j the match count of control j (Matching.ControlWeight: sum
// over matched treated i of t_i w_j / W_i, see ATT), mu_0(z) = a + z·b
// is the least-squares regression of y_j on (1, z_j) over the matched
// controls, weighted by K_j. Each match is adjusted for the covariate
// difference between the treated unit and its control,
//
//	ATT_BC = sum_i t_i [ y_i - sum_{j in S_i} (w_j/W_i) (y_j + (z_i - z_j)·b) ] / N_1,
//
// which is ATT of the outcomes u = y - z·b. Its standard error is ATT's
// Abadie–Imbens SE (Var.calc = 0) of u, b held fixed: with
// tau_i = u_i - sum_{j in S_i} (w_j/W_i) u_j (the adjusted individual
// effect) and K_j, KK_j as in ATT,
//
//	sigma^2 = sum_i t_i/W_i sum_{j in S_i} w_j (u_i - u_j - ATT_BC)^2 / (2 N_1)
//	SE^2    = [ sigma^2 sum_j (K_j^2 - KK_j)/w_j + sum_i t_i (tau_i - ATT_BC)^2 ] / N_1^2
//
// (u_i - u_j = y_i - y_j - (z_i - z_j)·b is R's adjusted pair effect
// Tau.i). This is R Matching::Match(Y, Tr, X, Z, estimand = "ATT", M,
// BiasAdjust = TRUE, ties = TRUE, replace = TRUE)$est and $se
// (RmatchLoop in Matching.R); with frequency weights, R's on the data
// with each row copied w times (as for ATT). See ATTOptions for treated
// units dropped by a caliper. Match turns the adjustment off with a
// warning when there are fewer (weighted) matched treated than columns
// of Z; BiasAdjustedATT returns an error naming "Z" instead.
//
// The regression is computed as Match does. Let X be the N×(1+p) matrix
// of rows sqrt(K_j)(1, z_j) (zero rows for the treated and the unused
// controls; N is the number of units given to Match, a unit with
// frequency weight w counting as w rows and treated units with
// StatusAbsent as none) and G = X'X. If the smallest eigenvalue of G is
// at most Tolerance, the ridge Tolerance × max_k sd(X[,k]) (sd over the
// N rows, divisor N-1) is added to every diagonal entry of G, intercept
// included, silently. Then (a, b) = G^-1 X'(sqrt(K) y). When G (with its
// ridge) is computationally singular (reciprocal 1-norm condition number
// below 2^-52, as R's solve), its Moore–Penrose inverse is used
// (MASS::ginv: singular values below sqrt(2^-52) times the largest are
// dropped), where R warns "using generalized inverse". Ridge and
// PseudoInverse report what happened.
//
// Singular Z: the ridge is tiny against G for covariates of moderate
// scale, so the result is then the minimum-norm least-squares fit, not
// the fit without the offending columns. A column that is 0 for every
// matched control (a dummy none of them has) gets slope 0 and changes
// nothing; a column constant at c != 0 over the matched controls shares
// the intercept A of the fit without it, slope c·A/(1+c^2), and so
// shifts the estimate by -sum_i t_i (z_i - c) c A/(1+c^2) / N_1 when
// treated units have other values (R does the same). Except for a zero
// column, G^-1 (computed explicitly, as R's solve(G) %*% b does) has
// entries of order 1/ridge along the collinear direction, so rounding is
// amplified and such a fit is fixed to about 1e-5 relative only, in R as
// here (the tested collinear cases agree with R to 1e-9 because the
// arithmetic is the same, which is not guaranteed in general). Collinear
// columns should be left out of Z. Without any collinearity, a
// covariate on a small scale can make the smallest eigenvalue fall below
// Tolerance (sum_j K_j (z_j - mean)^2 of order 1e-8, e.g. values of
// order 1e-5 with a few hundred matched treated); the ridge then shrinks
// its slope, as in R.
//
// Cost: one pass over the matched controls with p^2 work each, O(p^3)
// for the (1+p)-square system, and ATT's cost; NewBiasAdjustEvaluator
// does the regression's outcome-free part once for many outcomes.
func BiasAdjustedATT(yTreated, yControl []float64, zTreated, zControl mat.Matrix, m *Matching, opts *BiasAdjustOptions) (BiasAdjustResult, error) {
	e, err := NewBiasAdjustEvaluator(zTreated, zControl, m, opts)
	if err != nil {
		return BiasAdjustResult{}, err
	}
	return e.ATT(yTreated, yControl)
}

// BiasAdjustEvaluator computes BiasAdjustedATT for many outcomes of one
// matching and one Z (monthly outcomes): the match counts, the inverse of
// the regression's Gram matrix and the ATTEvaluator are prepared once,
// so each ATT call costs O(p) per matched unit plus O(p^2) and the
// ATTEvaluator's call. Not safe for concurrent use; m, zTreated and
// zControl must not change while it is in use.
type BiasAdjustEvaluator struct {
	m   *Matching
	att *ATTEvaluator
	p   int
	// ctrl lists the controls with K_j > 0 (ascending), zc their
	// covariate rows (len(ctrl) × p) and sk the row weights sqrt(K_j/w_j);
	// zt holds the rows of the matched treated (len(treated) × p).
	ctrl      []int32
	zc, zt    []float64
	sk        []float64
	ginv      *mat.Dense
	ridge     float64
	pinv      bool
	xw        []float64 // scratch: one row of X
	b, coef   []float64 // scratch
	yt, yc    []float64 // scratch: adjusted outcomes
	treated   []int     // matched treated
	names     []string
	tolerance float64
}

// NewBiasAdjustEvaluator prepares BiasAdjustedATT for matching m and
// covariates zTreated (one row per treated unit) and zControl (one row
// per control). Errors: wrong dimensions, a NaN or infinite covariate of
// a matched unit (*InputError naming zTreated or zControl, the row
// and the covariate), fewer matched treated than covariates.
func NewBiasAdjustEvaluator(zTreated, zControl mat.Matrix, m *Matching, opts *BiasAdjustOptions) (*BiasAdjustEvaluator, error) {
	var o BiasAdjustOptions
	if opts != nil {
		o = *opts
	}
	if o.Tolerance == 0 {
		o.Tolerance = rMatchingTolerance
	}
	if !(o.Tolerance > 0) || math.IsInf(o.Tolerance, 0) {
		return nil, optionError("Tolerance", "%v; want a finite value > 0 (0 = default)", o.Tolerance)
	}
	if m == nil || m.ix == nil {
		return nil, optionError("m", "nil or empty Matching")
	}
	if isNilZ(zTreated) || isNilZ(zControl) {
		return nil, optionError("Z", "zTreated and zControl are required")
	}
	T, n := len(m.Matched), m.ix.n
	rt, p := zTreated.Dims()
	rc, pc := zControl.Dims()
	if rt != T {
		return nil, optionError("zTreated", "%d rows, want %d (one per treated unit)", rt, T)
	}
	if rc != n {
		return nil, optionError("zControl", "%d rows, want %d (one per control unit)", rc, n)
	}
	if pc != p {
		return nil, optionError("zControl", "%d columns, zTreated has %d", pc, p)
	}
	if o.Names != nil && len(o.Names) != p {
		return nil, optionError("Names", "%d names for %d columns of Z", len(o.Names), p)
	}
	att, err := NewATTEvaluator(m, &ATTOptions{MatchingCaliperQuirk: o.MatchingCaliperQuirk})
	if err != nil {
		return nil, err
	}
	if m.NMatched == 0 {
		return nil, ErrNoMatch
	}
	e := &BiasAdjustEvaluator{m: m, att: att, p: p, names: o.Names, tolerance: o.Tolerance}
	var n1 float64
	for i, ok := range m.Matched {
		if ok {
			e.treated = append(e.treated, i)
			n1 += m.MatchedWeight[i]
		}
	}
	if n1 < float64(p) {
		return nil, optionError("Z", "%d covariates but only %v (weighted) matched treated units: the adjustment regression needs at least as many", p, n1)
	}
	for _, i := range e.treated {
		if err := e.checkRow("zTreated", zTreated, i); err != nil {
			return nil, err
		}
		e.zt = appendZRow(e.zt, zTreated, i, p)
	}
	K := e.matchCounts()
	for j, k := range K {
		if k > 0 {
			if err := e.checkRow("zControl", zControl, j); err != nil {
				return nil, err
			}
			e.ctrl = append(e.ctrl, int32(j))
			e.sk = append(e.sk, math.Sqrt(k/m.controlWeight(j)))
			e.zc = appendZRow(e.zc, zControl, j, p)
		}
	}
	e.xw = make([]float64, p+1)
	e.b = make([]float64, p+1)
	e.coef = make([]float64, p+1)
	e.yt = make([]float64, T)
	e.yc = make([]float64, n)
	for j := range e.yc {
		e.yc[j] = math.NaN()
	}
	e.prepareInverse()
	return e, nil
}

// isNilZ reports whether z is nil or a nil *mat.Dense.
func isNilZ(z mat.Matrix) bool {
	if d, ok := z.(*mat.Dense); ok {
		return d == nil
	}
	return z == nil
}

// appendZRow appends row i of z (p columns) to dst.
func appendZRow(dst []float64, z mat.Matrix, i, p int) []float64 {
	for k := 0; k < p; k++ {
		dst = append(dst, z.At(i, k))
	}
	return dst
}

// controlWeight returns the frequency weight of control j (1 without weights).
func (m *Matching) controlWeight(j int) float64 {
	if m.cw == nil {
		return 1
	}
	return m.cw[j]
}

func (e *BiasAdjustEvaluator) colName(k int) string {
	if e.names != nil {
		return fmt.Sprintf("%q", e.names[k])
	}
	return fmt.Sprintf("column %d", k)
}

func (e *BiasAdjustEvaluator) checkRow(field string, z mat.Matrix, i int) error {
	for k := 0; k < e.p; k++ {
		if v := z.At(i, k); math.IsNaN(v) || math.IsInf(v, 0) {
			what := "treated unit"
			if field == "zControl" {
				what = "control"
			}
			return &InputError{Field: field, Index: i, Value: v,
				Msg: fmt.Sprintf("covariate %s of a matched %s is not finite", e.colName(k), what), Err: ErrBadValue}
		}
	}
	return nil
}

// matchCounts returns K_j = sum over matched treated i of t_i w_j / W_i
// for every control j, from the matching's own sets (so that a Matching
// restricted to some treated units counts only their uses).
func (e *BiasAdjustEvaluator) matchCounts() []float64 {
	m := e.m
	ix := m.ix
	K := make([]float64, ix.n)
	if m.BlockLo == nil {
		for _, i := range e.treated {
			t := m.MatchedWeight[i]
			for k := m.Start[i]; k < m.Start[i+1]; k++ {
				K[m.Control[k]] += t * m.Weight[k]
			}
		}
		return K
	}
	// sum of t_i/W_i over the sets covering each block, then per control
	acc := make([]float64, len(ix.bstart)-1)
	for _, i := range e.treated {
		f := m.MatchedWeight[i] / m.SetWeight[i]
		for b := m.BlockLo[i]; b < m.BlockHi[i]; b++ {
			acc[b] += f
		}
	}
	for b, a := range acc {
		if a == 0 {
			continue
		}
		for _, j := range ix.order[ix.bstart[b]:ix.bstart[b+1]] {
			K[j] = m.controlWeight(int(j)) * a
		}
	}
	return K
}

// prepareInverse forms G = X'X, adds Match's ridge when G is singular
// and stores its inverse (or pseudo-inverse).
func (e *BiasAdjustEvaluator) prepareInverse() {
	m, p := e.m, e.p
	q := p + 1
	G := mat.NewSymDense(q, nil)
	colSum := make([]float64, q)
	var rows float64 // rows of X with positive K (copies)
	for c, j := range e.ctrl {
		w := m.controlWeight(int(j))
		e.row(e.xw, c)
		for a := 0; a < q; a++ {
			for b := a; b < q; b++ {
				G.SetSym(a, b, G.At(a, b)+w*e.xw[a]*e.xw[b])
			}
			colSum[a] += w * e.xw[a]
		}
		rows += w
	}
	var ev mat.EigenSym
	minEig := math.Inf(-1)
	if ev.Factorize(G, false) {
		minEig = ev.Values(nil)[0]
	}
	if minEig <= e.tolerance {
		N := e.units()
		var maxSD float64
		for a := 0; a < q; a++ {
			mean := colSum[a] / N
			// two-pass sum of squares over the N rows: the nonzero
			// rows, then the N - rows zero rows
			var dev float64
			for c, j := range e.ctrl {
				w := m.controlWeight(int(j))
				e.row(e.xw, c)
				d := e.xw[a] - mean
				dev += w * d * d
			}
			dev += (N - rows) * mean * mean
			if sd := math.Sqrt(dev / (N - 1)); sd > maxSD {
				maxSD = sd
			}
		}
		e.ridge = e.tolerance * maxSD
		for a := 0; a < q; a++ {
			G.SetSym(a, a, G.At(a, a)+e.ridge)
		}
	}
	e.ginv = mat.NewDense(q, q, nil)
	if !solveInverse(e.ginv, G) {
		e.pinv = true
		pseudoInverse(e.ginv, G)
	}
}

// units returns N, the number of rows R's Match sees: every treated and
// control unit, a frequency weight w counting as w rows; treated units
// with Status StatusAbsent (weight 0, or outside the group of a Matching
// restricted to some treated) count 0.
func (e *BiasAdjustEvaluator) units() float64 {
	m := e.m
	var N float64
	for i, st := range m.Status {
		switch {
		case st == StatusAbsent:
		case m.tw == nil:
			N++
		default:
			N += m.tw[i]
		}
	}
	if m.cw == nil {
		N += float64(m.ix.n)
	} else {
		for _, w := range m.cw {
			N += w
		}
	}
	return N
}

// row sets dst to the row of X of matched control ctrl[c],
// sqrt(K_j/w_j)·(1, z_j).
func (e *BiasAdjustEvaluator) row(dst []float64, c int) {
	s := e.sk[c]
	dst[0] = s
	for k, z := range e.zc[c*e.p : (c+1)*e.p] {
		dst[k+1] = z * s
	}
}

// solveInverse sets dst to the inverse of a as R's solve(a) does (LU
// with partial pivoting) and reports false when a is computationally
// singular: exactly singular, or the reciprocal 1-norm condition number
// is below 2^-52.
func solveInverse(dst *mat.Dense, a mat.Matrix) bool {
	q, _ := a.Dims()
	lu := mat.DenseCopyOf(a)
	raw := lu.RawMatrix()
	work := make([]float64, 4*q)
	anorm := lapack64.Lange(lapack.MaxColumnSum, raw, work)
	ipiv := make([]int, q)
	if !lapack64.Getrf(raw, ipiv) {
		return false
	}
	rcond := lapack64.Gecon(lapack.MaxColumnSum, raw, anorm, work, make([]int, q))
	if rcond < 0x1p-52 {
		return false
	}
	id := blas64.General{Rows: q, Cols: q, Stride: q, Data: make([]float64, q*q)}
	for i := 0; i < q; i++ {
		id.Data[i*q+i] = 1
	}
	lapack64.Getrs(blas.NoTrans, raw, id, ipiv)
	dst.Copy(mat.NewDense(q, q, id.Data))
	return true
}

// pseudoInverse sets dst to the Moore–Penrose inverse of a as
// MASS::ginv: singular values at most sqrt(2^-52) times the largest are
// treated as 0.
func pseudoInverse(dst *mat.Dense, a mat.Matrix) {
	q, _ := a.Dims()
	var svd mat.SVD
	dst.Zero()
	if !svd.Factorize(a, mat.SVDFull) {
		return
	}
	d := svd.Values(nil)
	var u, v mat.Dense
	svd.UTo(&u)
	svd.VTo(&v)
	tol := math.Sqrt(0x1p-52) * d[0]
	for k, s := range d {
		if !(s > tol) {
			continue
		}
		for r := 0; r < q; r++ {
			for c := 0; c < q; c++ {
				dst.Set(r, c, dst.At(r, c)+v.At(r, k)*u.At(c, k)/s)
			}
		}
	}
}

// ATT returns the bias-corrected estimate and its standard errors for one
// outcome (see BiasAdjustedATT).
func (e *BiasAdjustEvaluator) ATT(yTreated, yControl []float64) (BiasAdjustResult, error) {
	m := e.m
	T := len(m.Matched)
	if len(yTreated) != T {
		return BiasAdjustResult{}, lengthError("yTreated", len(yTreated), T, "treated")
	}
	if len(yControl) != m.ix.n {
		return BiasAdjustResult{}, lengthError("yControl", len(yControl), m.ix.n, "control")
	}
	plain, err := e.att.ATT(yTreated, yControl)
	if err != nil {
		return BiasAdjustResult{}, err
	}
	// X'(sqrt(K) y), with the rows of X as in prepareInverse
	q := e.p + 1
	clear(e.b)
	for c, j := range e.ctrl {
		w := m.controlWeight(int(j))
		e.row(e.xw, c)
		ys := yControl[j] * e.sk[c]
		for a := 0; a < q; a++ {
			e.b[a] += w * e.xw[a] * ys
		}
	}
	for a := 0; a < q; a++ {
		var s float64
		for c := 0; c < q; c++ {
			s += e.ginv.At(a, c) * e.b[c]
		}
		e.coef[a] = s
	}
	slope := e.coef[1:]
	for i := range e.yt {
		e.yt[i] = math.NaN()
	}
	p := e.p
	for r, i := range e.treated {
		e.yt[i] = yTreated[i] - dotZ(e.zt[r*p:(r+1)*p], slope)
	}
	for c, j := range e.ctrl {
		e.yc[j] = yControl[j] - dotZ(e.zc[c*p:(c+1)*p], slope)
	}
	adj, err := e.att.ATT(e.yt, e.yc)
	if err != nil {
		return BiasAdjustResult{}, err
	}
	r := BiasAdjustResult{ATTResult: adj, Unadjusted: plain.ATT, Intercept: e.coef[0],
		Coef: append([]float64(nil), slope...), Ridge: e.ridge, PseudoInverse: e.pinv}
	r.TreatedMean = plain.TreatedMean
	r.ControlMean = plain.TreatedMean - adj.ATT
	return r, nil
}

func dotZ(z, b []float64) float64 {
	var s float64
	for k, v := range b {
		s += z[k] * v
	}
	return s
}
