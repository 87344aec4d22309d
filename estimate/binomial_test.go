package estimate

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/psmeval/psmeval/internal/rng"
)

// binomial returns gonum's variates and leaves the stream where gonum
// leaves it, bit for bit, over the block-total parameters of counts
// (n up to millions, p = 256/cells) and over small n, small np, p > 1/2
// and n beyond binomSqueezeMaxN.
func TestBinomialMatchesGonum(t *testing.T) {
	type np struct{ n, p float64 }
	cases := []np{
		{3_300_000, 256.0 / 3_300_000}, {3_300_000, 256.0 / 3_000_000}, {1_000_000, 256.0 / 1_100_000},
		{100_000, 256.0 / 99_000}, {20_000, 256.0 / 20_480}, {3000, 0.1}, {600, 256.0 / 768},
		{300, 0.5}, {25, 0.3}, {24, 0.3}, {5, 0.9}, {1000, 0.6}, {1000, 0.0005}, {30, 1.0 / 30},
		{1 << 26, 256.0 / (1 << 26)}, {1<<25 + 1, 1e-4}, {1 << 25, 1e-4}, {40_000_000, 0.25}, {5000, 0.5},
	}
	r := rand.New(rand.NewPCG(11, 12))
	for range 40 {
		n := math.Floor(25 + r.Float64()*5e6)
		cases = append(cases, np{n, (1 + r.Float64()*2000) / n})
	}
	draws := 0
	for _, c := range cases {
		lp, lq := math.Log(c.p), math.Log1p(-c.p)
		for seed := range uint64(60) {
			ref := rand.NewPCG(seed, 0x636f6e74726f6c73)
			g := rng.NewPCG(seed, 0x636f6e74726f6c73)
			for i := range 50 {
				want := distuv.Binomial{N: c.n, P: c.p, Src: ref}.Rand()
				got := binomial(&g, c.n, c.p, lp, lq)
				if got != want {
					t.Fatalf("n %v p %v seed %d draw %d: %v, gonum %v", c.n, c.p, seed, i, got, want)
				}
				draws++
			}
			if x, y := g.Uint64(), ref.Uint64(); x != y {
				t.Fatalf("n %v p %v seed %d: stream at %#x after the draws, gonum's at %#x", c.n, c.p, seed, x, y)
			}
		}
	}
	t.Logf("%d variates compared", draws)
}

// fallingLog agrees with the sum of logarithms it replaces within the
// truncation bound wherever it reports ok, and refuses m > n/2.
func TestFallingLog(t *testing.T) {
	for _, n := range []float64{50, 1000, 60_000, 3_300_000} {
		f := newFallingLog(n)
		exact := 0.0 // Σ_{j<m} log(n − j), by compensated summation
		comp := 0.0
		for m := 0.0; m <= n; m++ {
			d, ok := f.at(m)
			if ok {
				if m > n/2 {
					t.Fatalf("n %v m %v: ok beyond n/2", n, m)
				}
				if err := math.Abs(d - (exact - comp)); err > 1e-8+1e-14*math.Abs(d) {
					t.Fatalf("n %v m %v: %v, sum of logs %v (error %g)", n, m, d, exact-comp, err)
				}
			}
			if m > 5000 {
				break
			}
			// Kahan: exact += log(n − m)
			y := math.Log(n-m) - comp
			s := exact + y
			comp = (s - exact) - y
			exact = s
		}
	}
	f, g := newFallingLog(3_300_000), newFallingLog(1000)
	if _, ok := f.at(3_000); !ok {
		t.Error("m = 3000 at n = 3.3e6 should be in range")
	}
	if _, ok := g.at(600); ok {
		t.Error("m = 600 at n = 1000 should be out of range")
	}
}

// expSqueeze agrees with math.Exp within 1e−12 relative on [−700, 700]
// (random points and the ends of the reduction intervals) and is
// math.Exp beyond.
func TestExpSqueeze(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	xs := []float64{0, -0.0, 1e-300, -1e-20, 0.5 * math.Ln2, -0.5 * math.Ln2, 700, -700, 1, -1, 709, -745, -1000, 800, math.Inf(-1), math.Inf(1), math.NaN()}
	for k := -1009; k <= 1009; k += 7 {
		xs = append(xs, (float64(k)+0.5)*math.Ln2, (float64(k)-0.5)*math.Ln2)
	}
	for range 200_000 {
		xs = append(xs, (r.Float64()*2-1)*700, (r.Float64()*2-1)*5)
	}
	for _, x := range xs {
		got, want := expSqueeze(x), math.Exp(x)
		if !(x >= -700 && x <= 700) {
			if math.Float64bits(got) != math.Float64bits(want) {
				t.Fatalf("exp(%v): %v, want math.Exp's %v beyond ±700", x, got, want)
			}
			continue
		}
		if err := math.Abs(got/want - 1); !(err <= 1e-12) {
			t.Fatalf("exp(%v): %v, math.Exp %v (relative error %g)", x, got, want, err)
		}
	}
}
