package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/psm"
)

// rReference is the part of compare.R's JSON output the test reads.
type rReference struct {
	Config struct {
		MD5 string `json:"md5"`
	} `json:"config"`
	Sizes struct {
		Rows             int      `json:"rows"`
		Treated          int      `json:"treated"`
		Covariates       []string `json:"covariates"`
		GLMIterations    int      `json:"glm_iterations"`
		MatchedTreated   int      `json:"matched_treated"`
		DistinctControls int      `json:"distinct_controls"`
		MatchPairs       int      `json:"match_pairs"`
	} `json:"sizes"`
	Effects      []effectRow `json:"effects"`
	ExactEffects []effectRow `json:"exact_ties_effects"`
}

// rTieTolerance is R Matching::Match's distance.tolerance in compare.R;
// psm.TieRMatching adds Matching's hidden TOL of 1e-10 itself (see
// psm.TieRMatching and testdata/bench/r_tie_threshold.txt).
const rTieTolerance = 1e-12

// TestReferenceR checks the Go pipeline against R on the same data:
// testdata/bench/r_reference.json is the output of
//
//	Rscript examples/bench/compare.R bench.csv --json --exact-ties
//
// on the file written by go run ./examples/bench -n 20000 -treated 1000
// -replicates 19 -write bench.csv (see testdata/bench/README.md). The test
// writes the same file again and requires the same MD5, so R read exactly
// these data. Then (tolerance 1e-9, R's and Go's sums differ by rounding):
//   - the pipeline's effects (one nearest neighbour, ties at exactly equal
//     distance, psm.Match defaults) equal R's exact_ties_effects (the same
//     rule computed in R with findInterval, without Match);
//   - psm.Match with TieRMatching and TieTolerance rTieTolerance on the
//     pipeline's scores gives R Matching::Match's effects, match pairs and
//     distinct controls;
//   - glm and FitLogit take the same number of IRLS iterations.
func TestReferenceR(t *testing.T) {
	_, p, path := smallRun(t)
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "bench", "r_reference.json"))
	require.NoError(t, err)
	var ref rReference
	require.NoError(t, json.Unmarshal(b, &ref))
	require.Equal(t, ref.Config.MD5, fileMD5(t, path),
		"the bench writes other data than R read: regenerate testdata/bench (README.md there) if the change is intended")

	assert.Equal(t, p.panel.Len(), ref.Sizes.Rows)
	assert.Equal(t, p.panel.NTreated(), ref.Sizes.Treated)
	assert.Equal(t, p.xNames, ref.Sizes.Covariates)
	assert.Equal(t, p.logit.Iterations, ref.Sizes.GLMIterations)

	const tol = 1e-9
	compare := func(what string, got *estimate.Result, want []effectRow) {
		t.Helper()
		require.NotEmpty(t, want, what)
		k := 0
		for _, se := range got.Series {
			if se.Subgroup != "" {
				continue
			}
			for _, e := range se.Effects {
				require.Less(t, k, len(want), what)
				w := want[k]
				k++
				require.Equal(t, w.Outcome, se.Outcome, what)
				require.Equal(t, w.Month, e.Month, what)
				assert.InDelta(t, w.TreatedMean, e.TreatedMean, tol, "%s %s m%d treated mean", what, w.Outcome, w.Month)
				assert.InDelta(t, w.ControlMean, e.ControlMean, tol, "%s %s m%d control mean", what, w.Outcome, w.Month)
				assert.InDelta(t, w.ATT, e.ATT, tol, "%s %s m%d ATT", what, w.Outcome, w.Month)
				assert.InDelta(t, w.Accumulated, e.Accumulated, tol, "%s %s m%d accumulated", what, w.Outcome, w.Month)
			}
		}
		assert.Equal(t, len(want), k, what)
	}
	compare("exact ties (pipeline)", p.effects, ref.ExactEffects)

	m, err := psm.MatchUnits(p.scores, p.sample.Treated, &psm.UnitOptions{Match: psm.MatchOptions{TieRule: psm.TieRMatching, TieTolerance: rTieTolerance}})
	require.NoError(t, err)
	assert.Equal(t, ref.Sizes.MatchedTreated, m.NMatched)
	assert.Equal(t, ref.Sizes.DistinctControls, m.NDistinctControls)
	assert.Equal(t, ref.Sizes.MatchPairs, len(m.Control))
	eff, err := estimate.Effects(p.sample, m, nil)
	require.NoError(t, err)
	compare("Matching::Match", eff, ref.Effects)
	// the two rules differ on these data (near-ties within R's 1e-10)
	assert.NotEqual(t, p.matching.NDistinctControls, m.NDistinctControls)
}
