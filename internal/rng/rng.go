// Package rng holds the random-stream plumbing shared by the packages:
// the SplitMix64 mixers that turn (seed, unit, part) into well-spread
// PCG stream ids, and Lemire's bounded draw from a PCG without the
// allocation of a rand.Rand. Every draw in psmeval comes from a
// math/rand/v2 PCG keyed this way, so a unit's numbers depend on the
// seed and its own ids only, never on worker count or input order.
package rng

import (
	"math/bits"
	"math/rand/v2"
)

// Golden is the SplitMix64 increment, 2^64 / φ rounded to odd.
const Golden = 0x9e3779b97f4a7c15

// Mix64 is the SplitMix64 finaliser (Steele, Lea & Flood 2014; the
// variant of Stafford's Mix13): a bijection of the 64-bit integers.
func Mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// SplitMix64 is one step of the SplitMix64 generator from state x:
// Mix64(x + Golden).
func SplitMix64(x uint64) uint64 { return Mix64(x + Golden) }

// ReplicateKey derives the key of bootstrap replicate b's random
// streams from the seed: SplitMix64(seed XOR SplitMix64(b + 0x5bd1e995)).
// Replicate b's draws depend on (seed, b) only, never on which worker
// runs it.
func ReplicateKey(seed uint64, b int) uint64 {
	return SplitMix64(seed ^ SplitMix64(uint64(b)+0x5bd1e995))
}

// Uint64N returns a uniform integer in [0, n) from g by Lemire's
// multiply-and-reject method (Lemire 2019; exactly uniform), without
// allocating a rand.Rand. On 64-bit platforms it draws what
// math/rand/v2's Rand.Uint64N draws from the same source, except for a
// power of two n, which Uint64N masks. It panics if n == 0.
func Uint64N(g *rand.PCG, n uint64) uint64 {
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
