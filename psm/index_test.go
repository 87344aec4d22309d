package psm

import (
	"cmp"
	"math/rand/v2"
	"slices"
	"testing"
)

// radixSort64 sorts as a stable sort of (key, index) pairs does, for keys
// that vary in all bits, only in low or only in high bits, with many
// duplicates, and for empty and single-element input.
func TestRadixSort64(t *testing.T) {
	r := rand.New(rand.NewPCG(51, 52))
	gens := []func() uint64{
		r.Uint64,
		func() uint64 { return r.Uint64N(5) },
		func() uint64 { return r.Uint64N(5) << 60 },
		func() uint64 { return 0xbf00000000000000 | r.Uint64N(1<<40) },
		func() uint64 { return floatKey(r.Float64()) },
		func() uint64 { return floatKey(float64(r.IntN(7)) - 3) },
	}
	for gi, gen := range gens {
		for _, n := range []int{0, 1, 2, 17, 1000, 5000} {
			keys := make([]uint64, n)
			idx := make([]int32, n)
			type pair struct {
				k uint64
				i int32
			}
			ref := make([]pair, n)
			for i := range keys {
				keys[i], idx[i] = gen(), int32(i)
				ref[i] = pair{keys[i], int32(i)}
			}
			slices.SortStableFunc(ref, func(a, b pair) int { return cmp.Compare(a.k, b.k) })
			sk, si := radixSort64(keys, idx)
			for p := range ref {
				if sk[p] != ref[p].k || si[p] != ref[p].i {
					t.Fatalf("generator %d n %d position %d: (%#x, %d), stable sort (%#x, %d)", gi, n, p, sk[p], si[p], ref[p].k, ref[p].i)
				}
			}
		}
	}
}
