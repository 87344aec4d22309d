// Command psmbeam runs a psmeval evaluation on person shards as Apache
// Beam pipelines (package psmbeam) on the runner that Beam's --runner
// flag names: prism (the default, in this process), flink, spark or
// dataflow, with Beam's usual flags (--endpoint, --environment_type,
// --environment_config, --project, --region, --staging_location, ...).
//
//	psmbeam -work DIR [flags] SHARD_DIR...
//	psmbeam -work DIR -generate -persons 7000 -treated 320 -parts 3 [flags]
//
// Each SHARD_DIR is a register written by registerio.WriteDir (one
// person shard). With -generate the command first writes a synthetic
// register of about -persons persons (panel/synth), split into -parts
// person shards, to DIR/data, and runs on those. The design is one
// registered with psmbeam.RegisterDesign: "synth" (the design of the
// synthetic register) is built in. It prints the fit, the matching, the
// pipelines and the effects, and with -csv writes the effects as a tidy
// table (estimate.Result.WriteCSV).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/psmeval/psmeval/beam/internal/synthdesign"
	"github.com/psmeval/psmeval/beam/psmbeam"
	"github.com/psmeval/psmeval/internal/atomicfile"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/panel/synth"
	"github.com/psmeval/psmeval/psm"
)

// config is the command line.
type config struct {
	work     string
	dirs     []string
	design   string
	strata   string
	k        int
	caliper  float64
	months   int
	csv      string
	generate bool
	persons  int
	treated  int
	parts    int
	seed     uint64
}

func main() {
	var c config
	flag.StringVar(&c.work, "work", "", "work `directory` that the driver and every worker can read and write (required; must not hold a previous run)")
	flag.StringVar(&c.design, "design", synthdesign.Name, "registered design `name`")
	flag.StringVar(&c.strata, "strata", "", "registered strata `name` for exact matching (\"cohort\": the start month); empty: none")
	flag.IntVar(&c.k, "k", 1, "number of nearest neighbours")
	flag.Float64Var(&c.caliper, "caliper", 0, "caliper in standard deviations of the score (0: none)")
	flag.IntVar(&c.months, "months", 0, "event months 0..months-1 of the effects (0: up to each outcome's common horizon)")
	flag.StringVar(&c.csv, "csv", "", "write the effects to this CSV `file`")
	flag.BoolVar(&c.generate, "generate", false, "write a synthetic register split into -parts person shards to WORK/data and run on it")
	flag.IntVar(&c.persons, "persons", 7000, "with -generate: about this many persons")
	flag.IntVar(&c.treated, "treated", 320, "with -generate: about this many starting in the window")
	flag.IntVar(&c.parts, "parts", 3, "with -generate: the number of person shards")
	flag.Uint64Var(&c.seed, "seed", 1, "with -generate: the seed of the synthetic population")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: psmbeam -work DIR [flags] SHARD_DIR...\n       psmbeam -work DIR -generate [flags]\n\nBeam's flags (--runner, --endpoint, ...) are listed with the others.\n\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	// On a distributed runner the workers run this binary too: beam.Init
	// turns it into a worker there, after flag.Parse.
	beam.Init()
	c.dirs = flag.Args()
	if err := run(context.Background(), &c, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "psmbeam:", err)
		os.Exit(1)
	}
}

// run is the command: generate (with -generate), run the pipelines with
// beamx.Run, print and write the results.
func run(ctx context.Context, c *config, w io.Writer) error {
	if c.work == "" {
		return fmt.Errorf("-work: required")
	}
	if c.generate {
		if len(c.dirs) > 0 {
			return fmt.Errorf("-generate takes no shard directories (got %d)", len(c.dirs))
		}
		dirs, err := generate(ctx, c)
		if err != nil {
			return err
		}
		c.dirs = dirs
	}
	if len(c.dirs) == 0 {
		return fmt.Errorf("no shard directories (or -generate)")
	}
	o := &psmbeam.Options{
		Design:  c.design,
		WorkDir: filepath.Join(c.work, "run"),
		Months:  c.months,
		Strata:  c.strata,
		Match:   psm.MatchOptions{K: c.k, Caliper: c.caliper},
		Run:     beamx.Run,
		Progress: func(r psmbeam.Round) {
			fmt.Fprintf(w, "pipeline %2d  %-16s  broadcast %8d B  merged %8d B  %6.2f s\n", r.Index, r.Kind, r.Broadcast, r.Merged, r.Wall.Seconds())
		},
	}
	res, err := psmbeam.Run(ctx, c.dirs, o)
	if err != nil {
		return err
	}
	order := "canonical order (increasing person ids)"
	if !res.Canonical {
		order = "shards not in order of person ids"
	}
	fmt.Fprintf(w, "shards: %d; units: %d, treated %d; %s\n", len(res.Shards), res.Units, res.Treated, order)
	l := res.Logit
	fmt.Fprintf(w, "logit: %d terms, %d iterations, converged %v, deviance %.6f\n", len(l.Coef), l.Iterations, l.Converged, l.Deviance)
	m := res.Matching
	fmt.Fprintf(w, "matching: %d matched, %d unmatched, %d distinct controls\n", m.NMatched, res.Treated-m.NMatched, m.NDistinctControls)
	for _, s := range res.Effects.Series {
		if s.Subgroup != "" {
			continue
		}
		var b strings.Builder
		for _, e := range s.Effects {
			fmt.Fprintf(&b, " %+.4f", e.ATT)
		}
		last := s.Effects[len(s.Effects)-1]
		fmt.Fprintf(w, "%s: ATT by month%s; accumulated at month %d: %+.4f\n", s.Outcome, b.String(), last.Month, last.Accumulated)
	}
	if c.csv != "" {
		if err := atomicfile.Write(c.csv, res.Effects.WriteCSV); err != nil {
			return fmt.Errorf("-csv: %w", err)
		}
	}
	return nil
}

// generate writes the synthetic register of c split into c.parts person
// shards (in order of person ids) to c.work/data/shard-K and returns
// their directories.
func generate(ctx context.Context, c *config) ([]string, error) {
	if c.parts < 1 {
		return nil, fmt.Errorf("-parts %d: want >= 1", c.parts)
	}
	so, err := synthdesign.Population(c.persons, c.treated, c.seed)
	if err != nil {
		return nil, fmt.Errorf("-persons, -treated: %w", err)
	}
	pop, err := synth.Generate(ctx, &so)
	if err != nil {
		return nil, err
	}
	r := &pop.Register
	dirs := make([]string, c.parts)
	for k := range dirs {
		s, err := synthdesign.Split(r, r.Len()*k/c.parts, r.Len()*(k+1)/c.parts)
		if err != nil {
			return nil, err
		}
		dirs[k] = filepath.Join(c.work, "data", fmt.Sprintf("shard-%d", k))
		if err := registerio.WriteDir(dirs[k], s, nil); err != nil {
			return nil, err
		}
	}
	return dirs, nil
}
