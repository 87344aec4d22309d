package main

// The -bootstrap option of the matching stage: percentile intervals of
// each outcome's ATT from replicates re-matched on the fixed scores with
// the same matching flags (psm.Bootstrap).

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/psmeval/psmeval/psm"
)

// bootstrapHelp is the usage text of -bootstrap.
const bootstrapHelp = "bootstrap replicates (0 = none): resample treated and controls separately, re-match on the fixed scores with " +
	"the same matching flags (-neighbors, -caliper, -replace, -on, -tie-rule, -tie-tolerance) and add the 95 % percentile " +
	"interval of each ATT as \"ci_low\" and \"ci_high\" to the JSON (psm.Bootstrap); -weights must be whole numbers; needs -outcomes"

// bootstrapJSON is the top-level "bootstrap" object of the JSON.
type bootstrapJSON struct {
	Replicates int     `json:"replicates"`
	Valid      int     `json:"valid"`
	Seed       uint64  `json:"seed"`
	Level      float64 `json:"level"`
}

// checkBootstrap validates -bootstrap against the other matching flags.
func (c *matchConfig) checkBootstrap() error {
	switch {
	case c.bootstrap == 0:
		return nil
	case c.bootstrap < 0 || c.bootstrap == 1:
		return fmt.Errorf("%w: -bootstrap %d: want 0 (none) or at least 2 replicates", errUsage, c.bootstrap)
	case len(c.outcomes) == 0:
		return fmt.Errorf("%w: -bootstrap needs -outcomes", errUsage)
	}
	return nil
}

// bootstrapOutcomes runs the bootstrap of every outcome (yt, yc: the
// treated's and the controls' values; rt, rc: their file rows) and sets
// the intervals in s and res.
func bootstrapOutcomes(ctx context.Context, st, sc []float64, yt, yc [][]float64, rt, rc []int, opts *psm.MatchOptions, cfg *config, s *matchSummary, res *result) error {
	mc := &cfg.match
	br, err := psm.Bootstrap(ctx, st, sc, yt, yc, &psm.BootstrapOptions{
		Replicates: mc.bootstrap, Seed: mc.seed, Workers: cfg.workers, Match: *opts})
	if err != nil {
		return fmt.Errorf("-bootstrap%s: %w", fileRow(err, rt, rc), err)
	}
	for k := range s.outcomes.values {
		lo, hi := br.Low[k], br.High[k]
		s.outcomes.values[k].CILow, s.outcomes.values[k].CIHigh = &lo, &hi
	}
	s.boot = &bootstrapJSON{Replicates: br.Replicates, Valid: br.Valid, Seed: mc.seed, Level: br.Level}
	res.Bootstrap = s.boot
	return nil
}

// writeBootstrapTable prints the bootstrap intervals.
func writeBootstrapTable(w io.Writer, s *matchSummary) error {
	if s.boot == nil {
		return nil
	}
	b := s.boot
	fmt.Fprintf(w, "\nBootstrap: %d replicates (%d with a matched treated unit), seed %d, fixed scores, %g %% percentile interval\n\n",
		b.Replicates, b.Valid, b.Seed, 100*b.Level)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "outcome\tATT\tci low\tci high\t")
	for i, n := range s.outcomes.names {
		v := s.outcomes.values[i]
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.6g\t\n", n, v.ATT, *v.CILow, *v.CIHigh)
	}
	return tw.Flush()
}
