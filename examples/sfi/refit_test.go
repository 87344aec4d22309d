package main

import (
	"context"
	"io"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRefitSurvivesSeparation: with -refit every bootstrap replicate
// re-fits the logit on its own frequency weights; at a small scale rare
// benefit or activation states have no treated in some replicates, so
// the replicate's logit separates. The run must go on (the replicate
// drops the covariate and the units it predicts, as the full-sample fit
// does, or, when no estimate exists even then, with a ridge penalty) and
// give finite intervals for every month; the test requires that the seed
// used does produce such replicates, so that it exercises the path.
func TestRefitSurvivesSeparation(t *testing.T) {
	if testing.Short() {
		t.Skip("re-fits the logit in 19 replicates")
	}
	c := config{scale: 0.03, seed: 3, bootstrap: 19, refit: true, workers: 2, out: t.TempDir(),
		scenario: "observables", confounding: -1, noFigures: true, interval: "bootstrap-percentile"}
	a := analyse(t, &c)
	t.Logf("%d of %d replicates separated, %d needed the ridge fit", a.refitSeparated.Load(), c.bootstrap, a.refitRidge.Load())
	require.Positive(t, a.refitSeparated.Load(), "no replicate separated: choose another seed or scale")
	for _, oi := range outcomeInfo {
		se := a.effects.Find(oi.name, "", "")
		require.NotNil(t, se)
		for m := range se.Effects {
			lo, hi, sd := a.interval(se, m, false)
			require.True(t, lo <= hi && sd > 0, "%s month %d: [%v, %v] se %v", oi.name, m, lo, hi, sd)
		}
	}
}

// analyse runs the analysis of c up to the intervals (no credibility
// section, no output), as run does.
func analyse(t *testing.T, c *config) *analysis {
	t.Helper()
	require.NoError(t, c.check())
	a := &analysis{cfg: c, watch: &stopwatch{log: io.Discard}}
	ctx := context.Background()
	require.NoError(t, a.load(ctx, io.Discard))
	require.NoError(t, a.buildPanel(ctx, io.Discard))
	require.NoError(t, a.fitAndMatch(ctx))
	require.NoError(t, a.estimate(ctx, io.Discard))
	return a
}
