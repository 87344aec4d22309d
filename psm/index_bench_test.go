package psm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// benchScores returns SFI-sized synthetic scores: nt treated and nc
// controls, continuous (a logit of a normal index, treated shifted up)
// or taking only `distinct` values (distinct > 0).
func benchScores(nt, nc, distinct int) (tr, co []float64) {
	rng := rand.New(rand.NewPCG(2015, uint64(distinct)))
	levels := make([]float64, distinct)
	for k := range levels {
		levels[k] = 1 / (1 + math.Exp(-(-8 + 5*float64(k)/float64(distinct))))
	}
	draw := func(shift float64) float64 {
		z := rng.NormFloat64() + shift
		if distinct > 0 {
			k := int(float64(distinct) * (0.5 + 0.5*math.Tanh(z/2)))
			return levels[min(max(k, 0), distinct-1)]
		}
		return 1 / (1 + math.Exp(-(-7.5 + z)))
	}
	tr = make([]float64, nt)
	co = make([]float64, nc)
	for i := range tr {
		tr[i] = draw(1)
	}
	for j := range co {
		co[j] = draw(0)
	}
	return tr, co
}

var benchSizes = []int{330_000, 1_000_000, 3_300_000}

// BenchmarkNewIndex: sorting and blocking the controls.
func BenchmarkNewIndex(b *testing.B) {
	for _, distinct := range []int{0, 60} {
		for _, nc := range benchSizes {
			_, co := benchScores(6487, nc, distinct)
			b.Run(fmt.Sprintf("distinct=%d/controls=%d", distinct, nc), func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := NewIndex(co, nil); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkMatch: Match (index build included) of 6,487 treated against
// N controls, one neighbour with replacement and tie averaging; with 60
// distinct scores each treated unit is tied with tens of thousands of
// controls (SkipSets, since the expanded sets would hold hundreds of
// millions of entries).
func BenchmarkMatch(b *testing.B) {
	for _, distinct := range []int{0, 60} {
		for _, nc := range benchSizes {
			tr, co := benchScores(6487, nc, distinct)
			b.Run(fmt.Sprintf("distinct=%d/controls=%d", distinct, nc), func(b *testing.B) {
				b.ReportAllocs()
				opts := &MatchOptions{SkipSets: distinct > 0}
				for b.Loop() {
					if _, err := Match(tr, co, opts); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkIndexMatchReweighted: one bootstrap replicate with a prepared
// index: new Poisson(1)-like frequency weights for all controls and
// treated, MatchInto a reused destination (weights drawn outside the
// timer).
func BenchmarkIndexMatchReweighted(b *testing.B) {
	for _, distinct := range []int{0, 60} {
		for _, nc := range benchSizes {
			tr, co := benchScores(6487, nc, distinct)
			ix, err := NewIndex(co, nil)
			if err != nil {
				b.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(1, 2))
			const reps = 4
			cws := make([][]float64, reps)
			tws := make([][]float64, reps)
			poisson := func() float64 { // Poisson(1) by inversion
				u, k, p := rng.Float64(), 0, math.Exp(-1)
				c := p
				for u > c {
					k++
					p /= float64(k)
					c += p
				}
				return float64(k)
			}
			for r := range cws {
				cws[r] = make([]float64, nc)
				for j := range cws[r] {
					cws[r][j] = poisson()
				}
				tws[r] = make([]float64, len(tr))
				for i := range tws[r] {
					tws[r][i] = poisson()
				}
			}
			b.Run(fmt.Sprintf("distinct=%d/controls=%d", distinct, nc), func(b *testing.B) {
				b.ReportAllocs()
				var dst Matching
				r := 0
				for b.Loop() {
					opts := &MatchOptions{SkipSets: true, ControlWeights: cws[r%reps], TreatedWeights: tws[r%reps]}
					if err := ix.MatchInto(&dst, tr, opts); err != nil {
						b.Fatal(err)
					}
					r++
				}
			})
		}
	}
}

// BenchmarkATT: the Abadie–Imbens standard error after matching.
func BenchmarkATT(b *testing.B) {
	for _, distinct := range []int{0, 60} {
		nc := 3_300_000
		tr, co := benchScores(6487, nc, distinct)
		m, err := Match(tr, co, &MatchOptions{SkipSets: true})
		if err != nil {
			b.Fatal(err)
		}
		yt := make([]float64, len(tr))
		yc := make([]float64, nc)
		for i := range yt {
			yt[i] = float64(i % 2)
		}
		for j := range yc {
			yc[j] = float64(j % 3 % 2)
		}
		b.Run(fmt.Sprintf("distinct=%d/controls=%d", distinct, nc), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := ATT(yt, yc, m, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
