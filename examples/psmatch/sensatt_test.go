package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// -sensatt: the JSON holds psm.SimulatedConfounder's result on the
// file's covariates, treatment and outcome (read here with encoding/csv),
// the same for 1 and 2 workers; -sensatt-search adds killer_confounder.
func TestSensattFlag(t *testing.T) {
	data := "../../testdata/match/cont.csv"
	flags := []string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3", "-outcomes", "y2",
		"-sensatt", "0.6,0.5,0.5,0.3", "-sensatt-draws", "8", "-seed", "3", "-sensatt-search"}
	got := runMap(t, append(flags, "-workers", "1")...)
	assert.Equal(t, got, runMap(t, append(flags, "-workers", "2")...))

	rows := readCSVFile(t, data)
	col := map[string]int{}
	for i, n := range rows[0] {
		col[n] = i
	}
	n := len(rows) - 1
	x := mat.NewDense(n, 3, nil)
	tr := make([]float64, n)
	y := make([]float64, n)
	for i, r := range rows[1:] {
		for j, c := range []string{"x1", "x2", "x3"} {
			x.Set(i, j, atof(t, r[col[c]]))
		}
		tr[i], y[i] = atof(t, r[col["tr"]]), atof(t, r[col["y2"]])
	}
	want, err := psm.SimulatedConfounder(context.Background(), x, []string{"x1", "x2", "x3"}, tr, y,
		psm.ConfounderCells{P11: 0.6, P10: 0.5, P01: 0.5, P00: 0.3},
		&psm.SimulatedConfounderOptions{Draws: 8, Seed: 3, Match: psm.MatchOptions{K: 1}})
	require.NoError(t, err)
	sc := got["outcomes"].(map[string]any)["y2"].(map[string]any)["simulated_confounder"].(map[string]any)
	assert.InDelta(t, want.ATT, sc["att"], 1e-15)
	assert.InDelta(t, want.SE, sc["se"], 1e-15)
	assert.InDelta(t, want.OutcomeOddsRatio, sc["outcome_odds_ratio"], 1e-15)
	assert.Equal(t, 8.0, sc["draws"])
	// y2's effect is not significant without U: nothing to explain away
	assert.Contains(t, got["outcomes"].(map[string]any)["y2"], "killer_confounder")
	assert.Nil(t, got["outcomes"].(map[string]any)["y2"].(map[string]any)["killer_confounder"])
}
