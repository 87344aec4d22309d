package psm

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// TestLogitTypedFirstPass: the first sparse pass on typed columns (the
// nonzero lists from the columns, lgNzCols, then colsFill) against the
// first pass on the *mat.Dense they hold (the lists from each row's
// nonzero mask, fromMask, then fill), bit for bit: the lists, every
// block's sums, eta and the pass's result, on random uint8, int16 and
// float64 columns (with -0, which counts as zero), random sparse
// columns, weights with zeros or none, with and without coefficients
// (beta nil: eta is read), through random column selections, on chunks
// of several sizes (some groups of lgSub rows cross chunks and are read
// through Rows), 1 to 3 workers, with and without FMA.
func TestLogitTypedFirstPass(t *testing.T) {
	defer func(v bool) { lgUseFMA = v }(lgUseFMA)
	for _, fma := range []bool{lgUseFMA, false} {
		lgUseFMA = fma
		rng := rand.New(rand.NewPCG(23, 9))
		for trial := range 6 {
			lgCheckFirstPass(t, rng, fmt.Sprintf("fma %v trial %d", fma, trial))
		}
	}
}

func lgCheckFirstPass(t *testing.T, rng *rand.Rand, name string) {
	n, p := 1+rng.IntN(2*lgBlock+600), 2+rng.IntN(14)
	x := mat.NewDense(n, p, nil)
	for j := range p {
		kind, dens := rng.IntN(3), 1+rng.IntN(6)
		for i := range n {
			if rng.IntN(dens) > 0 {
				if kind == 2 && rng.IntN(7) == 0 {
					x.Set(i, j, math.Copysign(0, -1))
				}
				continue
			}
			switch kind {
			case 0:
				x.Set(i, j, float64(rng.IntN(256)))
			case 1:
				x.Set(i, j, float64(rng.IntN(65536)-32768))
			default:
				x.Set(i, j, rng.NormFloat64()*10)
			}
		}
	}
	y := make([]float64, n)
	for i := range y {
		y[i] = float64(rng.IntN(2))
	}
	var w []float64
	if rng.IntN(2) == 0 {
		w = make([]float64, n)
		for i := range w {
			w[i] = []float64{0, 1, 1, 2.5}[rng.IntN(4)]
		}
	}
	var cols []int
	q := p
	if rng.IntN(2) == 0 {
		cols, q = tsRandomCols(rng, p, func() bool { return rng.IntN(3) > 0 })
	}
	sparse := make([]bool, q)
	center := make([]float64, q)
	for j := range q {
		sparse[j], center[j] = rng.IntN(3) > 0, rng.NormFloat64()
	}
	var beta []float64
	if rng.IntN(2) == 0 {
		beta = make([]float64, q+1)
		for j := range beta {
			beta[j] = rng.NormFloat64() * 0.01
		}
	}
	eta0 := make([]float64, n)
	for i := range eta0 {
		eta0[i] = rng.NormFloat64()
	}
	type out struct {
		lists []lgNzList
		sums  []float64
		eta   []float64
		res   lgPassResult
	}
	run := func(m mat.Matrix, workers int) out {
		if cols != nil {
			m = selectColumns(m, cols)
		}
		pr := newLgProblem(newLgX(m), n, q, y, w, 0, n, 0, true, workers)
		pr.sp = lgNewSparse(q, q+1, true, center, sparse, make([]bool, q))
		o := out{sums: make([]float64, pr.nblocks*(pr.sp.plen+1)), eta: append([]float64(nil), eta0...)}
		var err error
		o.res, err = pr.passSparse(context.Background(), beta, o.eta, o.sums)
		require.NoError(t, err)
		o.lists = pr.sp.lists
		return o
	}
	want := run(x, 1)
	for _, ch := range []int{lgBlock, 1000, 300, lgSub} {
		st := newTypedStore(x, ch)
		for _, workers := range []int{1, 2, 3} {
			msg := fmt.Sprintf("%s (n %d, p %d, cols %v, beta %v, weights %v): chunk %d workers %d", name, n, p, cols, beta != nil, w != nil, ch, workers)
			before := st.calls.Load()
			got := run(st, workers)
			require.Greater(t, st.calls.Load(), before, "%s: typed columns not read", msg)
			require.Equal(t, len(want.lists), len(got.lists), msg)
			for b := range want.lists {
				require.Equal(t, want.lists[b].off, got.lists[b].off, "%s: block %d offsets", msg, b)
				require.Equal(t, want.lists[b].col, got.lists[b].col, "%s: block %d columns", msg, b)
			}
			for k := range want.sums {
				require.Equal(t, math.Float64bits(want.sums[k]), math.Float64bits(got.sums[k]), "%s: sum %d", msg, k)
			}
			for i := range want.eta {
				require.Equal(t, math.Float64bits(want.eta[i]), math.Float64bits(got.eta[i]), "%s: eta %d", msg, i)
			}
			require.Equal(t, math.Float64bits(want.res.dev), math.Float64bits(got.res.dev), msg)
			require.Equal(t, want.res.boundary, got.res.boundary, msg)
			require.Equal(t, math.Float64bits(want.res.maxDelta), math.Float64bits(got.res.maxDelta), msg)
		}
	}
}

// tsRandomCols returns a random non-empty subset of the columns 0..p-1,
// column j kept when keep() (drawn for each column in order; one column
// drawn with rng when none is kept), and its size.
func tsRandomCols(rng *rand.Rand, p int, keep func() bool) ([]int, int) {
	var cols []int
	for j := range p {
		if keep() {
			cols = append(cols, j)
		}
	}
	if cols == nil {
		cols = []int{rng.IntN(p)}
	}
	return cols, len(cols)
}
