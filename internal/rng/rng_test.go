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
