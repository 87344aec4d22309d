package psm

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

func checkBalanceStats(t *testing.T, want *refBalanceStats, got BalanceStats, msg string) {
	t.Helper()
	const tol = 1e-9 // relative to max(1, |value|)
	near := func(w, g float64, what string) {
		t.Helper()
		assert.InDelta(t, w, g, tol*math.Max(1, math.Abs(w)), "%s %s", msg, what)
	}
	near(want.MeansTreated, got.MeanTreated, "mean treated")
	near(want.MeansControl, got.MeanControl, "mean control")
	near(want.SMD, got.SMD, "SMD")
	if want.VarRatio == nil {
		assert.True(t, math.IsNaN(got.VarRatio), "%s variance ratio of a 0/1 variable", msg)
	} else {
		near(*want.VarRatio, got.VarRatio, "variance ratio")
	}
	near(want.ECDFMean, got.ECDFMean, "eCDF mean")
	near(want.ECDFMax, got.ECDFMax, "eCDF max")
}

// TestBalanceAgainstMatchIt compares Balance with MatchIt:::bal1var(x, tr,
// ww, s.weights = 1, s.d.denom, standardize = TRUE) on the matches of the
// cont_m1 and cont_caliper cases (testdata/match/make_reference.R; the
// matching itself is checked against R in TestMatchAgainstRMatching).
// Tolerance 1e-9 relative.
func TestBalanceAgainstMatchIt(t *testing.T) {
	ref := readMatchReference(t)
	d := readMatchData(t, "cont.csv")
	names := []string{"x1", "x2", "x3"}
	var tcols, ccols [][]float64
	for _, v := range names {
		a, b := d.split(v)
		tcols = append(tcols, a)
		ccols = append(ccols, b)
	}
	pt, pc := d.split("ps")
	for _, cal := range []float64{0, 0.02} {
		m, err := Match(pt, pc, &MatchOptions{TieRule: TieRMatching, TieTolerance: 1e-12, Caliper: cal})
		require.NoError(t, err)
		for _, den := range []SMDDenominator{SMDTreated, SMDPooled} {
			tab, err := balanceColumns(names, tcols, ccols, m, &BalanceOptions{SMD: den})
			require.NoError(t, err)
			require.Len(t, tab.Rows, 3)
			for k, row := range tab.Rows {
				assert.Equal(t, names[k], row.Name)
				assert.Equal(t, names[k] == "x2", row.Binary)
				key := row.Name + "_" + map[SMDDenominator]string{SMDTreated: "treated", SMDPooled: "pooled"}[den]
				if cal > 0 {
					if den != SMDTreated {
						continue
					}
					key = row.Name + "_caliper"
				}
				r, ok := ref.Balance[key]
				require.True(t, ok, "caliper %v: no R reference for %s", cal, key)
				if r.Before != nil {
					checkBalanceStats(t, r.Before, row.Before, key+" before")
				}
				checkBalanceStats(t, r.After, row.After, key+" after")
			}
			assert.Equal(t, float64(len(pt)), tab.NTreated)
			assert.Equal(t, m.WeightedControls, tab.NControlMatched)
		}
	}
	// The same through a *mat.Dense.
	m, err := Match(pt, pc, nil)
	require.NoError(t, err)
	td := mat.NewDense(len(pt), 3, nil)
	cd := mat.NewDense(len(pc), 3, nil)
	for v := range names {
		td.SetCol(v, tcols[v])
		cd.SetCol(v, ccols[v])
	}
	a, err := Balance(names, td, cd, m, nil)
	require.NoError(t, err)
	b, err := balanceColumns(names, tcols, ccols, m, &BalanceOptions{Workers: 1})
	require.NoError(t, err)
	require.Len(t, a.Rows, 3)
	for k := range a.Rows { // identical, NaN variance ratios included
		for _, p := range [][2]BalanceStats{{a.Rows[k].Before, b.Rows[k].Before}, {a.Rows[k].After, b.Rows[k].After}} {
			x, y := p[0], p[1]
			if math.IsNaN(x.VarRatio) && math.IsNaN(y.VarRatio) {
				x.VarRatio, y.VarRatio = 0, 0
			}
			assert.Equal(t, x, y)
		}
	}
	assert.Contains(t, a.String(), "x1")
}

// Hand example: treated x = 0, 1, 2 (sd 1), controls 0, 0, 1, 3 matched
// with weights 1, 0, 1, 1.
func TestBalanceHand(t *testing.T) {
	m, err := Match([]float64{0.1, 0.5, 0.9}, []float64{0.1, 0.2, 0.5, 0.9}, nil)
	require.NoError(t, err)
	require.Equal(t, []float64{1, 0, 1, 1}, m.ControlWeight)
	tab, err := balanceColumns([]string{"x", "d"}, [][]float64{{0, 1, 2}, {1, 1, 0}},
		[][]float64{{0, 0, 1, 3}, {0, 0, 1, 0}}, m, nil)
	require.NoError(t, err)
	x := tab.Rows[0]
	assert.InDelta(t, 1.0, x.Before.MeanTreated, 1e-15)
	assert.InDelta(t, 1.0, x.Before.MeanControl, 1e-15)
	assert.InDelta(t, 0.0, x.Before.SMD, 1e-15)
	assert.InDelta(t, 4.0/3, x.After.MeanControl, 1e-15)
	assert.InDelta(t, -1.0/3, x.After.SMD, 1e-15) // sd of the treated = 1
	// control variance before: values 0,0,1,3, mean 1, ss 6, /3 = 2
	assert.InDelta(t, 0.5, x.Before.VarRatio, 1e-15)
	// after: 0,1,3 mean 4/3, ss 14/3, /2 = 7/3
	assert.InDelta(t, 3.0/7, x.After.VarRatio, 1e-15)
	// eCDFs after at 0,1,2,3: treated 1/3,2/3,1,1; control 1/3,2/3,2/3,1
	assert.InDelta(t, 1.0/3, x.After.ECDFMax, 1e-15)
	assert.InDelta(t, (1.0/3)/4, x.After.ECDFMean, 1e-15)
	d := tab.Rows[1]
	assert.True(t, d.Binary)
	assert.InDelta(t, 2.0/3, d.After.MeanTreated, 1e-15)
	assert.InDelta(t, 1.0/3, d.After.MeanControl, 1e-15)
	assert.InDelta(t, (1.0/3)/math.Sqrt(2.0/9), d.After.SMD, 1e-15) // p(1-p) = 2/9
	assert.InDelta(t, 1.0/3, d.After.ECDFMax, 1e-15)
	assert.True(t, math.IsNaN(d.After.VarRatio))

	_, err = balanceColumns([]string{"x"}, [][]float64{{0, math.NaN(), 2}}, [][]float64{{0, 0, 1, 3}}, m, nil)
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "x", ie.Field)
	assert.Equal(t, 1, ie.Index)
	_, err = balanceColumns([]string{"x"}, [][]float64{{0, 1}}, [][]float64{{0, 0, 1, 3}}, m, nil)
	assert.ErrorIs(t, err, ErrBadOption)
	_, err = balanceColumns([]string{"x", "y"}, [][]float64{{0, 1, 2}}, [][]float64{{0, 0, 1, 3}}, m, nil)
	assert.ErrorIs(t, err, ErrBadOption)
}

// balanceColumns is Balance on variables given as columns.
func balanceColumns(names []string, treated, control [][]float64, m *Matching, opts *BalanceOptions) (*BalanceTable, error) {
	return Balance(names, Columns(treated), Columns(control), m, opts)
}

// Balance gives the same table for the variables as a dense matrix, as
// Columns, and as one of each.
func TestBalanceLayouts(t *testing.T) {
	names, tcols, ccols, _, _, m := contMatched(t)
	dense := func(cols [][]float64) *mat.Dense {
		x := mat.NewDense(len(cols[0]), len(cols), nil)
		for j, c := range cols {
			x.SetCol(j, c)
		}
		return x
	}
	want, err := Balance(names, dense(tcols), dense(ccols), m, nil)
	require.NoError(t, err)
	for name, pair := range map[string][2]mat.Matrix{
		"columns":        {Columns(tcols), Columns(ccols)},
		"dense, columns": {dense(tcols), Columns(ccols)},
		"columns, dense": {Columns(tcols), dense(ccols)},
	} {
		got, err := Balance(names, pair[0], pair[1], m, nil)
		require.NoError(t, err, name)
		assert.Equal(t, fmt.Sprintf("%+v", want), fmt.Sprintf("%+v", got), name) // %v: NaN equals NaN
	}
}

// contMatched reads testdata/match/cont.csv and matches it on its score
// with the defaults: the covariate names, their treated and control
// columns, the scores and the matching.
func contMatched(t *testing.T) (names []string, tcols, ccols [][]float64, pt, pc []float64, m *Matching) {
	t.Helper()
	d := readMatchData(t, "cont.csv")
	names = []string{"x1", "x2", "x3"}
	for _, v := range names {
		a, b := d.split(v)
		tcols, ccols = append(tcols, a), append(ccols, b)
	}
	pt, pc = d.split("ps")
	m, err := Match(pt, pc, nil)
	require.NoError(t, err)
	return names, tcols, ccols, pt, pc, m
}
