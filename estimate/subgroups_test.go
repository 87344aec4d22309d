package estimate

import (
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSubgroupsOfPaths checks every path of SubgroupsOf (integers in
// 0..255: table; few distinct values: map; many: sort) against a
// brute-force definition: levels are the sorted distinct non-NaN values,
// codes their ranks, NaN -> -1, and -0 is the level "0".
func TestSubgroupsOfPaths(t *testing.T) {
	for _, tc := range []struct {
		distinct int
		shift    float64 // values k + shift, k = 0..distinct-1
	}{
		{0, 0}, {1, 0}, {3, -1}, {4096, -2048}, {4097, -2048}, {20000, -10000},
		{200, 0}, {256, 0}, {257, 0}, {10, 0.5}, {10, 246},
	} {
		distinct := tc.distinct
		r := rand.New(rand.NewPCG(7, uint64(distinct)))
		v := make([]float64, 30000)
		for i := range v {
			switch k := r.IntN(distinct + 2); {
			case k == distinct:
				v[i] = math.NaN()
			case k == distinct+1:
				v[i] = math.Copysign(0, -1)
			default:
				v[i] = float64(k) + tc.shift
			}
		}
		set := map[float64]bool{}
		for _, x := range v {
			if !math.IsNaN(x) {
				set[x+0] = true
			}
		}
		var want []float64
		for x := range set {
			want = append(want, x)
		}
		sort.Float64s(want)
		g := SubgroupsOf("x", v)
		require.Len(t, g.Levels, len(want), "distinct=%d", distinct)
		for k, x := range want {
			require.Equal(t, strconv.FormatFloat(x, 'g', -1, 64), g.Levels[k])
		}
		for i, x := range v {
			if math.IsNaN(x) {
				require.Equal(t, int32(-1), g.Code[i])
				continue
			}
			require.Equal(t, x, want[g.Code[i]], "row %d", i)
		}
		require.NotContains(t, g.Levels, "-0")
	}
}
