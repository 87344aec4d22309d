package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var testdata = filepath.Join("..", "..", "testdata", "logit")

// rCoefs reads R's glm estimates and standard errors for one fit from
// testdata/logit/reference_coef.csv (written by logit_reference.R, R 4.2.2).
func rCoefs(t *testing.T, dataset string) (names []string, est, se map[string]float64) {
	f, err := os.Open(filepath.Join(testdata, "reference_coef.csv"))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	est, se = map[string]float64{}, map[string]float64{}
	for _, r := range rows[1:] {
		if r[0] != dataset {
			continue
		}
		names = append(names, r[1])
		est[r[1]], se[r[1]] = math.NaN(), math.NaN()
		if r[2] != "NA" {
			est[r[1]], _ = strconv.ParseFloat(r[2], 64)
			se[r[1]], _ = strconv.ParseFloat(r[3], 64)
		}
	}
	return names, est, se
}

type jsonOut struct {
	NTreated int `json:"n_treated"`
	NControl int `json:"n_control"`
	Logit    struct {
		Converged    bool                `json:"converged"`
		Iterations   int                 `json:"iterations"`
		Coefficients map[string]*float64 `json:"coefficients"`
		StdErrors    map[string]*float64 `json:"std_errors"`
	} `json:"logit"`
}

func runJSON(t *testing.T, args ...string) (string, jsonOut) {
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), append(args, "-json"), &out, &errb), errb.String())
	var j jsonOut
	require.NoError(t, json.Unmarshal(out.Bytes(), &j))
	return stripManifest(t, out.String()), j
}

// stripManifest returns the JSON object s without its "manifest" (which
// holds timings and file names; it is the last key), keys in order.
func stripManifest(t *testing.T, s string) string {
	i := strings.LastIndex(s, `,"manifest":{`)
	require.Positive(t, i, "no manifest in %s", s)
	out := s[:i] + "}\n"
	require.True(t, json.Valid([]byte(out)), out)
	return out
}

func TestPsmatchJSONMatchesR(t *testing.T) {
	cases := []struct {
		dataset, file, covariates, weights string
		treated, controls, iterations      int
	}{
		// Counts from the data; iterations from logit_reference.Rout.
		{"continuous", "continuous.csv", "x1,x2,x3,age,year,income", "", 646, 1354, 4},
		{"weights", "weights.csv", "x1,x2,d1", "w", -1, -1, 5},
		{"aliased", "aliased.csv", "x1,const,x2,x3,da,db,dc,x4", "", 320, 180, 4},
	}
	for _, c := range cases {
		t.Run(c.dataset, func(t *testing.T) {
			args := []string{"-data", filepath.Join(testdata, c.file), "-treatment", "y", "-covariates", c.covariates}
			if c.weights != "" {
				args = append(args, "-weights", c.weights)
			}
			raw, j := runJSON(t, args...)
			names, est, se := rCoefs(t, c.dataset)
			// Key order: the model's term order.
			assert.True(t, strings.HasPrefix(raw, `{"n_treated":`), raw)
			assert.Contains(t, raw, `"logit":{"converged":true,"iterations":`)
			assert.Contains(t, raw, `"coefficients":{"(Intercept)":`)
			last := -1
			for _, n := range names {
				k := strings.Index(raw, strconv.Quote(n)+":")
				assert.Greater(t, k, last, "key %s out of order", n)
				last = k
			}
			if c.treated >= 0 {
				assert.Equal(t, c.treated, j.NTreated)
				assert.Equal(t, c.controls, j.NControl)
			}
			assert.True(t, j.Logit.Converged)
			assert.Equal(t, c.iterations, j.Logit.Iterations)
			require.Len(t, j.Logit.Coefficients, len(names))
			for _, n := range names {
				b, s := j.Logit.Coefficients[n], j.Logit.StdErrors[n]
				if math.IsNaN(est[n]) {
					assert.Nil(t, b, "%s aliased: null", n)
					assert.Nil(t, s)
					continue
				}
				require.NotNil(t, b, n)
				require.NotNil(t, s, n)
				// R glm: coefficients 1e-8 relative, standard errors 1e-6.
				assert.InDelta(t, est[n], *b, 1e-8*math.Abs(est[n]), n)
				assert.InDelta(t, se[n], *s, 1e-6*se[n], n)
			}
		})
	}
}

func TestPsmatchParquetSameAsCSV(t *testing.T) {
	tab, err := flatfile.Read(context.Background(), filepath.Join(testdata, "continuous.csv"), nil)
	require.NoError(t, err)
	pq := filepath.Join(t.TempDir(), "continuous.parquet")
	require.NoError(t, flatfile.Write(pq, tab))
	args := []string{"-treatment", "y", "-covariates", "x1,x2,x3,age,year,income"}
	a, _ := runJSON(t, append([]string{"-data", filepath.Join(testdata, "continuous.csv")}, args...)...)
	b, _ := runJSON(t, append([]string{"-data", pq}, args...)...)
	assert.Equal(t, a, b)
}

func TestPsmatchTable(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-data", filepath.Join(testdata, "aliased.csv"), "-treatment", "y",
		"-covariates", "x1,const,x2,x3,da,db,dc,x4"}, &out, &out)
	require.NoError(t, err)
	s := out.String()
	for _, want := range []string{"treated: 320  controls: 180", "converged in 4 iterations", "(Intercept)",
		"0.514435", "[const x3 dc]", "residual deviance 601.076 on 494 df", "AIC 613.076"} {
		assert.Contains(t, s, want) // values: logit_reference.Rout (aliased)
	}
}

func TestPsmatchErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	require.NoError(t, os.WriteFile(bad, []byte("t,a,b\n1,0.5,2\n0,x,3\n1,NA,1\n0,2,2\n"), 0o644))
	sep := filepath.Join(dir, "sep.csv")
	require.NoError(t, os.WriteFile(sep, []byte("t,a\n1,5\n1,6\n0,1\n0,2\n"), 0o644))
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"-treatment", "t", "-covariates", "a"}, []string{"-data is required"}},
		{[]string{"-data", bad, "-covariates", "a"}, []string{"-treatment is required"}},
		{[]string{"-data", bad, "-treatment", "t"}, []string{"-covariates is required"}},
		{[]string{"-data", bad, "-treatment", "t", "-covariates", "a,zz"}, []string{`"zz"`, "missing column"}},
		{[]string{"-data", bad, "-treatment", "t", "-covariates", "a"}, []string{`"a"`, "row 1", "not a number"}},
		{[]string{"-data", bad, "-treatment", "t", "-covariates", "b", "-weights", "a"}, []string{`"a"`, "row 1"}},
		{[]string{"-data", sep, "-treatment", "t", "-covariates", "a"}, []string{"separation", "by a"}},
		{[]string{"-data", filepath.Join(dir, "x.xlsx"), "-treatment", "t", "-covariates", "a"}, []string{"format"}},
	}
	for _, c := range cases {
		var out bytes.Buffer
		err := run(context.Background(), c.args, &out, &out)
		require.Error(t, err, c.args)
		for _, w := range c.want {
			assert.Contains(t, err.Error(), w, c.args)
		}
	}
}
