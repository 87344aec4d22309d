package psm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// lgSparseDesign draws a register-like design with n rows: four dense
// columns (integer age, a year 2000..2020, a rate, a dummy with 70
// percent ones), eight sparse dummies (prevalence 0.02 to 0.45), three
// mostly-zero counts of weeks (1..52 when not zero), and a mostly-zero
// column with large values (a year 2000..2020 for 10 percent, else 0:
// the hardest case for the uncentred sums). About 15 percent treated.
func lgSparseDesign(seed uint64, n int) (*mat.Dense, []float64, []string) {
	rng := rand.New(rand.NewPCG(seed, 3))
	prev := []float64{0.02, 0.04, 0.07, 0.1, 0.15, 0.2, 0.3, 0.45}
	weeks := []float64{0.03, 0.1, 0.25}
	names := []string{"age", "year", "rate", "dmaj"}
	for k := range prev {
		names = append(names, fmt.Sprintf("d%d", k+1))
	}
	for k := range weeks {
		names = append(names, fmt.Sprintf("weeks%d", k+1))
	}
	names = append(names, "lastyear")
	p := len(names)
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	row := make([]float64, p)
	for i := 0; i < n; i++ {
		clear(row)
		row[0] = float64(18 + rng.IntN(47))
		row[1] = float64(2000 + rng.IntN(21))
		row[2] = math.Round(rng.Float64()*1000) / 1000
		row[3] = b2f(rng.Float64() < 0.7)
		eta := -2.2 + 0.02*(row[0]-40) + 0.05*(row[1]-2010) - 0.6*row[2] + 0.3*row[3]
		for k, q := range prev {
			row[4+k] = b2f(rng.Float64() < q)
			eta += 0.4 * float64(k%3-1) * row[4+k]
		}
		for k, q := range weeks {
			if rng.Float64() < q {
				row[12+k] = float64(1 + rng.IntN(52))
			}
			eta += 0.01 * float64(k-1) * row[12+k]
		}
		if rng.Float64() < 0.1 {
			row[15] = float64(2000 + rng.IntN(21))
			eta += 0.03 * (row[15] - 2010)
		}
		x.SetRow(i, row)
		y[i] = b2f(rng.Float64() < 1/(1+math.Exp(-eta)))
	}
	return x, y, names
}

// lgFitPath fits with the dense (path 1) or sparse (path 2) pass forced.
func lgFitPath(t *testing.T, path int, x *mat.Dense, y, w []float64, names []string, opts *LogitOptions) (*Logit, error) {
	t.Helper()
	defer func(v int) { lgPathOverride = v }(lgPathOverride)
	lgPathOverride = path
	return fitLogit(context.Background(), x, y, w, names, opts)
}

// lgMaxRelDiff returns the largest difference of Coef, relative to
// max(|Coef|, SE) (a coefficient much smaller than its standard error is
// compared on the scale of its SE), and of SE, relative; it requires
// equal aliasing (NaN in both).
func lgMaxRelDiff(t *testing.T, a, b *Logit) (coef, se float64) {
	t.Helper()
	require.Equal(t, a.Aliased, b.Aliased)
	for j := range a.Coef {
		if math.IsNaN(a.Coef[j]) {
			require.True(t, math.IsNaN(b.Coef[j]), "term %s", a.Names[j])
			continue
		}
		d := math.Abs(a.Coef[j]-b.Coef[j]) / math.Max(math.Abs(a.Coef[j]), a.SE[j])
		coef = math.Max(coef, d)
		if r := math.Abs(a.Coef[j]-b.Coef[j]) / math.Abs(a.Coef[j]); r > 1e-12 {
			t.Logf("%s: coef %.17g vs %.17g (rel. to coef %.1e, to max(coef, se) %.1e)", a.Names[j], a.Coef[j], b.Coef[j], r, d)
		}
		se = math.Max(se, math.Abs(a.SE[j]-b.SE[j])/a.SE[j])
	}
	return coef, se
}

func lgBits(t *testing.T, a, b *Logit, msg string) {
	t.Helper()
	for j := range a.Coef {
		assert.Equal(t, math.Float64bits(a.Coef[j]), math.Float64bits(b.Coef[j]), "%s coef %d", msg, j)
		assert.Equal(t, math.Float64bits(a.SE[j]), math.Float64bits(b.SE[j]), "%s se %d", msg, j)
	}
	assert.Equal(t, math.Float64bits(a.Deviance), math.Float64bits(b.Deviance), msg)
	assert.Equal(t, a.Iterations, b.Iterations, msg)
}

func TestFitLogitSparseMatchesDense(t *testing.T) {
	// The sparse pass (uncentred sums of the mostly-zero columns, centred
	// afterwards) and the dense pass (every column centred) compute the
	// same X'WX up to rounding. Reference: the dense pass, whose agreement
	// with R's glm is checked in TestFitLogitMatchesR. Tolerance: 1e-10
	// relative for coefficients (to max(|coef|, SE), see lgMaxRelDiff)
	// and standard errors, 1e-12 for the deviance (observed: 1e-13 and
	// below; relative to the coefficient alone up to 1e-11, for d8, whose
	// coefficient is 0.0016 with SE 0.086).
	base, y, names := lgSparseDesign(1, 6000)
	n, p := base.Dims()
	rng := rand.New(rand.NewPCG(1, 4))
	w := make([]float64, n)
	for i := range w {
		w[i] = float64(rng.IntN(4))
	}
	// Aliasing: a constant, an all-zero column and the sum of two sparse
	// dummies (aliased, later column), appended.
	xa := mat.NewDense(n, p+3, nil)
	for i := 0; i < n; i++ {
		r := append(append([]float64(nil), base.RawRowView(i)...), 5, 0, base.At(i, 4)+base.At(i, 6))
		xa.SetRow(i, r)
	}
	namesA := append(append([]string(nil), names...), "five", "zero", "d1plusd3")
	// More than 64 columns (two words of nonzero mask): 56 noise columns,
	// sparse dummies and counts, appended.
	xw := mat.NewDense(n, p+56, nil)
	namesW := append([]string(nil), names...)
	for k := range 56 {
		namesW = append(namesW, fmt.Sprintf("noise%d", k+1))
	}
	for i := 0; i < n; i++ {
		r := append([]float64(nil), base.RawRowView(i)...)
		for k := range 56 {
			v := 0.0
			if rng.Float64() < 0.02+0.005*float64(k) {
				v = float64(1 + (k%2)*rng.IntN(20))
			}
			r = append(r, v)
		}
		xw.SetRow(i, r)
	}
	cases := []struct {
		name  string
		x     *mat.Dense
		w     []float64
		names []string
		opts  LogitOptions
	}{
		{"unweighted", base, nil, names, LogitOptions{}},
		{"weights", base, w, names, LogitOptions{}},
		{"no intercept", base, nil, names, LogitOptions{NoIntercept: true}},
		{"L2", base, w, names, LogitOptions{L2: 5}},
		{"aliased", xa, nil, namesA, LogitOptions{}},
		{"72 columns", xw, w, namesW, LogitOptions{}},
		// Without the constant (which would act as an intercept and make
		// the uncentred year ill-conditioned in both passes).
		{"aliased no intercept", lgCols(xa, []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 17, 18}), w,
			append(append([]string(nil), names...), "zero", "d1plusd3"), LogitOptions{NoIntercept: true}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dense, err := lgFitPath(t, 1, c.x, y, c.w, c.names, &c.opts)
			require.NoError(t, err)
			sparse, err := lgFitPath(t, 2, c.x, y, c.w, c.names, &c.opts)
			require.NoError(t, err)
			dc, ds := lgMaxRelDiff(t, dense, sparse)
			t.Logf("sparse vs dense pass: max rel. diff coef %.1e, se %.1e, deviance %.1e; aliased %v",
				dc, ds, math.Abs(dense.Deviance-sparse.Deviance)/dense.Deviance, sparse.Aliased)
			assert.Less(t, dc, 1e-10)
			assert.Less(t, ds, 1e-10)
			assert.InDelta(t, dense.Deviance, sparse.Deviance, 1e-12*dense.Deviance)
			assert.Equal(t, dense.Iterations, sparse.Iterations)
			assert.Equal(t, dense.Rank, sparse.Rank)
			// The automatic choice takes the sparse pass on this design
			// (4 dense, 12 sparse columns): bit-identical to it.
			auto, err := FitLogit(context.Background(), c.x, y, c.w, c.names, &c.opts)
			require.NoError(t, err)
			lgBits(t, sparse, auto.Logit, "auto vs sparse")
		})
	}
	// Warm start (at the dense fit's coefficients): both passes take the
	// same steps from there.
	ref, err := lgFitPath(t, 1, base, y, nil, names, nil)
	require.NoError(t, err)
	opts := &LogitOptions{Start: ref.Coef}
	dense, err := lgFitPath(t, 1, base, y, nil, names, opts)
	require.NoError(t, err)
	sparse, err := lgFitPath(t, 2, base, y, nil, names, opts)
	require.NoError(t, err)
	dc, ds := lgMaxRelDiff(t, dense, sparse)
	t.Logf("warm start: max rel. diff coef %.1e, se %.1e", dc, ds)
	assert.Less(t, dc, 1e-10)
	assert.Less(t, ds, 1e-10)
	assert.Equal(t, dense.Iterations, sparse.Iterations)
}

func TestFitLogitSparseWorkersBitIdentical(t *testing.T) {
	// Sparse pass: several blocks, a ragged last block, weights with
	// zeros; same bits for any Workers.
	n := 3*lgBlock + 123
	x, y, names := lgSparseDesign(7, n)
	w := make([]float64, n)
	rng := rand.New(rand.NewPCG(7, 2))
	for i := range w {
		w[i] = float64(rng.IntN(4))
	}
	var ref *Logit
	for _, workers := range []int{1, 2, 7} {
		fit, err := lgFitPath(t, 2, x, y, w, names, &LogitOptions{Workers: workers})
		require.NoError(t, err)
		if ref == nil {
			ref = fit
			continue
		}
		lgBits(t, ref, fit, fmt.Sprintf("workers %d", workers))
	}
}

func TestLogitSparseClassification(t *testing.T) {
	// A column is sparse when its nonzero values carry at most half of the
	// weight: h50 (exactly 50 percent nonzero) is sparse, h51 (51
	// percent) dense; with weight 2 on its nonzero rows, h40 (40 percent
	// of the rows, 4/7 of the weight) is dense.
	n := 1000
	rng := rand.New(rand.NewPCG(9, 1))
	names := []string{"dense", "h50", "h51", "h40", "s1", "s2", "s3"}
	x := mat.NewDense(n, len(names), nil)
	y := make([]float64, n)
	perm50, perm51, perm40 := rng.Perm(n), rng.Perm(n), rng.Perm(n)
	for i := 0; i < n; i++ {
		x.Set(i, 0, rng.NormFloat64()+3)
		x.Set(i, 4, b2f(rng.Float64() < 0.1))
		x.Set(i, 5, b2f(rng.Float64() < 0.2))
		x.Set(i, 6, float64(rng.IntN(3)))
	}
	for k := 0; k < n; k++ {
		if k < 500 {
			x.Set(perm50[k], 1, 1+rng.Float64())
		}
		if k < 510 {
			x.Set(perm51[k], 2, -1-rng.Float64())
		}
		if k < 400 {
			x.Set(perm40[k], 3, 1)
		}
	}
	wts := make([]float64, n)
	for i := 0; i < n; i++ {
		eta := -1 + 0.3*(x.At(i, 0)-3) + 0.5*x.At(i, 1) + 0.4*x.At(i, 2) - 0.5*x.At(i, 3) + 0.3*x.At(i, 4)
		y[i] = b2f(rng.Float64() < 1/(1+math.Exp(-eta)))
		wts[i] = 1 + x.At(i, 3)
	}
	plan := func(w []float64) []int {
		pr := newLgProblem(newLgX(x), n, len(names), y, w, 0, n, 0, true, 1)
		sc, err := pr.scan(context.Background(), nil)
		require.NoError(t, err)
		defer func(v int) { lgPathOverride = v }(lgPathOverride)
		lgPathOverride = 2
		sp := lgPlanSparse(pr, sc, make([]bool, len(names)))
		return sp.scol
	}
	assert.Equal(t, []int{1, 3, 4, 5}, plan(nil), "h50, h40, s1, s2 sparse")
	assert.Equal(t, []int{1, 4, 5}, plan(wts), "h40 dense with weights")
	// Both passes agree at the boundary (the 50 percent column loses at
	// most one bit to cancellation).
	for _, w := range [][]float64{nil, wts} {
		dense, err := lgFitPath(t, 1, x, y, w, names, nil)
		require.NoError(t, err)
		sparse, err := lgFitPath(t, 2, x, y, w, names, nil)
		require.NoError(t, err)
		dc, ds := lgMaxRelDiff(t, dense, sparse)
		t.Logf("boundary design: max rel. diff coef %.1e, se %.1e", dc, ds)
		assert.Less(t, dc, 1e-10)
		assert.Less(t, ds, 1e-10)
	}
}

func TestLogitSparseRule(t *testing.T) {
	// The automatic choice: the dense gaussian benchmark design has 13
	// sparse dummies of 40 columns (prevalence 0.3) but the sparse pass
	// would not pay; fewer than lgSparseMinCols sparse columns never take
	// it; the register design does.
	choose := func(x *mat.Dense, y []float64) *lgSparse {
		n, p := x.Dims()
		pr := newLgProblem(newLgX(x), n, p, y, nil, 0, n, 0, true, 1)
		sc, err := pr.scan(context.Background(), nil)
		require.NoError(t, err)
		return lgPlanSparse(pr, sc, make([]bool, p))
	}
	x, y, _ := lgBenchData(2000, 40)
	assert.Nil(t, choose(x, y), "gaussian benchmark design: dense pass")
	xs, ys, _ := lgSparseDesign(3, 2000)
	sp := choose(xs, ys)
	require.NotNil(t, sp, "register design: sparse pass")
	assert.Equal(t, []int{0, 1, 2, 3}, sp.dcol)
	assert.Len(t, sp.scol, 12)
	xr, yr, _ := lgRegisterBenchData(2000, 74)
	assert.NotNil(t, choose(xr, yr), "register benchmark design: sparse pass")
	assert.Nil(t, choose(lgCols(xs, []int{0, 1, 2, 3, 4, 5, 6}), ys), "3 sparse columns: dense pass")
}

func TestLogitSparseKernels(t *testing.T) {
	// The assembly kernels (AVX2/FMA, when the CPU has them) against the
	// portable Go versions and plain loops: the nonzero mask and the scan
	// sums bit for bit (same operations), the fused updates to 1e-13
	// relative.
	rng := rand.New(rand.NewPCG(81, 1))
	draw := func(n int) []float64 {
		x := make([]float64, n)
		for i := range x {
			switch rng.IntN(4) {
			case 0:
				x[i] = rng.NormFloat64()
			case 1:
				x[i] = math.Copysign(0, -1) // -0 counts as zero
			}
		}
		return x
	}
	defer func(v bool) { lgUseFMA = v }(lgUseFMA)
	for _, fma := range []bool{lgUseFMA, false} {
		lgUseFMA = fma
		t.Run(fmt.Sprintf("fma=%v", fma), func(t *testing.T) { lgCheckSparseKernels(t, rng, draw) })
	}
}

func lgCheckSparseKernels(t *testing.T, rng *rand.Rand, draw func(n int) []float64) {
	t.Logf("AVX2/FMA kernels in use: %v", lgUseFMA)
	t.Run("mask and scan", func(t *testing.T) {
		for _, p := range []int{1, 3, 4, 7, 63, 64, 65, 74, 130} {
			row := draw(p)
			m1, m2 := make([]uint64, (p+63)/64), make([]uint64, (p+63)/64)
			for k := range m1 {
				m1[k] = ^uint64(0) // must be overwritten
			}
			lgNonzero(row, m1)
			lgNonzeroGo(row, m2)
			assert.Equal(t, m2, m1, "p %d", p)
			for c, v := range row {
				assert.Equal(t, v != 0, m1[c/64]>>(c%64)&1 == 1, "p %d col %d", p, c)
			}
			sums := func(row []float64, f func(x []float64, w float64, a, b, c, d []float64) bool) ([][]float64, bool) {
				s := [][]float64{make([]float64, p), make([]float64, p), make([]float64, p), make([]float64, p)}
				for j := range p {
					s[2][j], s[3][j] = math.Inf(1), math.Inf(-1)
				}
				bad := false
				for _, w := range []float64{1, 2.5, 0.125} {
					bad = f(row, w, s[0], s[1], s[2], s[3]) || bad
				}
				return s, bad
			}
			got, bad1 := sums(row, lgScanRow)
			want, bad2 := sums(row, lgScanRowGo)
			assert.False(t, bad1 || bad2)
			for k := range got {
				for j := range got[k] {
					assert.Equal(t, math.Float64bits(want[k][j]), math.Float64bits(got[k][j]), "p %d sum %d col %d", p, k, j)
				}
			}
			for _, bad := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
				row2 := append([]float64(nil), row...)
				row2[rng.IntN(p)] = bad
				_, b1 := sums(row2, lgScanRow)
				_, b2 := sums(row2, lgScanRowGo)
				assert.True(t, b1 && b2, "p %d: %v not found", p, bad)
				assert.False(t, lgFiniteRow(row2))
			}
			assert.True(t, lgFiniteRow(row))
		}
	})
	t.Run("sparse rows", func(t *testing.T) {
		ns, md4, nr := 9, 8, 6
		gsd0, gss0 := draw(ns*md4), draw(ns*ns)
		ud, w := draw(nr*md4), make([]float64, nr)
		off := []int{0}
		var idx []int
		var val []float64
		for r := range nr {
			w[r] = rng.Float64()
			for s := range ns {
				if rng.IntN(3) == 0 {
					idx, val = append(idx, s), append(val, rng.NormFloat64())
				}
			}
			off = append(off, len(idx))
		}
		gsd1, gss1 := append([]float64(nil), gsd0...), append([]float64(nil), gss0...)
		gsd2, gss2 := append([]float64(nil), gsd0...), append([]float64(nil), gss0...)
		lgSparseRows(gsd1, md4, gss1, ns, idx, val, off, w, ud)
		for r := range nr {
			lgSparseRowGo(gsd2, md4, gss2, ns, idx[off[r]:off[r+1]], val[off[r]:off[r+1]], w[r], ud[r*md4:(r+1)*md4])
		}
		// Plain loops: G_SD[s] += w x_s u, G_SS[s][t] += w x_s x_t (s <= t).
		for r := range nr {
			for a := off[r]; a < off[r+1]; a++ {
				for k := range md4 {
					gsd0[idx[a]*md4+k] += w[r] * val[a] * ud[r*md4+k]
				}
				for b := a; b < off[r+1]; b++ {
					gss0[idx[a]*ns+idx[b]] += w[r] * val[a] * val[b]
				}
			}
		}
		for k := range gsd0 {
			assert.InDelta(t, gsd0[k], gsd1[k], 1e-13*(1+math.Abs(gsd0[k])), "gsd %d", k)
			assert.InDelta(t, gsd0[k], gsd2[k], 1e-13*(1+math.Abs(gsd0[k])), "gsd %d", k)
		}
		for k := range gss0 {
			assert.InDelta(t, gss0[k], gss1[k], 1e-13*(1+math.Abs(gss0[k])), "gss %d", k)
			assert.InDelta(t, gss0[k], gss2[k], 1e-13*(1+math.Abs(gss0[k])), "gss %d", k)
		}
	})
	t.Run("fill", func(t *testing.T) {
		// A problem with 2 dense and 5 sparse columns; rows 0..9.
		n, p := 10, 7
		x := mat.NewDense(n, p, nil)
		for i := range n {
			x.SetRow(i, append([]float64{rng.NormFloat64(), rng.NormFloat64()}, draw(5)...))
		}
		pr := newLgProblem(newLgX(x), n, p, nil, nil, 0, n, 0, true, 1)
		pr.sp = &lgSparse{dcol: []int{0, 1}, dcen: []float64{0.5, -0.25}, scol: []int{2, 3, 4, 5, 6},
			sidx: []int{-1, -1, 0, 1, 2, 3, 4}, smask: []uint64{0x7c}, icpt: 1, md: 4, md4: 4, ns: 5}
		bd, bs := []float64{0.3, -0.7, 0, 0}, []float64{1, -2, 0.5, 0.25, 3}
		f := newLgFill(pr, bd, bs, 0.125)
		f.setRows(x.RawMatrix().Data, p, n)
		list := lgNzList{off: []int32{0}}
		mask := make([]uint64, 1)
		for i := range n {
			list.col = pr.sp.fromMask(list.col, x.RawRowView(i), mask)
			list.off = append(list.off, int32(len(list.col)))
		}
		list.col = append(list.col, 0)[:len(list.col)]
		rows := []int{0, 2, 3, 5, 8, 9}
		md4 := 4
		ud1, ud2 := make([]float64, len(rows)*md4), make([]float64, len(rows)*md4)
		idx1, idx2 := make([]int, len(rows)*5), make([]int, len(rows)*5)
		val1, val2 := make([]float64, len(rows)*5), make([]float64, len(rows)*5)
		off1, off2 := make([]int, len(rows)+1), make([]int, len(rows)+1)
		e1, e2 := make([]float64, len(rows)), make([]float64, len(rows))
		nz1 := f.rows(rows, list, 0, ud1, md4, idx1, val1, off1, e1)
		nz2 := f.rowsGo(rows, list, 0, ud2, md4, idx2, val2, off2, e2)
		require.Equal(t, nz2, nz1)
		assert.Equal(t, off2, off1)
		assert.Equal(t, idx2, idx1)
		assert.Equal(t, val2, val1)
		assert.Equal(t, ud2, ud1)
		for tt, i := range rows {
			// Plain sums of eta = b0 + bd'(x_D - c_D) + bs'x_S.
			row := x.RawRowView(i)
			want := 0.125 + 0.3*(row[0]-0.5) - 0.7*(row[1]+0.25)
			for s := range 5 {
				want += bs[s] * row[2+s]
			}
			assert.InDelta(t, want, e1[tt], 1e-14*(1+math.Abs(want)), "row %d", i)
			assert.InDelta(t, want, e2[tt], 1e-14*(1+math.Abs(want)), "row %d", i)
			k := int(list.off[i+1] - list.off[i])
			u := make([]float64, 2)
			one := f.fill(row, row, u, list.col[list.off[i]:list.off[i+1]], make([]int, k+1)[:k], make([]float64, k+1)[:k])
			assert.Equal(t, math.Float64bits(e1[tt]), math.Float64bits(one), "row %d: fill and rows", i)
			assert.Equal(t, ud1[tt*md4:tt*md4+2], u)
		}
	})
	t.Run("rank4 packed", func(t *testing.T) {
		for _, m := range []int{1, 5, 12} {
			m4 := lgStride(m)
			u, w := draw(4*m4), []float64{0.5, 1, 2, 0.25}
			for r := range 4 {
				clear(u[r*m4+m : (r+1)*m4])
			}
			g1, g2 := make([]float64, lgGramLen(m)), make([]float64, lgGramLen(m))
			lgRank4Packed(g1, m, w, u)
			lgRank4(g2, m, (*[4]float64)(w), &[4][]float64{u[:m4], u[m4 : 2*m4], u[2*m4 : 3*m4], u[3*m4:]})
			for j := range m {
				for k := j; k < m; k++ {
					assert.Equal(t, g2[j*m4+k], g1[j*m4+k], "m %d (%d,%d)", m, j, k)
				}
			}
		}
	})
}
