package estimate

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/psm"
)

// The estimators take a matching made with the controls split over
// shards (psm.MatchUnitsShards) unchanged and give the results of
// psm.MatchUnits' matching bit for bit; the bootstrap, which re-matches
// on all scores, reports that the sharded matching has none.
func TestShardedMatching(t *testing.T) {
	s, x := synthSample(300, 1200, 4, 14)
	n := s.Len()
	xc := make([]float64, n) // coarse scores: ties
	strata := make([]int32, n)
	var ts []float64
	shardUnits := make([][]int, 3)
	shardScores := make([][]float64, 3)
	shardStrata := make([][]int32, 3)
	for u, v := range x {
		xc[u] = math.Round(v*100) / 100
		strata[u] = int32(u % 2)
		if s.Treated[u] {
			ts = append(ts, xc[u])
			continue
		}
		k := (u * 7) % 3
		shardUnits[k] = append(shardUnits[k], u)
		shardScores[k] = append(shardScores[k], xc[u])
		shardStrata[k] = append(shardStrata[k], strata[u])
	}
	opts := &psm.UnitOptions{Match: psm.MatchOptions{K: 2, Caliper: 0.25}, Strata: strata}
	want, err := psm.MatchUnits(xc, s.Treated, opts)
	require.NoError(t, err)
	var shards []psm.MatchShard
	for k := range shardUnits {
		c, err := psm.NewMatchControls(shardUnits[k], shardScores[k], &psm.MatchControlsOptions{Strata: shardStrata[k]})
		require.NoError(t, err)
		shards = append(shards, c)
	}
	got, err := psm.MatchUnitsShards(context.Background(), shards, ts, s.Treated, opts)
	require.NoError(t, err)

	// (%#v: every float to the bit, NaN equal to NaN)
	same := func(a, b any) { t.Helper(); require.Equal(t, fmt.Sprintf("%#v", a), fmt.Sprintf("%#v", b)) }
	a, err := Effects(s, want, nil)
	require.NoError(t, err)
	b, err := Effects(s, got, nil)
	require.NoError(t, err)
	same(a, b)
	a, err = AbadieImbens(s, want, nil)
	require.NoError(t, err)
	b, err = AbadieImbens(s, got, nil)
	require.NoError(t, err)
	same(a, b)
	z := synthZ(x, 1)
	a, err = BiasAdjusted(s, want, z, nil)
	require.NoError(t, err)
	b, err = BiasAdjusted(s, got, z, nil)
	require.NoError(t, err)
	same(a, b)
	w := Window{Outcome: "y", Kind: WindowSum, From: 1, To: 3}
	ra, err := Rosenbaum(s, want, w, nil)
	require.NoError(t, err)
	rb, err := Rosenbaum(s, got, w, nil)
	require.NoError(t, err)
	same(ra, rb)

	_, err = Bootstrap(context.Background(), s, got, &BootstrapOptions{Replicates: 2})
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "scores")
}
