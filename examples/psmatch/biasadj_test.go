package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// biasAdjRef is the part of testdata/biasadj/reference.json this test
// uses: R glm(tr ~ covariates, binomial) on the data file, then
// Matching::Match(Y, Tr, X = fitted, Z = covariates, estimand = "ATT", M,
// BiasAdjust = TRUE, ties = TRUE, replace = TRUE, distance.tolerance =
// 1e-12), written by testdata/biasadj/make_reference.R (R and package
// versions in the file).
type biasAdjRef struct {
	RVersion string `json:"r_version"`
	Cases    map[string]struct {
		Data string   `json:"data"`
		Y    string   `json:"y"`
		Z    []string `json:"z"`
		M    int      `json:"M"`
		Est  float64  `json:"est"`
		SE   float64  `json:"se"`
	} `json:"cases"`
}

// TestPsmatchBiasAdjustMatchesR: psmatch -bias-adjust (its own logit,
// R's tie rule, Z = the logit's covariates) gives R's bias-corrected est
// and se on Matching's lalonde, MatchIt's lalonde and GerberGreenImai,
// for K = 1 and 2 and continuous and binary outcomes. Tolerances: est
// 1e-9 relative, se 1e-6 relative (the scores come from psmatch's logit,
// equal to glm's to about 1e-10; the match sets are the same).
func TestPsmatchBiasAdjustMatchesR(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "biasadj", "reference.json"))
	require.NoError(t, err)
	var ref biasAdjRef
	require.NoError(t, json.Unmarshal(b, &ref))
	t.Logf("reference: %s", ref.RVersion)
	cases := []struct {
		k        int
		outcomes map[string]string // outcome column -> R case
	}{
		{1, map[string]string{"re78": "lalonde_matching_re78_k1", "employed78": "lalonde_matching_employed_k1"}},
		{2, map[string]string{"re78": "lalonde_matching_re78_k2"}},
		{1, map[string]string{"re78": "lalonde_matchit_re78_k1"}},
		{2, map[string]string{"re78": "lalonde_matchit_re78_k2", "employed78": "lalonde_matchit_employed_k2"}},
		{1, map[string]string{"VOTED98": "gerbergreen_voted_k1"}},
		{2, map[string]string{"VOTED98": "gerbergreen_voted_k2"}},
	}
	for _, c := range cases {
		var ys, rcs []string
		for y, rc := range c.outcomes {
			ys = append(ys, y)
			rcs = append(rcs, rc)
		}
		sort.Strings(ys)
		sort.Strings(rcs)
		r0 := ref.Cases[rcs[0]]
		require.NotEmpty(t, r0.Data, rcs[0])
		t.Run(rcs[0], func(t *testing.T) {
			args := []string{"-data", filepath.Join("..", "..", "testdata", "biasadj", r0.Data+".csv"),
				"-treatment", "tr", "-covariates", strings.Join(r0.Z, ","), "-outcomes", strings.Join(ys, ","),
				"-neighbors", strconv.Itoa(c.k), "-tie-rule", "matching", "-tie-tolerance", "1e-12",
				"-bias-adjust", "-json"}
			var out, errb bytes.Buffer
			require.NoError(t, run(context.Background(), args, &out, &errb), errb.String())
			var j struct {
				Outcomes map[string]map[string]float64 `json:"outcomes"`
			}
			require.NoError(t, json.Unmarshal(out.Bytes(), &j))
			for y, rc := range c.outcomes {
				r := ref.Cases[rc]
				require.Equal(t, y, r.Y)
				require.Equal(t, c.k, r.M)
				o := j.Outcomes[y]
				est, ok1 := o["att_bias_adjusted"]
				se, ok2 := o["se_bias_adjusted"]
				require.True(t, ok1 && ok2, "%s: keys in %v", y, o)
				assert.LessOrEqual(t, math.Abs(est-r.Est), 1e-9*math.Abs(r.Est), "%s est: got %.17g want %.17g", rc, est, r.Est)
				assert.LessOrEqual(t, math.Abs(se-r.SE), 1e-6*r.SE, "%s se: got %.17g want %.17g", rc, se, r.SE)
			}
		})
	}
}

// Without -bias-adjust the keys are absent; the flag needs -outcomes and
// matching with replacement; the text report gains a table.
func TestPsmatchBiasAdjustFlag(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "biasadj", "synth.csv")
	base := []string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3"}
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), append(append([]string{}, base...), "-outcomes", "y", "-json"), &out, &errb))
	assert.NotContains(t, out.String(), "bias_adjusted")
	cases := []struct {
		flags []string
		msg   string
	}{
		{[]string{"-bias-adjust"}, "-bias-adjust needs -outcomes"},
		{[]string{"-bias-adjust", "-outcomes", "y", "-replace=false"}, "-bias-adjust needs matching with replacement"},
	}
	for _, c := range cases {
		err := run(context.Background(), append(append([]string{}, base...), c.flags...), &out, &errb)
		require.Error(t, err, "%v", c.flags)
		assert.Contains(t, err.Error(), c.msg)
		assert.True(t, errorsIsUsage(err), "%v", err)
	}
	out.Reset()
	require.NoError(t, run(context.Background(), append(append([]string{}, base...), "-outcomes", "y,yb", "-bias-adjust"), &out, &errb))
	assert.Contains(t, out.String(), "Bias-corrected")
}
