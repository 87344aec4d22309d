package main

// Rosenbaum bounds in psmatch: with -rosenbaum g1,g2,... every outcome of
// the matching stage gets the bounds of estimate.RosenbaumSets on its
// matched sets (one set per matched treated unit with its controls; a
// control reused by several treated units enters every set it belongs
// to). The JSON entry of each outcome gains
//
//	"rosenbaum_test": "mantel-haenszel" | "signed-rank" | "mean-difference",
//	"rosenbaum_alternative": "greater" | "less",
//	"rosenbaum": [{"gamma": g, "p_upper": …, "p_lower": …[, "hl_low": …, "hl_high": …]}, …],
//	"gamma_star": g*
//
// 0/1 outcomes use the Mantel–Haenszel bounds (no hl_*); others the
// Wilcoxon signed-rank and Hodges–Lehmann bounds when every set is a 1:1
// pair, else the mean-difference bounds for matched sets (hl_* then hold
// its point-estimate bounds). gamma_star is null when significance at 5 %
// survives the whole grid. See estimate.RosenbaumResult and
// docs/rosenbaum.md.

import (
	"flag"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/psm"
)

// addRosenbaumFlag defines -rosenbaum on fs.
func addRosenbaumFlag(fs *flag.FlagSet, gammas *[]float64) {
	fs.Func("rosenbaum", "comma-separated Gamma grid, e.g. 1,1.5,2: add Rosenbaum bounds to every outcome (needs -outcomes)", func(s string) error {
		var g []float64
		for _, f := range strings.Split(s, ",") {
			f = strings.TrimSpace(f)
			v, err := strconv.ParseFloat(f, 64)
			if err != nil {
				return fmt.Errorf("Gamma %q is not a number", f)
			}
			g = append(g, v)
		}
		if err := estimate.CheckGammas(g); err != nil {
			return err
		}
		*gammas = g
		return nil
	})
}

// checkRosenbaum validates -rosenbaum against the other flags.
func (c *config) checkRosenbaum() error {
	switch {
	case c.match.rosenbaum == nil:
		return nil
	case len(c.match.outcomes) == 0:
		return fmt.Errorf("%w: -rosenbaum needs -outcomes", errUsage)
	case c.weights != "":
		return fmt.Errorf("%w: -rosenbaum is not available with -weights (the tests count units)", errUsage)
	}
	return nil
}

// rosenbaumOf computes the bounds of outcome y (yt, yc: treated and
// controls in matching order) on the match sets of m.
func rosenbaumOf(yt, yc []float64, m *psm.Matching, gammas []float64) (*estimate.RosenbaumResult, error) {
	var sets []estimate.MatchedSet
	for i := range yt {
		lo, hi := m.Start[i], m.Start[i+1]
		if lo == hi {
			continue
		}
		s := estimate.MatchedSet{Treated: yt[i], Controls: make([]float64, 0, hi-lo)}
		for _, j := range m.Control[lo:hi] {
			s.Controls = append(s.Controls, yc[j])
		}
		sets = append(sets, s)
	}
	return estimate.RosenbaumSets(sets, &estimate.RosenbaumOptions{Gammas: gammas})
}

// rosenbaumMembers is the JSON text of the Rosenbaum members of an
// outcome object, starting with a comma; "" when r is nil.
func rosenbaumMembers(r *estimate.RosenbaumResult) string {
	if r == nil {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, `,"rosenbaum_test":%q,"rosenbaum_alternative":%q,"rosenbaum":[`, r.Method, r.Alternative)
	for k, g := range r.Bounds {
		if k > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"gamma":%s,"p_upper":%s,"p_lower":%s`, jsonFloat(g.Gamma), jsonFloat(g.PUpper), jsonFloat(g.PLower))
		if r.Method != estimate.MantelHaenszel {
			fmt.Fprintf(&b, `,"hl_low":%s,"hl_high":%s`, jsonFloat(g.EstLow), jsonFloat(g.EstHigh))
		}
		b.WriteByte('}')
	}
	fmt.Fprintf(&b, `],"gamma_star":%s`, jsonFloat(r.GammaStar))
	return b.String()
}

// writeRosenbaumTable prints the bounds of every outcome.
func writeRosenbaumTable(w io.Writer, s *matchSummary) error {
	for i, n := range s.outcomes.names {
		r := s.outcomes.rosenbaum[i]
		star := fmt.Sprintf("%.4g", r.GammaStar)
		switch {
		case math.IsInf(r.GammaStar, 1):
			star = fmt.Sprintf("> %.4g (significant over the whole grid)", r.Bounds[len(r.Bounds)-1].Gamma)
		case r.GammaStar == 1:
			star = "1 (not significant at 5 % without hidden bias)"
		}
		fmt.Fprintf(w, "\nRosenbaum bounds, %s: %s test, alternative %s, %d sets (%d informative); Gamma* = %s\n",
			n, r.Method, r.Alternative, r.Sets, r.Informative, star)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		est := r.Method != estimate.MantelHaenszel
		if est {
			fmt.Fprintln(tw, "Gamma\tp upper\tp lower\test low\test high\t")
		} else {
			fmt.Fprintln(tw, "Gamma\tp upper\tp lower\t")
		}
		for _, g := range r.Bounds {
			fmt.Fprintf(tw, "%.4g\t%.4g\t%.4g\t", g.Gamma, g.PUpper, g.PLower)
			if est {
				fmt.Fprintf(tw, "%.6g\t%.6g\t", g.EstLow, g.EstHigh)
			}
			fmt.Fprintln(tw)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}
