// Command shard runs the logit, the matching and the effects of
// examples/bench over person shards on a job array: N workers, each
// holding a contiguous range of units, and one coordinator, talking only
// through files in a shared directory D (no network).
//
//	go run ./examples/shard -dir D -coordinate N [data options]   # the coordinator
//	go run ./examples/shard -dir D -part i/N     [data options]   # worker i (0 <= i < N)
//
// Every process generates the same synthetic population and panel as
// examples/bench from -n, -treated, -covariates, -outcomes, -horizon and
// -seed; worker i keeps units bounds[i]..bounds[i+1]-1
// (benchdata.ShardBounds: whole 4096-unit blocks when there are at least
// N of them). A real deployment reads its person shard from Parquet
// instead.
//
// Rounds: for every round r the coordinator writes D/round-r.in (the
// broadcast) and every worker i answers with D/round-r.part-i; after the
// last round the coordinator writes D/result.json and D/done. All files
// are written atomically (a temporary file in D, renamed). The rounds
// are the logit's iterations + 2 (psm.FitLogitShards: a scan, the start
// values, one pass per IRLS iteration), the matching's 1 (2 with a
// caliper or trimming: psm.MatchUnitsShards) and the effects' 1
// (estimate.EffectSums). Bytes, with p covariates, q terms, B blocks of
// 4096 rows in a part, T treated units and C outcome months: the scan
// returns 58 + 32p + B(40 + 16p) per part; a pass broadcasts
// about 30 + 8p + 8q and returns 44 + B(24 + 4(q+1)(q+2)) per part; the
// candidates round broadcasts the model (8q) and 12 bytes per treated
// unit and returns at most 16 + 28m per treated unit for its m
// candidates; the effects round broadcasts the treated scores and the
// merged candidates and returns 36 + 8 per outcome + 8TC per part.
// result.json lists the bytes of every round.
//
// A worker that fails writes D/part-i.error, which stops the
// coordinator. Both roles stop on SIGINT or SIGTERM and after -timeout.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/psmeval/psmeval/internal/interrupt"
	"github.com/psmeval/psmeval/panel/synth"
)

// config holds the command-line options.
type config struct {
	dir        string
	part       string // "i/N": a worker
	coordinate int    // N: the coordinator
	n          int
	treated    int
	covariates int
	outcomes   int
	horizon    int
	seed       uint64
	workers    int
	poll       time.Duration
	timeout    time.Duration
}

func defaultConfig() config {
	return config{n: 100000, covariates: 40, outcomes: len(synth.OutcomeNames), horizon: 21, seed: 2015,
		poll: 50 * time.Millisecond, timeout: time.Hour}
}

func main() {
	c := defaultConfig()
	fs := flag.NewFlagSet("shard", flag.ExitOnError)
	fs.StringVar(&c.dir, "dir", "", "the shared directory of the run's files (required)")
	fs.StringVar(&c.part, "part", "", "run as worker i of N, written i/N (0 <= i < N)")
	fs.IntVar(&c.coordinate, "coordinate", 0, "run as the coordinator of this many parts")
	fs.IntVar(&c.n, "n", c.n, "persons in the synthetic population (as examples/bench)")
	fs.IntVar(&c.treated, "treated", 0, "treated persons; 0 = in proportion, 6,487·n/3.3M")
	fs.IntVar(&c.covariates, "covariates", c.covariates, "covariates K, the first K of the bench design's list")
	fs.IntVar(&c.outcomes, "outcomes", c.outcomes, "outcomes M, the first M of the synth outcomes")
	fs.IntVar(&c.horizon, "horizon", c.horizon, "last event month of the effects")
	fs.Uint64Var(&c.seed, "seed", c.seed, "seed of the population and the simulated starts")
	fs.IntVar(&c.workers, "workers", 0, "goroutines per process (0 = GOMAXPROCS)")
	fs.DurationVar(&c.poll, "poll", c.poll, "interval between looks for a file")
	fs.DurationVar(&c.timeout, "timeout", c.timeout, "give up after this long (0 = never)")
	_ = fs.Parse(os.Args[1:])

	ctx, stop := interrupt.Context(context.Background())
	defer stop()
	stderr := interrupt.NewLineWriter(os.Stderr)
	if code := interrupt.Exit(ctx, stderr, "shard", run(ctx, &c, os.Stderr), 1); code != 0 {
		os.Exit(code)
	}
}

// run runs the role that c names and logs one line when it ends.
func run(ctx context.Context, c *config, logw io.Writer) error {
	switch {
	case c.dir == "":
		return fmt.Errorf("-dir: required (the shared directory)")
	case (c.part == "") == (c.coordinate == 0):
		return fmt.Errorf("want exactly one of -part i/N (a worker) and -coordinate N (the coordinator)")
	case c.poll <= 0:
		return fmt.Errorf("-poll %v: must be positive", c.poll)
	case c.timeout < 0:
		return fmt.Errorf("-timeout %v: must be >= 0", c.timeout)
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeoutCause(ctx, c.timeout, fmt.Errorf("-timeout %v reached", c.timeout))
		defer cancel()
	}
	if c.part != "" {
		i, n, err := parsePart(c.part)
		if err != nil {
			return err
		}
		if err := runWorker(ctx, c, i, n); err != nil {
			return err
		}
		fmt.Fprintf(logw, "part %d/%d: done\n", i, n)
		return nil
	}
	res, err := runCoordinator(ctx, c, c.coordinate)
	if err != nil {
		return err
	}
	fmt.Fprintf(logw, "coordinator: %d parts, %d rounds, %d bytes moved; %s\n", res.Parts, len(res.Rounds), res.BytesMoved, c.dir+"/"+resultFile)
	return nil
}
