package panel

import (
	"math/rand/v2"

	"github.com/psmeval/psmeval/internal/rng"
)

// SimStream returns the PCG stream id of a control's draw: a bijective
// 64-bit mix (SplitMix64's finalizer) of the person id combined with the
// draw number, so that neighbouring ids get unrelated streams.
func SimStream(id int64, draw int) uint64 {
	return rng.Mix64(rng.Mix64(uint64(id)) ^ (uint64(draw) * rng.Golden))
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
	return int(rng.Uint64N(&p, uint64(n)))
}

// startDist is the empirical distribution of the eligible treated start
// days: one entry per treated unit, sorted ascending by day, with the
// week and cohort precomputed.
type startDist struct {
	day    []Day
	week   []int32
	cohort []Month
}
