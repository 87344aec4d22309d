package psm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// typedStore is a TypedColumns over a *mat.Dense, as panel.CovStore
// stores it: chunks of ch rows, each chunk column uint8, int16 or
// float64, whichever holds its values exactly.
type typedStore struct {
	d     *mat.Dense
	ch    int
	cols  [][]lgTypedCol // [chunk][column]
	calls *atomic.Int64  // ColumnRange calls that returned values
}

func newTypedStore(d *mat.Dense, ch int) *typedStore {
	n, c := d.Dims()
	s := &typedStore{d: d, ch: ch, calls: new(atomic.Int64)}
	for lo := 0; lo < n; lo += ch {
		hi := min(n, lo+ch)
		cc := make([]lgTypedCol, c)
		for j := range c {
			u8, i16 := true, true
			for i := lo; i < hi; i++ {
				v := d.At(i, j)
				u8 = u8 && v >= 0 && v <= 255 && math.Float64bits(float64(uint8(v))) == math.Float64bits(v)
				i16 = i16 && v >= -32768 && v <= 32767 && math.Float64bits(float64(int16(v))) == math.Float64bits(v)
			}
			switch {
			case u8:
				cc[j].u8 = make([]uint8, hi-lo)
			case i16:
				cc[j].i16 = make([]int16, hi-lo)
			default:
				cc[j].f64 = make([]float64, hi-lo)
			}
			for i := lo; i < hi; i++ {
				v := d.At(i, j)
				switch {
				case u8:
					cc[j].u8[i-lo] = uint8(v)
				case i16:
					cc[j].i16[i-lo] = int16(v)
				default:
					cc[j].f64[i-lo] = v
				}
			}
		}
		s.cols = append(s.cols, cc)
	}
	return s
}

func (s *typedStore) Dims() (r, c int)    { return s.d.Dims() }
func (s *typedStore) At(i, j int) float64 { return s.d.At(i, j) }
func (s *typedStore) T() mat.Matrix       { return mat.Transpose{Matrix: s} }
func (s *typedStore) Rows(dst []float64, lo, hi int) {
	_, c := s.d.Dims()
	for i := lo; i < hi; i++ {
		copy(dst[(i-lo)*c:(i-lo+1)*c], s.d.RawRowView(i))
	}
}

func (s *typedStore) ColumnRange(j, lo, hi int) (u8 []uint8, i16 []int16, f64 []float64) {
	k := lo / s.ch
	if (hi-1)/s.ch != k {
		return nil, nil, nil
	}
	s.calls.Add(1)
	c, a, b := s.cols[k][j], lo-k*s.ch, hi-k*s.ch
	switch {
	case c.u8 != nil:
		return c.u8[a:b], nil, nil
	case c.i16 != nil:
		return nil, c.i16[a:b], nil
	}
	return nil, nil, c.f64[a:b]
}

// TestLogitTypedFill: the fill of the sparse pass from typed columns
// (typedRows, with the assembly kernel when the CPU has FMA, and the
// portable colsFill) against the fill from float64 rows (rows, rowsGo)
// bit for bit: dense vectors, nonzero sparse values, offsets and eta, on
// uint8, int16 and float64 columns with zeros, negative values and rows
// with no nonzero sparse value, with and without FMA.
func TestLogitTypedFill(t *testing.T) {
	defer func(v bool) { lgUseFMA = v }(lgUseFMA)
	for _, fma := range []bool{lgUseFMA, false} {
		lgUseFMA = fma
		t.Run(fmt.Sprintf("fma=%v", fma), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(17, 2))
			for trial := range 40 {
				lgCheckTypedFill(t, rng, trial)
			}
		})
	}
}

func lgCheckTypedFill(t *testing.T, rng *rand.Rand, trial int) {
	n, p := 1+rng.IntN(300), 1+rng.IntN(20)
	kinds := make([]int, p) // 0 uint8, 1 int16, 2 float64
	sparse := make([]bool, p)
	for j := range p {
		kinds[j], sparse[j] = rng.IntN(3), rng.IntN(3) > 0
	}
	x := mat.NewDense(n, p, nil)
	for i := range n {
		for j := range p {
			if sparse[j] && rng.IntN(4) > 0 {
				continue
			}
			switch kinds[j] {
			case 0:
				x.Set(i, j, float64(rng.IntN(256)))
			case 1:
				x.Set(i, j, float64(rng.IntN(65536)-32768))
			default:
				x.Set(i, j, rng.NormFloat64()*100)
			}
		}
	}
	pr := newLgProblem(newLgX(x), n, p, nil, nil, 0, n, 0, true, 1)
	center := make([]float64, p)
	for j := range center {
		center[j] = rng.NormFloat64()
	}
	sp := lgNewSparse(p, p+1, true, center, sparse, make([]bool, p))
	pr.sp = sp
	bd := make([]float64, sp.md4)
	for a := range sp.dcol {
		bd[1+a] = rng.NormFloat64()
	}
	bs := make([]float64, max(sp.ns, 1))
	for s := range sp.ns {
		bs[s] = rng.NormFloat64()
	}
	f := newLgFill(pr, bd[1:], bs, rng.NormFloat64())
	f.setRows(x.RawMatrix().Data, p, n)
	list := lgNzList{off: []int32{0}}
	mask := make([]uint64, len(sp.smask))
	for i := range n {
		list.col = sp.fromMask(list.col, x.RawRowView(i), mask)
		list.off = append(list.off, int32(len(list.col)))
	}
	list.col = append(list.col, 0)[:len(list.col)]
	var rows []int
	for i := range n {
		if rng.IntN(5) > 0 {
			rows = append(rows, i)
		}
	}
	st := newTypedStore(x, n)
	xr := newLgX(st)
	var cb lgColBlock
	require.True(t, xr.colBlock(&cb, 0, n))
	md4, ns := sp.md4, sp.ns
	type out struct {
		ud, val, e []float64
		idx, off   []int
		nz         int
	}
	run := func(fill func(o *out) int) out {
		o := out{ud: make([]float64, len(rows)*md4+1), val: make([]float64, len(rows)*ns+1), e: make([]float64, len(rows)+1),
			idx: make([]int, len(rows)*ns+1), off: make([]int, len(rows)+1)}
		for k := range rows {
			o.e[k] = math.NaN() // must be overwritten
		}
		o.nz = fill(&o)
		return o
	}
	want := run(func(o *out) int { return f.rows(rows, list, 0, o.ud, md4, o.idx, o.val, o.off, o.e) })
	if !lgUseFMA {
		w2 := run(func(o *out) int { return f.rowsGo(rows, list, 0, o.ud, md4, o.idx, o.val, o.off, o.e) })
		require.Equal(t, want, w2)
	}
	for name, fill := range map[string]func(o *out) int{
		"typedRows": func(o *out) int { return f.typedRows(&cb, rows, list, o.ud, md4, o.idx, o.val, o.off, o.e) },
		"colsFill":  func(o *out) int { return f.colsFill(&cb, lgUseFMA, rows, list, o.ud, md4, o.idx, o.val, o.off, o.e) },
	} {
		got := run(fill)
		msg := fmt.Sprintf("trial %d (n %d, p %d, %d sparse): %s", trial, n, p, ns, name)
		require.Equal(t, want.nz, got.nz, msg)
		assert.Equal(t, want.off, got.off, msg)
		assert.Equal(t, want.idx[:want.nz], got.idx[:got.nz], msg)
		for k := range want.nz {
			assert.Equal(t, math.Float64bits(want.val[k]), math.Float64bits(got.val[k]), "%s: val %d", msg, k)
		}
		for tt := range rows {
			assert.Equal(t, math.Float64bits(want.e[tt]), math.Float64bits(got.e[tt]), "%s: eta of row %d", msg, rows[tt])
			for a := range sp.dcol {
				assert.Equal(t, math.Float64bits(want.ud[tt*md4+a]), math.Float64bits(got.ud[tt*md4+a]), "%s: u of row %d", msg, rows[tt])
			}
		}
	}
}

// TestFitLogitTypedColumns: FitLogit on a TypedColumns gives the same
// bits as on the *mat.Dense it holds (coefficients, standard errors,
// deviance, iterations): with the pass chosen by the rule
// and with the sparse pass forced, with and without weights (some zero),
// on 1 and 2 workers, with chunks of 4096 rows (every group of lgSub
// rows in one chunk), 1000 and 300 rows (some groups cross chunks and
// are read through Rows), and through a column selection.
func TestFitLogitTypedColumns(t *testing.T) {
	n := 3*lgBlock + 77
	x, y, names := lgSparseDesign(91, n)
	rng := rand.New(rand.NewPCG(4, 4))
	w := make([]float64, n)
	for i := range w {
		switch rng.IntN(6) {
		case 0:
			w[i] = 0
		case 1:
			w[i] = 2.5
		default:
			w[i] = 1
		}
	}
	for _, ch := range []int{lgBlock, 1000, 300} {
		st := newTypedStore(x, ch)
		for _, path := range []int{0, 2} {
			for _, wt := range [][]float64{nil, w} {
				for _, workers := range []int{1, 2} {
					msg := fmt.Sprintf("chunk %d path %d weights %v workers %d", ch, path, wt != nil, workers)
					opts := &LogitOptions{Workers: workers}
					want, err := lgFitPath(t, path, x, y, wt, names, opts)
					require.NoError(t, err, msg)
					before := st.calls.Load()
					got := lgFitMatrix(t, path, st, y, wt, names, opts)
					lgBits(t, want, got, msg)
					if path == 2 {
						assert.Greater(t, st.calls.Load(), before, "%s: typed columns not read", msg)
					}
					cols := []int{0, 2, 4, 5, 6, 7, 8, 9, 10, 12, 13, 15}
					wantS, err := fitLogitPath(path, lgCols(x, cols), y, wt, nil, opts)
					require.NoError(t, err, msg)
					gotS := lgFitMatrix(t, path, selectColumns(st, cols), y, wt, nil, opts)
					lgBits(t, wantS, gotS, msg+" selection")
				}
			}
		}
	}
}

// lgFitMatrix fits on any matrix with the pass forced as lgFitPath does.
func lgFitMatrix(t *testing.T, path int, x mat.Matrix, y, w []float64, names []string, opts *LogitOptions) *Logit {
	t.Helper()
	fit, err := fitLogitPath(path, x, y, w, names, opts)
	require.NoError(t, err)
	return fit
}

func fitLogitPath(path int, x mat.Matrix, y, w []float64, names []string, opts *LogitOptions) (*Logit, error) {
	defer func(v int) { lgPathOverride = v }(lgPathOverride)
	lgPathOverride = path
	return fitLogit(context.Background(), x, y, w, names, opts)
}

// TestFitLogitTypedScan: the scan of a TypedColumns (column by column)
// against that of the *mat.Dense it holds: the same error for a bad
// treatment, a bad weight and a non-finite covariate (found by the row
// scan), and with DropSeparated (covariate ranges by group) the same
// dropped columns, excluded units, coefficients and scores.
func TestFitLogitTypedScan(t *testing.T) {
	n := 2*lgBlock + 500
	x, y, names := lgSparseDesign(92, n)
	for i := 0; i < n; i++ {
		x.Set(i, 15, b2f(y[i] == 1 && i%7 == 0)) // 1 only for treated: separates
	}
	for _, ch := range []int{lgBlock, 300} {
		st := newTypedStore(x, ch)
		for _, workers := range []int{1, 2} {
			opts := &LogitOptions{Workers: workers, DropSeparated: true}
			want, err := FitLogit(context.Background(), x, y, nil, names, opts)
			require.NoError(t, err)
			got, err := FitLogit(context.Background(), st, y, nil, names, opts)
			require.NoError(t, err)
			msg := fmt.Sprintf("chunk %d workers %d", ch, workers)
			require.Equal(t, []string{"lastyear"}, want.Dropped, msg)
			assert.Equal(t, want.Dropped, got.Dropped, msg)
			assert.Equal(t, want.Excluded, got.Excluded, msg)
			lgBits(t, want.Logit, got.Logit, msg)
			assert.Equal(t, want.Scores(nil), got.Scores(nil), msg)
		}
	}
	bad := func(what string, f func(x *mat.Dense, y, w []float64)) {
		xb := mat.DenseCopyOf(x)
		yb := append([]float64(nil), y...)
		w := make([]float64, n)
		for i := range w {
			w[i] = 1
		}
		f(xb, yb, w)
		for _, ch := range []int{lgBlock, 300} {
			_, err1 := FitLogit(context.Background(), xb, yb, w, names, nil)
			_, err2 := FitLogit(context.Background(), newTypedStore(xb, ch), yb, w, names, nil)
			require.Error(t, err1, what)
			assert.Equal(t, err1.Error(), err2.Error(), "%s: chunk %d", what, ch)
		}
	}
	bad("treatment 2", func(_ *mat.Dense, y, _ []float64) { y[lgBlock+10] = 2 })
	bad("NaN treatment", func(_ *mat.Dense, y, _ []float64) { y[5] = math.NaN() })
	bad("negative weight", func(_ *mat.Dense, _, w []float64) { w[lgBlock+3] = -1 })
	bad("Inf weight", func(_ *mat.Dense, _, w []float64) { w[lgBlock+3] = math.Inf(1) })
	bad("NaN covariate after a bad weight", func(x *mat.Dense, _, w []float64) {
		w[lgBlock+3] = -1
		x.Set(lgBlock+3, 2, math.NaN())
	})
	bad("Inf covariate", func(x *mat.Dense, _, _ []float64) { x.Set(lgBlock+100, 2, math.Inf(-1)) })
	bad("NaN covariate with zero weight", func(x *mat.Dense, _, w []float64) {
		w[40] = 0
		x.Set(40, 2, math.NaN())
	})
}

// TestLogitTypedScanSums: the scan's sums, counts, ranges by group and
// starting deviance from a TypedColumns equal those from the *mat.Dense
// it holds bit for bit, with and without weights (some zero), with
// weights of 0 and 1 only (the integer sums) and with such weights in
// all blocks but one, for chunks that do and do not hold whole blocks.
func TestLogitTypedScanSums(t *testing.T) {
	n := 2*lgBlock + 321
	x, y, _ := lgSparseDesign(93, n)
	_, p := x.Dims()
	rng := rand.New(rand.NewPCG(9, 9))
	for i := 0; i < n; i++ {
		x.Set(i, 2, x.At(i, 2)-0.5)  // negative values
		x.Set(i, 1, x.At(i, 1)-2010) // negative int16
		if i >= 2*lgBlock {
			y[i] = 0       // a block without treated units
			x.Set(i, 5, 0) // a column of zeros
		}
		if rng.IntN(50) == 0 {
			x.Set(i, 4, math.Copysign(0, -1))
		}
	}
	w := make([]float64, n)
	w01 := make([]float64, n)
	wMixed := make([]float64, n)
	for i := range w {
		w[i] = float64(rng.IntN(4)) / 2
		w01[i] = float64(rng.IntN(2))
		wMixed[i] = w01[i]
	}
	wMixed[lgBlock+17] = 0.5
	for _, ch := range []int{lgBlock, 300} {
		for _, wt := range [][]float64{nil, w, w01, wMixed} {
			scan := func(m mat.Matrix) (*lgScan, []float64) {
				pr := newLgProblem(newLgX(m), n, p, y, wt, 0, n, 0, true, 2)
				eta := make([]float64, n)
				sc, err := pr.scan(context.Background(), eta)
				require.NoError(t, err)
				return sc, eta
			}
			want, weta := scan(x)
			got, geta := scan(newTypedStore(x, ch))
			msg := fmt.Sprintf("chunk %d weights %v", ch, wt != nil)
			assert.Equal(t, want, got, msg)
			assert.Equal(t, weta, geta, msg)
			for j := range p {
				assert.Equal(t, math.Float64bits(want.sumWX[j]), math.Float64bits(got.sumWX[j]), "%s: sumWX %d", msg, j)
				assert.Equal(t, math.Float64bits(want.nzW[j]), math.Float64bits(got.nzW[j]), "%s: nzW %d", msg, j)
			}
		}
	}
}

// TestLogitTypedLinearPredictor: LinearPredictor and Predict on a
// TypedColumns (column by column) equal those on the *mat.Dense it holds
// bit for bit, with chunks holding whole groups of lgSub rows and not,
// and through a column selection; the test coefficients include NaN
// (aliased, counted as 0).
func TestLogitTypedLinearPredictor(t *testing.T) {
	n := lgBlock + 300
	x, _, _ := lgSparseDesign(94, n)
	_, p := x.Dims()
	rng := rand.New(rand.NewPCG(3, 3))
	for i := 0; i < n; i++ {
		x.Set(i, 1, x.At(i, 1)-2010) // negative int16
	}
	l := &Logit{Intercept: true, Coef: make([]float64, p+1)}
	for j := range l.Coef {
		l.Coef[j] = rng.NormFloat64()
	}
	l.Coef[3] = math.NaN()
	cols := []int{0, 1, 3, 5, 8, 13, 15}
	ls := &Logit{Intercept: false, Coef: make([]float64, len(cols))}
	for j := range ls.Coef {
		ls.Coef[j] = rng.NormFloat64()
	}
	for _, ch := range []int{lgBlock, 1000, 300} {
		st := newTypedStore(x, ch)
		msg := fmt.Sprintf("chunk %d", ch)
		want, got := l.LinearPredictor(x, nil), l.LinearPredictor(st, nil)
		for i := range want {
			require.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]), "%s: row %d", msg, i)
		}
		assert.Equal(t, l.Predict(x, nil), l.Predict(st, nil), msg)
		want, got = ls.LinearPredictor(lgCols(x, cols), nil), ls.LinearPredictor(selectColumns(st, cols), nil)
		for i := range want {
			require.Equal(t, math.Float64bits(want[i]), math.Float64bits(got[i]), "%s selection: row %d", msg, i)
		}
	}
}
