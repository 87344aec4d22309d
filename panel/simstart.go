package panel

import (
	"math/bits"
	"math/rand/v2"
)

// SimStream returns the PCG stream id of a control's draw: a bijective
// 64-bit mix (SplitMix64's finalizer) of the person id combined with the
// draw number, so that neighbouring ids get unrelated streams.
func SimStream(id int64, draw int) uint64 {
	return mix64(mix64(uint64(id)) ^ (uint64(draw) * 0x9e3779b97f4a7c15))
}

// DrawIndex returns the index, uniform on 0..n-1, that the control with
// person id and draw number draw picks from the n treated start days
// (sorted ascending) under seed: the first bounded draw (Lemire's
// multiply-and-reject method, exactly uniform) from
// rand.NewPCG(seed, SimStream(id, draw)). It depends only on (seed, id,
// draw, n): neither the worker count nor the input order matter.
// It panics if n <= 0.
func DrawIndex(seed uint64, id int64, draw, n int) int {
	if n <= 0 {
		panic("panel: DrawIndex with n <= 0")
	}
	var p rand.PCG
	p.Seed(seed, SimStream(id, draw))
	return int(bounded(&p, uint64(n)))
}

// bounded returns a uniform value in [0, n) (Lemire 2019).
func bounded(p *rand.PCG, n uint64) uint64 {
	hi, lo := bits.Mul64(p.Uint64(), n)
	if lo < n {
		thresh := -n % n
		for lo < thresh {
			hi, lo = bits.Mul64(p.Uint64(), n)
		}
	}
	return hi
}

func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}

// startDist is the empirical distribution of the eligible treated start
// days: one entry per treated unit, sorted ascending by day, with the
// week and cohort precomputed.
type startDist struct {
	day    []Day
	week   []int32
	cohort []Month
}
