package panel

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tinyUnit is the hand-computed row of one tiny unit at one start day.
type tinyUnit struct {
	x      []float64 // in the column order of tinyCovNames
	desc   []float64 // edu=primary, edu=upper, edu=vocational, income, edu (code), benefit (group at start)
	emp    []float64 // event months 0..3
	educ   []float64 // event months 0..2
	week   int32
	cohort string
}

var tinyCovNames = []string{
	"income", "edu=upper", "edu=vocational", "edu=NA",
	"weeks_cash_4", "weeks_cash_8", "weeks_sick_4", "weeks_sick_8",
	"wage_3m", "start=cash", "start=sick", "activated", "age", "week",
}

// tinyExpected holds the values worked out by hand from the table in
// tiny_test.go, keyed by person id and start day. Weeks: week 9 starts
// 2012-02-06 (63 days after 2011-12-05), week 15 starts 2012-03-19. The
// W-week windows are weeks s−W..s−1. Ages are days/365.25 with the day
// counts done by hand (checked against time.Time in TestTinyAgeDays).
var tinyExpected = map[int64]map[string]tinyUnit{
	101: {"2012-02-06": { // A, treated; weeks 5..8 cash, week 9 cash_act
		// income, edu upper, weeks 5..8 cash (4 of the last 4, 4 of the last 8 since weeks 1..4 are none), no sick,
		// wage in 2011-11 and 2012-01 among 2011-11..2012-01 = 2, cash_act at start (cash group, activated),
		// 8035 days old, week 9.
		x:    []float64{100, 1, 0, 0, 4, 4, 0, 0, 2, 1, 0, 1, 8035 / 365.25, 9},
		desc: []float64{0, 1, 0, 100, 1, 0},
		emp:  []float64{0, 1, 0, 1}, // 2012-02..05: employed in 03 and 05
		educ: []float64{1, 0, 0},    // 2012-02..04: in education in 02
		week: 9, cohort: "2012-02"}},
	106: {"2012-03-19": { // F, treated; weeks 11..14 cash/cash_act; weeks 7..8 sick, 9..14 cash group
		x:    []float64{600, 0, 0, 0, 4, 6, 0, 2, 3, 1, 0, 1, 15218 / 365.25, 15},
		desc: []float64{1, 0, 0, 600, 0, 0},
		emp:  []float64{1, 1, 1, 1}, // 2012-03..06 all employed
		educ: []float64{0, 0, 0},
		week: 15, cohort: "2012-03"}},
	104: { // D, control; none weeks 0..9, sick from week 10; wage only 2012-01
		"2012-02-06": {
			x:    []float64{400, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 23776 / 365.25, 9},
			desc: []float64{0, 0, 1, 400, 2, math.NaN()}, // none at start: in no group
			emp:  []float64{0, 0, 1, 0},                  // 2012-02..05, employed 04
			educ: []float64{0, 0, 0},                     // 2012-02..04 (education in 05 is month 3, beyond H=2)
			week: 9, cohort: "2012-02"},
		"2012-03-19": {
			// weeks 11..14 sick = 4; weeks 7..14: sick 10..14 = 5; sick at start
			x:    []float64{400, 0, 1, 0, 0, 0, 4, 5, 1, 0, 1, 0, 23818 / 365.25, 15},
			desc: []float64{0, 0, 1, 400, 2, 1}, // sick at start: group 1
			emp:  []float64{0, 1, 0, 0},         // 2012-03..06, employed 04
			educ: []float64{0, 0, 1},            // 2012-03..05, education 05
			week: 15, cohort: "2012-03"}},
	105: { // E, control; cash weeks 0..2 only, edu missing (its own dummy in X, NaN in the descriptors)
		"2012-02-06": {
			x:    []float64{500, 0, 0, 1, 0, 2, 0, 0, 0, 0, 0, 0, 5880 / 365.25, 9}, // weeks 1..8: cash in 1, 2
			desc: []float64{math.NaN(), math.NaN(), math.NaN(), 500, math.NaN(), math.NaN()},
			emp:  []float64{0, 0, 0, 0}, educ: []float64{0, 0, 0},
			week: 9, cohort: "2012-02"},
		"2012-03-19": {
			x:    []float64{500, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 5922 / 365.25, 15},
			desc: []float64{math.NaN(), math.NaN(), math.NaN(), 500, math.NaN(), math.NaN()},
			emp:  []float64{0, 0, 0, 0}, educ: []float64{0, 0, 0},
			week: 15, cohort: "2012-03"}},
	108: { // H, control; cash weeks 0..11 (pension from 12: week-15 draws are dropped)
		"2012-02-06": {
			x:    []float64{800, 1, 0, 0, 4, 8, 0, 0, 0, 1, 0, 0, 18746 / 365.25, 9},
			desc: []float64{0, 1, 0, 800, 1, 0},
			emp:  []float64{1, 1, 1, 1}, educ: []float64{0, 0, 0},
			week: 9, cohort: "2012-02"}},
}

func TestTinyAgeDays(t *testing.T) {
	// The hand day counts of tinyExpected, against time.Time.
	for _, c := range []struct {
		birth, at string
		days      int
	}{
		{"1990-02-06", "2012-02-06", 8035}, {"1970-07-20", "2012-03-19", 15218},
		{"1947-01-02", "2012-02-06", 23776}, {"1947-01-02", "2012-03-19", 23818},
		{"1996-01-01", "2012-02-06", 5880}, {"1996-01-01", "2012-03-19", 5922},
		{"1960-10-10", "2012-02-06", 18746},
	} {
		b, a := mustDay(t, c.birth).Time(), mustDay(t, c.at).Time()
		assert.Equal(t, c.days, int(a.Sub(b).Hours()/24), c.birth)
	}
}

func TestBuildTiny(t *testing.T) {
	r := tinyRegister(t)
	d := tinyDesign(t)
	d.Workers = 1
	p, err := Build(context.Background(), r, d)
	require.NoError(t, err)

	feb6, mar19 := mustDay(t, "2012-02-06"), mustDay(t, "2012-03-19")
	dist := []Day{feb6, mar19} // eligible treated start days, ascending
	// Which start each control draw gets (the draw itself is tested for
	// its distribution in TestSimulatedStartsFollowTreated).
	drawn := func(id int64, k int) Day { return dist[DrawIndex(d.Seed, id, k, 2)] }
	nH9, nH15 := 0, 0
	for k := range 6 {
		if drawn(108, k) == feb6 {
			nH9++
		} else {
			nH15++
		}
	}
	// The seed is chosen so that H gets both weeks: eligibility at the
	// simulated week is exercised both ways.
	require.Positive(t, nH9)
	require.Positive(t, nH15)

	c := p.Counts
	assert.Equal(t, 10, c.Persons)
	assert.Equal(t, 10, c.Spells)
	assert.Equal(t, 7, c.MergedSpells) // A, C, F merge pairs; B keeps two
	assert.Equal(t, 3, c.Starters)     // A, B, F
	assert.Equal(t, 7, c.PotentialControls)
	assert.Equal(t, 42, c.Draws)
	assert.Equal(t, 2, c.Treated)
	assert.Equal(t, []RuleCount{
		{Rule: "age 16-64 at 2012-01-01", Treated: 0, Controls: 12},                 // G and J, 6 draws each
		{Rule: "any week in {cash,sick,pension,cash_act}", Treated: 0, Controls: 6}, // I
		{Rule: "status at start not in {pension}", Treated: 0, Controls: nH15},      // H at week 15
		{Rule: "no spell active 2012-01-01..2012-01-31", Treated: 1, Controls: 6},   // B; C
	}, c.Dropped)
	assert.Equal(t, 12+nH9, c.Controls) // D and E all draws, H at week 9
	assert.Equal(t, 3, c.ControlPersons)
	assert.Equal(t, c.Draws-12-6-nH15-6, c.Controls)

	require.Equal(t, 2+12+nH9, p.Len())
	assert.Equal(t, tinyCovNames, p.CovNames)
	assert.Equal(t, []string{"edu=primary", "edu=upper", "edu=vocational", "income", "edu", "benefit"}, p.DescNames)
	require.Len(t, p.Outcomes, 2)
	assert.Equal(t, "emp", p.Outcomes[0].Name)
	assert.Equal(t, 3, p.Outcomes[0].H) // 2012-06 − 2012-03
	assert.Equal(t, 3, p.Outcomes[0].HCommon)
	assert.Equal(t, "educ", p.Outcomes[1].Name)
	assert.Equal(t, 2, p.Outcomes[1].H) // 2012-05 − 2012-03

	// Canonical order: treated A, F, then controls by (id, draw).
	type key struct {
		id   int64
		draw int32
	}
	var want []key
	want = append(want, key{101, 0}, key{106, 0})
	for _, id := range []int64{104, 105, 108} {
		for k := range 6 {
			if id == 108 && drawn(id, k) != feb6 {
				continue
			}
			want = append(want, key{id, int32(k)})
		}
	}
	for u := range p.Len() {
		require.Equal(t, want[u], key{p.ID[u], p.Draw[u]}, "unit %d", u)
		assert.Equal(t, u < 2, p.Treated[u])
		assert.Equal(t, p.ID[u], r.IDs[p.Person[u]])
		if !p.Treated[u] {
			assert.Equal(t, drawn(p.ID[u], int(p.Draw[u])), p.StartDay[u], "unit %d", u)
		}
		exp, ok := tinyExpected[p.ID[u]][p.StartDay[u].String()]
		require.True(t, ok, "unit %d: id %d start %v not expected", u, p.ID[u], p.StartDay[u])
		assert.Equal(t, exp.week, p.StartWeek[u])
		assert.Equal(t, mustMonth(t, exp.cohort), p.Cohort[u])
		for j, name := range p.CovNames {
			assert.InDelta(t, exp.x[j], p.X.At(u, j), 1e-12, "id %d start %v column %s", p.ID[u], p.StartDay[u], name)
		}
		for j, name := range p.DescNames {
			if math.IsNaN(exp.desc[j]) {
				assert.True(t, math.IsNaN(p.Desc.At(u, j)), "id %d %s", p.ID[u], name)
			} else {
				assert.Equal(t, exp.desc[j], p.Desc.At(u, j), "id %d %s", p.ID[u], name)
			}
		}
		assert.Equal(t, exp.emp, rowValues(&p.Outcomes[0], u), "emp of id %d at %v", p.ID[u], p.StartDay[u])
		assert.Equal(t, exp.educ, rowValues(&p.Outcomes[1], u), "educ of id %d at %v", p.ID[u], p.StartDay[u])
	}
	assert.Equal(t, 2, p.NTreated())
	y := p.TreatedIndicator() // the two treated units come first
	require.Len(t, y, p.Len())
	assert.Equal(t, []float64{1, 1}, y[:2])
	for u := 2; u < p.Len(); u++ {
		assert.Zero(t, y[u], "unit %d", u)
	}
	assert.Equal(t, []float64{100, 600}, p.Col("income")[:2])
	assert.Nil(t, p.Col("nope"))
	// Cols = Col and DescCol, in the order asked, from one pass
	cols, err := p.Cols(p.DescNames[0], "income", p.CovNames[0])
	require.NoError(t, err)
	require.Len(t, cols, 3)
	assert.Equal(t, fmt.Sprint(p.DescCol(p.DescNames[0])), fmt.Sprint(cols[0])) // NaN-aware
	assert.Equal(t, p.Col("income"), cols[1])
	assert.Equal(t, p.Col(p.CovNames[0]), cols[2])
	_, err = p.Cols("income", "nope")
	assert.ErrorContains(t, err, `column "nope" is neither a covariate nor a descriptor`)
	assert.Equal(t, "emp", p.Outcome("emp").Name)
}

// TestTreatedControlSplit checks the split without eligibility rules:
// every starter is treated and every other person a control.
func TestTreatedControlSplit(t *testing.T) {
	r := tinyRegister(t)
	d := &Design{WindowStart: mustDay(t, "2012-02-01"), WindowEnd: mustDay(t, "2012-03-31")}
	p, err := Build(context.Background(), r, d)
	require.NoError(t, err)
	// Treated: A (new merged spell 02-06), B (new spell 02-13 after a
	// January spell), F (03-19). Not C: its merged spell starts 01-16.
	assert.Equal(t, []int64{101, 102, 106}, p.ID[:3])
	assert.Equal(t, []Day{mustDay(t, "2012-02-06"), mustDay(t, "2012-02-13"), mustDay(t, "2012-03-19")}, p.StartDay[:3])
	assert.Equal(t, []int64{103, 104, 105, 107, 108, 109, 110}, p.ID[3:])
	assert.Equal(t, 7, p.Counts.Controls)
	assert.Nil(t, p.X)
	assert.Nil(t, p.Desc)
	require.Len(t, p.Outcomes, 3) // nil Outcomes = all, register order
	assert.Equal(t, []string{"emp", "educ", "wage"}, []string{p.Outcomes[0].Name, p.Outcomes[1].Name, p.Outcomes[2].Name})

	// A merge gap of 14 days joins B's January spell (ends 01-29) with the
	// one starting 02-13 (01-29 + 1 + 14 = 02-13): B is no longer a
	// starter. 13 days do not.
	d.MergeGapDays = 13
	p, err = Build(context.Background(), r, d)
	require.NoError(t, err)
	assert.Equal(t, 3, p.Counts.Starters)
	d.MergeGapDays = 14
	p, err = Build(context.Background(), r, d)
	require.NoError(t, err)
	assert.Equal(t, 2, p.Counts.Starters)
	assert.Equal(t, []int64{101, 106}, p.ID[:2])
	assert.Equal(t, 6, p.Counts.MergedSpells)
}

func TestFullHorizon(t *testing.T) {
	r := tinyRegister(t)
	d := tinyDesign(t)
	d.FullHorizon = true
	p, err := Build(context.Background(), r, d)
	require.NoError(t, err)
	emp, educ := p.Outcome("emp"), p.Outcome("educ")
	// emp: 2012-06 − 2012-02 = 4, common 3; educ: 2012-05 − 2012-02 = 3, common 2.
	assert.Equal(t, 4, emp.H)
	assert.Equal(t, 3, emp.HCommon)
	assert.Equal(t, 3, educ.H)
	assert.Equal(t, 2, educ.HCommon)
	// A (cohort 2012-02): month 4 = 2012-06, not employed; F (cohort
	// 2012-03): month 4 = 2012-07 is after the cut-off.
	assert.Equal(t, []uint8{0, 1, 0, 1, 0}, emp.Row(0))
	f := emp.Row(1)
	assert.Equal(t, []uint8{1, 1, 1, 1, Missing}, f)
	assert.True(t, math.IsNaN(emp.At(1, 4)))
	assert.Equal(t, 1.0, emp.At(1, 3))
	assert.Equal(t, []uint8{1, 0, 0, 0}, educ.Row(0))
	assert.True(t, math.IsNaN(educ.At(1, 3)))
}

func TestHorizon(t *testing.T) {
	end := DayFromDate(2012, 7, 31)
	for _, c := range []struct {
		last string
		h    int
		err  bool
	}{
		{"2014-04", 21, false}, // SFI employment
		{"2013-09", 14, false}, // SFI education
		{"2012-07", 0, false},
		{"2012-06", 0, true},
	} {
		first := mustMonth(t, "2005-01")
		o := Outcome{Name: "y", FirstMonth: first, Months: int(mustMonth(t, c.last)-first) + 1}
		h, err := Horizon(&o, end)
		if c.err {
			require.ErrorIs(t, err, ErrHorizon)
			continue
		}
		require.NoError(t, err)
		assert.Equal(t, c.h, h, c.last)
	}
}

// rowValues returns unit u's event-time row as values (At).
func rowValues(e *EventOutcome, u int) []float64 {
	v := make([]float64, e.H+1)
	for m := range v {
		v[m] = e.At(u, m)
	}
	return v
}
