package main

// The simulated confounder in psmatch (psm.SimulatedConfounder, as Stata's
// sensatt): with -sensatt p11,p10,p01,p00 every outcome (0/1) of the
// matching stage gets its ATT under a binary confounder U drawn with
// P(U=1 | T, Y) from those cells, added to the propensity model, with
// the model re-fitted, the units re-matched and the ATT re-estimated in
// each of -sensatt-draws draws; -sensatt-search also looks for the
// confounder that explains the effect away (psm.SearchConfounder). The
// JSON entry of each outcome gains
//
//	"simulated_confounder": {"p11": …, "p10": …, "p01": …, "p00": …, "att": …, "se": …,
//	  "within_se": …, "between_sd": …, "outcome_odds_ratio": …, "selection_odds_ratio": …, "draws": n},
//	"killer_confounder": {"d": …, "s": …, "p11": …, …, "att": …, "se": …, "outcome_odds_ratio": …,
//	  "selection_odds_ratio": …} (null when no point of the grid explains the effect away, or
//	  the effect is not significant without U)

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/psmeval/psmeval/psm"
)

// sensattConfig holds the simulated-confounder flags.
type sensattConfig struct {
	cells  *psm.ConfounderCells // nil: none
	draws  int
	search bool
}

// addSensattFlags defines -sensatt, -sensatt-draws and -sensatt-search.
func addSensattFlags(fs *flag.FlagSet, c *sensattConfig) {
	fs.Func("sensatt", "p11,p10,p01,p00: the ATT of every 0/1 outcome under a simulated binary confounder U with "+
		"P(U=1 | T=t, Y=y) = ptY (Ichino, Mealli & Nannicini 2008; Stata sensatt): U is added to the logit, which is re-fitted, "+
		"the units re-matched and the ATT re-estimated in each draw (psm.SimulatedConfounder); needs -outcomes", func(s string) error {
		parts := strings.Split(s, ",")
		if len(parts) != 4 {
			return fmt.Errorf("want four probabilities p11,p10,p01,p00, got %d values", len(parts))
		}
		var v [4]float64
		for i, p := range parts {
			f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
			if err != nil || !(f >= 0 && f <= 1) {
				return fmt.Errorf("%q is not a probability in [0, 1]", p)
			}
			v[i] = f
		}
		c.cells = &psm.ConfounderCells{P11: v[0], P10: v[1], P01: v[2], P00: v[3]}
		return nil
	})
	fs.IntVar(&c.draws, "sensatt-draws", 100, "draws of U for -sensatt and -sensatt-search (sensatt's default is 1000)")
	fs.BoolVar(&c.search, "sensatt-search", false, "also search a grid of simulated confounders (P00 = 0.2, outcome and selection effects 0.1..0.5) "+
		"for the first that explains each outcome's effect away (psm.SearchConfounder): \"killer_confounder\" in the JSON")
}

// checkSensatt validates the simulated-confounder flags.
func (c *config) checkSensatt() error {
	s := &c.match.sensatt
	switch {
	case s.cells == nil && !s.search:
		return nil
	case len(c.match.outcomes) == 0:
		return fmt.Errorf("%w: -sensatt and -sensatt-search need -outcomes", errUsage)
	case s.draws < 2:
		return fmt.Errorf("%w: -sensatt-draws %d: want at least 2", errUsage, s.draws)
	case c.weights != "":
		return fmt.Errorf("%w: -sensatt and -sensatt-search do not take -weights (the draws are per unit)", errUsage)
	}
	return nil
}

// sensattJSON is the JSON text of a simulated-confounder result.
func sensattJSON(r *psm.SimulatedConfounderResult) string {
	c := r.Cells
	return fmt.Sprintf(`{"p11":%s,"p10":%s,"p01":%s,"p00":%s,"att":%s,"se":%s,"within_se":%s,"between_sd":%s,"outcome_odds_ratio":%s,"selection_odds_ratio":%s,"draws":%d}`,
		jsonFloat(c.P11), jsonFloat(c.P10), jsonFloat(c.P01), jsonFloat(c.P00), jsonFloat(r.ATT), jsonFloat(r.SE),
		jsonFloat(r.WithinSE), jsonFloat(r.BetweenSD), jsonFloat(r.OutcomeOddsRatio), jsonFloat(r.SelectionOddsRatio), len(r.Draws))
}

// sensattOutcome is the simulated-confounder part of one outcome.
type sensattOutcome struct {
	conf   *psm.SimulatedConfounderResult
	search *psm.ConfounderSearch
}

// members returns the outcome's JSON members (with a leading comma).
func (s *sensattOutcome) members() string {
	var b strings.Builder
	if s.conf != nil {
		b.WriteString(`,"simulated_confounder":` + sensattJSON(s.conf))
	}
	if s.search != nil {
		b.WriteString(`,"killer_confounder":`)
		if k := s.search.Killer; k >= 0 {
			j := sensattJSON(s.search.Results[k])
			b.WriteString(fmt.Sprintf(`{"d":%s,"s":%s,`, jsonFloat(s.search.D[k]), jsonFloat(s.search.S[k])) + j[1:])
		} else {
			b.WriteString("null")
		}
	}
	return b.String()
}

// sensattOf runs the simulated confounder and the search on outcome y
// (one value per row; name for errors).
func sensattOf(ctx context.Context, pf *propensity, tab *flatfile.Table, cfg *config, name string, y []float64) (*sensattOutcome, error) {
	s := &cfg.match.sensatt
	tr, _, err := treatmentAndWeights(tab, cfg)
	if err != nil {
		return nil, err
	}
	for i, v := range y {
		if v != 0 && v != 1 {
			return nil, fmt.Errorf("outcome %q row %d: %v: -sensatt needs a 0/1 outcome (the confounder's cells are by outcome): %w", name, i, v, psm.ErrBadValue)
		}
	}
	o := psm.SimulatedConfounderOptions{Draws: s.draws, Seed: cfg.match.seed, Workers: cfg.workers, Match: *cfg.match.options()}
	out := &sensattOutcome{}
	if s.cells != nil {
		if out.conf, err = psm.SimulatedConfounder(ctx, pf.x, pf.names, tr, y, *s.cells, &o); err != nil {
			return nil, fmt.Errorf("outcome %q: -sensatt: %w", name, err)
		}
	}
	if s.search {
		if out.search, err = psm.SearchConfounder(ctx, pf.x, pf.names, tr, y, &psm.ConfounderSearchOptions{Confounder: o}); err != nil {
			return nil, fmt.Errorf("outcome %q: -sensatt-search: %w", name, err)
		}
	}
	return out, nil
}

// writeSensattTable prints the simulated-confounder results.
func writeSensattTable(w io.Writer, s *matchSummary) {
	if s.outcomes.sensatt == nil {
		return
	}
	fmt.Fprintf(w, "\nSimulated confounder (Ichino, Mealli & Nannicini 2008)\n")
	for i, n := range s.outcomes.names {
		so := s.outcomes.sensatt[i]
		if r := so.conf; r != nil {
			fmt.Fprintf(w, "%s: p11 %.2f p10 %.2f p01 %.2f p00 %.2f: ATT %.6g (se %.6g; %d draws), outcome odds ratio %.3g, selection odds ratio %.3g\n",
				n, r.Cells.P11, r.Cells.P10, r.Cells.P01, r.Cells.P00, r.ATT, r.SE, len(r.Draws), r.OutcomeOddsRatio, r.SelectionOddsRatio)
		}
		if se := so.search; se != nil {
			if !se.Significant {
				fmt.Fprintf(w, "%s: the effect is not significant without a confounder: nothing to explain away\n", n)
			} else if k := se.Killer; k >= 0 {
				r := se.Results[k]
				fmt.Fprintf(w, "%s: explained away at outcome effect d = %.2f, selection effect s = %.2f: ATT %.6g (se %.6g), odds ratios %.3g (outcome), %.3g (selection)\n",
					n, se.D[k], se.S[k], r.ATT, r.SE, r.OutcomeOddsRatio, r.SelectionOddsRatio)
			} else {
				fmt.Fprintf(w, "%s: no confounder on the grid explains the effect away\n", n)
			}
		}
	}
}
