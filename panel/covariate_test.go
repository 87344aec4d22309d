package panel

import (
	"context"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHistoryMatchesNaive(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const L = 5
	windows := []int{1, 3, 8, 20, 33}
	cnt := make([]int32, 256)
	for _, groups := range [][][]uint8{
		// every code alone, then groups of several codes (overlapping:
		// codes in the same groups share a count slot)
		{{0}, {1}, {2}, {3}, {4}, {1, 2}, {0, 2, 4}, {0, 1, 2, 3, 4}, {3}},
		// disjoint groups, codes 0 and 4 in none: one slot per group
		{{1}, {2, 3}},
	} {
		hs := newHistSlots(groups)
		hist := make([]int32, len(windows)*len(groups))
		for range 300 {
			row := make([]byte, 60)
			for i := 0; i < len(row); {
				l := 1 + rng.IntN(12)
				c := byte(rng.IntN(L))
				for k := i; k < min(len(row), i+l); k++ {
					row[k] = c
				}
				i += l
			}
			s := 33 + rng.IntN(27)
			history(row, s, windows, hs, cnt, hist)
			for j, w := range windows {
				for g, cs := range groups {
					n := 0
					for wk := s - w; wk < s; wk++ { // the w weeks before week s
						if slices.Contains(cs, row[wk]) {
							n++
						}
					}
					require.Equal(t, int32(n), hist[g*len(windows)+j], "window %d group %v", w, cs)
				}
			}
		}
	}
	hs := newHistSlots([][]uint8{{1}, {2, 3}})
	assert.Equal(t, 3, hs.n, "slots: no group, {1}, {2, 3}")
	assert.Equal(t, [][]uint8{{1}, {2}}, hs.groups)
	assert.Equal(t, hs.slot[0], hs.slot[4])
	assert.Equal(t, hs.slot[2], hs.slot[3])
}

// TestCovariatesRandom checks WeeksIn, MonthsWith, StatusAtStart and
// Dummies against direct loops over a random synthetic register.
func TestCovariatesRandom(t *testing.T) {
	r := synthRegister(3000, 7, 11)
	groups := []LevelGroup{
		{Name: "cash", Levels: []string{"cash", "cash_act"}},
		{Name: "sick", Levels: []string{"sick"}},
		{Name: "none", Levels: []string{"none"}},
	}
	d := synthDesign()
	d.Eligibility = nil
	d.Covariates = []Covariate{
		WeeksIn("w_", groups, 52, 260, 104),
		MonthsWith("emp", 48, 1),
		StatusAtStart("start", groups...),
		Dummies("edu", "primary"),
	}
	d.Descriptors = nil
	p, err := Build(context.Background(), r, d)
	require.NoError(t, err)
	require.Equal(t, []string{
		"w_cash_52", "w_cash_260", "w_cash_104", "w_sick_52", "w_sick_260", "w_sick_104", "w_none_52", "w_none_260", "w_none_104",
		"emp_48m", "emp_1m", "start=cash", "start=sick", "start=none",
		"edu=unknown", "edu=upper", "edu=vocational", "edu=short", "edu=medium", "edu=long",
	}, p.CovNames)
	g := &r.Status
	emp := &r.Outcomes[0]
	for u := 0; u < p.Len(); u += 7 {
		i := int(p.Person[u])
		s := int(p.StartWeek[u])
		row := g.Row(i)
		k := 0
		for _, gr := range groups {
			for _, w := range []int{52, 260, 104} {
				n := 0
				for wk := s - w; wk < s; wk++ {
					for _, l := range gr.Levels {
						if g.Levels[row[wk]] == l {
							n++
						}
					}
				}
				require.Equal(t, float64(n), p.X.At(u, k), "unit %d %s", u, p.CovNames[k])
				k++
			}
		}
		for _, m := range []int{48, 1} {
			n := 0
			for mo := p.Cohort[u] - Month(m); mo < p.Cohort[u]; mo++ {
				if v, ok := emp.Get(i, mo); ok && v {
					n++
				}
			}
			require.Equal(t, float64(n), p.X.At(u, k), "unit %d %s", u, p.CovNames[k])
			k++
		}
		for _, gr := range groups {
			want := 0.0
			for _, l := range gr.Levels {
				if g.Levels[row[s]] == l {
					want = 1
				}
			}
			require.Equal(t, want, p.X.At(u, k))
			k++
		}
		edu := r.Attrs[1]
		for _, l := range []string{"unknown", "upper", "vocational", "short", "medium", "long"} {
			require.Equal(t, b2f(edu.Levels[edu.Codes[i]] == l), p.X.At(u, k))
			k++
		}
	}
}

func TestCountSlotsRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	var slot [256]uint8
	for c := range slot {
		slot[c] = uint8(c)
	}
	for range 200 {
		seg := make([]byte, rng.IntN(70))
		for i := range seg {
			if i > 0 && rng.IntN(5) > 0 {
				seg[i] = seg[i-1]
			} else {
				seg[i] = byte(rng.IntN(256))
			}
		}
		got := make([]int32, 256)
		countSlots(seg, &slot, got)
		want := make([]int32, 256)
		for _, c := range seg {
			want[c]++
		}
		require.Equal(t, want, got)
	}
}

func TestDuplicateColumns(t *testing.T) {
	r := tinyRegister(t)
	d := tinyDesign(t)
	d.Covariates = []Covariate{Dummies("edu", ""), DummiesWithMissing("edu", "upper")}
	_, err := Build(context.Background(), r, d)
	require.ErrorIs(t, err, ErrDesign)
	assert.Contains(t, err.Error(), `column "edu=primary" already made by Covariates[0] edu`)
}

// TestCovFuncs: a multi-column user covariate fills its columns in one
// call, starting from zeros, and agrees with the equivalent single CovFunc
// columns (here: dummies of the start week's parity and of week >= 10,
// worked out from u.Week directly).
func TestCovFuncs(t *testing.T) {
	r := tinyRegister(t)
	d := tinyDesign(t)
	d.Covariates = []Covariate{
		CovFuncs([]string{"even", "late"}, func(u *UnitView, out []float64) {
			if u.Week%2 == 0 {
				out[0] = 1
			}
			if u.Week >= 10 {
				out[1] = 1
			}
		}),
		CovFunc("week", func(u *UnitView) float64 { return float64(u.Week) }),
	}
	p, err := Build(context.Background(), r, d)
	require.NoError(t, err)
	require.Equal(t, []string{"even", "late", "week"}, p.CovNames)
	for u := 0; u < p.Len(); u++ {
		w := int(p.X.At(u, 2))
		require.Equal(t, int(p.StartWeek[u]), w)
		assert.Equal(t, b2f(w%2 == 0), p.X.At(u, 0), "unit %d", u)
		assert.Equal(t, b2f(w >= 10), p.X.At(u, 1), "unit %d", u)
	}
	_, err = Build(context.Background(), r, &Design{WindowStart: d.WindowStart, WindowEnd: d.WindowEnd,
		Covariates: []Covariate{CovFuncs(nil, func(*UnitView, []float64) {})}})
	assert.ErrorIs(t, err, ErrDesign)
}

// LevelIn: one column, 1 when the attribute's level is one of the
// levels (checked against the register's codes unit by unit), a level
// the register lacks matches nobody with a note, and an unknown or
// numeric attribute is a design error. Register.Attr and
// Register.Outcome find by name.
func TestLevelIn(t *testing.T) {
	r := synthRegister(2000, 3, 5)
	d := synthDesign()
	d.Eligibility = nil
	d.Descriptors = nil
	d.Covariates = []Covariate{LevelIn("tertiary", "edu", "short", "medium", "long", "doctorate")}
	p, err := Build(context.Background(), r, d)
	require.NoError(t, err)
	require.Equal(t, []string{"tertiary"}, p.CovNames)
	edu := r.Attr("edu")
	require.NotNil(t, edu)
	ones := 0
	for u := 0; u < p.Len(); u++ {
		l := edu.Levels[edu.Codes[p.Person[u]]]
		want := b2f(l == "short" || l == "medium" || l == "long")
		require.Equal(t, want, p.X.At(u, 0), "unit %d level %s", u, l)
		ones += int(want)
	}
	require.Positive(t, ones)
	require.True(t, slices.ContainsFunc(p.Notes, func(s string) bool { return strings.Contains(s, `no level "doctorate"`) }), "%v", p.Notes)

	for _, c := range []struct{ attr, msg string }{{"nope", `unknown attribute "nope"`}} {
		d.Covariates = []Covariate{LevelIn("x", c.attr, "a")}
		_, err := Build(context.Background(), r, d)
		require.ErrorIs(t, err, ErrDesign)
		assert.Contains(t, err.Error(), c.msg)
	}
	require.Nil(t, r.Attr("nope"))
	require.Equal(t, &r.Outcomes[0], r.Outcome(r.Outcomes[0].Name))
	require.Nil(t, r.Outcome("nope"))
}
