package rng

import "math/bits"

// PCG is math/rand/v2's PCG generator (128-bit LCG state, DXSM output)
// as a plain value whose methods inline: from the same seed it returns
// the same sequence as rand.PCG, bit for bit. Draw loops that would pay a
// call per number through rand.PCG (or a rand.Rand's interface) use it;
// it is a rand.Source, so a rare path can hand it to code that takes one
// and the stream continues where that code leaves it.
type PCG struct{ hi, lo uint64 }

// NewPCG returns a PCG seeded as rand.NewPCG(seed1, seed2).
func NewPCG(seed1, seed2 uint64) PCG { return PCG{seed1, seed2} }

// Seed resets g as rand.PCG.Seed(seed1, seed2).
func (g *PCG) Seed(seed1, seed2 uint64) { g.hi, g.lo = seed1, seed2 }

// Uint64 returns the next output: state = state·mul + inc (mod 2^128),
// then the DXSM mix of the new state, as rand.PCG.Uint64.
func (g *PCG) Uint64() uint64 {
	var x uint64
	*g, x = g.Next()
	return x
}

// Next returns g advanced by one step and that step's output (what
// g.Uint64 returns). A loop that keeps its generator in a local variable
// and steps it by Next keeps the state in registers, which the
// pointer-receiver Uint64 does not allow.
func (g PCG) Next() (PCG, uint64) {
	const (
		mulHi    = 2549297995355413924
		mulLo    = 4865540595714422341
		incHi    = 6364136223846793005
		incLo    = 1442695040888963407
		cheapMul = 0xda942042e4dd58b5
	)
	hi, lo := bits.Mul64(g.lo, mulLo)
	hi += g.hi*mulLo + g.lo*mulHi
	lo, c := bits.Add64(lo, incLo, 0)
	hi, _ = bits.Add64(hi, incHi, c)
	x := hi
	x ^= x >> 32
	x *= cheapMul
	x ^= x >> 48
	x *= lo | 1
	return PCG{hi, lo}, x
}

// Float64 returns a uniform float64 in [0, 1) drawn as
// rand.New(g).Float64 draws it: (Uint64() mod 2^53) / 2^53.
func (g *PCG) Float64() float64 { return float64(g.Uint64()<<11>>11) / (1 << 53) }

// Uint64N returns a uniform integer in [0, n) by Lemire's method: what
// the package's Uint64N draws from a rand.PCG in the same state. It
// panics if n == 0.
func (g *PCG) Uint64N(n uint64) uint64 {
	if n == 0 {
		panic("rng: Uint64N with n == 0")
	}
	hi, lo := bits.Mul64(g.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(g.Uint64(), n)
		}
	}
	return hi
}
