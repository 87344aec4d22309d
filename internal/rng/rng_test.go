package rng

import (
	"math/rand/v2"
	"testing"
)

// SplitMix64 from state 0: the first outputs of the reference generator
// (Vigna's splitmix64.c, seed 0): 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4,
// 0x06c45d188009454f.
func TestSplitMix64Reference(t *testing.T) {
	want := []uint64{0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4, 0x06c45d188009454f}
	var x uint64
	for i, w := range want {
		if got := SplitMix64(x); got != w {
			t.Errorf("output %d: %#x, want %#x", i, got, w)
		}
		x += Golden
	}
}

// Uint64N draws what math/rand/v2's Rand.Uint64N draws from the same PCG
// for bounds that are not powers of two (the stdlib masks those).
func TestUint64NMatchesStdlib(t *testing.T) {
	for _, n := range []uint64{3, 7, 1000, 1<<40 + 1, 1<<63 + 12345} {
		a, b := rand.NewPCG(1, uint64(n)), rand.NewPCG(1, uint64(n))
		r := rand.New(b)
		for i := 0; i < 1000; i++ {
			if x, y := Uint64N(a, n), r.Uint64N(n); x != y {
				t.Fatalf("n %d draw %d: %d, stdlib %d", n, i, x, y)
			}
		}
	}
}

func TestMix64Bijective(t *testing.T) {
	seen := map[uint64]bool{}
	for z := uint64(0); z < 1<<16; z++ {
		v := Mix64(z)
		if seen[v] {
			t.Fatalf("collision at %d", z)
		}
		seen[v] = true
	}
}

// PCG returns rand.PCG's outputs, and Float64 rand.Rand.Float64's, bit
// for bit, over many seeds (including seeds with high bits set).
func TestPCGMatchesStdlib(t *testing.T) {
	src := rand.NewPCG(9, 10)
	for s := 0; s < 200; s++ {
		s1, s2 := src.Uint64(), src.Uint64()
		if s%7 == 0 {
			s1, s2 = uint64(s), 0
		}
		ref := rand.NewPCG(s1, s2)
		refR := rand.New(rand.NewPCG(s1, s2))
		g, h := NewPCG(s1, s2), NewPCG(0, 0)
		h.Seed(s1, s2)
		for i := 0; i < 500; i++ {
			if x, y := g.Uint64(), ref.Uint64(); x != y {
				t.Fatalf("seed (%#x, %#x) draw %d: %#x, stdlib %#x", s1, s2, i, x, y)
			}
			if x, y := h.Float64(), refR.Float64(); x != y {
				t.Fatalf("seed (%#x, %#x) Float64 %d: %v, stdlib %v", s1, s2, i, x, y)
			}
		}
	}
}

// The stdlib rand.Source interface is satisfied, so a PCG can be handed on.
var _ rand.Source = (*PCG)(nil)

// PCG.Uint64N draws what Uint64N draws from a rand.PCG, for any bound
// (powers of two included: both use Lemire's method there too).
func TestPCGUint64NMatches(t *testing.T) {
	for _, n := range []uint64{1, 2, 3, 7, 255, 256, 257, 1000, 1 << 40, 1<<40 + 1, 1<<63 + 12345, ^uint64(0)} {
		a, g := rand.NewPCG(3, n), NewPCG(3, n)
		for i := 0; i < 2000; i++ {
			if x, y := g.Uint64N(n), Uint64N(a, n); x != y {
				t.Fatalf("n %d draw %d: %d, Uint64N %d", n, i, x, y)
			}
		}
	}
}

// Next steps as Uint64 does.
func TestPCGNext(t *testing.T) {
	g, h := NewPCG(7, 8), NewPCG(7, 8)
	for i := 0; i < 1000; i++ {
		var x uint64
		g, x = g.Next()
		if y := h.Uint64(); x != y || g != h {
			t.Fatalf("step %d: Next %#x (state %v), Uint64 %#x (state %v)", i, x, g, y, h)
		}
	}
}
