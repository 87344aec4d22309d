package panel_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// TestBalanceCovStore: psm.Balance and psm.BalanceByCohort on the
// treated and control slices of a CovStore (as examples/sfi passes them)
// give the same bits as on the slices of the *mat.Dense: uint8, int16
// and float64 chunk columns, a variable with all values distinct (sorted)
// and more rows than one chunk, with 1 and 2 workers; a non-finite value
// is reported at the same row.
func TestBalanceCovStore(t *testing.T) {
	rnd := rand.New(rand.NewPCG(7, 8))
	nt, nc, p := 900, 3*panel.CovChunk+17, 7
	n := nt + nc
	x := mat.NewDense(n, p, nil)
	for i := range n {
		x.SetRow(i, []float64{
			f01(rnd.IntN(3) == 0),
			float64(rnd.IntN(60)),
			float64(rnd.IntN(700) - 300),
			rnd.NormFloat64(), // all distinct: sorted
			f01(rnd.IntN(40) == 0),
			float64(rnd.IntN(20)) / 4,
			float64(18+rnd.IntN(47)) + f01(i < nt),
		})
	}
	pt, pc := make([]float64, nt), make([]float64, nc)
	for i := range pt {
		pt[i] = 0.3 + 0.5*rnd.Float64()
	}
	for j := range pc {
		pc[j] = rnd.Float64()
	}
	m, err := psm.Match(pt, pc, &psm.MatchOptions{K: 2})
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"dummy", "count", "int16", "normal", "rare", "quarters", "age"}
	coh := make([]int32, nt)
	for i := range coh {
		coh[i] = int32(i % 4)
	}
	check := func(x mat.Matrix, s *panel.CovStore, what string) {
		t.Helper()
		td, cd := x.(interface {
			Slice(i, k, j, l int) mat.Matrix
		}).Slice(0, nt, 0, p), x.(interface {
			Slice(i, k, j, l int) mat.Matrix
		}).Slice(nt, n, 0, p)
		ts, cs := s.Slice(0, nt, 0, p), s.Slice(nt, n, 0, p)
		for _, workers := range []int{1, 2} {
			o := &psm.BalanceOptions{Workers: workers}
			want, werr := psm.Balance(names, td, cd, m, o)
			got, gerr := psm.Balance(names, ts, cs, m, o)
			if fmt.Sprint(werr) != fmt.Sprint(gerr) {
				t.Fatalf("%s workers %d: error %v on the store, %v on Dense", what, workers, gerr, werr)
			}
			if (werr != nil) != (what == "NaN") {
				t.Fatalf("%s workers %d: error %v", what, workers, werr)
			}
			if werr != nil {
				continue
			}
			for k := range want.Rows {
				w, g := want.Rows[k], got.Rows[k]
				for q, pair := range [][2]float64{{w.Before.MeanControl, g.Before.MeanControl}, {w.Before.SMD, g.Before.SMD},
					{w.Before.VarRatio, g.Before.VarRatio}, {w.Before.ECDFMean, g.Before.ECDFMean}, {w.Before.ECDFMax, g.Before.ECDFMax},
					{w.After.MeanTreated, g.After.MeanTreated}, {w.After.MeanControl, g.After.MeanControl}, {w.After.SMD, g.After.SMD},
					{w.After.VarRatio, g.After.VarRatio}, {w.After.ECDFMean, g.After.ECDFMean}, {w.After.ECDFMax, g.After.ECDFMax}} {
					if math.Float64bits(pair[0]) != math.Float64bits(pair[1]) {
						t.Fatalf("%s workers %d: %s stat %d = %v on the store, %v on Dense", what, workers, w.Name, q, pair[1], pair[0])
					}
				}
			}
		}
		want, werr := psm.BalanceByCohort(names, td, cd, coh, m)
		got, gerr := psm.BalanceByCohort(names, ts, cs, coh, m)
		if fmt.Sprint(werr) != fmt.Sprint(gerr) || fmt.Sprintf("%v", want) != fmt.Sprintf("%v", got) {
			t.Fatalf("%s: BalanceByCohort %v (%v) on the store, %v (%v) on Dense", what, got, gerr, want, werr)
		}
	}
	check(x, panel.NewCovStore(x), "finite")
	x.Set(nt+2*panel.CovChunk+5, 3, math.NaN()) // a control of the sorted variable
	check(x, panel.NewCovStore(x), "NaN")
}
