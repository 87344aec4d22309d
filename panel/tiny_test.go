package panel

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The tiny population: ten persons, a 30-week status grid starting on
// Monday 2011-12-05 (week w starts 2011-12-05 + 7w; week 9 = 2012-02-06,
// week 15 = 2012-03-19), three monthly outcomes from 2011-09, and ten
// spells. Persons are deliberately not in id order.
//
//	id   birth       income edu         status runs (weeks)                      spells
//	101 A 1990-02-06  100   upper       0-4 none, 5-8 cash, 9-29 cash_act        02-06..02-19 (2h) + 02-20..03-31 (4h): consecutive, merged
//	102 B 1980-06-15  200   primary     0-29 cash                                01-09..01-29, 02-13..02-26: a January spell, a new one in the window
//	103 C 1985-03-03  300   vocational  0-29 sick                                01-16..01-31 + 02-01..03-01: merged, starts in January (not new)
//	104 D 1947-01-02  400   vocational  0-9 none, 10-29 sick                     05-07..06-30: after the window (a control)
//	105 E 1996-01-01  500   (missing)   0-2 cash, 3-29 none                      2011-12-05..2011-12-20: before the window, not in January
//	106 F 1970-07-20  600   primary     0-8 sick, 9-12 cash, 13-29 cash_act      03-19..04-15 + 04-01..04-30: overlapping, merged
//	107 G 1947-01-01  700   upper       0-29 cash                                -
//	108 H 1960-10-10  800   upper       0-11 cash, 12-29 pension                 -
//	109 I 1975-05-05  900   primary     0-29 none                                -
//	110 J 1996-01-02  NaN   (missing)   0-29 cash                                -
//
// Outcomes (months with the indicator; all observed from 2011-09):
//
//	emp  (to 2012-06): A 2012-03, 2012-05; F 2012-03..2012-06; D 2012-04; H 2011-09..2012-06
//	educ (to 2012-05): A 2012-02; D 2012-05
//	wage (to 2012-06): A 2011-11, 2012-01; F 2011-12..2012-03; D 2012-01; H 2011-09
//
// With the tiny design (window 2012-02-01..2012-03-31, rules in the order
// age 16-64 at 2012-01-01, any week on a benefit, status at start not
// pension, no spell in January 2012):
//   - starters: A (2012-02-06), B (2012-02-13), F (2012-03-19); B is dropped
//     by the January rule, so the treated are A and F and the simulated
//     start days are drawn from {2012-02-06, 2012-03-19};
//   - potential controls: C D E G H I J; G (65 at 2012-01-01) and J (15)
//     fail the age rule, I (never on a benefit) the presence rule, C the
//     January rule (its merged spell starts 2012-01-16), H the status rule
//     when drawn week 15 (pension from week 12) but not week 9 (cash); D
//     (64) and E (16, the lower bound) are kept.

var (
	tinyFirstWeek = DayFromDate(2011, time.December, 5)
	tinyLevels    = []string{"none", "cash", "sick", "pension", "cash_act"}
)

const tinyWeeks = 30

type run struct {
	from, to int
	level    string
}

type tinyPerson struct {
	id      int64
	birth   string
	income  float64
	edu     string // "" = missing
	status  []run
	emp     []string
	educ    []string
	wage    []string
	spells  [][2]string
	hours   []float32
	comment string
}

func tinyPersons() []tinyPerson {
	nan := math.NaN()
	return []tinyPerson{
		{id: 105, birth: "1996-01-01", income: 500, edu: "", status: []run{{0, 2, "cash"}, {3, 29, "none"}},
			spells: [][2]string{{"2011-12-05", "2011-12-20"}}, hours: []float32{1}},
		{id: 101, birth: "1990-02-06", income: 100, edu: "upper", status: []run{{0, 4, "none"}, {5, 8, "cash"}, {9, 29, "cash_act"}},
			emp: []string{"2012-03", "2012-05"}, educ: []string{"2012-02"}, wage: []string{"2011-11", "2012-01"},
			spells: [][2]string{{"2012-02-20", "2012-03-31"}, {"2012-02-06", "2012-02-19"}}, hours: []float32{4, 2}},
		{id: 103, birth: "1985-03-03", income: 300, edu: "vocational", status: []run{{0, 29, "sick"}},
			spells: [][2]string{{"2012-02-01", "2012-03-01"}, {"2012-01-16", "2012-01-31"}}, hours: []float32{5, 5}},
		{id: 110, birth: "1996-01-02", income: nan, edu: "", status: []run{{0, 29, "cash"}}},
		{id: 102, birth: "1980-06-15", income: 200, edu: "primary", status: []run{{0, 29, "cash"}},
			spells: [][2]string{{"2012-02-13", "2012-02-26"}, {"2012-01-09", "2012-01-29"}}, hours: []float32{3, 3}},
		{id: 108, birth: "1960-10-10", income: 800, edu: "upper", status: []run{{0, 11, "cash"}, {12, 29, "pension"}},
			emp:  []string{"2011-09", "2011-10", "2011-11", "2011-12", "2012-01", "2012-02", "2012-03", "2012-04", "2012-05", "2012-06"},
			wage: []string{"2011-09"}},
		{id: 104, birth: "1947-01-02", income: 400, edu: "vocational", status: []run{{0, 9, "none"}, {10, 29, "sick"}},
			emp: []string{"2012-04"}, educ: []string{"2012-05"}, wage: []string{"2012-01"},
			spells: [][2]string{{"2012-05-07", "2012-06-30"}}, hours: []float32{2}},
		{id: 109, birth: "1975-05-05", income: 900, edu: "primary", status: []run{{0, 29, "none"}}},
		{id: 106, birth: "1970-07-20", income: 600, edu: "primary", status: []run{{0, 8, "sick"}, {9, 12, "cash"}, {13, 29, "cash_act"}},
			emp: []string{"2012-03", "2012-04", "2012-05", "2012-06"}, wage: []string{"2011-12", "2012-01", "2012-02", "2012-03"},
			spells: [][2]string{{"2012-04-01", "2012-04-30"}, {"2012-03-19", "2012-04-15"}}, hours: []float32{2, 2}},
		{id: 107, birth: "1947-01-01", income: 700, edu: "upper", status: []run{{0, 29, "cash"}}},
	}
}

func mustDay(t testing.TB, s string) Day {
	d, err := ParseDay(s)
	require.NoError(t, err)
	return d
}

func mustMonth(t testing.TB, s string) Month {
	m, err := ParseMonth(s)
	require.NoError(t, err)
	return m
}

// tinyRegister builds the tiny population in memory.
func tinyRegister(t testing.TB) *Register {
	ps := tinyPersons()
	n := len(ps)
	r := &Register{IDs: make([]int64, n), Birth: make([]Day, n)}
	income := Attribute{Name: "income", Values: make([]float64, n)}
	edu := Attribute{Name: "edu", Codes: make([]uint16, n), Levels: []string{"primary", "upper", "vocational"}}
	r.Status = NewStatusGrid(n, tinyFirstWeek, tinyWeeks, tinyLevels)
	first := mustMonth(t, "2011-09")
	emp := NewOutcome("emp", n, first, 10)  // to 2012-06
	educ := NewOutcome("educ", n, first, 9) // to 2012-05
	wage := NewOutcome("wage", n, first, 10)
	for i, p := range ps {
		r.IDs[i] = p.id
		r.Birth[i] = mustDay(t, p.birth)
		income.Values[i] = p.income
		edu.Codes[i] = MissingCode
		if p.edu != "" {
			edu.Codes[i] = uint16(edu.Level(p.edu))
		}
		row := r.Status.Row(i)
		covered := 0
		for _, ru := range p.status {
			c := r.Status.Code(ru.level)
			require.GreaterOrEqual(t, c, 0, ru.level)
			for w := ru.from; w <= ru.to; w++ {
				row[w] = byte(c)
				covered++
			}
		}
		require.Equal(t, tinyWeeks, covered, "status runs of %d", p.id)
		for _, m := range p.emp {
			emp.Set(i, mustMonth(t, m), true)
		}
		for _, m := range p.educ {
			educ.Set(i, mustMonth(t, m), true)
		}
		for _, m := range p.wage {
			wage.Set(i, mustMonth(t, m), true)
		}
		for k, s := range p.spells {
			r.Spells = append(r.Spells, Spell{Person: int32(i), Start: mustDay(t, s[0]), End: mustDay(t, s[1]), Hours: p.hours[k]})
		}
	}
	r.Attrs = []Attribute{income, edu}
	r.Outcomes = []Outcome{emp, educ, wage}
	require.NoError(t, r.Validate())
	return r
}

var (
	tinyCash = LevelGroup{Name: "cash", Levels: []string{"cash", "cash_act"}}
	tinySick = LevelGroup{Name: "sick", Levels: []string{"sick"}}
)

// tinyDesign is the design of the tiny tests (see the comment at the top).
func tinyDesign(t testing.TB) *Design {
	return &Design{
		WindowStart: mustDay(t, "2012-02-01"),
		WindowEnd:   mustDay(t, "2012-03-31"),
		Eligibility: []Rule{
			AgeBetween(16, 64, mustDay(t, "2012-01-01")),
			AnyWeekIn("cash", "sick", "pension", "cash_act"),
			StatusNotIn("pension"),
			NoSpellActive(mustDay(t, "2012-01-01"), mustDay(t, "2012-01-31")),
		},
		Covariates: []Covariate{
			Numeric("income"),
			DummiesWithMissing("edu", "primary"),
			WeeksIn("weeks_", []LevelGroup{tinyCash, tinySick}, 4, 8),
			MonthsWith("wage", 3),
			StatusAtStart("start", tinyCash, tinySick),
			ActivationAtStart("activated", "cash_act"),
			AgeAtStart("age"),
			CovFunc("week", func(u *UnitView) float64 { return float64(u.Week) }),
		},
		Descriptors:     []Covariate{Dummies("edu", ""), Numeric("income"), AttrCode("edu"), StatusGroupAtStart("benefit", tinyCash, tinySick)},
		Outcomes:        []string{"emp", "educ"},
		DrawsPerControl: 6,
		Seed:            20240601,
	}
}
