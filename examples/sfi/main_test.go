package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/psmeval/psmeval/internal/manifest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runSmall runs the program at a small scale into a temporary directory.
func runSmall(t *testing.T, workers int, figures bool) string {
	t.Helper()
	c := config{scale: 0.03, seed: 7, bootstrap: 19, workers: workers, out: t.TempDir(),
		scenario: "sfi", confounding: -1, noFigures: !figures}
	require.NoError(t, run(context.Background(), &c, io.Discard, io.Discard))
	return c.out
}

func readCSV(t *testing.T, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	require.NotEmpty(t, all)
	return all[0], all[1:]
}

func parse(t *testing.T, s string) float64 {
	t.Helper()
	if s == "NA" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return v
}

// TestOutputs checks the files of the program: every file is written, the
// columns are as documented, months 0..H are present for each outcome
// (H from summary.json), and accumulated effects are the running sums of
// the monthly effects from month 1 (the documented default).
func TestOutputs(t *testing.T) {
	dir := runSmall(t, 2, true)
	for _, f := range []string{"table51.csv", "effects.csv", "accumulated.csv", "summary.json"} {
		st, err := os.Stat(filepath.Join(dir, f))
		require.NoError(t, err)
		assert.Positive(t, st.Size(), f)
	}
	for _, o := range outcomeInfo {
		for _, kind := range []string{"monthly_", "accumulated_"} {
			for _, ext := range []string{".svg", ".png"} {
				_, err := os.Stat(filepath.Join(dir, kind+o.name+ext))
				assert.NoError(t, err)
			}
		}
	}
	for _, f := range []string{"overlap.svg", "overlap.png", "love.svg", "love.png"} {
		_, err := os.Stat(filepath.Join(dir, f))
		assert.NoError(t, err)
	}

	var sum struct {
		Horizons    map[string]int    `json:"horizons"`
		Sizes       map[string]any    `json:"sizes"`
		Manifest    manifest.Manifest `json:"manifest"`
		Diagnostics diagnostics       `json:"diagnostics"`
		Credibility map[string]any    `json:"credibility"`
	}
	b, err := os.ReadFile(filepath.Join(dir, "summary.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &sum))
	// the diagnostics: attrition from the starters to the matched, in
	// step with the sizes; the checks with their thresholds and flags
	dg := sum.Diagnostics
	require.NotEmpty(t, dg.Attrition)
	last := dg.Attrition[len(dg.Attrition)-1]
	assert.Equal(t, sum.Sizes["matched_treated"], float64(last.Treated))
	assert.Equal(t, sum.Sizes["weighted_matched_controls"], last.Controls)
	for k := 1; k < len(dg.Attrition); k++ {
		assert.LessOrEqual(t, dg.Attrition[k].Treated, dg.Attrition[k-1].Treated, dg.Attrition[k].Step)
	}
	assert.Equal(t, last.Treated, dg.Matching.Matched)
	assert.Positive(t, dg.Matching.ESS)
	assert.NotNil(t, dg.Preference)
	assert.Positive(t, dg.Cohorts.Cohorts)
	assert.NotNil(t, dg.Flags)
	assert.Len(t, dg.Thresholds, 5)
	// the credibility section, per outcome (credibility_test.go checks
	// its numbers)
	assert.Equal(t, "-60..-49", sum.Credibility["window"])
	for _, o := range outcomeInfo {
		assert.Contains(t, sum.Credibility, o.name)
	}
	// the run manifest: seed, cores, a timed step for each stage
	man := sum.Manifest
	assert.Equal(t, "sfi", man.Command)
	require.NotNil(t, man.Seed)
	assert.Equal(t, uint64(7), *man.Seed, "runSmall's seed")
	assert.Positive(t, man.NumCPU)
	assert.Positive(t, man.Seconds)
	var steps []string
	for _, st := range man.Steps {
		steps = append(steps, st.Name)
	}
	for _, want := range []string{"build panel", "fit logit", "match", "monthly and accumulated effects"} {
		assert.True(t, slices.ContainsFunc(steps, func(s string) bool { return strings.HasPrefix(s, want) }), "no step %q in %v", want, steps)
	}
	// docs/method.md §2: Apr 2014 - Jul 2012 = 21 months, Sep 2013 - Jul 2012 = 14
	assert.Equal(t, map[string]int{"employed_no_benefit": 21, "employed": 21, "education": 14}, sum.Horizons)

	h, rows := readCSV(t, filepath.Join(dir, "table51.csv"))
	assert.Equal(t, []string{"characteristic", "treated", "controls", "smd"}, h[:4])
	assert.Len(t, rows, len(table51))

	h, rows = readCSV(t, filepath.Join(dir, "effects.csv"))
	assert.Equal(t, []string{"outcome", "month", "treated_mean", "control_mean", "effect", "ci_low", "ci_high", "se", "true_effect", "true_effect_never_start"}, h)
	monthly := map[string][]float64{}
	for _, r := range rows {
		m, err := strconv.Atoi(r[1])
		require.NoError(t, err)
		require.Equal(t, len(monthly[r[0]]), m, "months of %s in order from 0", r[0])
		eff := parse(t, r[4])
		assert.InDelta(t, parse(t, r[2])-parse(t, r[3]), eff, 1e-12, "effect = treated - control")
		lo, hi := parse(t, r[5]), parse(t, r[6])
		assert.LessOrEqual(t, lo, hi)
		monthly[r[0]] = append(monthly[r[0]], eff)
	}
	for _, o := range outcomeInfo {
		assert.Len(t, monthly[o.name], sum.Horizons[o.name]+1, o.name)
	}

	h, rows = readCSV(t, filepath.Join(dir, "accumulated.csv"))
	assert.Equal(t, []string{"outcome", "month", "effect", "ci_low", "ci_high", "true_effect", "true_effect_never_start"}, h)
	acc := map[string]float64{}
	for _, r := range rows {
		m, _ := strconv.Atoi(r[1])
		if m > 0 {
			acc[r[0]] += monthly[r[0]][m]
		}
		assert.InDelta(t, acc[r[0]], parse(t, r[2]), 1e-9, "%s month %d", r[0], m)
		// the synthetic default has no true effect: the truth is 0
		assert.Equal(t, 0.0, parse(t, r[5]))
	}
}

// TestWorkersByteIdentical: the same seed with 1 and 2 workers gives
// byte-identical CSV files.
func TestWorkersByteIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the program twice")
	}
	a, b := runSmall(t, 1, false), runSmall(t, 2, false)
	for _, f := range []string{"table51.csv", "effects.csv", "accumulated.csv"} {
		x, err := os.ReadFile(filepath.Join(a, f))
		require.NoError(t, err)
		y, err := os.ReadFile(filepath.Join(b, f))
		require.NoError(t, err)
		assert.True(t, bytes.Equal(x, y), "%s differs between 1 and 2 workers", f)
	}
}

func TestBadFlags(t *testing.T) {
	for _, c := range []config{
		{scale: -1, scenario: "sfi", out: t.TempDir()},
		{scale: 0.01, bootstrap: 1, scenario: "sfi", out: t.TempDir()},
		{scale: 0.01, scenario: "nonsense", out: t.TempDir()},
	} {
		err := run(context.Background(), &c, io.Discard, io.Discard)
		assert.Error(t, err)
	}
}
