package synth_test

import (
	"context"
	"fmt"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
)

// Generate a small population with a lock-in effect of 3 points on
// employment for 6 months, recovering over 6, and read the true effect
// on the persons starting in the SFI window: the design's estimand, their
// outcome against not starting in the window (they may start later).
func ExampleGenerate() {
	p, err := synth.Generate(context.Background(), &synth.Options{
		Scale:           0.02,
		Seed:            1,
		ControlFraction: 0.1,
		Effect:          synth.LockIn(-0.03, 6, 6),
	})
	if err != nil {
		panic(err)
	}
	persons, cohorts := p.Starters(panel.DayFromDate(2012, 2, 1), panel.DayFromDate(2012, 7, 31))
	att, err := p.TrueATT(synth.Employed, persons, cohorts, 14, synth.NotInWindow)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d persons, %d start in Feb-Jul 2012\n", p.Register.Len(), len(persons))
	fmt.Printf("true ATT on employment, months 0, 6, 12, 14: %.3f %.3f %.3f %.3f\n", att[0], att[6], att[12], att[14])
	// Output:
	// 6780 persons, 132 start in Feb-Jul 2012
	// true ATT on employment, months 0, 6, 12, 14: 0.000 -0.023 0.000 0.000
}
