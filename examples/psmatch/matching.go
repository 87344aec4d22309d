package main

// The matching stage of psmatch: with -outcomes, the fitted propensity
// scores are matched (psm.Match) and the ATT of each outcome is reported
// with Abadie–Imbens and naive standard errors (psm.ATT).

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/psmeval/psmeval/psm"
)

// matchConfig holds the matching flags.
type matchConfig struct {
	outcomes     []string
	neighbors    int
	caliper      float64
	replace      bool
	on           string
	tieTolerance float64
	tieRule      string
	biasAdjust   bool          // biasadj.go
	rosenbaum    []float64     // -rosenbaum Gamma grid (rosenbaum.go); nil: none
	rCaliperSE   bool          // psm.ATTOptions.MatchingCaliperQuirk
	bootstrap    int           // -bootstrap replicates (bootstrap.go); 0: none
	seed         uint64        // -seed of the bootstrap and of -sensatt
	sensatt      sensattConfig // -sensatt (sensatt.go)
}

// addMatchFlags defines the matching flags on fs.
func addMatchFlags(fs *flag.FlagSet, c *matchConfig) {
	fs.Func("outcomes", "comma-separated outcome columns: match on the fitted score and report the ATT of each", func(s string) error {
		for _, o := range strings.Split(s, ",") {
			if o = strings.TrimSpace(o); o != "" {
				c.outcomes = append(c.outcomes, o)
			}
		}
		return nil
	})
	fs.IntVar(&c.neighbors, "neighbors", 1, "number of nearest neighbours k (controls tied with the k-th share its weight)")
	fs.Float64Var(&c.caliper, "caliper", 0, "caliper in standard deviations of the matching scale over all units (0 = none); "+
		"treated units without a control inside it are dropped, and se_ai covers the matched treated only, "+
		"whereas R Matching::Match's se keeps the dropped treated (see -r-caliper-se)")
	fs.BoolVar(&c.replace, "replace", true, "match with replacement (-replace=false: without, treated in file order)")
	fs.StringVar(&c.on, "on", "prob", "matching scale: prob (the fitted probability) or logit (its log-odds)")
	fs.Float64Var(&c.tieTolerance, "tie-tolerance", 0, "controls within this of the k-th nearest distance are tied (0 = exact equality)")
	fs.StringVar(&c.tieRule, "tie-rule", "distance", "scale of -tie-tolerance: distance, or matching (R Matching's distance.tolerance: squared standardized distance)")
	fs.BoolVar(&c.biasAdjust, "bias-adjust", false, biasAdjustHelp)
	addRosenbaumFlag(fs, &c.rosenbaum)
	fs.BoolVar(&c.rCaliperSE, "r-caliper-se", false, "with -caliper, compute se_ai (and se_bias_adjusted) as R Matching::Match's se: "+
		"the treated dropped by the caliper stay in the count N_1 with an individual effect of 0 (psm.ATTOptions.MatchingCaliperQuirk); "+
		"default: the Abadie-Imbens se of the matched treated")
	fs.IntVar(&c.bootstrap, "bootstrap", 0, bootstrapHelp)
	fs.Uint64Var(&c.seed, "seed", 1, "seed of -bootstrap and -sensatt (the same seed gives the same results for any -workers)")
	addSensattFlags(fs, &c.sensatt)
}

// check validates the matching flags.
func (c *matchConfig) check() error {
	switch {
	case c.neighbors < 1:
		return fmt.Errorf("%w: -neighbors %d: want >= 1", errUsage, c.neighbors)
	case !(c.caliper >= 0):
		return fmt.Errorf("%w: -caliper %v: want >= 0", errUsage, c.caliper)
	case !(c.tieTolerance >= 0):
		return fmt.Errorf("%w: -tie-tolerance %v: want >= 0", errUsage, c.tieTolerance)
	case c.on != "prob" && c.on != "logit":
		return fmt.Errorf("%w: -on %q: want prob or logit", errUsage, c.on)
	case c.tieRule != "distance" && c.tieRule != "matching":
		return fmt.Errorf("%w: -tie-rule %q: want distance or matching", errUsage, c.tieRule)
	case c.rCaliperSE && !(c.caliper > 0):
		return fmt.Errorf("%w: -r-caliper-se needs -caliper > 0 (without a caliper both standard errors agree)", errUsage)
	case c.rCaliperSE && len(c.outcomes) == 0:
		return fmt.Errorf("%w: -r-caliper-se needs -outcomes", errUsage)
	}
	if err := c.checkBootstrap(); err != nil {
		return err
	}
	return c.checkBiasAdjust()
}

// options translates the flags.
func (c *matchConfig) options() *psm.MatchOptions {
	o := &psm.MatchOptions{K: c.neighbors, NoReplacement: !c.replace, Caliper: c.caliper, TieTolerance: c.tieTolerance}
	if c.on == "logit" {
		o.Distance = psm.LogitDistance
	}
	if c.tieRule == "matching" {
		o.TieRule = psm.TieRMatching
	}
	return o
}

// outcomeJSON is one entry of the "outcomes" object.
type outcomeJSON struct {
	ATT         float64 `json:"att"`
	SEAI        float64 `json:"se_ai"`
	SEStandard  float64 `json:"se_standard"`
	TreatedMean float64 `json:"treated_mean"`
	ControlMean float64 `json:"control_mean"`
	// -bias-adjust (biasadj.go); nil without it
	ATTBiasAdjusted, SEBiasAdjusted *float64
	// -bootstrap (bootstrap.go); nil without it
	CILow, CIHigh *float64
}

// outcomesJSON marshals as an object keyed by outcome name, in the order
// of -outcomes.
type outcomesJSON struct {
	names     []string
	values    []outcomeJSON
	rosenbaum []*estimate.RosenbaumResult // per outcome, with -rosenbaum (rosenbaum.go)
	sensatt   []*sensattOutcome           // per outcome, with -sensatt (sensatt.go)
}

func (o outcomesJSON) MarshalJSON() ([]byte, error) {
	return orderedObject(o.names, func(i int) string {
		v := o.values[i]
		s := fmt.Sprintf(`{"att":%s,"se_ai":%s,"se_standard":%s,"treated_mean":%s,"control_mean":%s`,
			jsonFloat(v.ATT), jsonFloat(v.SEAI), jsonFloat(v.SEStandard), jsonFloat(v.TreatedMean), jsonFloat(v.ControlMean))
		if v.ATTBiasAdjusted != nil {
			s += fmt.Sprintf(`,"att_bias_adjusted":%s,"se_bias_adjusted":%s`, jsonFloat(*v.ATTBiasAdjusted), jsonFloat(*v.SEBiasAdjusted))
		}
		if v.CILow != nil {
			s += fmt.Sprintf(`,"ci_low":%s,"ci_high":%s`, jsonFloat(*v.CILow), jsonFloat(*v.CIHigh))
		}
		if o.sensatt != nil {
			s += o.sensatt[i].members()
		}
		if o.rosenbaum != nil {
			s += rosenbaumMembers(o.rosenbaum[i])
		}
		return s + "}"
	}), nil
}

// matchSummary is what the matching stage found, for the text report.
type matchSummary struct {
	m        *psm.Matching
	outcomes outcomesJSON
	boot     *bootstrapJSON // -bootstrap; nil without it
}

// matchOutcomes matches treated to control units on the fitted
// propensity score and estimates the ATT of each outcome; it fills the
// outcome sections of res.
// Units -drop-separated left out of the model get weight 0: they are
// not matched.
func matchOutcomes(ctx context.Context, tab *flatfile.Table, pf *propensity, cfg *config, res *result) (*matchSummary, error) {
	mc := &cfg.match
	x, score := pf.x, pf.scores
	tr, w, err := treatmentAndWeights(tab, cfg)
	if err != nil {
		return nil, err
	}
	if len(pf.excluded) > 0 {
		w0 := make([]float64, len(tr))
		for i := range w0 {
			w0[i] = 1
			if w != nil {
				w0[i] = w[i]
			}
		}
		for _, i := range pf.excluded {
			w0[i] = 0
		}
		w = w0
	}
	// Match in unit space (one score and flag per row); the treated and
	// the controls keep their rows (rt, rc) for the stages that take
	// them split.
	flags := make([]bool, len(tr))
	for i, t := range tr {
		flags[i] = t == 1
	}
	opts := mc.options()
	um, err := psm.MatchUnits(score, flags, &psm.UnitOptions{Match: *opts, Weights: w})
	if err != nil {
		return nil, fmt.Errorf("matching%s: %w", fileRow(err, nil, nil), err)
	}
	m, rt, rc := um.Matching, um.TreatedUnits, um.ControlUnits
	var st, sc []float64
	for _, i := range rt {
		st = append(st, score[i])
	}
	for _, i := range rc {
		sc = append(sc, score[i])
	}
	if w != nil {
		for _, i := range rt {
			opts.TreatedWeights = append(opts.TreatedWeights, w[i])
		}
		for _, i := range rc {
			opts.ControlWeights = append(opts.ControlWeights, w[i])
		}
	}
	sum := &matchSummary{m: m, outcomes: outcomesJSON{names: mc.outcomes}}
	var ba *psm.BiasAdjustEvaluator
	if mc.biasAdjust {
		if ba, err = newBiasAdjuster(x, rt, rc, m, pf.names, mc.rCaliperSE); err != nil {
			return nil, err
		}
	}
	var yts, ycs [][]float64 // for -bootstrap
	for _, name := range mc.outcomes {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		y, err := tab.Column(name)
		if err != nil {
			return nil, err
		}
		yt := make([]float64, len(rt))
		yc := make([]float64, len(rc))
		for k, i := range rt {
			yt[k] = y[i]
		}
		for k, i := range rc {
			yc[k] = y[i]
		}
		yts, ycs = append(yts, yt), append(ycs, yc)
		r, err := um.ATT(y, &psm.ATTOptions{MatchingCaliperQuirk: mc.rCaliperSE})
		if err != nil {
			return nil, fmt.Errorf("outcome %q%s: %w", name, fileRow(err, rt, rc), err)
		}
		ov := outcomeJSON{ATT: r.ATT, SEAI: r.SE, SEStandard: r.SEStandard, TreatedMean: r.TreatedMean, ControlMean: r.ControlMean}
		if ba != nil {
			if err := biasAdjusted(ba, name, yt, yc, rt, rc, &ov); err != nil {
				return nil, err
			}
		}
		sum.outcomes.values = append(sum.outcomes.values, ov)
		if mc.sensatt.cells != nil || mc.sensatt.search {
			so, err := sensattOf(ctx, pf, tab, cfg, name, y)
			if err != nil {
				return nil, err
			}
			sum.outcomes.sensatt = append(sum.outcomes.sensatt, so)
		}
		if mc.rosenbaum != nil {
			rb, err := rosenbaumOf(yt, yc, m, mc.rosenbaum)
			if err != nil {
				return nil, fmt.Errorf("outcome %q: -rosenbaum: %w", name, err)
			}
			sum.outcomes.rosenbaum = append(sum.outcomes.rosenbaum, rb)
		}
	}
	if mc.bootstrap > 0 {
		if err := bootstrapOutcomes(ctx, st, sc, yts, ycs, rt, rc, opts, cfg, sum, res); err != nil {
			return nil, err
		}
	}
	res.Outcomes = sum.outcomes
	n := m.NDistinctControls
	wsum := m.WeightedControls
	res.MatchedControls = &n
	res.WeightedControls = &wsum
	return sum, nil
}

// fileRow names the file row of the unit a *psm.InputError is about:
// " (row r of the data)", or "" when the error is not about one unit.
// Unit-space errors (psm.MatchUnits: "scores", "Weights", "y") index the
// row itself; the others count treated (rt: their rows) or controls
// (rc) only.
func fileRow(err error, rt, rc []int) string {
	var me *psm.InputError
	if !errors.As(err, &me) || me.Index < 0 {
		return ""
	}
	rows := rc
	switch me.Field {
	case "scores", "Weights", "Strata", "y":
		return fmt.Sprintf(" (row %d of the data)", me.Index)
	case "treated", "TreatedWeights", "TreatedStrata", "yTreated", "zTreated":
		rows = rt
	case "control", "ControlWeights", "ControlStrata", "yControl", "zControl":
	default:
		return ""
	}
	if me.Index >= len(rows) {
		return ""
	}
	return fmt.Sprintf(" (row %d of the data)", rows[me.Index])
}

// writeMatchTable prints the matching summary and the ATT table.
func writeMatchTable(w io.Writer, s *matchSummary, mc *matchConfig) error {
	repl := "with"
	if !mc.replace {
		repl = "without"
	}
	fmt.Fprintf(w, "\nMatching: %d nearest neighbour(s) on the %s, %s replacement", mc.neighbors, map[string]string{"prob": "probability", "logit": "logit"}[mc.on], repl)
	if mc.caliper > 0 {
		fmt.Fprintf(w, ", caliper %g sd", mc.caliper)
	}
	fmt.Fprintf(w, "\nmatched treated: %d  distinct matched controls: %d  weighted controls: %.6g\n\n",
		s.m.NMatched, s.m.NDistinctControls, s.m.WeightedControls)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "outcome\ttreated\tcontrols\tATT\tse (AI)\tse (naive)\t")
	for i, n := range s.outcomes.names {
		v := s.outcomes.values[i]
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.6g\t%.6g\t%.6g\t\n", n, v.TreatedMean, v.ControlMean, v.ATT, v.SEAI, v.SEStandard)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if err := writeBootstrapTable(w, s); err != nil {
		return err
	}
	writeSensattTable(w, s)
	if err := writeBiasAdjustTable(w, s); err != nil || mc.rosenbaum == nil {
		return err
	}
	return writeRosenbaumTable(w, s)
}
