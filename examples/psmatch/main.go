// Command psmatch estimates a propensity-score model on a flat file with
// one row per unit (CSV or Parquet, chosen by the file extension).
//
// Usage:
//
//	psmatch -data units.csv -treatment treated -covariates age,female,income [-weights w] [-json]
//
// It fits the logit P(treatment = 1 | covariates) with an intercept, as
// R's glm(treatment ~ covariates, family = binomial, weights = w), and
// prints a coefficient table, or with -json one object:
//
//	{"n_treated":…,"n_control":…,"logit":{"converged":…,"iterations":…,
//	 "coefficients":{"(Intercept)":…,"age":…},"std_errors":{…}}}
//
// Keys keep the model's term order; aliased (dropped) terms are null.
//
// With -outcomes y1,y2 it then matches treated to control units on the
// fitted score (matching.go; flags -neighbors, -caliper, -replace, -on
// prob|logit, -tie-tolerance, -tie-rule) and reports the ATT of each
// outcome with Abadie–Imbens and naive standard errors; the JSON gains
// "outcomes":{"y1":{"att","se_ai","se_standard","treated_mean",
// "control_mean"},…}, "matched_controls" (distinct controls with positive
// weight) and "weighted_controls" (the sum of the control weights).
// -bias-adjust adds the bias-corrected ATT (Z = the covariates, as R
// Matching::Match(..., BiasAdjust = TRUE)) as "att_bias_adjusted" and
// "se_bias_adjusted" to each outcome (biasadj.go).
// -bootstrap N -seed S adds the 95 % percentile interval of each ATT from
// N replicates re-matched on the fixed scores with the same matching
// flags (psm.Bootstrap) as "ci_low" and "ci_high" to each outcome and a
// "bootstrap" object (bootstrap.go); -bootstrap 0 (default) leaves the
// output as without it.
// -sensatt p11,p10,p01,p00 adds the ATT of each 0/1 outcome under a
// simulated confounder, and -sensatt-search the confounder that explains
// it away (sensatt.go).
// -rosenbaum 1,1.5,2 adds Rosenbaum bounds on that Gamma grid to every
// outcome (rosenbaum.go). With -caliper, se_ai
// covers the matched treated only; R's se keeps the treated the caliper
// dropped (in N_1, with effect 0): -r-caliper-se gives R's convention.
// -drop-separated handles a covariate that predicts the treatment
// perfectly for some units as Stata's logit does (psm.LogitOptions.DropSeparated):
// it is dropped, those units are left out of the model and the matching,
// and the JSON gains "dropped_covariates" and "excluded_units"; without it
// the separation error suggests it. The JSON ends with "manifest", the run
// manifest of internal/manifest (build, flags, SHA-256 of -data, cores,
// step times).
// Missing values, non-numeric values and absent columns are errors naming
// the column and row (0-based data rows; errors of the matching stage name
// the row too). A CSV file may start with a byte order mark, use CRLF line
// ends and quote fields (commas, quotes and newlines inside quotes); "Inf"
// reads as +Inf, which the model refuses (row and column named).
//
// Each step (read, fit logit, match and estimate, checksum) prints a line
// on stderr when it starts (-quiet: none). SIGINT or SIGTERM stops any
// step within about a second: exit status 130 or 143 and "psmatch:
// interrupted" on a line of its own, with nothing printed on stdout.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/psmeval/psmeval/internal/interrupt"
	"github.com/psmeval/psmeval/internal/manifest"
)

// config holds the command-line options.
type config struct {
	data       string
	treatment  string
	covariates []string
	weights    string
	json       bool
	workers    int
	maxIter    int
	// dropSeparated: psm.LogitOptions.DropSeparated
	dropSeparated bool
	quiet         bool        // no step lines on stderr
	match         matchConfig // matching.go
}

// result is the -json output. Sections are filled by their stages; the
// matching stage adds Outcomes.
type result struct {
	NTreated int        `json:"n_treated"`
	NControl int        `json:"n_control"`
	Logit    *logitJSON `json:"logit"`
	Outcomes any        `json:"outcomes,omitempty"`
	// matching.go: distinct controls with positive weight, and the sum of
	// the control weights
	MatchedControls  *int     `json:"matched_controls,omitempty"`
	WeightedControls *float64 `json:"weighted_controls,omitempty"`
	// -drop-separated: the covariates dropped for perfect prediction and
	// the number of units left out of the model and the matching
	DroppedCovariates []string `json:"dropped_covariates,omitempty"`
	ExcludedUnits     *int     `json:"excluded_units,omitempty"`
	// -bootstrap: replicates run, those with a matched treated unit,
	// seed and level of the intervals
	Bootstrap *bootstrapJSON `json:"bootstrap,omitempty"`
	// Manifest records the run: build (module version, VCS revision,
	// "unknown" under go run), flags, the SHA-256 of -data, cores and the
	// wall time of each step.
	Manifest *manifest.Manifest `json:"manifest,omitempty"`
}

// errUsage marks command-line mistakes (exit status 2).
var errUsage = errors.New("usage")

func main() {
	ctx, stop := interrupt.Context(context.Background())
	defer stop()
	stderr := interrupt.NewLineWriter(os.Stderr)
	err := run(ctx, os.Args[1:], os.Stdout, stderr)
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	code := 1
	if errors.Is(err, errUsage) {
		code = 2
	}
	if code = interrupt.Exit(ctx, stderr, "psmatch", err, code); code != 0 {
		os.Exit(code)
	}
}

// newFlags defines the command-line flags on cfg.
func newFlags(cfg *config, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("psmatch", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.data, "data", "", "input file, one row per unit: .csv, .parquet or .pq (required)")
	fs.StringVar(&cfg.treatment, "treatment", "", "treatment column, 0/1 (required)")
	fs.Func("covariates", "comma-separated covariate columns of the propensity model (required)", func(s string) error {
		for _, c := range strings.Split(s, ",") {
			if c = strings.TrimSpace(c); c != "" {
				cfg.covariates = append(cfg.covariates, c)
			}
		}
		return nil
	})
	fs.StringVar(&cfg.weights, "weights", "", "optional frequency-weight column (0 = unit absent)")
	fs.BoolVar(&cfg.json, "json", false, "print one JSON object instead of tables")
	fs.IntVar(&cfg.workers, "workers", 0, "goroutines for the model fit (0 = GOMAXPROCS)")
	fs.IntVar(&cfg.maxIter, "maxit", 0, "maximum IRLS iterations (0 = 25, as R's glm)")
	fs.BoolVar(&cfg.dropSeparated, "drop-separated", false, dropSeparatedHelp)
	fs.BoolVar(&cfg.quiet, "quiet", false, "no step lines on stderr")
	addMatchFlags(fs, &cfg.match)
	return fs
}

// run parses args, reads the data, fits the model and writes the report
// to stdout.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	fs := newFlags(&cfg, stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case cfg.data == "":
		return fmt.Errorf("%w: -data is required", errUsage)
	case cfg.treatment == "":
		return fmt.Errorf("%w: -treatment is required", errUsage)
	case len(cfg.covariates) == 0:
		return fmt.Errorf("%w: -covariates is required", errUsage)
	}
	if err := cfg.match.check(); err != nil {
		return err
	}
	if err := cfg.checkRosenbaum(); err != nil {
		return err
	}
	if err := cfg.checkSensatt(); err != nil {
		return err
	}
	man := manifest.New("psmatch", fs)
	man.SetArgs(args)
	man.SetFlag("covariates", strings.Join(cfg.covariates, ","))
	man.SetFlag("outcomes", strings.Join(cfg.match.outcomes, ","))
	if cfg.match.rosenbaum != nil {
		g := make([]string, len(cfg.match.rosenbaum))
		for i, v := range cfg.match.rosenbaum {
			g[i] = strconv.FormatFloat(v, 'g', -1, 64)
		}
		man.SetFlag("rosenbaum", strings.Join(g, ","))
	}
	logw := stderr
	if cfg.quiet {
		logw = io.Discard
	}
	// step prints the step's name on logw (the lines a log of a long run
	// shows) and times it in the manifest.
	step := func(name, what string) func() {
		fmt.Fprintf(logw, "psmatch: %s\n", what)
		return man.Step(name)
	}
	done := step("read", "read "+cfg.data)
	tab, err := flatfile.Read(ctx, cfg.data, &flatfile.ReadOptions{Columns: cfg.columns()})
	if err != nil {
		return err
	}
	done()
	res := &result{}
	done = step("logit", "fit logit")
	fit, err := fitPropensity(ctx, tab, &cfg, res)
	if err != nil {
		return err
	}
	done()
	var ms *matchSummary
	if len(cfg.match.outcomes) > 0 {
		done = step("match", "match and estimate")
		if ms, err = matchOutcomes(ctx, tab, fit, &cfg, res); err != nil {
			return err
		}
		done()
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if cfg.json {
		done = step("checksum", "checksum of "+cfg.data)
		if err := man.AddInput(ctx, cfg.data); err != nil {
			return err
		}
		done()
		res.Manifest = man.Finish()
		enc := json.NewEncoder(stdout)
		return enc.Encode(res)
	}
	fmt.Fprintf(stdout, "data: %s (%d rows)\ntreated: %d  controls: %d\n\n", cfg.data, tab.Rows(), res.NTreated, res.NControl)
	if err := writeLogitTable(stdout, fit, cfg.treatment); err != nil || ms == nil {
		return err
	}
	return writeMatchTable(stdout, ms, &cfg.match)
}

// columns lists the file columns to read, each once.
func (c *config) columns() []string {
	cols := []string{c.treatment}
	add := func(s string) {
		for _, have := range cols {
			if have == s {
				return
			}
		}
		cols = append(cols, s)
	}
	for _, s := range c.covariates {
		add(s)
	}
	if c.weights != "" {
		add(c.weights)
	}
	for _, s := range c.match.outcomes {
		add(s)
	}
	return cols
}
