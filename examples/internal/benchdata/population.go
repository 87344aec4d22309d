package benchdata

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
)

// SFITreated is the expected number of first starts in the SFI window at
// synth Scale 1 (docs/method.md §4).
const SFITreated = 6487

// ProportionalTreated is the number treated in a population of n persons
// at the SFI's rate, round(6,487·n/3.3 million).
func ProportionalTreated(n int) int {
	return int(math.Round(SFITreated * float64(n) / synth.SFIPersons))
}

// PopulationOptions returns the synth options that give about n persons of
// whom about treated start in the window: Scale s with s·6,487 window
// starters and s·(3.3M − 6,487) others before thinning, then WindowFraction
// = treated/(6,487·s) and ControlFraction = (n − treated)/((3.3M − 6,487)·s),
// with s the smallest scale for which both are at most 1 (one of them is
// 1). With treated = ProportionalTreated(n) (or 0) it is Scale n/3.3M
// without thinning. The counts drawn are random around these means. The
// status grid starts with the first week that Design reads (StatusFrom).
func PopulationOptions(n, treated int) (synth.Options, error) {
	if n < 1 {
		return synth.Options{}, fmt.Errorf("-n %d: must be positive", n)
	}
	if treated < 0 || treated >= n {
		return synth.Options{}, fmt.Errorf("-treated %d: must be in 1..%d (below -n)", treated, n-1)
	}
	var o synth.Options
	others := float64(synth.SFIPersons - SFITreated)
	st, sc := float64(treated)/SFITreated, float64(n-treated)/others
	switch {
	case treated == 0 || treated == ProportionalTreated(n):
		o.Scale = float64(n) / synth.SFIPersons
	case st >= sc: // more treated than in proportion: thin the others
		o.Scale, o.WindowFraction, o.ControlFraction = st, 1, sc/st
	default:
		o.Scale, o.WindowFraction, o.ControlFraction = sc, st/sc, 1
	}
	o.StatusFrom = StatusFrom()
	return o, nil
}

// StatusFrom returns the first day of the earliest status-grid week that
// Design reads: HistoryWindows' longest window before the window's first
// start week. PopulationOptions drops the weeks before it: at 3.3 million
// persons the grid's remaining 281 of 390 weeks take 0.93 GB instead of
// 1.29 GB.
func StatusFrom() panel.Day {
	return windowStart - panel.Day(7*slices.Max(HistoryWindows))
}

// CheckOutcomes checks the -outcomes and -horizon flags: 1 to
// len(synth.OutcomeNames) outcomes and a horizon of at least 0 months.
func CheckOutcomes(outcomes, horizon int) error {
	if outcomes < 1 || outcomes > len(synth.OutcomeNames) {
		return fmt.Errorf("-outcomes %d: must be in 1..%d (%s)", outcomes, len(synth.OutcomeNames), strings.Join(synth.OutcomeNames, ", "))
	}
	if horizon < 0 {
		return fmt.Errorf("-horizon %d: must be >= 0", horizon)
	}
	return nil
}
