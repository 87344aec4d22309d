package estimate

import (
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/psmeval/psmeval/internal/rng"
)

// refBlockTotals draws the block totals as the counts' specification
// states them: sequential conditional binomials by gonum from the PCG
// stream (key, stream).
func refBlockTotals(n int, key, stream uint64) []int {
	src := rand.NewPCG(key, stream)
	nb := (n + countBlock - 1) / countBlock
	tot := make([]int, nb)
	rem, cells := n, n
	for b := range tot {
		sb := min(countBlock, n-b*countBlock)
		switch {
		case rem == 0:
		case sb == cells:
			tot[b] = rem
		default:
			tot[b] = int(distuv.Binomial{N: float64(rem), P: float64(sb) / float64(cells), Src: src}.Rand())
		}
		rem -= tot[b]
		cells -= sb
	}
	return tot
}

// refBlock returns block b's person counts for m draws: m uniform draws
// (rng.Uint64N on a rand.PCG) among the block's persons.
func refBlock(n, b, m int, key, stream uint64) []int {
	lo := b * countBlock
	sb := min(countBlock, n-lo)
	c := make([]int, sb)
	g := rand.NewPCG(key^0x6a09e667f3bcc909, rng.SplitMix64(stream+uint64(b)))
	for range m {
		c[rng.Uint64N(g, uint64(sb))]++
	}
	return c
}

// counts gives every person the count of the specification, for group
// sizes with and without a partial last block, read in random order and
// reused across replicates.
func TestCountsMatchReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, n := range []int{1, 2, 255, 256, 257, 1000, 4096, 70_001} {
		k := newCounts(n)
		for rep := range 6 {
			key := rng.ReplicateKey(uint64(n), rep)
			k.draw(key, streamControl)
			tot := refBlockTotals(n, key, streamControl)
			for b, m := range tot {
				if int(k.tot[b]) != m {
					t.Fatalf("n %d rep %d block %d: total %d, reference %d", n, rep, b, k.tot[b], m)
				}
			}
			// read a random half of the blocks, persons in random order
			for _, b := range r.Perm(len(tot))[:max(1, len(tot)/2)] {
				want := refBlock(n, b, tot[b], key, streamControl)
				for _, i := range r.Perm(len(want)) {
					if got := k.get(int32(b*countBlock + i)); got != float64(want[i]) {
						t.Fatalf("n %d rep %d person %d: count %v, reference %d", n, rep, b*countBlock+i, got, want[i])
					}
				}
			}
		}
	}
}

// Counts of 255 and more continue in the overflow map, on full and
// partial blocks, and the map is forgotten by the next draw.
func TestCountsOverflow(t *testing.T) {
	const n = 2*countBlock + 10
	k := newCounts(n)
	k.draw(1, streamTreated)
	for b, m := range []int32{254, 100_000, 3_000} {
		k.tot[b] = m
		k.stamp[b] = 0
		want := refBlock(n, b, int(m), k.key, k.strm)
		for i, w := range want {
			if got := k.get(int32(b*countBlock + i)); got != float64(w) {
				t.Fatalf("block %d person %d (%d draws): count %v, reference %d", b, i, m, got, w)
			}
		}
	}
	if len(k.ovf) == 0 {
		t.Fatal("no count reached 255")
	}
	k.draw(2, streamTreated)
	if len(k.ovf) != 0 {
		t.Fatalf("%d overflow entries left after a new draw", len(k.ovf))
	}
}
