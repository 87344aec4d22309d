package psm

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// lgSynth draws n units with p standard normal covariates and a logit
// treatment with coefficients beta (intercept first), seeded.
func lgSynth(seed uint64, n int, beta []float64) (*mat.Dense, []float64) {
	rng := rand.New(rand.NewPCG(seed, 1))
	p := len(beta) - 1
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		eta := beta[0]
		for j := 0; j < p; j++ {
			v := rng.NormFloat64()
			x.Set(i, j, v)
			eta += beta[j+1] * v
		}
		if rng.Float64() < 1/(1+math.Exp(-eta)) {
			y[i] = 1
		}
	}
	return x, y
}

func TestFitLogitInputErrors(t *testing.T) {
	x, y := lgSynth(1, 50, []float64{0, 1, -1})
	names := []string{"a", "b"}
	with := func(f func(x *mat.Dense, y, w []float64)) (*mat.Dense, []float64, []float64) {
		xc := mat.DenseCopyOf(x)
		yc := append([]float64(nil), y...)
		w := make([]float64, len(y))
		for i := range w {
			w[i] = 1
		}
		f(xc, yc, w)
		return xc, yc, w
	}
	cases := []struct {
		name     string
		mod      func(x *mat.Dense, y, w []float64)
		sentinel error
		column   string
		row      int
	}{
		{"NaN covariate", func(x *mat.Dense, y, w []float64) { x.Set(7, 1, math.NaN()) }, ErrBadValue, "b", 7},
		{"Inf covariate", func(x *mat.Dense, y, w []float64) { x.Set(3, 0, math.Inf(-1)); x.Set(9, 1, math.NaN()) }, ErrBadValue, "a", 3},
		{"NaN treatment", func(x *mat.Dense, y, w []float64) { y[11] = math.NaN() }, ErrBadValue, "treatment", 11},
		{"treatment 2", func(x *mat.Dense, y, w []float64) { y[4] = 2 }, ErrNotBinary, "treatment", 4},
		{"treatment 0.5", func(x *mat.Dense, y, w []float64) { y[0] = 0.5 }, ErrNotBinary, "treatment", 0},
		{"negative weight", func(x *mat.Dense, y, w []float64) { w[20] = -1 }, ErrBadWeight, "weight", 20},
		{"Inf weight", func(x *mat.Dense, y, w []float64) { w[21] = math.Inf(1) }, ErrBadValue, "weight", 21},
		{"bad value in a zero-weight row", func(x *mat.Dense, y, w []float64) { w[5] = 0; x.Set(5, 0, math.NaN()) }, ErrBadValue, "a", 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			xc, yc, w := with(c.mod)
			fit, err := FitLogit(context.Background(), xc, yc, w, names, nil)
			assert.Nil(t, fit)
			require.ErrorIs(t, err, c.sentinel)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
			assert.Equal(t, c.column, ie.Field)
			assert.Equal(t, c.row, ie.Index)
			assert.Contains(t, err.Error(), c.column)
		})
	}
}

func TestFitLogitNoVariation(t *testing.T) {
	x, _ := lgSynth(2, 40, []float64{0, 1})
	ones := make([]float64, 40)
	zeros := make([]float64, 40)
	for i := range ones {
		ones[i] = 1
	}
	for _, y := range [][]float64{ones, zeros} {
		_, err := FitLogit(context.Background(), x, y, nil, nil, nil)
		assert.ErrorIs(t, err, ErrNoVariation)
	}
	// Treated units all have zero weight: no variation among the present.
	y := make([]float64, 40)
	w := make([]float64, 40)
	for i := range y {
		w[i] = 1
		if i%3 == 0 {
			y[i], w[i] = 1, 0
		}
	}
	_, err := FitLogit(context.Background(), x, y, w, nil, nil)
	assert.ErrorIs(t, err, ErrNoVariation)
}

func TestFitLogitArgs(t *testing.T) {
	x, y := lgSynth(3, 30, []float64{0, 1, 1})
	ctx := context.Background()
	for name, call := range map[string]func() error{
		"short y": func() error { _, err := FitLogit(ctx, x, y[:29], nil, nil, nil); return err },
		"short w": func() error { _, err := FitLogit(ctx, x, y, make([]float64, 3), nil, nil); return err },
		"names":   func() error { _, err := FitLogit(ctx, x, y, nil, []string{"a"}, nil); return err },
		"start": func() error {
			_, err := FitLogit(ctx, x, y, nil, nil, &LogitOptions{Start: []float64{1, 2}})
			return err
		},
		"negative L2":  func() error { _, err := FitLogit(ctx, x, y, nil, nil, &LogitOptions{L2: -1}); return err },
		"NaN epsilon":  func() error { _, err := FitLogit(ctx, x, y, nil, nil, &LogitOptions{Epsilon: math.NaN()}); return err },
		"alias tol 1":  func() error { _, err := FitLogit(ctx, x, y, nil, nil, &LogitOptions{AliasTol: 1}); return err },
		"negative max": func() error { _, err := FitLogit(ctx, x, y, nil, nil, &LogitOptions{MaxIter: -1}); return err },
	} {
		assert.ErrorIs(t, call(), ErrBadOption, name)
	}
}

// lgSeparated builds data sets that are separated by construction.
func lgSeparated(kind string) (*mat.Dense, []float64, []string) {
	rng := rand.New(rand.NewPCG(42, 7))
	n := 300
	x := mat.NewDense(n, 3, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		x1, x2, x3 := rng.NormFloat64(), rng.NormFloat64(), rng.NormFloat64()
		coin := float64(rng.IntN(2))
		switch kind {
		case "complete single": // y = 1 exactly when x1 > 0.3
			y[i] = b2f(x1 > 0.3)
		case "quasi single": // x1 is a dummy; its ones are all controls
			x1 = float64(rng.IntN(5) / 4)
			y[i] = coin * (1 - x1)
		case "complete joint": // y = 1 exactly when x1 + x2 > 0
			y[i] = b2f(x1+x2 > 0)
		case "quasi joint": // integer x1, x2; y determined unless x1 + x2 = 0
			x1, x2 = float64(rng.IntN(5)-2), float64(rng.IntN(5)-2)
			switch s := x1 + x2; {
			case s > 0:
				y[i] = 1
			case s < 0:
				y[i] = 0
			default:
				y[i] = coin
			}
		}
		x.SetRow(i, []float64{x1, x2, x3})
	}
	return x, y, []string{"x1", "x2", "x3"}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func TestFitLogitSeparation(t *testing.T) {
	cases := []struct {
		kind     string
		columns  []string
		complete bool
		before   bool // found by the single-column check, before fitting
	}{
		{"complete single", []string{"x1"}, true, true},
		{"quasi single", []string{"x1"}, false, true},
		{"complete joint", []string{"x1", "x2"}, true, false},
		{"quasi joint", []string{"x1", "x2"}, false, false},
	}
	for _, c := range cases {
		t.Run(c.kind, func(t *testing.T) {
			x, y, names := lgSeparated(c.kind)
			fit, err := FitLogit(context.Background(), x, y, nil, names, nil)
			require.ErrorIs(t, err, ErrSeparation)
			var se *SeparationError
			require.ErrorAs(t, err, &se)
			assert.Equal(t, c.columns, se.Columns)
			assert.Equal(t, c.complete, se.Complete)
			for _, col := range c.columns {
				assert.Contains(t, err.Error(), col)
			}
			if c.before {
				assert.Nil(t, fit)
				assert.Equal(t, -1, se.Units)
			} else {
				require.NotNil(t, fit, "the last iterate is returned for diagnosis")
				assert.Positive(t, se.Units)
			}
			// A ridge penalty makes the estimate exist: no error.
			fit, err = FitLogit(context.Background(), x, y, nil, names, &LogitOptions{L2: 1})
			require.NoError(t, err)
			assert.True(t, fit.Converged)
		})
	}
}

func TestFitLogitNoFalseSeparation(t *testing.T) {
	// Ordinary data (overlapping groups, some strongly predictive
	// covariates, 5 percent treated) must never be reported as separated.
	for seed := uint64(0); seed < 40; seed++ {
		x, y := lgSynth(seed, 400, []float64{-3.5, 1.5, -1, 0.5, 0})
		fit, err := FitLogit(context.Background(), x, y, nil, nil, nil)
		if errors.Is(err, ErrSeparation) {
			t.Errorf("seed %d: %v", seed, err)
			continue
		}
		require.NoError(t, err)
		assert.True(t, fit.Converged)
	}
}

// lgSubset returns the rows of x, y for which keep is true.
func lgRows(x *mat.Dense, y []float64, rows []int) (*mat.Dense, []float64) {
	_, p := x.Dims()
	xs := mat.NewDense(len(rows), p, nil)
	ys := make([]float64, len(rows))
	for k, i := range rows {
		xs.SetRow(k, x.RawRowView(i))
		ys[k] = y[i]
	}
	return xs, ys
}

// lgCols returns x with its columns in the given order.
func lgCols(x *mat.Dense, cols []int) *mat.Dense {
	n, _ := x.Dims()
	out := mat.NewDense(n, len(cols), nil)
	for i := 0; i < n; i++ {
		for k, j := range cols {
			out.Set(i, k, x.At(i, j))
		}
	}
	return out
}

func TestFitLogitAliasedAndConstant(t *testing.T) {
	// Columns: a, const (= 3), b, c = a - 2b, d. Reference: the fit
	// without const and c (same model), and R's rule that the later
	// column of a dependency is dropped.
	base, y := lgSynth(5, 500, []float64{0.2, 0.8, -0.5, 0.3})
	n, _ := base.Dims()
	x := mat.NewDense(n, 5, nil)
	for i := 0; i < n; i++ {
		a, b, d := base.At(i, 0), base.At(i, 1), base.At(i, 2)
		x.SetRow(i, []float64{a, 3, b, a - 2*b, d})
	}
	names := []string{"a", "const", "b", "c", "d"}
	fit, err := FitLogit(context.Background(), x, y, nil, names, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"const", "c"}, fit.Aliased)
	assert.Equal(t, 4, fit.Rank)
	ref, err := FitLogit(context.Background(), base, y, nil, []string{"a", "b", "d"}, nil)
	require.NoError(t, err)
	for k, j := range []int{0, 1, 3, 5} { // (Intercept), a, b, d
		assert.InDelta(t, ref.Coef[k], fit.Coef[j], 1e-10*math.Abs(ref.Coef[k]))
		assert.InDelta(t, ref.SE[k], fit.SE[j], 1e-10*ref.SE[k])
	}
	for _, j := range []int{2, 4} {
		assert.True(t, math.IsNaN(fit.Coef[j]) && math.IsNaN(fit.SE[j]) && math.IsNaN(fit.Z[j]))
		assert.True(t, math.IsNaN(fit.Cov.At(j, j)))
	}
	assert.InDelta(t, ref.Deviance, fit.Deviance, 1e-9*ref.Deviance)
	assert.InDelta(t, ref.AIC, fit.AIC, 1e-9*ref.AIC)

	// Reordered: now a is the later column of the dependency and is
	// dropped instead of c.
	fit2, err := FitLogit(context.Background(), lgCols(x, []int{3, 2, 0, 4}), y, nil, []string{"c", "b", "a", "d"}, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, fit2.Aliased)
	assert.InDelta(t, fit.Deviance, fit2.Deviance, 1e-9*fit.Deviance)

	// Predictions ignore aliased terms and equal the reference model's.
	p1 := fit.Predict(x, nil)
	p0 := ref.Predict(base, nil)
	for i := range p1 {
		assert.InDelta(t, p0[i], p1[i], 1e-12)
	}
}

func TestFitLogitWorkersBitIdentical(t *testing.T) {
	// Several blocks, a ragged last block, weights with zeros.
	n := 3*lgBlock + 123
	x, y := lgSynth(11, n, []float64{-2, 0.5, -0.25, 1, 0, 0.3, -0.7})
	w := make([]float64, n)
	rng := rand.New(rand.NewPCG(11, 2))
	for i := range w {
		w[i] = float64(rng.IntN(4))
	}
	var ref *Logit
	for _, workers := range []int{1, 2, 3, 8} {
		fit, err := FitLogit(context.Background(), x, y, w, nil, &LogitOptions{Workers: workers})
		require.NoError(t, err)
		if ref == nil {
			ref = fit.Logit
			continue
		}
		for j := range ref.Coef {
			assert.Equal(t, math.Float64bits(ref.Coef[j]), math.Float64bits(fit.Coef[j]), "workers %d coef %d", workers, j)
			assert.Equal(t, math.Float64bits(ref.SE[j]), math.Float64bits(fit.SE[j]), "workers %d se %d", workers, j)
		}
		assert.Equal(t, math.Float64bits(ref.Deviance), math.Float64bits(fit.Deviance))
		assert.Equal(t, ref.Iterations, fit.Iterations)
	}
}

func TestFitLogitFrequencyWeights(t *testing.T) {
	x, y := lgSynth(21, 300, []float64{-0.5, 1, -1, 0.5})
	rng := rand.New(rand.NewPCG(21, 3))
	w := make([]float64, 300)
	var rep, kept []int
	for i := range w {
		w[i] = float64(rng.IntN(4)) // 0..3
		for k := 0; k < int(w[i]); k++ {
			rep = append(rep, i)
		}
		if w[i] > 0 {
			kept = append(kept, i)
		}
	}
	fit, err := FitLogit(context.Background(), x, y, w, nil, nil)
	require.NoError(t, err)

	// Whole-number weights give the MLE of the data with rows repeated
	// (the IRLS path differs through R's weight-dependent start, so
	// agreement is to the convergence tolerance).
	xr, yr := lgRows(x, y, rep)
	refRep, err := FitLogit(context.Background(), xr, yr, nil, nil, nil)
	require.NoError(t, err)
	for j := range fit.Coef {
		assert.InDelta(t, refRep.Coef[j], fit.Coef[j], 1e-6*math.Abs(refRep.Coef[j]))
		assert.InDelta(t, refRep.SE[j], fit.SE[j], 1e-5*refRep.SE[j])
	}
	assert.InDelta(t, refRep.Deviance, fit.Deviance, 1e-9*refRep.Deviance)
	assert.Equal(t, len(kept), fit.N)
	assert.Equal(t, float64(len(rep)), fit.WeightSum)

	// Zero weights are absent units: same as dropping the rows.
	ones := make([]float64, 300)
	for i := range ones {
		ones[i] = math.Min(w[i], 1)
	}
	fit0, err := FitLogit(context.Background(), x, y, ones, nil, nil)
	require.NoError(t, err)
	xk, yk := lgRows(x, y, kept)
	refKept, err := FitLogit(context.Background(), xk, yk, nil, nil, nil)
	require.NoError(t, err)
	assert.Equal(t, refKept.Iterations, fit0.Iterations)
	for j := range fit0.Coef {
		assert.InDelta(t, refKept.Coef[j], fit0.Coef[j], 1e-12*math.Abs(refKept.Coef[j]))
		assert.InDelta(t, refKept.SE[j], fit0.SE[j], 1e-12*refKept.SE[j])
	}
}

func TestFitLogitWarmStart(t *testing.T) {
	x, y, w, names := lgDataset(t, "continuous")
	ref := lgRefCoefs(t, "continuous") // R glm, testdata/logit/logit_reference.R
	start := make([]float64, len(ref))
	for k, r := range ref {
		start[k] = r.est
	}
	fit, err := FitLogit(context.Background(), x, y, w, names, &LogitOptions{Start: start})
	require.NoError(t, err)
	assert.LessOrEqual(t, fit.Iterations, 2)
	for k, r := range ref {
		assert.InDelta(t, r.est, fit.Coef[k], 1e-8*math.Abs(r.est))
		// R's standard errors use the working weights of its previous
		// iterate (the QR of its last IRLS step), 6e-4 away in eta on this
		// data; started at the MLE, FitLogit's use the MLE itself, so they
		// agree only to about 1e-5.
		assert.InDelta(t, r.se, fit.SE[k], 1e-4*r.se)
	}
}

func TestFitLogitL2(t *testing.T) {
	// The penalized estimate solves the score equations
	// sum_i w_i (y_i - mu_i) = 0 and sum_i w_i (y_i - mu_i) x_ij = L2 b_j.
	x, y := lgSynth(31, 400, []float64{-1, 1.5, -0.5, 0.25})
	n, p := x.Dims()
	for _, l2 := range []float64{0.5, 10, 200} {
		fit, err := FitLogit(context.Background(), x, y, nil, nil, &LogitOptions{L2: l2, Epsilon: 1e-14})
		require.NoError(t, err)
		mu := fit.Predict(x, nil)
		score := make([]float64, p+1)
		for i := 0; i < n; i++ {
			r := y[i] - mu[i]
			score[0] += r
			for j := 0; j < p; j++ {
				score[j+1] += r * x.At(i, j)
			}
		}
		assert.InDelta(t, 0, score[0], 1e-8)
		for j := 1; j <= p; j++ {
			assert.InDelta(t, l2*fit.Coef[j], score[j], 1e-8, "L2 %v coef %d", l2, j)
		}
	}
}

func TestFitLogitContextAndProgress(t *testing.T) {
	x, y := lgSynth(41, 2000, []float64{0, 1, 1})
	ctx, cancel := context.WithCancel(context.Background())
	var iters []int
	_, err := FitLogit(ctx, x, y, nil, nil, &LogitOptions{Progress: func(it int, dev float64) {
		iters = append(iters, it)
		assert.Greater(t, dev, 0.0)
		if it == 2 {
			cancel()
		}
	}})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []int{1, 2}, iters)
}

func TestFitLogitNotConverged(t *testing.T) {
	x, y := lgSynth(51, 500, []float64{0, 1, -1})
	fit, err := FitLogit(context.Background(), x, y, nil, nil, &LogitOptions{MaxIter: 2})
	require.ErrorIs(t, err, ErrNotConverged)
	require.NotNil(t, fit)
	assert.False(t, fit.Converged)
	assert.Equal(t, 2, fit.Iterations)
}

func TestLogitPredict(t *testing.T) {
	// With an intercept the fitted probabilities average to the treated
	// share (score equation of the intercept).
	x, y := lgSynth(61, 1000, []float64{-1.5, 0.7, 0.2})
	fit, err := FitLogit(context.Background(), x, y, nil, nil, nil)
	require.NoError(t, err)
	mu := fit.Predict(x, nil)
	eta := fit.LinearPredictor(x, nil)
	sumMu, sumY := 0.0, 0.0
	for i := range mu {
		sumMu += mu[i]
		sumY += y[i]
		assert.InDelta(t, 1/(1+math.Exp(-eta[i])), mu[i], 1e-15)
		b := fit.Coef
		assert.InDelta(t, b[0]+b[1]*x.At(i, 0)+b[2]*x.At(i, 1), eta[i], 1e-12)
	}
	assert.InDelta(t, sumY, sumMu, 1e-6)
	assert.Panics(t, func() { fit.Predict(mat.NewDense(2, 3, nil), nil) })
}

func TestLogitKernels(t *testing.T) {
	// The AVX2/FMA kernel (when the CPU has it) and the portable kernel
	// both add sum_r w_r u_r u_r' to the upper triangle of the
	// m×lgStride(m) matrix; checked against a plain double loop, 1e-13
	// relative.
	rng := rand.New(rand.NewPCG(71, 1))
	for _, m := range []int{1, 2, 3, 4, 5, 7, 8, 9, 42} {
		m4 := lgStride(m)
		var w [4]float64
		var u [4][]float64
		for r := range u {
			w[r] = rng.Float64()
			u[r] = make([]float64, m4)
			for j := 0; j < m; j++ {
				u[r][j] = rng.NormFloat64()
			}
		}
		g0 := make([]float64, lgGramLen(m))
		for i := range g0 {
			g0[i] = rng.NormFloat64()
		}
		g1 := append([]float64(nil), g0...)
		g2 := append([]float64(nil), g0...)
		lgRank4(g1, m, &w, &u)
		lgRank4Go(g2, m, &w, &u)
		for j := 0; j < m; j++ {
			for k := j; k < m; k++ {
				want := g0[j*m4+k]
				for r := 0; r < 4; r++ {
					want += w[r] * u[r][j] * u[r][k]
				}
				assert.InDelta(t, want, g1[j*m4+k], 1e-13*(1+math.Abs(want)), "m %d (%d,%d)", m, j, k)
				assert.InDelta(t, want, g2[j*m4+k], 1e-13*(1+math.Abs(want)), "m %d (%d,%d)", m, j, k)
			}
		}
	}
	t.Logf("AVX2/FMA kernel in use: %v", lgUseFMA)
}

func TestFitLogitPortableKernel(t *testing.T) {
	// The portable kernels alone also reproduce R (reference:
	// testdata/logit/logit_reference.R), 1e-8 relative: the dense pass on
	// "rare", the sparse pass (logit_sparse.go) on "sparse".
	defer func(v bool) { lgUseFMA = v }(lgUseFMA)
	lgUseFMA = false
	for _, ds := range []string{"rare", "sparse"} {
		x, y, w, names := lgDataset(t, ds)
		fit, err := lgFitPath(t, 0, x, y, w, names, nil)
		require.NoError(t, err)
		for k, r := range lgRefCoefs(t, ds) {
			assert.InDelta(t, r.est, fit.Coef[k], 1e-8*math.Abs(r.est), "%s %s", ds, r.term)
			assert.InDelta(t, r.se, fit.SE[k], 1e-6*r.se, "%s %s", ds, r.term)
		}
	}
}

func TestLogitDevResid(t *testing.T) {
	// The series deviance term for small mu (8 or 12 terms, either side
	// of t = 1/256, eta = -5.545) equals R's formula
	// 2*wt*log(1/(1-mu)) up to R's rounding of 1-mu (about 1e-16 absolute)
	// and the exact log1p(exp(eta)) (math.Log1p) to 1e-15 relative;
	// elsewhere it is R's formula.
	for _, eta := range []float64{-40, -30.5, -25, -12, -7.1, -6.9, -5.6, -5.5, -4, -3.5, -3.4, -3, 0, 2, 29} {
		_, mu, tt := lgMuEtaLinkinv(eta)
		got := lgDevResidT(0, mu, tt, 2)
		assert.InDelta(t, lgDevResid(0, mu, 2), got, 1e-15, "eta %v", eta)
		if tt < 1.0/32 {
			exact := 4 * math.Log1p(tt)
			assert.InDelta(t, exact, got, 1e-15*exact, "eta %v", eta)
		} else {
			assert.Equal(t, lgDevResid(0, mu, 2), got)
		}
		assert.Equal(t, lgDevResid(1, mu, 2), lgDevResidT(1, mu, tt, 2))
	}
}
