package panel

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bindTiny binds rule against the tiny register and design.
func bindTiny(t *testing.T, rule Rule) (func(*UnitView) bool, *Register) {
	r := tinyRegister(t)
	d := tinyDesign(t)
	si := &spellIndex{merged: MergeSpells(r.Spells, 0)}
	f, err := rule.bind(newBinder(r, d, si))
	require.NoError(t, err)
	return f, r
}

// tinyView returns the view of person id starting on day.
func tinyView(t *testing.T, r *Register, id int64, day string) *UnitView {
	for i, x := range r.IDs {
		if x == id {
			s := mustDay(t, day)
			return &UnitView{Register: r, Person: i, ID: id, Start: s, Week: r.Status.WeekOf(s), Cohort: MonthOf(s)}
		}
	}
	t.Fatalf("no person %d", id)
	return nil
}

func TestRulesTiny(t *testing.T) {
	feb6, mar19 := "2012-02-06", "2012-03-19" // weeks 9 and 15
	type probe struct {
		id   int64
		day  string
		keep bool
	}
	cases := []struct {
		rule   Rule
		probes []probe
	}{
		{AgeBetween(16, 64, mustDay(t, "2012-01-01")), []probe{
			{104, feb6, true},  // D born 1947-01-02: 64 on 2012-01-01
			{107, feb6, false}, // G born 1947-01-01: 65
			{105, feb6, true},  // E born 1996-01-01: 16 that day
			{110, feb6, false}, // J born 1996-01-02: 15
		}},
		{AnyWeekIn("cash", "sick", "pension", "cash_act"), []probe{
			{109, feb6, false}, // I: none in every week
			{105, feb6, true},  // E: cash in weeks 0..2 only
			{104, mar19, true},
		}},
		{AnyWeekIn("pension"), []probe{{108, feb6, true}, {101, feb6, false}}},
		{StatusNotIn("pension"), []probe{
			{108, feb6, true},   // H: cash in week 9
			{108, mar19, false}, // H: pension in week 15
			{101, mar19, true},
		}},
		{NoSpellActive(mustDay(t, "2012-01-01"), mustDay(t, "2012-01-31")), []probe{
			{102, feb6, false}, // B: 01-09..01-29
			{103, feb6, false}, // C: merged 01-16..03-01
			{105, feb6, true},  // E: 2011-12-05..12-20, ended before January
			{101, feb6, true},
			{109, feb6, true}, // no spells
		}},
		{NoSpellActive(mustDay(t, "2011-12-20"), mustDay(t, "2011-12-20")), []probe{
			{105, feb6, false}, // the last day of E's spell
		}},
		{AttrIn("edu", "upper", "vocational"), []probe{
			{101, feb6, true}, {102, feb6, false}, {105, feb6, false}, // E: missing fails
		}},
		{RuleFunc("cohort after January", func(u *UnitView) bool { return u.Cohort > MonthFromDate(2012, time.February) }), []probe{
			{101, feb6, false}, {101, mar19, true},
		}},
	}
	for _, c := range cases {
		f, r := bindTiny(t, c.rule)
		for _, p := range c.probes {
			assert.Equal(t, p.keep, f(tinyView(t, r, p.id, p.day)), "%s: id %d at %s", c.rule.Name(), p.id, p.day)
		}
	}
}

// TestAgeBetweenMatchesAgeYears checks the threshold form of AgeBetween
// against AgeYears (computed from calendar fields) over random birth
// days and reference days, including 29 February.
func TestAgeBetweenMatchesAgeYears(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	base := DayFromDate(1940, time.January, 1)
	ats := []Day{DayFromDate(2012, time.January, 1), DayFromDate(2012, time.February, 29),
		DayFromDate(2013, time.February, 28), DayFromDate(2013, time.March, 1), DayFromDate(2011, time.December, 31)}
	for _, at := range ats {
		rule := AgeBetween(16, 64, at)
		r := &Register{IDs: []int64{1}, Birth: []Day{0}}
		f, err := rule.bind(&binder{r: r})
		require.NoError(t, err)
		u := &UnitView{Register: r}
		births := []Day{DayFromDate(1996, time.February, 29), DayFromDate(1948, time.February, 29)}
		for range 3000 {
			births = append(births, base+Day(rng.IntN(70*366)))
		}
		for _, b := range births {
			r.Birth[0] = b
			age := AgeYears(b, at)
			assert.Equal(t, age >= 16 && age <= 64, f(u), "birth %v at %v (age %d)", b, at, age)
		}
	}
	// Hand-worked: born 1996-02-29 is 15 on 2012-02-28 and 16 on 2012-02-29;
	// born 2000-02-29 is 12 on 2013-02-28 (birthday on 1 March) and 13 on 2013-03-01.
	assert.Equal(t, 15, AgeYears(DayFromDate(1996, 2, 29), DayFromDate(2012, 2, 28)))
	assert.Equal(t, 16, AgeYears(DayFromDate(1996, 2, 29), DayFromDate(2012, 2, 29)))
	assert.Equal(t, 12, AgeYears(DayFromDate(2000, 2, 29), DayFromDate(2013, 2, 28)))
	assert.Equal(t, 13, AgeYears(DayFromDate(2000, 2, 29), DayFromDate(2013, 3, 1)))
}

func TestAnyInRuns(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for range 500 {
		row := make([]byte, rng.IntN(100))
		for i := 0; i < len(row); {
			l := 1 + rng.IntN(20)
			c := byte(rng.IntN(4))
			for k := i; k < min(len(row), i+l); k++ {
				row[k] = c
			}
			i += l
		}
		var lut [256]bool
		lut[rng.IntN(4)] = true
		want := false
		for _, c := range row {
			want = want || lut[c]
		}
		assert.Equal(t, want, anyIn(row, &lut))
	}
}

// WeeksBefore counts run by run what a byte loop counts: rows of random
// runs (lengths 1 to 40) of four codes, two of them in the set, every
// start week 0..Weeks and windows that do and do not reach before the
// grid's first week.
func TestWeeksBefore(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 5))
	const n, weeks = 50, 300
	r := &Register{Status: NewStatusGrid(n, 0, weeks, []string{"a", "b", "c", "d"})}
	for i := range r.Status.Codes {
		if i == 0 || rng.IntN(1+rng.IntN(40)) == 0 {
			r.Status.Codes[i] = byte(rng.IntN(4))
		} else {
			r.Status.Codes[i] = r.Status.Codes[i-1]
		}
	}
	var set [256]bool
	set[1], set[3] = true, true
	for i := range n {
		for wk := 0; wk <= weeks; wk++ {
			for _, w := range []int{1, 13, 260} {
				want := 0
				for _, c := range r.Status.Row(i)[max(wk-w, 0):wk] {
					if c == 1 || c == 3 {
						want++
					}
				}
				u := &UnitView{Register: r, Person: i, Week: wk}
				require.Equal(t, want, u.WeeksBefore(w, &set), "person %d week %d window %d", i, wk, w)
			}
		}
	}
}
