package synth

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func gen(t testing.TB, o Options) *Population {
	t.Helper()
	p, err := Generate(context.Background(), &o)
	require.NoError(t, err)
	return p
}

func TestOptionsErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
		msg  string
	}{
		{"negative scale", Options{Scale: -1}, "Scale"},
		{"NaN scale", Options{Scale: math.NaN()}, "Scale"},
		{"tiny scale", Options{Scale: 1e-9}, "no persons"},
		{"negative workers", Options{Scale: 0.001, Workers: -1}, "Workers"},
		{"control fraction", Options{Scale: 0.001, ControlFraction: 1.5}, "ControlFraction"},
		{"effect range", Options{Scale: 0.001, Effect: EffectCurves{Employed: []float64{-2}}}, "Employed[0]"},
		{"unobserved effect", Options{Scale: 0.001, UnobservedEffect: -1}, "UnobservedEffect"},
		{"shape", Options{Scale: 0.001, UnobservedShape: []float64{math.Inf(1)}}, "UnobservedShape[0]"},
		{"status from before the grid", Options{Scale: 0.001, StatusFrom: GridFirstWeek - 1}, "StatusFrom"},
		{"status from after the first spell", Options{Scale: 0.001, StatusFrom: firstSpellDay + 1}, "StatusFrom"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Generate(context.Background(), &tc.o)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Generate(ctx, &Options{Scale: 0.01})
	require.ErrorIs(t, err, context.Canceled)
}

// Same seed, same bits for any number of workers.
func TestDeterministicWorkers(t *testing.T) {
	o := Options{Scale: 0.003, Seed: 7, Effect: LockIn(-0.05, 6, 6), Confounding: 0.3}
	o.Workers = 1
	a := gen(t, o)
	o.Workers = 3
	b := gen(t, o)
	require.Equal(t, a.Register, b.Register)
	require.Equal(t, a.Untreated, b.Untreated)
	require.Equal(t, a.U, b.U)
	require.Equal(t, a.FirstStart, b.FirstStart)
	o.Seed = 8
	c := gen(t, o)
	require.NotEqual(t, a.Register.Status.Codes, c.Register.Status.Codes, "another seed gives other data")
}

// Keeping fewer weeks of the status grid keeps exactly those columns of
// the whole grid and changes nothing else.
func TestStatusWeeks(t *testing.T) {
	o := Options{Scale: 0.003, Seed: 3, Effect: LockIn(-0.05, 6, 6)}
	whole := gen(t, o)
	// a Wednesday: the grid starts with its week, Monday 2009-02-02,
	// 109 weeks after the whole grid's first
	o.StatusFrom = panel.DayFromDate(2009, 2, 4)
	part := gen(t, o)
	g, w := &part.Register.Status, &whole.Register.Status
	require.Equal(t, panel.DayFromDate(2009, 2, 2), g.FirstWeek)
	require.Equal(t, GridWeeks-109, g.Weeks)
	require.NoError(t, part.Register.Validate())
	lo := w.WeekOf(g.FirstWeek)
	for i := range part.Register.Len() {
		require.Equal(t, w.Row(i)[lo:lo+g.Weeks], g.Row(i), "person %d", i)
	}
	require.Equal(t, w.Levels, g.Levels)
	a, b := whole.Register, part.Register
	a.Status, b.Status = panel.StatusGrid{}, panel.StatusGrid{}
	require.Equal(t, a, b)
	require.Equal(t, whole.Untreated, part.Untreated)
	require.Equal(t, whole.FirstStart, part.FirstStart)
	require.Equal(t, whole.U, part.U)
}

func TestRegisterShape(t *testing.T) {
	p := gen(t, Options{Scale: 0.005, Seed: 1})
	r := &p.Register
	require.NoError(t, r.Validate())
	require.Equal(t, int(math.Round(SFIPersons*0.005)), r.Len())
	assert.Equal(t, panel.DayFromDate(2007, 1, 1), r.Status.FirstWeek)
	assert.Equal(t, "Monday", r.Status.FirstWeek.Weekday().String())
	assert.Equal(t, GridWeeks, r.Status.Weeks)
	assert.Equal(t, "self_supporting", r.Status.Levels[0])
	// Ages 16-64 on 2012-01-01 (SFI rule 1), exact completed years.
	for i, b := range r.Birth {
		a := ageYears(b, panel.DayFromDate(2012, 1, 1))
		require.True(t, a >= 16 && a <= 64, "person %d aged %d", i, a)
	}
	want := map[string]panel.Month{Employed: panel.MonthFromDate(2014, 4), EmployedNoBenefit: panel.MonthFromDate(2014, 4),
		SUOutcome: panel.MonthFromDate(2014, 4), Education: panel.MonthFromDate(2013, 9)}
	for _, o := range r.Outcomes {
		assert.Equal(t, OutcomeFirstMonth, o.FirstMonth, o.Name)
		assert.Equal(t, want[o.Name], o.LastMonth(), o.Name)
	}
	// employed_no_benefit implies employed; su implies education.
	emp, enb, edu, su := p.Outcome(Employed), p.Outcome(EmployedNoBenefit), p.Outcome(Education), p.Outcome(SUOutcome)
	for i := 0; i < r.Len(); i++ {
		for m := OutcomeFirstMonth; m <= edu.LastMonth(); m++ {
			e, _ := emp.Get(i, m)
			n, _ := enb.Get(i, m)
			d, _ := edu.Get(i, m)
			s, _ := su.Get(i, m)
			require.False(t, n && !e, "person %d month %v", i, m)
			require.False(t, s && !d, "person %d month %v", i, m)
		}
	}
	// Spells: January 2012 starts, starts after July 2012, directly
	// consecutive sub-spells with other hours, no overlaps.
	jan, late, split := 0, 0, 0
	byPerson := map[int32][]panel.Spell{}
	for _, s := range r.Spells {
		byPerson[s.Person] = append(byPerson[s.Person], s)
		if s.Start < panel.DayFromDate(2012, 2, 1) {
			jan++
		}
		if s.Start > panel.DayFromDate(2012, 7, 31) {
			late++
		}
		require.GreaterOrEqual(t, s.Start, panel.DayFromDate(2012, 1, 1))
		require.False(t, math.IsNaN(float64(s.Hours)))
	}
	for person, sp := range byPerson {
		require.Equal(t, p.FirstStart[person], sp[0].Start)
		for k := 1; k < len(sp); k++ {
			require.Greater(t, sp[k].Start, sp[k-1].End, "overlap for person %d", person)
			if sp[k].Start == sp[k-1].End+1 {
				split++
				require.NotEqual(t, sp[k].Hours, sp[k-1].Hours)
			}
		}
	}
	assert.Positive(t, jan)
	assert.Positive(t, late)
	assert.Positive(t, split)
}

// The effect knob at zero gives Y(1) == Y(0) bit for bit and a true ATT
// of exactly zero.
func TestZeroEffectExact(t *testing.T) {
	p := gen(t, Options{Scale: 0.003, Seed: 2, Confounding: 0.5})
	for k := range p.Register.Outcomes {
		require.Equal(t, p.Untreated[k].Bits, p.Register.Outcomes[k].Bits)
	}
	persons, cohorts := p.Starters(panel.DayFromDate(2012, 2, 1), panel.DayFromDate(2012, 7, 31))
	require.NotEmpty(t, persons)
	for _, name := range OutcomeNames {
		for _, cf := range []Counterfactual{NotInWindow, NeverStart} {
			att, err := p.TrueATT(name, persons, cohorts, 21, cf)
			require.NoError(t, err)
			for m, v := range att {
				if math.IsNaN(v) { // beyond the outcome's cut-off for everyone
					require.Equal(t, Education, name)
					continue
				}
				require.Equal(t, 0.0, v, "%s %v month %d", name, cf, m)
			}
		}
	}
}

// TrueATT (re-simulated) with NeverStart equals the mean of the stored
// Y(1) - Y(0) at the actual start months, is monotone in the depth of the
// effect, and lies between the curve and zero. With NotInWindow it equals
// NeverStart before August 2012 (no later start yet), and from then on it
// is at least as large, since a negative effect of a later start can only
// lower the counterfactual outcome, and larger somewhere.
func TestTrueATT(t *testing.T) {
	const H = 24
	deep := gen(t, Options{Scale: 0.02, Seed: 3, ControlFraction: 0.05, Effect: LockIn(-0.10, 6, 6)})
	flat := gen(t, Options{Scale: 0.02, Seed: 3, ControlFraction: 0.05, Effect: LockIn(-0.04, 6, 6)})
	persons, cohorts := deep.Starters(panel.DayFromDate(2012, 2, 1), panel.DayFromDate(2012, 7, 31))
	p2, c2 := flat.Starters(panel.DayFromDate(2012, 2, 1), panel.DayFromDate(2012, 7, 31))
	require.Equal(t, persons, p2, "the effect does not change who starts")
	require.Equal(t, cohorts, c2)
	for k, name := range OutcomeNames {
		att, err := deep.TrueATT(name, persons, cohorts, H, NeverStart)
		require.NoError(t, err)
		win, err := deep.TrueATT(name, persons, cohorts, H, NotInWindow)
		require.NoError(t, err)
		require.Equal(t, att[0], win[0], "%s: month 0 lies before any later start", name)
		var sumWin, sumNever float64
		for m := range att {
			if !math.IsNaN(att[m]) {
				require.GreaterOrEqual(t, win[m], att[m]-1e-12, "%s month %d", name, m)
				sumWin, sumNever = sumWin+win[m], sumNever+att[m]
			}
		}
		if name == Employed {
			assert.Greater(t, sumWin, sumNever+0.01, "later starters among the counterfactuals lower Y(0)")
		}
		// Stored bits: observed minus untreated.
		obs, un := &deep.Register.Outcomes[k], &deep.Untreated[k]
		for m := 0; m <= H; m++ {
			sum, n := 0, 0
			for j, i := range persons {
				cm := cohorts[j] + panel.Month(m)
				y1, ok := obs.Get(int(i), cm)
				if !ok {
					continue
				}
				y0, _ := un.Get(int(i), cm)
				n++
				if y1 {
					sum++
				}
				if y0 {
					sum--
				}
			}
			if n == 0 {
				require.True(t, math.IsNaN(att[m]), "%s month %d", name, m)
				continue
			}
			require.InDelta(t, float64(sum)/float64(n), att[m], 1e-12, "%s month %d", name, m)
		}
		attFlat, err := flat.TrueATT(name, persons, cohorts, H, NeverStart)
		require.NoError(t, err)
		for m := 0; m <= H; m++ {
			if math.IsNaN(att[m]) {
				continue
			}
			// Y(1) = 1{V < p0 + e} is monotone in e person by person.
			require.LessOrEqual(t, att[m], attFlat[m]+1e-12, "%s month %d: deeper effect, lower ATT", name, m)
			require.LessOrEqual(t, att[m], 1e-12, "%s month %d", name, m)
		}
		if name == Employed {
			assert.Negative(t, att[0], "a 10-point lock-in shows at month 0")
			assert.Less(t, att[0], attFlat[0], "and more than a 4-point one")
			assert.Equal(t, 0.0, att[H], "no effect after recovery")
		}
		if name == SUOutcome {
			assert.Equal(t, 0.0, att[0], "LockIn leaves SU alone")
		}
	}
	// Other cohorts: a later hypothetical start shifts the curve.
	later := make([]panel.Month, len(cohorts))
	for j := range cohorts {
		later[j] = cohorts[j] + 3
	}
	att, err := deep.TrueATT(Employed, persons, later, 2, NeverStart)
	require.NoError(t, err)
	assert.Negative(t, att[0])
	// Errors.
	_, err = deep.TrueATT("wage", persons, cohorts, 3, NotInWindow)
	assert.ErrorContains(t, err, "unknown outcome")
	_, err = deep.TrueATT(Employed, persons, cohorts[:1], 3, NotInWindow)
	assert.ErrorContains(t, err, "cohorts")
	_, err = deep.TrueATT(Employed, []int32{-1}, cohorts[:1], 3, NotInWindow)
	assert.ErrorContains(t, err, "out of range")
	_, err = deep.TrueATT(Employed, persons, cohorts, 3, Counterfactual(7))
	assert.ErrorContains(t, err, "counterfactual")
}

// The number treated in the window scales with Scale: binomial counts
// with mean 6487·Scale (docs/method.md §4), checked at 4 standard errors.
func TestTreatedScale(t *testing.T) {
	var counts []int
	for _, sc := range []float64{0.05, 0.1} {
		p := gen(t, Options{Scale: sc, Seed: 11, ControlFraction: 0.001})
		n, _ := p.Starters(panel.DayFromDate(2012, 2, 1), panel.DayFromDate(2012, 7, 31))
		mean := 6487 * sc
		assert.InDelta(t, mean, float64(len(n)), 4*math.Sqrt(mean), "scale %v", sc)
		counts = append(counts, len(n))
	}
	// Ratio ~ 2: var(n2 - 2 n1) = 6487·(0.1 + 4·0.05).
	assert.InDelta(t, 0, float64(counts[1]-2*counts[0]), 4*math.Sqrt(6487*0.3))
}

// The unobserved factor: with the default shape (0 until July 2012) the
// SFI window's starters are the same persons with the same pre-start data
// whatever Confounding is, and their untreated employment can only fall
// when it rises (Y(0) = 1{V < p(U)} with p decreasing in U); non-starters
// do not change at all.
func TestConfounding(t *testing.T) {
	a := gen(t, Options{Scale: 0.02, Seed: 5, ControlFraction: 0.05})
	b := gen(t, Options{Scale: 0.02, Seed: 5, ControlFraction: 0.05, Confounding: 2})
	require.Equal(t, a.Register.IDs, b.Register.IDs)
	emp0, emp1 := &a.Untreated[0], &b.Untreated[0]
	var y0, y1 int
	n := 0
	for i := range a.Register.IDs {
		d := a.FirstStart[i]
		switch {
		case d == NoStart:
			require.Equal(t, a.Register.Status.Row(i), b.Register.Status.Row(i))
			require.Equal(t, emp0.Bits[2*i:2*i+2], emp1.Bits[2*i:2*i+2])
			require.Equal(t, a.U[i], b.U[i])
		case d >= windowFirst && d <= windowLast:
			n++
			require.Equal(t, a.Register.Status.Row(i), b.Register.Status.Row(i))
			require.Equal(t, a.U[i]+2, b.U[i])
			for k := range 2 {
				require.Zero(t, emp1.Bits[2*i+k]&^emp0.Bits[2*i+k], "person %d: U can only remove employment", i)
			}
			require.Equal(t, emp0.Count(i, OutcomeFirstMonth, panel.MonthOf(d)), emp1.Count(i, OutcomeFirstMonth, panel.MonthOf(d)))
			y0 += emp0.Count(i, panel.MonthFromDate(2013, 1), panel.MonthFromDate(2013, 12))
			y1 += emp1.Count(i, panel.MonthFromDate(2013, 1), panel.MonthFromDate(2013, 12))
		}
	}
	require.Greater(t, n, 50)
	assert.Less(t, float64(y1)/float64(12*n), float64(y0)/float64(12*n)-0.03)
}

func TestLevels(t *testing.T) {
	l := StatusLevels()
	assert.Equal(t, SelfSupporting, l[0])
	assert.Len(t, l, 5*6+11)
	assert.Equal(t, []string{"cash_benefit_passive", "cash_benefit_guidance_upskilling", "cash_benefit_private_work_practice",
		"cash_benefit_public_work_practice", "cash_benefit_ordinary_education", "cash_benefit_wage_subsidy"}, BenefitLevels(CashBenefit))
	assert.Equal(t, []string{"early_retirement"}, BenefitLevels(EarlyRetirement))
	assert.Len(t, InstrumentLevels("wage_subsidy"), 5)
	for _, level := range l {
		b, inst, ok := SplitLevel(level)
		require.True(t, ok)
		if inst == "" {
			assert.Equal(t, b, level)
		} else {
			assert.Equal(t, b+"_"+inst, level)
		}
	}
	_, _, ok := SplitLevel("nope")
	assert.False(t, ok)
	assert.Len(t, PublicSupportLevels(), len(l)-2)
	for _, x := range ExcludedAtStartLevels() {
		assert.Contains(t, l, x)
	}
}

// profileCheck requires every row within its tolerance widened by z
// standard errors of a share (or of the mean, for means: widen by slack).
func profileCheck(t *testing.T, p *Profile, z, meanSlack float64) {
	t.Helper()
	for _, r := range p.Rows {
		if math.IsNaN(r.Report) {
			continue
		}
		tol := r.Tolerance
		if r.Tolerance == TolPct {
			q := r.Report / 100
			tol += z * 100 * math.Sqrt(q*(1-q)/float64(p.N))
		} else {
			tol *= meanSlack
		}
		assert.InDelta(t, r.Report, r.Synthetic, tol, "%s: %s", p.Name, r.Characteristic)
	}
}

// A small population reproduces the report's figures within tolerance
// plus sampling error (docs/method.md §4).
func TestProfileSmall(t *testing.T) {
	sc := 0.3
	if testing.Short() {
		sc = 0.1
	}
	p := gen(t, Options{Scale: sc, Seed: 4, ControlFraction: 0.05})
	tr, pop, err := p.Profiles()
	require.NoError(t, err)
	require.Greater(t, tr.N, int(4000*sc))
	profileCheck(t, tr, 4, 3)
	profileCheck(t, pop, 4, 3)
}

// TestProfileScale1 generates the SFI-size population and prints the
// treated-at-start, population and spell profiles next to the report's
// figures (docs/method.md §4); every row must be within its tolerance
// (2 percentage points, 1 year for ages). About 15 s and 2 GB:
//
//	go test ./panel/synth -run TestProfileScale1 -v
func TestProfileScale1(t *testing.T) {
	if testing.Short() {
		t.Skip("generates the SFI-size population")
	}
	p := gen(t, Options{Scale: 1, Seed: 1})
	tr, pop, err := p.Profiles()
	require.NoError(t, err)
	sp := p.SpellProfile()
	for _, pr := range []*Profile{tr, pop, sp} {
		require.NoError(t, pr.Write(os.Stdout))
		for _, r := range pr.Failures() {
			t.Errorf("%s: %s: report %.2f synthetic %.2f (tolerance %.2f)", pr.Name, r.Characteristic, r.Report, r.Synthetic, r.Tolerance)
		}
	}
}

// PersonEffects simulates once for all outcomes and subsets: the mean
// over any subset of its entries equals TrueATT on those persons alone
// (separate simulations), for both counterfactuals.
func TestPersonEffectsSubsets(t *testing.T) {
	const H = 14
	p := gen(t, Options{Scale: 0.02, Seed: 4, ControlFraction: 0.05, Effect: LockIn(-0.10, 6, 6)})
	persons, cohorts := p.Starters(panel.DayFromDate(2012, 2, 1), panel.DayFromDate(2012, 7, 31))
	require.Greater(t, len(persons), 20)
	var sub []int
	var sp []int32
	var sc []panel.Month
	for j := range persons {
		if j%3 == 1 {
			sub, sp, sc = append(sub, j), append(sp, persons[j]), append(sc, cohorts[j])
		}
	}
	for _, cf := range []Counterfactual{NotInWindow, NeverStart} {
		e, err := p.PersonEffects(persons, cohorts, H, cf)
		require.NoError(t, err)
		for _, name := range OutcomeNames {
			got, err := e.ATT(name, sub)
			require.NoError(t, err)
			want, err := p.TrueATT(name, sp, sc, H, cf)
			require.NoError(t, err)
			require.Equal(t, fmt.Sprint(want), fmt.Sprint(got), "%s %s", name, cf)
		}
	}
	e, err := p.PersonEffects(persons, cohorts, H, NotInWindow)
	require.NoError(t, err)
	_, err = e.ATT(Employed, []int{len(persons)})
	require.ErrorContains(t, err, "out of range")
	_, err = e.ATT("wage", nil)
	require.ErrorContains(t, err, `unknown outcome "wage"`)
}
