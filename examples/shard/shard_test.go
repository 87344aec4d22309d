package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testConfig is a small run: 20,000 persons (5 blocks of 4096 units),
// 1,000 treated.
func testConfig(dir string) config {
	c := defaultConfig()
	c.dir, c.n, c.treated, c.poll, c.timeout = dir, 20000, 1000, 5*time.Millisecond, 2*time.Minute
	return c
}

// runAll runs the coordinator and n workers as goroutines against dir
// and returns the coordinator's result.json and the roles' errors. With
// a split directory (data mode) worker i reads split/shard-i.
func runAll(t *testing.T, c config, n int, split string) (*result, []error) {
	t.Helper()
	errs := make([]error, n+1)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			cw := c
			cw.part = partName(i, n)
			if split != "" {
				cw.data = shardDir(split, i)
			}
			errs[i+1] = run(context.Background(), &cw, io.Discard)
		})
	}
	wg.Go(func() {
		cc := c
		cc.coordinate = n
		cc.data = split
		errs[0] = run(context.Background(), &cc, io.Discard)
	})
	wg.Wait()
	b, err := os.ReadFile(filepath.Join(c.dir, resultFile))
	if err != nil {
		return nil, errs
	}
	var r result
	require.NoError(t, json.Unmarshal(b, &r))
	return &r, errs
}

func partName(i, n int) string { return fmt.Sprintf("%d/%d", i, n) }

// The coordinator and 1 or 3 workers, through files, give the
// single-process logit (psm.FitLogit), matching (psm.MatchUnits) and
// effects (estimate.Effects) bit for bit with parts aligned to the
// logit's 4096-row blocks.
func TestShardProgram(t *testing.T) {
	c := testConfig("")
	ref, err := reference(context.Background(), &c)
	require.NoError(t, err)
	want := ref.Effects
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			c := testConfig(t.TempDir())
			r, errs := runAll(t, c, n, "")
			for k, err := range errs {
				require.NoError(t, err, "role %d", k)
			}
			require.NotNil(t, r)
			assert.True(t, r.Aligned)
			assert.Equal(t, n, r.Parts)
			assert.Equal(t, ref.Names, r.Names)
			require.Len(t, r.Coefficients, len(ref.Coefficients))
			for j, v := range ref.Coefficients {
				assert.Equal(t, math.Float64bits(float64(v)), math.Float64bits(float64(r.Coefficients[j])), "coefficient %s", ref.Names[j])
			}
			assert.Equal(t, ref.Iterations, r.Iterations)
			assert.Equal(t, ref.Matched, r.Matched)
			require.Len(t, r.Effects, len(want))
			for k, e := range want {
				g := r.Effects[k]
				assert.Equal(t, e.Outcome, g.Outcome)
				assert.Equal(t, e.Month, g.Month)
				for _, pair := range [][2]number{{e.TreatedMean, g.TreatedMean}, {e.ControlMean, g.ControlMean}, {e.ATT, g.ATT}, {e.Accumulated, g.Accumulated}} {
					assert.Equal(t, math.Float64bits(float64(pair[0])), math.Float64bits(float64(pair[1])), "%s month %d", e.Outcome, e.Month)
				}
			}
			// the logit's iterations + 2, one matching round, one effects round
			assert.Len(t, r.Rounds, ref.Iterations+2+1+1)
			total := 0
			for k, s := range r.Rounds {
				assert.Equal(t, k, s.Round)
				assert.Positive(t, s.Broadcast)
				assert.Positive(t, s.Parts)
				total += s.Broadcast + s.Parts
			}
			assert.Equal(t, total, r.BytesMoved)
			assert.FileExists(t, filepath.Join(c.dir, doneFile))
			t.Logf("%d parts: %d rounds, %d bytes", n, len(r.Rounds), r.BytesMoved)
		})
	}
}

// A bad -part is an error naming the flag; so are a missing role and a
// directory holding a previous run.
func TestShardProgramErrors(t *testing.T) {
	for _, part := range []string{"3/3", "-1/2", "1", "a/b", "0/0"} {
		c := testConfig(t.TempDir())
		c.part = part
		err := run(context.Background(), &c, io.Discard)
		require.Error(t, err, part)
		assert.Contains(t, err.Error(), "-part")
		assert.Contains(t, err.Error(), part)
	}
	c := testConfig(t.TempDir())
	assert.ErrorContains(t, run(context.Background(), &c, io.Discard), "exactly one of")
	require.NoError(t, os.WriteFile(filepath.Join(c.dir, doneFile), nil, 0o644))
	c.coordinate = 2
	assert.ErrorContains(t, run(context.Background(), &c, io.Discard), "previous run")
	// a missing -dir is refused before any work (a split would generate first)
	c = testConfig(filepath.Join(t.TempDir(), "missing"))
	c.split, c.n = 2, 50_000_000
	start := time.Now()
	assert.ErrorContains(t, run(context.Background(), &c, io.Discard), "not an existing directory")
	assert.Less(t, time.Since(start), 5*time.Second)
}

// A worker waiting for a broadcast stops promptly when its context is
// cancelled, and after -timeout.
func TestShardProgramCancel(t *testing.T) {
	c := testConfig(t.TempDir())
	c.n = 3000
	c.treated = 100
	c.part = "0/2"
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- run(ctx, &c, io.Discard) }()
	// wait until the worker is waiting for round 0 (its data built)
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	cancel()
	select {
	case err := <-errc:
		require.Error(t, err)
		assert.True(t, errors.Is(err, context.Canceled), "%v", err)
		assert.Less(t, time.Since(start), 5*time.Second)
	case <-time.After(30 * time.Second):
		t.Fatal("the worker did not stop")
	}

	// the deadline while the data are built (1 ms) or while waiting for
	// round 0 (300 ms, unless the build is slower): the error names it
	for _, d := range []time.Duration{time.Millisecond, 300 * time.Millisecond} {
		c.timeout = d
		err := run(context.Background(), &c, io.Discard)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "-timeout")
	}
}

// A worker's error reaches the coordinator through part-i.error: the
// coordinator stops with the part and its message instead of waiting.
func TestShardProgramWorkerFails(t *testing.T) {
	c := testConfig(t.TempDir())
	c.n, c.treated = 3000, 100
	require.NoError(t, writeFile(errorFile(c.dir, 1), []byte("part 1/2, round 0: disk full\n")))
	c.coordinate = 2
	start := time.Now()
	err := run(context.Background(), &c, io.Discard)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "part 1 failed: part 1/2, round 0: disk full")
	assert.Contains(t, err.Error(), "round 0")
	assert.Less(t, time.Since(start), time.Minute)
	assert.NoFileExists(t, filepath.Join(c.dir, doneFile))
}

// -reference writes the single-process run's result.json, and -compare
// reports the largest differences between two results: none between the
// reference and a one-part memory-mode run (bit for bit), the change
// made to one effect, and an error for results of different models.
func TestShardProgramReference(t *testing.T) {
	c := testConfig(t.TempDir())
	c.reference = true
	require.NoError(t, run(context.Background(), &c, io.Discard))
	refFile := filepath.Join(c.dir, resultFile)
	assert.ErrorContains(t, run(context.Background(), &c, io.Discard), "previous run")

	cm := testConfig(t.TempDir())
	_, errs := runAll(t, cm, 1, "")
	for k, err := range errs {
		require.NoError(t, err, "role %d", k)
	}
	memFile := filepath.Join(cm.dir, resultFile)
	cmp, err := compareResults(refFile, memFile)
	require.NoError(t, err)
	assert.Zero(t, cmp.Coefficients)
	assert.Zero(t, cmp.Effects)
	assert.Equal(t, cmp.Matched[0], cmp.Matched[1])

	var r result
	b, err := os.ReadFile(memFile)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &r))
	assert.Equal(t, "memory", r.Mode)
	r.Effects[3].ATT += 0.25
	changed := filepath.Join(t.TempDir(), "changed.json")
	require.NoError(t, writeJSON(changed, &r))
	cmp, err = compareResults(refFile, changed)
	require.NoError(t, err)
	assert.InDelta(t, 0.25, cmp.Effects, 1e-12)

	r.Effects = r.Effects[1:]
	require.NoError(t, writeJSON(changed, &r))
	_, err = compareResults(refFile, changed)
	assert.ErrorContains(t, err, "not the same model")
}
