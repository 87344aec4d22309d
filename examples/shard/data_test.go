package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/panel"
)

// Tolerances of the data mode against the single-process run: the parts'
// units are numbered part by part (each part's treated first), so the
// logit sums its rows in another order.
const (
	dataCoefTol   = 1e-9  // relative, coefficients
	dataEffectTol = 1e-12 // absolute, means, ATTs and accumulated effects
)

// split writes the population of testConfig into n person shards and
// returns their directory.
func split(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	c := testConfig(dir)
	c.split = n
	require.NoError(t, run(context.Background(), &c, io.Discard))
	return dir
}

// Data mode end to end: the population split into 1 and 3 Parquet
// person shards, workers that read only their own shard (start counts,
// then their panels with the merged counts), and the coordinator give
// the single-process run on the whole register (panel.Build,
// psm.FitLogit, psm.MatchUnits, estimate.Effects): the same units,
// treated and matches, coefficients to 1e-9 relative and effects to
// 1e-12 absolute.
func TestShardProgramData(t *testing.T) {
	c := testConfig("")
	ref, err := reference(context.Background(), &c)
	require.NoError(t, err)
	want := ref.Effects
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			sd := split(t, n)
			var sm splitManifest
			b, err := os.ReadFile(filepath.Join(sd, splitFile))
			require.NoError(t, err)
			require.NoError(t, json.Unmarshal(b, &sm))
			assert.Equal(t, n, sm.Parts)
			assert.Equal(t, ref.Persons, sm.Persons)
			assert.Positive(t, sm.Bytes)

			c := testConfig(t.TempDir())
			r, errs := runAll(t, c, n, sd)
			for k, err := range errs {
				require.NoError(t, err, "role %d", k)
			}
			require.NotNil(t, r)
			assert.Equal(t, "data", r.Mode)
			assert.Equal(t, n, r.Parts)
			assert.Equal(t, ref.Persons, r.Persons)
			assert.Equal(t, ref.Units, r.Units)
			assert.Equal(t, ref.Treated, r.Treated)
			assert.Equal(t, ref.Names, r.Names)
			require.Len(t, r.Coefficients, len(ref.Coefficients))
			maxRel := 0.0
			for j, v := range ref.Coefficients {
				v, g := float64(v), float64(r.Coefficients[j])
				if math.IsNaN(v) {
					assert.True(t, math.IsNaN(g), "coefficient %s aliased", ref.Names[j])
					continue
				}
				maxRel = math.Max(maxRel, math.Abs(g-v)/math.Max(1, math.Abs(v)))
			}
			assert.LessOrEqual(t, maxRel, dataCoefTol)
			assert.Equal(t, ref.Matched, r.Matched)
			assert.Equal(t, ref.Controls, r.Controls)
			require.Len(t, r.Effects, len(want))
			maxAbs := 0.0
			for k, e := range want {
				g := r.Effects[k]
				assert.Equal(t, e.Outcome, g.Outcome)
				assert.Equal(t, e.Month, g.Month)
				for _, pair := range [][2]number{{e.TreatedMean, g.TreatedMean}, {e.ControlMean, g.ControlMean}, {e.ATT, g.ATT}, {e.Accumulated, g.Accumulated}} {
					maxAbs = math.Max(maxAbs, math.Abs(float64(pair[0])-float64(pair[1])))
				}
			}
			assert.LessOrEqual(t, maxAbs, dataEffectTol)
			if n == 1 {
				// one part: the units in the single-process order, bit for bit
				for j, v := range ref.Coefficients {
					assert.Equal(t, math.Float64bits(float64(v)), math.Float64bits(float64(r.Coefficients[j])), "coefficient %s", ref.Names[j])
				}
				assert.Zero(t, maxAbs)
			}
			// start counts, treated rows, the logit's iterations + 2, one
			// matching round, one effects round
			require.Len(t, r.Rounds, 2+r.Iterations+2+1+1)
			assert.Equal(t, "start counts", r.Rounds[0].Kind)
			assert.Equal(t, "treated rows", r.Rounds[1].Kind)
			assert.Equal(t, 1, r.Rounds[0].Broadcast)
			assert.GreaterOrEqual(t, r.Rounds[0].Parts, 20*n+8*r.StartDays, "start counts: every day in some part")
			assert.LessOrEqual(t, r.Rounds[0].Parts, n*(20+8*r.StartDays), "start counts: at most every day in every part")
			assert.Equal(t, 25+8*r.StartDays, r.Rounds[1].Broadcast)
			units, persons := 0, 0
			require.Len(t, r.PartStats, n)
			for k, ps := range r.PartStats {
				require.NotNil(t, ps, "part %d stats", k)
				assert.Equal(t, k, ps.Part)
				assert.Positive(t, ps.Read)
				assert.Positive(t, ps.Build)
				assert.Positive(t, ps.Logit)
				assert.Equal(t, r.Bounds[k+1]-r.Bounds[k], ps.Units)
				units += ps.Units
				persons += ps.Persons
			}
			assert.Equal(t, r.Units, units)
			assert.Equal(t, ref.Persons, persons)
			t.Logf("%d parts: %d rounds, %d bytes; coefficients %.1e relative, effects %.1e absolute from the single process",
				n, len(r.Rounds), r.BytesMoved, maxRel, maxAbs)
		})
	}
}

// The data mode's errors: a split into a directory that holds one, a
// worker given another part's shard, a coordinator of another number of
// parts than the split, data-mode workers under a memory-mode
// coordinator.
func TestShardProgramDataErrors(t *testing.T) {
	sd := split(t, 2)
	c := testConfig(sd)
	c.split = 2
	assert.ErrorContains(t, run(context.Background(), &c, io.Discard), "holds a split")

	c = testConfig(t.TempDir())
	c.part, c.data = "1/2", shardDir(sd, 0)
	err := run(context.Background(), &c, io.Discard)
	assert.ErrorContains(t, err, "holds part 0/2 of its split, not -part 1/2")
	assert.FileExists(t, errorFile(c.dir, 1))

	c = testConfig(t.TempDir())
	c.coordinate, c.data = 3, sd
	assert.ErrorContains(t, run(context.Background(), &c, io.Discard), "holds 2 shards, but -coordinate 3")

	c = testConfig(t.TempDir())
	c.split, c.data = 2, sd
	assert.ErrorContains(t, run(context.Background(), &c, io.Discard), "-data is for")

	// Workers in data mode, the coordinator in memory mode: the first
	// round is a logit scan without the layout.
	c = testConfig(t.TempDir())
	c.n, c.treated = 3000, 100
	errs := make(chan error, 1)
	go func() {
		cw := c
		cw.part, cw.data = "0/2", shardDir(sd, 0)
		errs <- run(context.Background(), &cw, io.Discard)
	}()
	cc := c
	cc.coordinate = 2
	err = run(context.Background(), &cc, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "without the parts' layout")
	assert.ErrorContains(t, <-errs, "without the parts' layout")
}

// partInfo survives its encoding; a part whose covariates differ from
// part 0's is an error naming the part and the covariate.
func TestPartInfo(t *testing.T) {
	in := &partInfo{persons: 10, units: 7, treated: 2, names: []string{"age", "sex=man"},
		outcomes: []outcomeLayout{{"emp", 1, 2}, {"edu", 0, 1}},
		ids:      []int64{-5, 9}, x: []float64{1.5, 0, math.Inf(1), 1},
		y: [][]uint8{{0, 1, 1, 0, 1, 0, 0, panel.Missing}, {1, 0, 0, 1}}}
	b := in.encode()
	out, err := decodePartInfo(b)
	require.NoError(t, err)
	assert.Equal(t, in, out)
	for cut := range len(b) {
		_, err := decodePartInfo(b[:cut])
		assert.Error(t, err, "cut at %d", cut)
	}
	_, err = decodePartInfo(append(b, 0))
	assert.Error(t, err)

	other := *in
	other.names = []string{"age", "sex=woman"}
	err = other.sameLayout(in, 2)
	assert.ErrorContains(t, err, `part 2 has 2 covariates, part 0 2; covariate 1 is "sex=woman" in part 2, "sex=man" in part 0`)
	other.names = []string{"age"}
	assert.ErrorContains(t, other.sameLayout(in, 1), `covariate 1 is none in part 1`)
	other = *in
	other.outcomes = []outcomeLayout{{"emp", 1, 3}, {"edu", 0, 1}}
	assert.ErrorContains(t, other.sameLayout(in, 1), "outcomes")
}
