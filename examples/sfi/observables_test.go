package main

import (
	"context"
	"io"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestObservablesRecoversTruth is issue 6's truth check on the synthetic
// generator: with selection on observables only (-scenario observables:
// Confounding 0) and no planted effect, the SFI pipeline (design, logit,
// 1-NN matching, fixed-score bootstrap) must recover the truth, 0. For
// two seeds every accumulated effect's 95% percentile interval contains
// the true accumulated effect (from the generator's TrueATT, column
// true_effect), and at least 75% of the monthly intervals contain the
// true monthly effect (nominal 95%; months are correlated, so the bound
// is loose). Two seeds, so that a pass is not one lucky draw: with the
// bias this test was written for (later starters over-represented among
// matched controls, panel/synth TestLaterStartersInPool) the
// employment-without-benefit estimate sat near the upper end of its
// interval on every seed tried.
func TestObservablesRecoversTruth(t *testing.T) {
	if testing.Short() {
		t.Skip("generates and analyses two synthetic populations")
	}
	for _, seed := range []uint64{2015, 11} {
		c := config{scale: 0.1, seed: seed, bootstrap: 99, workers: 2, out: t.TempDir(),
			scenario: "observables", confounding: -1, noFigures: true}
		require.NoError(t, run(context.Background(), &c, io.Discard, io.Discard))

		_, rows := readCSV(t, filepath.Join(c.out, "accumulated.csv"))
		last := map[string][]string{}
		for _, r := range rows {
			last[r[0]] = r // rows are in month order: keep the horizon H
		}
		for _, o := range outcomeInfo {
			r := last[o.name]
			require.NotNil(t, r, o.name)
			m, _ := strconv.Atoi(r[1])
			est, lo, hi, truth := parse(t, r[2]), parse(t, r[3]), parse(t, r[4]), parse(t, r[5])
			t.Logf("seed %d %s: accumulated months 1..%d %+.3f [%+.3f, %+.3f], truth %+.3f", seed, o.name, m, est, lo, hi, truth)
			assert.True(t, lo <= truth && truth <= hi, "seed %d %s: accumulated %.3f [%.3f, %.3f] misses the truth %.3f", seed, o.name, est, lo, hi, truth)
		}

		_, rows = readCSV(t, filepath.Join(c.out, "effects.csv"))
		in := 0
		for _, r := range rows {
			lo, hi, truth := parse(t, r[5]), parse(t, r[6]), parse(t, r[8])
			if lo <= truth && truth <= hi {
				in++
			}
		}
		t.Logf("seed %d: %d of %d monthly intervals contain the truth", seed, in, len(rows))
		assert.GreaterOrEqual(t, float64(in), 0.75*float64(len(rows)), "seed %d: monthly intervals containing the truth", seed)
	}
}
