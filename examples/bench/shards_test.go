package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The logit, the matching and the effects over in-process shards of the
// small run equal the single-process results: bit for bit when the
// shards start at multiples of 4096 units (the logit's blocks; the
// matching, with unit weights, is bit-identical for any split; the
// effects, with sets of one control, too), and to 1e-12 otherwise. The splits include a shard without treated units, an
// empty shard and a shard of treated units only (no controls).
func TestShardedBench(t *testing.T) {
	_, p, _ := smallRun(t)
	n, T := p.panel.Len(), p.panel.NTreated()
	require.Less(t, T, benchdata.LogitBlock, "the treated (units 0..T-1) fill less than a block")
	require.Greater(t, n, 4*benchdata.LogitBlock)
	// one control per set: every set lies in one shard, so the effects
	// from the shards' sums are bit-identical too (estimate.EffectSums)
	require.Equal(t, p.matching.NMatched, len(p.matching.Control))
	for _, s := range []int{2, 3, 5} {
		b, aligned := benchdata.ShardBounds(n, s)
		require.True(t, aligned, "%d shards", s)
		require.Len(t, b, s+1)
	}
	for _, tc := range []struct {
		name    string
		bounds  []int
		aligned bool
	}{
		{"1", []int{0, n}, true},
		{"2", func() []int { b, _ := benchdata.ShardBounds(n, 2); return b }(), true},
		{"3", func() []int { b, _ := benchdata.ShardBounds(n, 3); return b }(), true},
		{"5", func() []int { b, _ := benchdata.ShardBounds(n, 5); return b }(), true},
		// shard 1 has no treated units, shard 2 nothing
		{"5 no treated, empty", []int{0, benchdata.LogitBlock, 2 * benchdata.LogitBlock, 2 * benchdata.LogitBlock, 4 * benchdata.LogitBlock, n}, true},
		// shard 0 holds the treated only (no controls), shards 1 and 2
		// controls only
		{"3 no controls", []int{0, T, T + 5000, n}, false},
		{"2 unaligned", []int{0, n/2 + 1, n}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := p.runSharded(context.Background(), tc.bounds)
			require.NoError(t, err)
			assert.Equal(t, len(tc.bounds)-1, r.Shards)
			assert.Equal(t, tc.aligned, r.Aligned)
			assert.LessOrEqual(t, r.MaxAbsDiff, 1e-12)
			assert.Equal(t, max(r.Parts.Coefficients, r.Parts.Scores, r.Parts.ControlWeights, r.Parts.Effects), r.MaxAbsDiff)
			if tc.aligned {
				assert.True(t, r.BitIdentical, "%+v", r.Parts)
				assert.Zero(t, r.MaxAbsDiff)
			}
			t.Logf("%s: %+v bit-identical %v", tc.name, r.Parts, r.BitIdentical)
		})
	}
}

// The sharded path refuses what the sharded functions do not support,
// naming the option, and bad bounds.
func TestShardedBenchErrors(t *testing.T) {
	_, p, _ := smallRun(t)
	q := *p
	q.dropped = []string{"age"}
	_, err := q.runSharded(context.Background(), []int{0, p.panel.Len()})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "DropSeparated")
	_, err = p.runSharded(context.Background(), []int{0, 5, 3, p.panel.Len()})
	require.ErrorContains(t, err, "bounds")
	_, err = p.runSharded(context.Background(), []int{0, 5})
	require.ErrorContains(t, err, "bounds")

	c := smallConfig("")
	c.shards = 1
	require.ErrorContains(t, run(context.Background(), &c, &bytes.Buffer{}, &bytes.Buffer{}), "-shards 1")
}

// The table prints the sharded line.
func TestShardedTable(t *testing.T) {
	_, p, _ := smallRun(t)
	r, err := p.runSharded(context.Background(), []int{0, benchdata.LogitBlock, p.panel.Len()})
	require.NoError(t, err)
	rep := newReport(p, &meter{canReset: true})
	rep.Sharded = r
	var buf bytes.Buffer
	rep.writeTable(&buf)
	assert.Regexp(t, `(?m)^sharded: 2 shards \(aligned to 4096-unit blocks\), [0-9.]+s wall; max abs diff 0 .* bit-identical true$`, buf.String())
}
