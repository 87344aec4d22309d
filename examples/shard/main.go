// Command shard runs the logit, the matching and the effects of
// examples/bench over person shards on a job array: N workers and one
// coordinator, talking only through files in a shared directory D (no
// network).
//
//	go run ./examples/shard -dir S -split N [population options]            # data mode: write N person shards S/shard-i
//	go run ./examples/shard -dir D -coordinate N -data S                     # the coordinator (data mode)
//	go run ./examples/shard -dir D -part i/N -data S/shard-i [design options] # worker i (data mode)
//	go run ./examples/shard -dir D -coordinate N [data options]              # the coordinator (memory mode)
//	go run ./examples/shard -dir D -part i/N     [data options]              # worker i (memory mode)
//
// Data mode: -split generates the synthetic population of examples/bench
// once (-n, -treated, -seed) and writes N Parquet registers of
// contiguous person ranges (registerio.WriteDir, each shard directory
// renamed into place, then S/split.json). Worker i reads only its own
// register; the first two rounds are passes 0 and 1 of docs/scale-out.md:
// every worker sends its treated start days (panel.CountStarts), the
// coordinator merges and broadcasts them, every worker builds its panel
// with Design.Starts set to the merged counts and sends its sizes,
// covariate names and its treated units' rows (partInfo). The parts'
// units are numbered part by part (each part's treated first), so the
// results agree with the single-process run to rounding, not bit for
// bit.
//
// Memory mode: every process generates the same synthetic population and
// panel as examples/bench from -n, -treated, -covariates, -outcomes,
// -horizon and -seed; worker i keeps units bounds[i]..bounds[i+1]-1
// (benchdata.ShardBounds: whole 4096-unit blocks when there are at least
// N of them); the results are the single-process run's bit for bit.
//
// Rounds: for every round r the coordinator writes D/round-r.in (the
// broadcast) and every worker i answers with D/round-r.part-i; after the
// last round the coordinator writes D/result.json and D/done. All files
// are written atomically (a temporary file in D, renamed). The rounds
// are (data mode only) the start counts and the treated rows, the
// logit's iterations + 2 (psm.FitLogitShards: a scan, the start values,
// one pass per IRLS iteration), the matching's 1 (2 with a caliper or
// trimming: psm.MatchUnitsShards) and the effects' 1
// (estimate.EffectSums). Bytes, with p covariates, q terms, B blocks of
// 4096 rows in a part, T treated units (T_i in part i), C outcome months
// and D distinct start days: the start counts return 20 + 8D per part;
// the treated rows round broadcasts 25 + 8D and returns 24 + the names
// + T_i(8 + 8p + C) per part; the scan returns 58 + 32p + B(40 + 16p)
// per part; a pass broadcasts about 30 + 8p + 8q and returns 44 + B(24 +
// 4(q+1)(q+2)) per part; the candidates round broadcasts the model (8q)
// and 12 bytes per treated unit and returns at most 16 + 28m per treated
// unit for its m candidates; the effects round broadcasts the treated
// scores and the merged candidates and returns 36 + 8 per outcome + 8TC
// per part. result.json lists the bytes of every round, and each part's
// timings and peak memory (D/part-i.stats.json).
//
// A worker that fails writes D/part-i.error, which stops the
// coordinator. Every role stops on SIGINT or SIGTERM and after -timeout.
package main

import (
	"context"
	"encoding/json"
	"errors"
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
	split      int    // N: write N person shards
	data       string // data mode: a worker's shard, the coordinator's split directory
	reference  bool   // the single-process run
	compare    []string
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
	fs.IntVar(&c.split, "split", 0, "generate the population once and write this many person shards D/shard-i (Parquet)")
	fs.BoolVar(&c.reference, "reference", false, "run the single-process logit, matching and effects on the whole population (the run a sharded one must equal) and write result.json")
	compare := fs.Bool("compare", false, "print the largest differences between the two result.json files given as arguments, and exit")
	fs.StringVar(&c.data, "data", "", "data mode: a worker's shard directory (D/shard-i of -split), or the coordinator's split directory D")
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
	if *compare {
		c.compare = fs.Args()
		if len(c.compare) != 2 {
			fmt.Fprintln(os.Stderr, "shard: -compare takes two result.json files")
			os.Exit(2)
		}
	}

	ctx, stop := interrupt.Context(context.Background())
	defer stop()
	stderr := interrupt.NewLineWriter(os.Stderr)
	if code := interrupt.Exit(ctx, stderr, "shard", run(ctx, &c, os.Stderr), 1); code != 0 {
		os.Exit(code)
	}
}

// run runs the role that c names and logs one line when it ends.
func run(ctx context.Context, c *config, logw io.Writer) (err error) {
	if c.compare != nil {
		cmp, err := compareResults(c.compare[0], c.compare[1])
		if err != nil {
			return err
		}
		b, _ := json.MarshalIndent(cmp, "", "  ")
		fmt.Fprintln(logw, string(b))
		return nil
	}
	switch {
	case c.dir == "":
		return fmt.Errorf("-dir: required (the shared directory)")
	case countTrue([]bool{c.part != "", c.coordinate != 0, c.split != 0, c.reference}) != 1:
		return fmt.Errorf("want exactly one of -part i/N (a worker), -coordinate N (the coordinator), -split N (write person shards) and -reference (the single-process run)")
	case c.reference && c.data != "":
		return fmt.Errorf("-reference generates the whole population; -data is for -part and -coordinate")
	case c.split != 0 && c.data != "":
		return fmt.Errorf("-split writes the shards into -dir; -data is for -part and -coordinate")
	case c.poll <= 0:
		return fmt.Errorf("-poll %v: must be positive", c.poll)
	case c.timeout < 0:
		return fmt.Errorf("-timeout %v: must be >= 0", c.timeout)
	}
	if fi, err := os.Stat(c.dir); err != nil || !fi.IsDir() {
		// checked before any work: a split generates for minutes first
		return fmt.Errorf("-dir %s: not an existing directory", c.dir)
	}
	if c.timeout > 0 {
		var cancel context.CancelFunc
		timeout := fmt.Errorf("-timeout %v reached", c.timeout)
		ctx, cancel = context.WithTimeoutCause(ctx, c.timeout, timeout)
		defer cancel()
		// whichever stage the deadline stops, the error says why
		defer func() {
			if err != nil && errors.Is(context.Cause(ctx), timeout) && !errors.Is(err, timeout) {
				err = fmt.Errorf("%w: %w", timeout, err)
			}
		}()
	}
	if c.reference {
		return runReference(ctx, c, logw)
	}
	if c.split != 0 {
		_, err := runSplit(ctx, c, c.split, logw)
		return err
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
