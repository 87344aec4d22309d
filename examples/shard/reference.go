package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"time"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/memguard"
	"github.com/psmeval/psmeval/psm"
)

// runReference is the -reference role: the single-process run that a
// sharded run must reproduce (reference), written to D/result.json with
// mode "reference" (no rounds; one part's stats with the timings).
func runReference(ctx context.Context, c *config, logw io.Writer) error {
	if f := filepath.Join(c.dir, resultFile); exists(f) {
		return fmt.Errorf("%s exists: %s holds a previous run; use an empty directory", f, c.dir)
	}
	res, err := reference(ctx, c)
	if err != nil {
		return err
	}
	if err := writeJSON(filepath.Join(c.dir, resultFile), res); err != nil {
		return err
	}
	st := res.PartStats[0]
	fmt.Fprintf(logw, "reference: %d units, %d treated; generate %.2fs, logit %.2fs, match %.2fs, effects %.2fs; %s\n",
		res.Units, res.Treated, st.Generate, st.Logit, st.Match, st.Sums, filepath.Join(c.dir, resultFile))
	return nil
}

// reference builds the whole population and panel (as a memory-mode
// part does) and runs the library's single-process calls on it,
// psm.FitLogit, psm.MatchUnits and estimate.Effects. Cost: the bench's
// stages on the whole population.
func reference(ctx context.Context, c *config) (*result, error) {
	t0 := time.Now()
	d, err := buildData(ctx, c, 1)
	if err != nil {
		return nil, err
	}
	st := &partStats{Persons: d.pan.Counts.Persons, Units: d.pan.Len(), Treated: d.pan.NTreated(), Generate: time.Since(t0).Seconds()}
	t := time.Now()
	fit, err := psm.FitLogit(ctx, d.pan.X, d.pan.TreatedIndicator(), nil, d.pan.CovNames, &psm.LogitOptions{Workers: c.workers})
	if err != nil {
		return nil, fmt.Errorf("logit: %w", err)
	}
	st.Logit = time.Since(t).Seconds()
	t = time.Now()
	m, err := psm.MatchUnits(fit.Scores(nil), d.sample.Treated, nil)
	if err != nil {
		return nil, fmt.Errorf("matching: %w", err)
	}
	st.Match = time.Since(t).Seconds()
	t = time.Now()
	eff, err := estimate.Effects(d.sample, m, nil)
	if err != nil {
		return nil, fmt.Errorf("effects: %w", err)
	}
	st.Sums = time.Since(t).Seconds()
	if b, ok := memguard.PeakRSS(); ok {
		st.PeakRSSMB = float64(b) / 1e6
	}
	return &result{Mode: "reference", Parts: 1, Persons: st.Persons, Units: st.Units, Treated: st.Treated,
		Bounds: []int{0, st.Units}, Aligned: true, Names: fit.Names, Coefficients: numbers(fit.Coef),
		Iterations: fit.Iterations, Converged: fit.Converged, Deviance: number(fit.Deviance),
		Matched: m.NMatched, Controls: m.NDistinctControls, Effects: effectsOf(eff),
		PartStats: []*partStats{st}, PeakRSSMB: st.PeakRSSMB}, nil
}

// comparison is what -compare prints: the largest absolute differences
// between two result.json files.
type comparison struct {
	Coefficients float64 `json:"coefficients_max_abs_diff"`
	Effects      float64 `json:"effects_max_abs_diff"` // treated and control means, ATT, accumulated
	Matched      [2]int  `json:"matched"`
	Deviance     float64 `json:"deviance_abs_diff"`
}

// compareResults reads two result.json files and returns their
// differences; an error when they do not describe the same model and
// effects (names, outcomes and months).
func compareResults(a, b string) (*comparison, error) {
	var r [2]result
	for k, f := range []string{a, b} {
		buf, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(buf, &r[k]); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
	}
	if len(r[0].Coefficients) != len(r[1].Coefficients) || len(r[0].Effects) != len(r[1].Effects) {
		return nil, fmt.Errorf("%s and %s: %d and %d coefficients, %d and %d effects: not the same model",
			a, b, len(r[0].Coefficients), len(r[1].Coefficients), len(r[0].Effects), len(r[1].Effects))
	}
	c := &comparison{Matched: [2]int{r[0].Matched, r[1].Matched}, Deviance: math.Abs(float64(r[0].Deviance - r[1].Deviance))}
	diff := func(x, y number) float64 {
		if math.IsNaN(float64(x)) && math.IsNaN(float64(y)) {
			return 0
		}
		return math.Abs(float64(x - y))
	}
	for j, v := range r[0].Coefficients {
		if r[0].Names[j] != r[1].Names[j] {
			return nil, fmt.Errorf("coefficient %d: %q and %q", j, r[0].Names[j], r[1].Names[j])
		}
		c.Coefficients = math.Max(c.Coefficients, diff(v, r[1].Coefficients[j]))
	}
	for k, e := range r[0].Effects {
		g := r[1].Effects[k]
		if e.Outcome != g.Outcome || e.Month != g.Month {
			return nil, fmt.Errorf("effect %d: %s month %d and %s month %d", k, e.Outcome, e.Month, g.Outcome, g.Month)
		}
		for _, p := range [][2]number{{e.TreatedMean, g.TreatedMean}, {e.ControlMean, g.ControlMean}, {e.ATT, g.ATT}, {e.Accumulated, g.Accumulated}} {
			c.Effects = math.Max(c.Effects, diff(p[0], p[1]))
		}
	}
	return c, nil
}
