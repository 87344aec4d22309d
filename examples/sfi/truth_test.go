package main

import (
	"context"
	"io"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTruthRecovery runs the SFI program's whole pipeline (generation,
// design, logit, exact strata, matching, effects, intervals) over 20
// seeds of the synthetic population with selection on observables only,
// once with a true lock-in effect of -10 points (6 months, recovering over
// 6) and once without, and checks against the generator's truth of the
// design's estimand (starting in the window against not starting then):
//
//   - the mean error of each outcome's accumulated effect at the horizon
//     is within 3 Monte Carlo standard errors of zero;
//   - the default intervals cover the true monthly effect in at least 88 %
//     of the months pooled, at month 0 in at least 16 of 20 seeds (at 95 %
//     coverage, fewer than 16 has probability 0.3 %; at 93 %, 1.6 %), and
//     the true accumulated effect in at least 16 of 20;
//   - with the effect, the mean estimate of the accumulated employment
//     effect is negative beyond 3 Monte Carlo standard errors: the
//     effect is found, not hidden.
//
// The synthetic truth is the reference (panel/synth TrueATT, exact for
// the persons analysed). A covariate measured after the start, a truth
// for another estimand or an unbalanced status at start fail it (month-0
// coverage fell to 25-29 % with the first; the accumulated employment
// error was +0.2 months, t = 3.9 over 24 seeds). The longer study is
// go run ./examples/sfi -scale 0.1 -scenario observables -effect -10 -study 100
// (README).
// truthTestScale and truthTestReplicates keep TestTruthRecovery cheap.
const (
	truthTestScale      = 0.1
	truthTestReplicates = 99
)

func TestTruthRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses 40 synthetic populations")
	}
	const seeds = 20
	for _, effect := range []float64{-10, 0} {
		c := config{scale: truthTestScale, seed: 1, bootstrap: truthTestReplicates, workers: 2, scenario: "observables",
			confounding: -1, effect: effect, noFigures: true, study: seeds, interval: defaultInterval, studyDefaultOnly: true,
			preWindow: "off"} // the credibility section has its own tests
		stats, err := study(context.Background(), &c, io.Discard, io.Discard)
		require.NoError(t, err)
		def := slices.Index(intervalOrder, defaultInterval)
		require.GreaterOrEqual(t, def, 0, "the default interval is among the study's methods")
		for k, st := range stats {
			name := outcomeInfo[k].short
			mean, se := st.err/float64(st.n), st.mcSE()
			t.Logf("effect %v %s: mean truth %+.3f, mean error %+.3f (MC SE %.3f)", effect, name, st.truth/float64(st.n), mean, se)
			assert.Less(t, math.Abs(mean), 3*se, "effect %v %s: mean accumulated error %+.3f, MC SE %.3f", effect, name, mean, se)
			cv := st.cover[def]
			t.Logf("  coverage: accumulated %d/%d, monthly %.1f %%, month 0 %d/%d", cv.acc, cv.accN, pct(cv.mon, cv.monN), cv.at[0], cv.accN)
			assert.GreaterOrEqual(t, pct(cv.mon, cv.monN), 88.0, "effect %v %s: monthly coverage", effect, name)
			assert.GreaterOrEqual(t, cv.at[0], 16, "effect %v %s: month-0 coverage", effect, name)
			assert.GreaterOrEqual(t, cv.acc, 16, "effect %v %s: accumulated coverage", effect, name)
			if effect != 0 && name == outcomeInfo[1].short {
				est := (st.err + st.truth) / float64(st.n)
				assert.Less(t, est, -3*se, "the lock-in effect on employment is found")
			}
		}
	}
}

// TestStudyWorkersIdentical: the study's seeds run in parallel, and its
// tables are the same bytes for 1 and 2 workers.
func TestStudyWorkersIdentical(t *testing.T) {
	if testing.Short() {
		t.Skip("analyses 6 small synthetic populations")
	}
	out := func(workers int) string {
		var b strings.Builder
		c := config{scale: 0.02, seed: 5, bootstrap: 9, workers: workers, scenario: "observables",
			confounding: -1, effect: -10, noFigures: true, study: 3}
		_, err := study(context.Background(), &c, &b, io.Discard)
		require.NoError(t, err)
		return b.String()
	}
	one := out(1)
	require.Contains(t, one, "otsu-rai-percentile")
	require.Equal(t, one, out(2))
}
