package panel_test

import (
	"context"
	"fmt"
	"time"

	"github.com/psmeval/psmeval/panel"
	"gonum.org/v1/gonum/mat"
)

// A register of 200 persons built in memory: ten of them start a spell in
// February or March 2012 (two of them in two consecutive sub-spells), one
// had a spell in January. Every control gets a simulated start drawn from
// the treated start days (seeded), eligibility is checked at that week,
// and covariates and outcomes are measured from it.
func ExampleBuild() {
	const n, weeks = 200, 120
	first := panel.DayFromDate(2010, time.January, 4) // a Monday
	r := &panel.Register{IDs: make([]int64, n), Birth: make([]panel.Day, n)}
	r.Status = panel.NewStatusGrid(n, first, weeks, []string{"none", "cash", "sick", "pension"})
	emp := panel.NewOutcome("emp", n, panel.MonthFromDate(2010, time.January), 36) // to 2012-12
	for i := range n {
		r.IDs[i] = int64(1000 + i)
		r.Birth[i] = panel.DayFromDate(1950+i%50, time.Month(1+i%12), 1+i%28)
		row := r.Status.Row(i)
		for w := range row {
			row[w] = byte((i + w/20) % 4) // status changes every 20 weeks
		}
		for m := 0; m < 36; m += 1 + i%3 {
			emp.Set(i, emp.FirstMonth+panel.Month(m), true)
		}
	}
	r.Outcomes = []panel.Outcome{emp}
	feb := panel.DayFromDate(2012, time.February, 6)
	for k := range 10 {
		s := feb + panel.Day(5*k)
		r.Spells = append(r.Spells, panel.Spell{Person: int32(10 * k), Start: s, End: s + 40, Hours: 3})
		if k < 2 { // a consecutive sub-spell: merged into the first
			r.Spells = append(r.Spells, panel.Spell{Person: int32(10 * k), Start: s + 41, End: s + 90, Hours: 5})
		}
	}
	jan := panel.DayFromDate(2012, time.January, 10)
	r.Spells = append(r.Spells, panel.Spell{Person: 5, Start: jan, End: jan + 10, Hours: 2})

	d := &panel.Design{
		WindowStart: panel.DayFromDate(2012, time.February, 1),
		WindowEnd:   panel.DayFromDate(2012, time.March, 31),
		Eligibility: []panel.Rule{
			panel.AgeBetween(16, 64, panel.DayFromDate(2012, time.January, 1)),
			panel.StatusNotIn("pension"),
			panel.NoSpellActive(panel.DayFromDate(2012, time.January, 1), panel.DayFromDate(2012, time.January, 31)),
		},
		Covariates: []panel.Covariate{
			panel.WeeksIn("weeks_", []panel.LevelGroup{{Name: "cash", Levels: []string{"cash"}}}, 52),
			panel.MonthsWith("emp", 12),
			panel.StatusAtStart("start", panel.LevelGroup{Name: "sick", Levels: []string{"sick"}}),
			panel.AgeAtStart("age"),
		},
		Seed: 1,
	}
	p, err := panel.Build(context.Background(), r, d)
	if err != nil {
		fmt.Println(err)
		return
	}
	c := p.Counts
	fmt.Printf("spells %d -> %d merged; starters %d, treated %d\n", c.Spells, c.MergedSpells, c.Starters, c.Treated)
	fmt.Printf("potential controls %d, eligible %d\n", c.PotentialControls, c.Controls)
	for _, rc := range c.Dropped {
		fmt.Printf("  %-40s dropped %d treated, %d controls\n", rc.Rule, rc.Treated, rc.Controls)
	}
	fmt.Println("columns:", p.CovNames)
	fmt.Printf("horizon %s: %d months\n", p.Outcomes[0].Name, p.Outcomes[0].H)
	u := p.NTreated() // the first control
	fmt.Printf("control id %d starts %v (cohort %v): X = %.2f\n", p.ID[u], p.StartDay[u], p.Cohort[u], mat.Row(nil, u, p.X))
	// Output:
	// spells 13 -> 11 merged; starters 10, treated 5
	// potential controls 190, eligible 132
	//   age 16-64 at 2012-01-01                  dropped 0 treated, 16 controls
	//   status at start not in {pension}         dropped 5 treated, 41 controls
	//   no spell active 2012-01-01..2012-01-31   dropped 0 treated, 1 controls
	// columns: [weeks_cash_52 emp_12m start=sick age]
	// horizon emp: 9 months
	// control id 1001 starts 2012-02-06 (cohort 2012-02): X = [20.00 6.00 1.00 61.01]
}
