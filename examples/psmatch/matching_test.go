package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// matchRef is the part of testdata/match/reference.json this test uses:
// R glm(tr ~ x1 + x2 + x3, binomial) on cont.csv, then
// Matching::Match(Y, Tr, X = fitted (or qlogis(fitted)), M, caliper,
// ties = TRUE, replace = TRUE, distance.tolerance = 1e-12), written by
// testdata/match/make_reference.R (R 4.2.2, Matching 4.10.8).
type matchRef struct {
	Cases map[string]struct {
		WNobs     float64       `json:"wnobs"`
		ControlID []int         `json:"control_id"`
		Y1        matchRefValue `json:"y1"`
		Y2        matchRefValue `json:"y2"`
	} `json:"cases"`
}

type matchRefValue struct {
	Est           float64 `json:"est"`
	SE            float64 `json:"se"`
	SEStandard    float64 `json:"se_standard"`
	SEMatchedOnly float64 `json:"se_matched_only"`
}

type matchOut struct {
	Outcomes map[string]struct {
		ATT         float64 `json:"att"`
		SEAI        float64 `json:"se_ai"`
		SEStandard  float64 `json:"se_standard"`
		TreatedMean float64 `json:"treated_mean"`
		ControlMean float64 `json:"control_mean"`
	} `json:"outcomes"`
	MatchedControls  int     `json:"matched_controls"`
	WeightedControls float64 `json:"weighted_controls"`
}

// TestPsmatchMatchesRPipeline: psmatch's logit + matching + ATT equal R's
// glm + Match on the same data. Tolerances: ATT 1e-9 relative, standard
// errors 1e-6 relative. psmatch's se_ai leaves treated units dropped by
// the caliper out of the Abadie–Imbens formula; Matching::Match keeps
// them (see psm.ATTOptions), so with a caliper se_ai is compared with
// the matched-only value computed in make_reference.R.
func TestPsmatchMatchesRPipeline(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "match", "reference.json"))
	require.NoError(t, err)
	var ref matchRef
	require.NoError(t, json.Unmarshal(b, &ref))
	data := filepath.Join("..", "..", "testdata", "match", "cont.csv")
	cases := []struct {
		name  string
		flags []string
	}{
		{"cont_m1", nil},
		{"cont_m2", []string{"-neighbors", "2"}},
		{"cont_caliper", []string{"-caliper", "0.02"}},
		{"cont_logit", []string{"-on", "logit"}},
		{"cont_logit_m2_caliper", []string{"-on", "logit", "-neighbors", "2", "-caliper", "0.05", "-tie-rule", "matching", "-tie-tolerance", "1e-12"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, ok := ref.Cases[c.name]
			require.True(t, ok)
			args := append([]string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3", "-outcomes", "y1,y2", "-json"}, c.flags...)
			var out, errb bytes.Buffer
			require.NoError(t, run(context.Background(), args, &out, &errb), errb.String())
			var j matchOut
			require.NoError(t, json.Unmarshal(out.Bytes(), &j))
			assert.Equal(t, len(r.ControlID), j.MatchedControls)
			assert.InDelta(t, r.WNobs, j.WeightedControls, 1e-9*r.WNobs)
			for name, ry := range map[string]matchRefValue{"y1": r.Y1, "y2": r.Y2} {
				o, ok := j.Outcomes[name]
				require.True(t, ok, name)
				rel := func(want, got, tol float64, what string) {
					assert.LessOrEqual(t, math.Abs(got-want), tol*math.Abs(want), "%s %s: got %.17g want %.17g", name, what, got, want)
				}
				rel(ry.Est, o.ATT, 1e-9, "att")
				rel(ry.SEMatchedOnly, o.SEAI, 1e-6, "se_ai")
				rel(ry.SEStandard, o.SEStandard, 1e-6, "se_standard")
				rel(o.TreatedMean-o.ControlMean, o.ATT, 1e-12, "att = treated_mean - control_mean")
			}
		})
	}
}

func TestPsmatchMatchingErrors(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "match", "cont.csv")
	base := []string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3"}
	cases := []struct {
		flags []string
		usage bool
		msg   string
	}{
		{[]string{"-outcomes", "nosuch"}, false, "nosuch"},
		{[]string{"-outcomes", "y1", "-on", "odds"}, true, "-on"},
		{[]string{"-outcomes", "y1", "-neighbors", "0"}, true, "-neighbors"},
		{[]string{"-outcomes", "y1", "-caliper", "-1"}, true, "-caliper"},
		{[]string{"-outcomes", "y1", "-tie-rule", "x"}, true, "-tie-rule"},
		{[]string{"-outcomes", "y1", "-caliper", "1e-9"}, false, "no treated unit could be matched"},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		err := run(context.Background(), append(append([]string{}, base...), c.flags...), &out, &errb)
		require.Error(t, err, "%v", c.flags)
		assert.Contains(t, err.Error(), c.msg)
		assert.Equal(t, c.usage, errorsIsUsage(err), "%v: %v", c.flags, err)
	}
	// Text output with matching, and without replacement.
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), append(append([]string{}, base...), "-outcomes", "y1,y2", "-replace=false"), &out, &errb))
	assert.Contains(t, out.String(), "without replacement")
	assert.Contains(t, out.String(), "se (AI)")
}

func errorsIsUsage(err error) bool { return errors.Is(err, errUsage) }
