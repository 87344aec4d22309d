package main

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/psmeval/psmeval/psm"
)

type rosenbaumOut struct {
	Outcomes map[string]struct {
		Test        string                       `json:"rosenbaum_test"`
		Alternative string                       `json:"rosenbaum_alternative"`
		Bounds      []map[string]json.RawMessage `json:"rosenbaum"`
		GammaStar   *float64                     `json:"gamma_star"`
	} `json:"outcomes"`
}

// TestPsmatchRosenbaum: -rosenbaum adds to every outcome the bounds of
// estimate.RosenbaumSets on the match sets, here rebuilt from R's fitted
// score (column ps of testdata/match/cont.csv, on which psmatch's sets
// equal R Matching's, TestPsmatchMatchesRPipeline): y1 (continuous) gets
// the signed-rank and Hodges–Lehmann bounds on 1:1 pairs and the
// mean-difference bounds on sets of 2, y2 (0/1) the Mantel–Haenszel
// bounds without hl_*. Tolerance 1e-12 absolute (the same sets; the
// fitted scores differ from R's in the last digits only).
func TestPsmatchRosenbaum(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "match", "cont.csv")
	tab, err := flatfile.Read(context.Background(), data, nil)
	require.NoError(t, err)
	col := func(n string) []float64 {
		v, err := tab.Column(n)
		require.NoError(t, err)
		return v
	}
	tr, ps := col("tr"), col("ps")
	gammas := []float64{1, 1.25, 1.5, 2, 3}
	cases := []struct {
		name  string
		k     int
		tests map[string]string
	}{
		{"pairs", 1, map[string]string{"y1": "signed-rank", "y2": "mantel-haenszel"}},
		{"sets of 2", 2, map[string]string{"y1": "mean-difference", "y2": "mantel-haenszel"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := []string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3", "-outcomes", "y1,y2", "-json",
				"-neighbors", string(rune('0' + c.k)), "-rosenbaum", "1,1.25,1.5,2,3"}
			var out, errb bytes.Buffer
			require.NoError(t, run(context.Background(), args, &out, &errb), errb.String())
			var j rosenbaumOut
			require.NoError(t, json.Unmarshal(out.Bytes(), &j))
			var st, sc []float64
			var rt, rc []int
			for i, v := range tr {
				if v == 1 {
					st, rt = append(st, ps[i]), append(rt, i)
				} else {
					sc, rc = append(sc, ps[i]), append(rc, i)
				}
			}
			m, err := psm.Match(st, sc, &psm.MatchOptions{K: c.k})
			require.NoError(t, err)
			for name, test := range c.tests {
				y := col(name)
				var sets []estimate.MatchedSet
				for i := range rt {
					if m.Start[i] == m.Start[i+1] {
						continue
					}
					s := estimate.MatchedSet{Treated: y[rt[i]]}
					for _, jj := range m.Control[m.Start[i]:m.Start[i+1]] {
						s.Controls = append(s.Controls, y[rc[jj]])
					}
					sets = append(sets, s)
				}
				want, err := estimate.RosenbaumSets(sets, &estimate.RosenbaumOptions{Gammas: gammas})
				require.NoError(t, err)
				o := j.Outcomes[name]
				assert.Equal(t, test, o.Test, name)
				assert.Equal(t, want.Method.String(), o.Test, name)
				assert.Equal(t, want.Alternative.String(), o.Alternative, name)
				require.Len(t, o.Bounds, len(gammas), name)
				f := func(raw json.RawMessage) float64 {
					var v float64
					require.NoError(t, json.Unmarshal(raw, &v))
					return v
				}
				for i, b := range want.Bounds {
					got := o.Bounds[i]
					assert.Equal(t, gammas[i], f(got["gamma"]))
					assert.InDelta(t, b.PUpper, f(got["p_upper"]), 1e-12, "%s gamma %v", name, b.Gamma)
					assert.InDelta(t, b.PLower, f(got["p_lower"]), 1e-12, "%s gamma %v", name, b.Gamma)
					_, hasHL := got["hl_low"]
					assert.Equal(t, test != "mantel-haenszel", hasHL, name)
					if hasHL {
						assert.InDelta(t, b.EstLow, f(got["hl_low"]), 1e-12, "%s gamma %v", name, b.Gamma)
						assert.InDelta(t, b.EstHigh, f(got["hl_high"]), 1e-12, "%s gamma %v", name, b.Gamma)
					}
				}
				if math.IsInf(want.GammaStar, 1) {
					assert.Nil(t, o.GammaStar, name)
				} else {
					require.NotNil(t, o.GammaStar, name)
					assert.InDelta(t, want.GammaStar, *o.GammaStar, 1e-9, name)
				}
			}
		})
	}
	// the text report has a table per outcome
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3",
		"-outcomes", "y1,y2", "-rosenbaum", "1,2"}, &out, &errb))
	assert.Contains(t, out.String(), "Rosenbaum bounds, y1: signed-rank test")
	assert.Contains(t, out.String(), "Rosenbaum bounds, y2: mantel-haenszel test")
}

// TestPsmatchRosenbaumErrors: bad -rosenbaum values are usage errors
// naming the flag and the value.
func TestPsmatchRosenbaumErrors(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "match", "cont.csv")
	base := []string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3"}
	cases := []struct {
		name  string
		flags []string
		msg   []string
	}{
		{"Gamma below 1", []string{"-outcomes", "y1", "-rosenbaum", "0.5,1,2"}, []string{"-rosenbaum", "Gamma 0.5 (grid entry 0) is below 1"}},
		{"not a number", []string{"-outcomes", "y1", "-rosenbaum", "1,two"}, []string{"-rosenbaum", `Gamma "two" is not a number`}},
		{"empty entry", []string{"-outcomes", "y1", "-rosenbaum", "1,,2"}, []string{"-rosenbaum", `Gamma "" is not a number`}},
		{"not increasing", []string{"-outcomes", "y1", "-rosenbaum", "1,2,1.5"}, []string{"-rosenbaum", "not strictly increasing at entry 2"}},
		{"infinite", []string{"-outcomes", "y1", "-rosenbaum", "1,Inf"}, []string{"-rosenbaum", "Gamma +Inf (grid entry 1) is not finite"}},
		{"without outcomes", []string{"-rosenbaum", "1,2"}, []string{"-rosenbaum needs -outcomes"}},
		{"with weights", []string{"-outcomes", "y1", "-weights", "w", "-rosenbaum", "1,2"}, []string{"-rosenbaum is not available with -weights"}},
	}
	for _, c := range cases {
		var out, errb bytes.Buffer
		err := run(context.Background(), append(append([]string{}, base...), c.flags...), &out, &errb)
		require.Error(t, err, c.name)
		assert.True(t, errorsIsUsage(err), "%s: %v", c.name, err)
		for _, m := range c.msg {
			assert.Contains(t, err.Error(), m, c.name)
		}
	}
}

// TestPsmatchRosenbaumWithBiasAdjust: -rosenbaum and -bias-adjust
// together give both sets of members in each outcome object, and the
// Rosenbaum members do not depend on -bias-adjust.
func TestPsmatchRosenbaumWithBiasAdjust(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "match", "cont.csv")
	args := []string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3", "-outcomes", "y1,y2", "-json", "-rosenbaum", "1,2"}
	outputs := map[bool]map[string]map[string]json.RawMessage{}
	for _, ba := range []bool{false, true} {
		a := args
		if ba {
			a = append(append([]string{}, args...), "-bias-adjust")
		}
		var out, errb bytes.Buffer
		require.NoError(t, run(context.Background(), a, &out, &errb), errb.String())
		var j struct {
			Outcomes map[string]map[string]json.RawMessage `json:"outcomes"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &j))
		outputs[ba] = j.Outcomes
	}
	for _, name := range []string{"y1", "y2"} {
		with, without := outputs[true][name], outputs[false][name]
		assert.Contains(t, with, "att_bias_adjusted", name)
		assert.NotContains(t, without, "att_bias_adjusted", name)
		for _, k := range []string{"rosenbaum_test", "rosenbaum_alternative", "rosenbaum", "gamma_star"} {
			require.Contains(t, with, k, name)
			assert.JSONEq(t, string(without[k]), string(with[k]), "%s %s", name, k)
		}
	}
}
