// Command sfi reproduces the effect analysis of the SFI evaluation of
// Danish mentor support (SFI 2015, chapter 5 and appendix 1) on a
// synthetic population calibrated to the report, using only the public API
// of psmeval: panel (design, simulated start weeks, covariates, outcomes)
// -> psm (logit propensity score, one nearest neighbour with replacement
// and tie averaging, balance) -> estimate (monthly and accumulated
// effects, bootstrap intervals).
//
//	go run ./examples/sfi                      # default scenario, under a minute on 2 cores
//	go run ./examples/sfi -scale 1             # the SFI size: 3.3 million persons
//	go run ./examples/sfi -scenario observables  # no unobserved confounding
//	go run ./examples/sfi -scenario persistent   # a stable unobserved trait: placebo test and DiD
//	go run ./examples/sfi -data DIR            # a register in the panel schema
//	go run ./examples/sfi -scale 0.1 -scenario observables -effect -10 -study 100
//	                                           # truth recovery over 100 seeds
//
// It prints the Table 5.1 replica, monthly and accumulated effects with
// intervals (and, on synthetic data, the truth beside them), the
// credibility section (a pre-programme placebo test, conditional
// difference-in-differences and Rosenbaum bounds; credibility.go) and writes
// table51.csv, effects.csv, accumulated.csv, summary.json and figures
// (SVG and PNG) to -out.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/psmeval/psmeval/internal/interrupt"
	"github.com/psmeval/psmeval/internal/manifest"
	"github.com/psmeval/psmeval/psm"
)

// config holds the command-line options.
type config struct {
	scale       float64
	seed        uint64
	bootstrap   int
	refit       bool
	workers     int
	out         string
	data        string
	scenario    string
	confounding float64
	effect      float64
	quiet       bool
	noFigures   bool
	cpuprofile  string
	study       int
	interval    string
	preWindow   string // -pre-window (credibility.go)
	// sensatt are -sensatt's cells "p11,p10,p01,p00" ("" = none) and
	// sensattDraws its draws (credibility.go)
	sensatt      string
	sensattDraws int
	// studyDefaultOnly makes a study compute the -interval method only
	// (and Abadie-Imbens), not every method (tests).
	studyDefaultOnly bool
	// studyScore is the score every seed of a study matches on
	// (study.go): "fitted" (default: its own logit), "independent" (the
	// logit fitted on another, independent population, seed +
	// independentSeedOffset: not estimated on the sample it matches) or
	// "true" (the generator's selection index, synth.SelectionIndex: a
	// score that is not estimated at all)
	studyScore string
	// scoreModel, when set, replaces the analysis's own fit in computing
	// the matching scores (its coefficients on the panel's columns by
	// name)
	scoreModel *psm.Logit
	// noMemoryCheck runs even when the memory estimate exceeds what is
	// available (memory.go)
	noMemoryCheck bool
	// man is the run manifest written to summary.json: build, flags,
	// seed, the SHA-256 of the -data files at the start (inputs.go),
	// cores and step timings; run makes one when nil.
	man *manifest.Manifest
}

func main() {
	var c config
	flag.Float64Var(&c.scale, "scale", 0.5, "population size relative to the SFI population (1 = 3.3 million persons, about 6,487 treated)")
	flag.Uint64Var(&c.seed, "seed", 2015, "seed of every random stream (population, simulated starts, bootstrap)")
	flag.IntVar(&c.bootstrap, "bootstrap", 999, "bootstrap replicates (0 = none)")
	flag.BoolVar(&c.refit, "refit", false, "re-fit the logit in every bootstrap replicate (slower; default keeps the scores fixed)")
	flag.IntVar(&c.workers, "workers", 0, "worker goroutines (0 = all cores)")
	flag.StringVar(&c.out, "out", "sfi-out", "output directory")
	flag.StringVar(&c.data, "data", "", "read the register from this directory (panel schema, CSV or Parquet) instead of generating one")
	flag.StringVar(&c.scenario, "scenario", "sfi", "synthetic scenario: sfi (unobserved negative selection acting after the window, true effect ~0), observables (selection on observables only) or persistent (the unobserved factor a stable trait acting before and after the start, paused in the months of history the covariates summarise)")
	flag.Float64Var(&c.confounding, "confounding", -1, "strength of the unobserved factor (SD shift of starters; -1 = the scenario's value)")
	flag.Float64Var(&c.effect, "effect", 0, "true effect: lock-in depth in percentage points for the first 6 months, recovering over 6 (0 = none)")
	flag.BoolVar(&c.quiet, "quiet", false, "no progress on stderr")
	flag.BoolVar(&c.noFigures, "no-figures", false, "skip the figures")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the whole run to this file (go tool pprof)")
	flag.StringVar(&c.preWindow, "pre-window", "", "pre-programme window of the credibility section (placebo test, difference-in-differences), event months A..B before the start, or off (default "+defaultPreWindow+"; "+persistentPreWindow+" with -scenario persistent)")
	flag.StringVar(&c.sensatt, "sensatt", "", "p11,p10,p01,p00: the month-H effect of each outcome under a simulated binary confounder U with P(U=1 | T=t, Y=y) = ptY (psm.SimulatedConfounder; each draw re-fits the logit on the whole panel)")
	flag.IntVar(&c.sensattDraws, "sensatt-draws", 20, "draws of U for -sensatt")
	flag.StringVar(&c.studyScore, "study-score", "fitted", "in a study, the score each seed matches on: fitted (its own logit), independent (the logit fitted on an independent population) or true (the generator's selection index, a score not estimated at all); diagnostics of the variance of matching on an estimated score")
	flag.StringVar(&c.interval, "interval", "", "reported interval: otsu-rai-normal (default; bootstrap-percentile with -refit), otsu-rai-percentile, bootstrap-percentile, bootstrap-normal, abadie-imbens (the default with -bootstrap 0) or abadie-imbens-2016 (for the estimated logit score; docs/ai2016.md); the plain bootstrap, fixed or -refit, is not valid for nearest-neighbour matching (Abadie & Imbens 2008) and over-covers (97-100 % in the README's study)")
	flag.IntVar(&c.study, "study", 0, "run N replications (seeds -seed, -seed+1, ...) and print how well the estimates recover the synthetic truth; writes no files")
	flag.BoolVar(&c.noMemoryCheck, "no-memory-check", false, "run even when the memory estimate exceeds the memory available (cgroup limit or MemAvailable)")
	flag.Parse()
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err == nil {
			err = pprof.StartCPUProfile(f)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "sfi: -cpuprofile:", err)
			os.Exit(2)
		}
		defer pprof.StopCPUProfile()
	}
	if c.workers <= 0 {
		c.workers = runtime.GOMAXPROCS(0)
	}
	ctx, stop := interrupt.Context(context.Background())
	defer stop()
	stderr := interrupt.NewLineWriter(os.Stderr)
	c.man = manifest.New("sfi", flag.CommandLine)
	c.man.SetSeed(c.seed)
	if err := addInputs(ctx, c.man, c.data); err != nil {
		os.Exit(interrupt.Exit(ctx, stderr, "sfi", fmt.Errorf("-data: %w", err), 1))
	}
	var logw io.Writer = stderr
	if c.quiet {
		logw = io.Discard
	}
	run := run
	if c.study > 0 {
		run = func(ctx context.Context, c *config, stdout, logw io.Writer) error {
			_, err := study(ctx, c, stdout, logw)
			return err
		}
	}
	if code := interrupt.Exit(ctx, stderr, "sfi", run(ctx, &c, os.Stdout, logw), 1); code != 0 {
		pprof.StopCPUProfile()
		os.Exit(code)
	}
}

// stopwatch prints each step to log when it starts and ends, and records
// its wall time in the run manifest (summary.json) when man is not nil.
type stopwatch struct {
	log io.Writer
	man *manifest.Manifest
}

func (s *stopwatch) start(name string) func() {
	fmt.Fprintf(s.log, "%s ...\n", name)
	t := time.Now()
	return func() {
		d := time.Since(t)
		if s.man != nil {
			s.man.AddStep(name, d)
		}
		fmt.Fprintf(s.log, "%s: %.2fs\n", name, d.Seconds())
	}
}
