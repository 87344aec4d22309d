package estimate_test

import (
	"fmt"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/psm"
)

// Two treated and three controls; the first treated unit is tied between
// two controls, which share its match weight (see TestEffectsTiny for the
// hand computation).
func ExampleEffects() {
	s := &estimate.Sample{
		Treated: []bool{true, true, false, false, false},
		Outcomes: []estimate.EventOutcome{{Name: "employed", H: 2, Y: []float64{
			1, 1, 0,
			0, 1, 1,
			0, 0, 0,
			1, 0, 1,
			0, 1, 0,
		}}},
	}
	scores := []float64{0.5, 1.0, 0.25, 0.75, 1.125}
	m, err := psm.MatchUnits(scores, s.Treated, nil) // the matched sample
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := estimate.Effects(s, m, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	se := res.Find("employed", "", "")
	fmt.Printf("treated %d, distinct controls %d\n", se.NTreated, se.NControls)
	for _, e := range se.Effects {
		fmt.Printf("month %d: treated %.2f control %.2f ATT %+.2f accumulated %+.2f\n",
			e.Month, e.TreatedMean, e.ControlMean, e.ATT, e.Accumulated)
	}
	// Output:
	// treated 2, distinct controls 3
	// month 0: treated 0.50 control 0.25 ATT +0.25 accumulated +0.00
	// month 1: treated 1.00 control 0.50 ATT +0.50 accumulated +0.50
	// month 2: treated 0.50 control 0.25 ATT +0.25 accumulated +0.75
}
