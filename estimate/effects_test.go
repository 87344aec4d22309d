package estimate

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/psmeval/psmeval/psm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinySample: treated T1 (score 0.5, unit 0), T2 (1.0, unit 1); controls
// C1 (0.25, unit 2), C2 (0.75, unit 3), C3 (1.125, unit 4). Scores are
// binary fractions, so T1 is exactly tied between C1 and C2 (distance
// 0.25) and T2's nearest is C3 (0.125 < 0.25).
//
// Hand computation (months 0, 1, 2):
//
//	T1 row [1 1 0], match set {C1 ½, C2 ½} -> [0 0 0]/2 + [1 0 1]/2 = [.5 0 .5]
//	T2 row [0 1 1], match set {C3 1}       -> [0 1 0]
//	treated mean [.5 1 .5], control mean [.25 .5 .25], ATT [.25 .5 .25]
//	accumulated from month 1: [0 .5 .75]; from month 0: [.25 .75 1]
//	subgroup sex=0 (T1): ATT [.5 1 −.5]; sex=1 (T2): ATT [0 0 1]
func tinySample() (*Sample, []float64) {
	y := []float64{
		1, 1, 0, // T1
		0, 1, 1, // T2
		0, 0, 0, // C1
		1, 0, 1, // C2
		0, 1, 0, // C3
	}
	s := &Sample{
		Treated:   []bool{true, true, false, false, false},
		Person:    []int64{10, 11, 20, 21, 22},
		Outcomes:  []EventOutcome{{Name: "emp", H: 2, Y: y}},
		Subgroups: []Subgroups{{Name: "sex", Levels: []string{"0", "1"}, Code: []int32{0, 1, -1, 0, 1}}},
	}
	return s, []float64{0.5, 1.0, 0.25, 0.75, 1.125}
}

func tinyMatches() *matchSets {
	return &matchSets{
		Treated: []int32{0, 1},
		Start:   []int{0, 2, 3},
		Control: []int32{2, 3, 4},
		Weight:  []float64{0.5, 0.5, 1},
	}
}

func TestEffectsTiny(t *testing.T) {
	const tol = 1e-12 // exact binary fractions; hand-computed above
	s, scores := tinySample()
	byMatchUnits, err := matchUnits(s, scores, nil)
	require.NoError(t, err)
	for name, m := range map[string]*matchSets{"hand": tinyMatches(), "MatchUnits": byMatchUnits} {
		for _, month0 := range []bool{false, true} {
			res, err := effects(s, m, &EffectOptions{IncludeMonth0: month0})
			require.NoError(t, err, name)
			all := res.Find("emp", "", "")
			require.NotNil(t, all)
			assert.Equal(t, 2, all.NTreated, name)
			assert.Equal(t, 3, all.NControls, name)
			assert.InDelta(t, 2, all.WeightedControls, tol, name)
			wantT := []float64{.5, 1, .5}
			wantC := []float64{.25, .5, .25}
			wantA := []float64{.25, .5, .25}
			wantAcc := []float64{0, .5, .75}
			if month0 {
				wantAcc = []float64{.25, .75, 1}
			}
			for m, e := range all.Effects {
				assert.Equal(t, m, e.Month)
				assert.InDelta(t, wantT[m], e.TreatedMean, tol, "%s month %d", name, m)
				assert.InDelta(t, wantC[m], e.ControlMean, tol, "%s month %d", name, m)
				assert.InDelta(t, wantA[m], e.ATT, tol, "%s month %d", name, m)
				assert.InDelta(t, wantAcc[m], e.Accumulated, tol, "%s month %d", name, m)
			}
			g0, g1 := res.Find("emp", "sex", "0"), res.Find("emp", "sex", "1")
			require.NotNil(t, g0)
			require.NotNil(t, g1)
			assert.Equal(t, 1, g0.NTreated)
			assert.Equal(t, 2, g0.NControls)
			assert.Equal(t, 1, g1.NControls)
			for m, want := range []float64{.5, 1, -.5} {
				assert.InDelta(t, want, g0.Effects[m].ATT, tol)
			}
			for m, want := range []float64{0, 0, 1} {
				assert.InDelta(t, want, g1.Effects[m].ATT, tol)
			}
		}
	}
}

// Accumulated effects are the running sums of the monthly effects in
// every series.
func TestAccumulatedIsRunningSum(t *testing.T) {
	s, scores := synthSample(400, 1500, 7, 3)
	m, err := matchUnits(s, scores, &matchRule{K: 2})
	require.NoError(t, err)
	for _, month0 := range []bool{false, true} {
		res, err := effects(s, m, &EffectOptions{IncludeMonth0: month0})
		require.NoError(t, err)
		for _, se := range res.Series {
			sum := 0.0
			for mo, e := range se.Effects {
				if mo > 0 || month0 {
					sum += e.ATT
				}
				assert.InDelta(t, sum, e.Accumulated, 1e-12)
			}
		}
	}
}

func TestEffectsNaNOutcome(t *testing.T) {
	s, _ := tinySample()
	s.Outcomes[0].Y[3*3+1] = math.NaN() // C2, month 1
	_, err := effects(s, tinyMatches(), nil)
	require.Error(t, err)
	require.ErrorIs(t, err, ErrNaNOutcome)
	var oe *Error
	require.True(t, errors.As(err, &oe))
	assert.Equal(t, 3, oe.Unit)
	assert.Equal(t, int64(21), oe.Person)
	assert.True(t, oe.HasMonth)
	assert.Equal(t, 1, oe.Month)
	assert.Equal(t, `outcome "emp"`, oe.Field)
	assert.True(t, math.IsNaN(oe.Value), "value %v", oe.Value)
	assert.Contains(t, err.Error(), "unit 3")

	// NaN beyond the horizon is fine: estimate months 0..0 with stride 3.
	s.Outcomes[0].H, s.Outcomes[0].Stride = 0, 3
	_, err = effects(s, tinyMatches(), nil)
	require.NoError(t, err)
}

func TestEffectsBadInput(t *testing.T) {
	s, _ := tinySample()
	cases := map[string]func(*Sample, *matchSets){
		"control is treated": func(_ *Sample, m *matchSets) { m.Control[0] = 1 },
		"weights not 1":      func(_ *Sample, m *matchSets) { m.Weight[0] = 0.7 },
		"short Y":            func(s *Sample, _ *matchSets) { s.Outcomes[0].Y = s.Outcomes[0].Y[:5] },
		"bad code":           func(s *Sample, _ *matchSets) { s.Subgroups[0].Code[0] = 5 },
		"start":              func(_ *Sample, m *matchSets) { m.Start = m.Start[:2] },
	}
	for name, f := range cases {
		s2 := *s
		s2.Outcomes = []EventOutcome{{Name: "emp", H: 2, Y: append([]float64(nil), s.Outcomes[0].Y...)}}
		s2.Subgroups = []Subgroups{{Name: "sex", Levels: s.Subgroups[0].Levels, Code: append([]int32(nil), s.Subgroups[0].Code...)}}
		m := tinyMatches()
		f(&s2, m)
		_, err := effects(&s2, m, nil)
		require.Error(t, err, name)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
}

func TestSubgroupsHelpers(t *testing.T) {
	g := SubgroupsOf("sex", []float64{1, 0, math.NaN(), 1})
	assert.Equal(t, []string{"0", "1"}, g.Levels)
	assert.Equal(t, []int32{1, 0, -1, 1}, g.Code)
	b, err := SubgroupsByBreaks("age", []float64{18, 25, 30, 64, math.NaN()}, []float64{25, 30})
	require.NoError(t, err)
	assert.Equal(t, []string{"<25", "25-30", ">=30"}, b.Levels)
	assert.Equal(t, []int32{0, 1, 2, 2, -1}, b.Code)
	_, err = SubgroupsByBreaks("age", nil, []float64{3, 3})
	assert.ErrorIs(t, err, ErrInvalid)
}

func TestQuantile7(t *testing.T) {
	// R: quantile(c(1,2,3,4,10), c(0, .1, .25, .5, .975, 1), type = 7)
	//    -> 1.0 1.4 2.0 3.0 9.4 10.0
	x := []float64{1, 2, 3, 4, 10}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {.1, 1.4}, {.25, 2}, {.5, 3}, {.975, 9.4}, {1, 10}} {
		assert.InDelta(t, c.want, Quantile7(c.p, x), 1e-12, "p=%v", c.p)
	}
	assert.True(t, math.IsNaN(Quantile7(.5, nil)))
}

// Quantile7 against R's quantile(type = 7): testdata/estimate/quantile7.R
// and its output quantile7.csv (R 4.2.2). Tolerance 1e-12.
func TestQuantile7AgainstR(t *testing.T) {
	f, err := os.ReadFile("../testdata/estimate/quantile7.csv")
	require.NoError(t, err)
	x := []float64{0.31, -1.2, 4.5, 0.31, 2.25, -0.07, 9.1, 3.3, 0.5, -2.75, 1.0}
	slices.Sort(x)
	n := 0
	for _, line := range strings.Split(string(f), "\n") {
		if line == "" || line[0] == '#' || strings.HasPrefix(line, "p,") {
			continue
		}
		var p, q float64
		_, err := fmt.Sscanf(line, "%g,%g", &p, &q)
		require.NoError(t, err, line)
		assert.InDelta(t, q, Quantile7(p, x), 1e-12, "p=%v", p)
		n++
	}
	assert.Equal(t, 14, n)
}

// unitsFor matches s on scores with the psm options of rule (nil: the
// defaults): the matched sample the estimators take.
func unitsFor(t testing.TB, s *Sample, scores []float64, rule *matchRule) *psm.UnitMatching {
	t.Helper()
	var o psm.UnitOptions
	if rule != nil {
		o.Match = psm.MatchOptions{K: rule.K, Caliper: rule.Caliper, TieTolerance: rule.TieTolerance, Trim: rule.Trim, Distance: rule.distance}
		o.Strata = rule.Strata
	}
	um, err := psm.MatchUnits(scores, s.Treated, &o)
	if err != nil {
		t.Fatal(err)
	}
	return um
}
