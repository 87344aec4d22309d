package main

import (
	"context"
	"io"
	"testing"

	"github.com/psmeval/psmeval/estimate"
	"github.com/stretchr/testify/assert"
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

// -interval abadie-imbens-2016 reports the Abadie-Imbens (2016) normal
// intervals for the estimated logit score, those of
// estimate.AbadieImbens with the run's logit and covariates (checked
// against psm.ScoreAdjuster there), for every month, monthly and
// accumulated. It is the method in use with -bootstrap 0 too, where the
// plain Abadie-Imbens interval replaces the bootstrap ones.
func TestIntervalAbadieImbens2016(t *testing.T) {
	for _, c := range []config{{bootstrap: 0, interval: "abadie-imbens-2016"}, {bootstrap: 0}} {
		c.scale = 0.03
		require.NoError(t, c.check())
		want := map[string]string{"abadie-imbens-2016": "abadie-imbens-2016", defaultInterval: "abadie-imbens"}[c.interval]
		assert.Equal(t, want, (&analysis{cfg: &c}).method(), "-interval %s -bootstrap 0", c.interval)
	}
	{
		c := config{scale: 0.03, seed: 5, bootstrap: 9, workers: 2, out: t.TempDir(),
			scenario: "observables", confounding: -1, noFigures: true, interval: "abadie-imbens-2016"}
		a := analyse(t, &c)
		require.Equal(t, "abadie-imbens-2016", a.method())
		want, err := estimate.AbadieImbens(a.sample, a.matching, &estimate.AbadieImbensOptions{
			EstimatedScore: &estimate.EstimatedScore{X: a.x, Fit: a.logit}})
		require.NoError(t, err)
		differ := 0
		for _, oi := range outcomeInfo {
			se := a.effects.Find(oi.name, "", "")
			w, plain := want.Find(oi.name, "", ""), a.ai.Find(oi.name, "", "")
			require.NotNil(t, se)
			for m := range se.Effects {
				for _, acc := range []bool{false, true} {
					lo, hi, sd := a.interval(se, m, acc)
					b := w.Monthly[m]
					if acc {
						b = w.Accumulated[m]
					}
					require.Equal(t, b.SE, sd, "%s month %d accumulated %v", oi.name, m, acc)
					require.Equal(t, b.Normal.Lo, lo)
					require.Equal(t, b.Normal.Hi, hi)
					if !acc && sd != plain.Monthly[m].SE {
						differ++
					}
				}
			}
		}
		require.Positive(t, differ, "the 2016 SEs equal the plain ones everywhere: the option is not used")
	}
}
