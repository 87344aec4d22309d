// Command bench measures the psmeval pipeline on a synthetic population:
// it generates N persons with panel/synth and runs the panel build, the
// logit propensity model, nearest-neighbour matching, the monthly effects
// and a fixed-score bootstrap, printing per stage the wall time, the CPU
// time (user + system, all threads) and the peak resident memory, as a
// table or as JSON (-json). -write FILE writes the flat matched-analysis
// file (one row per unit) so that compare.R can run the same analysis in R.
//
//	go run ./examples/bench                         # SFI size: 3.3 million persons, 6,487 treated
//	go run ./examples/bench -n 330000 -json         # a tenth
//	go run ./examples/bench -n 20000 -treated 1000 -write /tmp/b.csv.gz
//	Rscript examples/bench/compare.R /tmp/b.csv.gz  # the same analysis in R
//
// The design (examples/internal/benchdata/design.go) is generic: the SFI window (1 Feb – 31 Jul 2012),
// persons aged 16–64 on 1 January 2012 without a spell in January 2012
// (SFI rules 1 and 4), the first -covariates columns of a
// fixed list (age, attribute dummies, weeks on each benefit type in the 13
// to 156 weeks before start, benefit at start), and the first -outcomes
// synth outcomes (employed, employed_no_benefit, education, su) in event
// months 0..min(-horizon, the outcome's horizon). Before each stage the
// garbage is collected and the peak resident set reset (not timed).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/internal/interrupt"
	"github.com/psmeval/psmeval/internal/manifest"
	"github.com/psmeval/psmeval/panel/synth"
)

// config holds the command-line options.
type config struct {
	n          int
	treated    int // 0 = proportional
	covariates int
	outcomes   int
	horizon    int
	replicates int
	workers    int // 0 = GOMAXPROCS
	shards     int // 0 = off
	seed       uint64
	write      string
	json       bool
	quiet      bool
	cpuprofile string
	memprofile string
	flags      *flag.FlagSet // for the run manifest (nil: no flags recorded)
	// noMemoryCheck runs even when the memory estimate exceeds what is
	// available (memory.go)
	noMemoryCheck bool
	floor         bool // -floor: the bandwidth floor of every stage (floor.go)
}

func defaultConfig() config {
	return config{n: synth.SFIPersons, covariates: 40, outcomes: len(synth.OutcomeNames), horizon: 21, replicates: 999, seed: 2015}
}

func main() {
	c := defaultConfig()
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	fs.IntVar(&c.n, "n", c.n, "persons in the synthetic population (3,300,000 = the SFI population)")
	fs.IntVar(&c.treated, "treated", 0, "treated persons (first start in the SFI window); 0 = in proportion, 6,487·n/3.3M")
	fs.IntVar(&c.covariates, "covariates", c.covariates, "covariates K, the first K of the design's list (see examples/internal/benchdata/design.go)")
	fs.IntVar(&c.outcomes, "outcomes", c.outcomes, "outcomes M, the first M of "+strings.Join(synth.OutcomeNames, ", "))
	fs.IntVar(&c.horizon, "horizon", c.horizon, "last event month H of the effects (at most each outcome's horizon)")
	fs.IntVar(&c.replicates, "replicates", c.replicates, "fixed-score bootstrap replicates (0 = no bootstrap)")
	fs.IntVar(&c.shards, "shards", 0, "also run the logit, matching and effects over this many in-process shards of the units (>= 2; 0 = off) and report the differences")
	fs.IntVar(&c.workers, "workers", 0, "worker goroutines (0 = GOMAXPROCS)")
	fs.Uint64Var(&c.seed, "seed", c.seed, "seed of the population, the simulated starts and the bootstrap")
	fs.StringVar(&c.write, "write", "", "write the flat matched-analysis file (.csv, .csv.gz or .parquet)")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of the table")
	fs.BoolVar(&c.quiet, "quiet", false, "no progress on stderr")
	fs.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the run (without generation) to this file")
	fs.StringVar(&c.memprofile, "memprofile", "", "write a heap profile (allocations) at the end to this file")
	fs.BoolVar(&c.floor, "floor", true, "measure the streaming memory bandwidth and report each stage as a multiple of the time to touch its bytes once")
	fs.BoolVar(&c.noMemoryCheck, "no-memory-check", false, "run even when the memory estimate exceeds the memory available (cgroup limit or MemAvailable)")
	_ = fs.Parse(os.Args[1:])
	c.flags = fs

	ctx, stop := interrupt.Context(context.Background())
	defer stop()
	stderr := interrupt.NewLineWriter(os.Stderr)
	var logw io.Writer = stderr
	if c.quiet {
		logw = io.Discard
	}
	if code := interrupt.Exit(ctx, stderr, "bench", run(ctx, &c, os.Stdout, logw), 1); code != 0 {
		os.Exit(code)
	}
}

// run runs every stage, measuring each, and prints the report.
func run(ctx context.Context, c *config, stdout, logw io.Writer) error {
	_, err := runPipeline(ctx, c, stdout, logw)
	return err
}

// runPipeline is run, returning the pipeline (for tests).
func runPipeline(ctx context.Context, c *config, stdout, logw io.Writer) (*pipeline, error) {
	p, err := newPipeline(c, logw)
	if err != nil {
		return nil, err
	}
	if c.memprofile != "" {
		runtime.MemProfileRate = 512 * 1024
	}
	man := manifest.New("bench", c.flags)
	man.SetSeed(c.seed)
	m := &meter{}
	step := func(name string, f func(context.Context) error) error {
		fmt.Fprintf(logw, "%s ...\n", name)
		if err := m.run(name, func() error { return f(ctx) }); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		s := m.stages[len(m.stages)-1]
		fmt.Fprintf(logw, "%s: %.2fs wall, %.2fs CPU, peak %.0f MB\n", name, s.Wall, s.CPU, s.PeakRSS)
		return nil
	}
	if err := p.checkMemory(); err != nil {
		return nil, err
	}
	if err := step(stageGenerate, p.generate); err != nil {
		return nil, err
	}
	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("-cpuprofile: %w", err)
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	for _, s := range p.stages() {
		if err := step(s.name, s.run); err != nil {
			return nil, err
		}
	}
	if c.memprofile != "" {
		if err := writeHeapProfile(c.memprofile); err != nil {
			return nil, err
		}
	}
	for _, s := range m.stages {
		man.AddStep(s.Stage, time.Duration(s.Wall*float64(time.Second)))
	}
	r := newReport(p, m)
	if c.shards > 0 {
		fmt.Fprintf(logw, "sharded (%d shards) ...\n", c.shards)
		bounds, _ := benchdata.ShardBounds(p.panel.Len(), c.shards)
		sr, err := p.runSharded(ctx, bounds)
		if err != nil {
			return nil, fmt.Errorf("-shards %d: %w", c.shards, err)
		}
		r.Sharded = sr
	}
	if c.floor {
		r.Floor = newFloor(p, m.stages)
	}
	r.Manifest = man.Finish()
	if c.json {
		return p, r.writeJSON(stdout)
	}
	r.writeTable(stdout)
	return p, nil
}

func writeHeapProfile(path string) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("-memprofile: %w", err)
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return fmt.Errorf("-memprofile: %w", err)
	}
	return f.Close()
}
