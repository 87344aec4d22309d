package psm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"

	"gonum.org/v1/gonum/mat"
)

// benchBalanceCols is the SFI-like column layout of the balance
// benchmark: column 0 continuous (all values distinct: sorted), column 1
// an age in years from days (about 18,000 distinct values, as
// panel.AgeAtStart: tabulated in the hash table), columns 2..14 counts
// of weeks 0..260, the rest 0/1 dummies.
const benchBalanceCols = 45

// benchBalanceData returns a row-major (nt+nc) x 45 covariate matrix
// split into its treated and control rows (views into one *mat.Dense,
// as examples/sfi passes p.X) and the names.
func benchBalanceData(nt, nc int) (names []string, td, cd *mat.Dense) {
	rng := rand.New(rand.NewPCG(2015, 45))
	n := nt + nc
	x := mat.NewDense(n, benchBalanceCols, nil)
	raw := x.RawMatrix()
	p := make([]float64, benchBalanceCols)
	for j := range p {
		p[j] = 0.02 + 0.9*rng.Float64()
	}
	for i := 0; i < n; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+benchBalanceCols]
		shift := 0.0
		if i < nt {
			shift = 0.3
		}
		row[0] = rng.NormFloat64() + shift
		row[1] = float64(16*365+rng.IntN(50*365)) / 365.25
		for j := 2; j < 15; j++ {
			u := rng.Float64()
			row[j] = math.Floor(261 * u * u * u * p[j])
		}
		for j := 15; j < benchBalanceCols; j++ {
			if rng.Float64() < p[j] {
				row[j] = 1
			}
		}
	}
	names = make([]string, benchBalanceCols)
	for j := range names {
		names[j] = "x" + strconv.Itoa(j)
	}
	return names, x.Slice(0, nt, 0, benchBalanceCols).(*mat.Dense), x.Slice(nt, n, 0, benchBalanceCols).(*mat.Dense)
}

// BenchmarkBalance: Balance of 45 SFI-like covariates (1 continuous, 1
// age, 13 counts 0..260, 30 dummies) of 6,487 treated and N controls after 1:1
// nearest-neighbour matching, the matrix row-major as in examples/sfi.
// The 3.3 M size (the population of examples/sfi -scale 1, a 1.2 GB
// matrix) runs only with PSMEVAL_BENCH_BIG=1.
func BenchmarkBalance(b *testing.B) {
	sizes := []int{330_000}
	if os.Getenv("PSMEVAL_BENCH_BIG") == "1" {
		sizes = append(sizes, 3_300_000)
	}
	for _, nc := range sizes {
		tr, co := benchScores(6487, nc, 0)
		m, err := Match(tr, co, nil)
		if err != nil {
			b.Fatal(err)
		}
		names, td, cd := benchBalanceData(len(tr), len(co))
		b.Run(fmt.Sprintf("controls=%d", nc), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Balance(names, td, cd, m, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
