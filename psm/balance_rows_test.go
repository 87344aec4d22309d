package psm

import (
	"fmt"
	"math"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// denseRows is a RowBlocker over a *mat.Dense (not itself a *mat.Dense,
// so Balance reads it through Rows and At).
type denseRows struct {
	d     *mat.Dense
	calls *atomic.Int64 // Rows calls, when not nil (Rows runs on several workers)
}

func (x denseRows) Dims() (r, c int)    { return x.d.Dims() }
func (x denseRows) At(i, j int) float64 { return x.d.At(i, j) }
func (x denseRows) T() mat.Matrix       { return mat.Transpose{Matrix: x} }
func (x denseRows) Rows(dst []float64, lo, hi int) {
	_, c := x.d.Dims()
	if len(dst) < (hi-lo)*c {
		panic(mat.ErrShape)
	}
	for i := lo; i < hi; i++ {
		copy(dst[(i-lo)*c:(i-lo+1)*c], x.d.RawRowView(i))
	}
	if x.calls != nil {
		x.calls.Add(1)
	}
}

// denseRowsSliced is a denseRows with Slice returning a view of the
// same type, as panel.CovStore has.
type denseRowsSliced struct{ denseRows }

func (x denseRowsSliced) Slice(i, k, j, l int) mat.Matrix {
	return denseRowsSliced{denseRows{d: x.d.Slice(i, k, j, l).(*mat.Dense), calls: x.calls}}
}

// TestBalanceRowBlocker: Balance on a RowBlocker (with and without
// Slice, so each worker reads its own columns or whole rows) gives the
// same bits as on the *mat.Dense, tabulated or sorted, with any number
// of workers, and reads the controls through Rows (not At).
func TestBalanceRowBlocker(t *testing.T) {
	defer func(mo int, fs bool) { maxOther, balanceForceSort = mo, fs }(maxOther, balanceForceSort)
	for _, s := range balanceScenarios(t) {
		nv := len(s.names)
		x := mat.NewDense(s.nt+s.nc, nv+1, nil)
		for v := range s.names {
			for i, val := range s.tcols[v] {
				x.Set(i, v, val)
			}
			for j, val := range s.ccols[v] {
				x.Set(s.nt+j, v, val)
			}
		}
		td := x.Slice(0, s.nt, 0, nv).(*mat.Dense)
		cd := x.Slice(s.nt, s.nt+s.nc, 0, nv).(*mat.Dense)
		for _, mo := range []int{16, maxOtherDefault} {
			for _, sorted := range []bool{false, true} {
				maxOther, balanceForceSort = mo, sorted
				for _, workers := range []int{1, 2, 5} {
					o := &BalanceOptions{SMD: s.den, Workers: workers}
					want, err := Balance(s.names, td, cd, s.m, o)
					require.NoError(t, err)
					var calls atomic.Int64
					plain := denseRows{d: cd, calls: &calls}
					for name, pair := range map[string][2]mat.Matrix{
						"rows":        {denseRows{d: td}, plain},
						"sliced rows": {denseRowsSliced{denseRows{d: td}}, denseRowsSliced{denseRows{d: cd, calls: &calls}}},
						"dense, rows": {td, plain},
						"rows, dense": {denseRows{d: td}, cd},
					} {
						calls.Store(0)
						got, err := Balance(s.names, pair[0], pair[1], s.m, o)
						require.NoError(t, err)
						msg := fmt.Sprintf("%s %s maxOther=%d sorted=%v workers=%d", s.name, name, mo, sorted, workers)
						sameBits(t, want, got, msg)
						if _, dense := pair[1].(*mat.Dense); !dense {
							assert.GreaterOrEqual(t, calls.Load(), int64((s.nc+balanceRows-1)/balanceRows), msg)
						}
					}
				}
			}
		}
		maxOther, balanceForceSort = maxOtherDefault, false
	}
}

// TestBalanceByCohortRowBlocker: BalanceByCohort on RowBlockers gives
// the same bits as on the *mat.Dense.
func TestBalanceByCohortRowBlocker(t *testing.T) {
	for _, s := range balanceScenarios(t) {
		if s.m.Start == nil {
			continue
		}
		nv := len(s.names)
		td, cd := mat.NewDense(s.nt, nv, nil), mat.NewDense(s.nc, nv, nil)
		for v := range s.names {
			td.SetCol(v, s.tcols[v])
			cd.SetCol(v, s.ccols[v])
		}
		coh := make([]int32, s.nt)
		for i := range coh {
			coh[i] = int32(i % 3)
		}
		want, err := BalanceByCohort(s.names, td, cd, coh, s.m)
		require.NoError(t, err)
		got, err := BalanceByCohort(s.names, denseRows{d: td}, denseRowsSliced{denseRows{d: cd}}, coh, s.m)
		require.NoError(t, err)
		assert.Equal(t, fmt.Sprintf("%v", want), fmt.Sprintf("%v", got), s.name) // %v: NaN equals NaN
		for k := range want.SMD {
			for v := range want.SMD[k] {
				assert.True(t, sameFloat(want.SMD[k][v], got.SMD[k][v]), "%s cohort %d var %d", s.name, k, v)
			}
		}
	}
}

func sameFloat(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }
