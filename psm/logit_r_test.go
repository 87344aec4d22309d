package psm

import (
	"context"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// Reference values: testdata/logit/logit_reference.R (R 4.2.2,
// stats::glm(family = binomial)); its output with sessionInfo() is
// testdata/logit/logit_reference.Rout.

type lgRefTerm struct {
	term          string
	est, se, zval float64 // NaN = NA (aliased)
}

type lgRefFit struct {
	deviance, nullDeviance, aic, loglik float64
	iter, rank, n                       int
	converged                           bool
}

func lgReadCSV(t testing.TB, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "logit", name))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows[1:]
}

func lgParse(t testing.TB, s string) float64 {
	if s == "NA" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return v
}

func lgRefCoefs(t testing.TB, dataset string) []lgRefTerm {
	var out []lgRefTerm
	for _, r := range lgReadCSV(t, "reference_coef.csv") {
		if r[0] == dataset {
			out = append(out, lgRefTerm{term: r[1], est: lgParse(t, r[2]), se: lgParse(t, r[3]), zval: lgParse(t, r[4])})
		}
	}
	require.NotEmpty(t, out, dataset)
	return out
}

func lgRefFitOf(t testing.TB, dataset string) lgRefFit {
	for _, r := range lgReadCSV(t, "reference_fit.csv") {
		if r[0] == dataset {
			atoi := func(s string) int { v, err := strconv.Atoi(s); require.NoError(t, err); return v }
			return lgRefFit{deviance: lgParse(t, r[1]), nullDeviance: lgParse(t, r[2]), aic: lgParse(t, r[3]),
				loglik: lgParse(t, r[4]), iter: atoi(r[5]), converged: r[6] == "TRUE", rank: atoi(r[7]), n: atoi(r[8])}
		}
	}
	t.Fatalf("no reference fit for %s", dataset)
	return lgRefFit{}
}

// lgDataset loads testdata/logit/<name>.csv: treatment y, optional
// weights w, every other column a covariate in file order.
func lgDataset(t testing.TB, name string) (x *mat.Dense, y, w []float64, names []string) {
	t.Helper()
	tab, err := flatfile.Read(context.Background(), filepath.Join("..", "testdata", "logit", name+".csv"), nil)
	require.NoError(t, err)
	for j, n := range tab.Names {
		switch n {
		case "y":
			y = tab.Cols[j]
		case "w":
			w = tab.Cols[j]
		default:
			names = append(names, n)
		}
	}
	x, err = tab.Matrix(names)
	require.NoError(t, err)
	return x, y, w, names
}

// TestFitLogitMatchesR checks every reference fit with the IRLS pass
// chosen by FitLogit ("auto") and with the dense and the sparse pass
// (logit_sparse.go) forced; "sparse" is a register-like design for which
// the automatic choice is the sparse pass.
func TestFitLogitMatchesR(t *testing.T) {
	for _, ds := range []string{"continuous", "dummies", "weights", "rare", "aliased", "aliased_noint", "sparse"} {
		for path, pname := range []string{"auto", "dense", "sparse"} {
			t.Run(ds+"/"+pname, func(t *testing.T) { lgCheckR(t, ds, path) })
		}
	}
}

func lgCheckR(t *testing.T, ds string, path int) {
	src, opts := ds, &LogitOptions{}
	if ds == "aliased_noint" { // glm(y ~ 0 + ., family = binomial)
		src, opts.NoIntercept = "aliased", true
	}
	x, y, w, names := lgDataset(t, src)
	fit, err := lgFitPath(t, path, x, y, w, names, opts)
	require.NoError(t, err)
	if ds == "sparse" && path == 0 {
		sp, err := lgFitPath(t, 2, x, y, w, names, opts)
		require.NoError(t, err)
		lgBits(t, sp, fit, "automatic choice is the sparse pass")
	}
	ref := lgRefCoefs(t, ds)
	rf := lgRefFitOf(t, ds)
	require.Len(t, fit.Names, len(ref))
	var aliased []string
	maxCoef, maxSE := 0.0, 0.0
	for k, r := range ref {
		assert.Equal(t, r.term, fit.Names[k])
		if math.IsNaN(r.est) {
			aliased = append(aliased, r.term)
			assert.True(t, math.IsNaN(fit.Coef[k]), "%s should be aliased (NA in R)", r.term)
			assert.True(t, math.IsNaN(fit.SE[k]))
			continue
		}
		// Coefficients: 1e-8 relative; standard errors: 1e-6 relative.
		assert.InDelta(t, r.est, fit.Coef[k], 1e-8*math.Abs(r.est), "coef %s", r.term)
		assert.InDelta(t, r.se, fit.SE[k], 1e-6*math.Abs(r.se), "se %s", r.term)
		assert.InDelta(t, r.zval, fit.Z[k], 1e-6*math.Abs(r.zval), "z %s", r.term)
		ce, se := math.Abs(fit.Coef[k]-r.est)/math.Abs(r.est), math.Abs(fit.SE[k]-r.se)/r.se
		t.Logf("%-12s coef rel.err %.1e  se rel.err %.1e", r.term, ce, se)
		maxCoef, maxSE = math.Max(maxCoef, ce), math.Max(maxSE, se)
	}
	t.Logf("max rel.err vs R: coef %.1e se %.1e", maxCoef, maxSE)
	assert.Equal(t, aliased, fit.Aliased)
	assert.True(t, fit.Converged)
	assert.Equal(t, rf.iter, fit.Iterations, "IRLS iterations as R")
	assert.Equal(t, rf.rank, fit.Rank)
	assert.Equal(t, rf.n, fit.N)
	assert.InDelta(t, rf.deviance, fit.Deviance, 1e-9*rf.deviance)
	assert.InDelta(t, rf.nullDeviance, fit.NullDeviance, 1e-9*rf.nullDeviance)
	assert.InDelta(t, rf.aic, fit.AIC, 1e-9*rf.aic)
	assert.InDelta(t, rf.loglik, fit.LogLik, 1e-9*math.Abs(rf.loglik))
}
