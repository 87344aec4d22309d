package psmbeam

import (
	"context"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/psm"
)

// Options configure Run. Design and WorkDir are required; the zero value
// of every other field is its documented default.
type Options struct {
	// Design names the DesignFunc (RegisterDesign) that makes each
	// shard's panel.Design. Required.
	Design string
	// WorkDir is a directory that the driver and every worker can read
	// and write (a local directory with prism; a shared file system such
	// as NFS with Flink or Spark): each pipeline reads its broadcast
	// from it and writes its merged result to it, and pass 1 caches
	// every shard's built panel there (shard-K.bin). Created if missing;
	// it must not hold a previous run's files. Required.
	WorkDir string
	// Read configures registerio.ReadDir on the workers (its Allocator
	// is not used there: nil). Default nil: ReadDir's defaults.
	Read *registerio.ReadOptions
	// Months bounds the event months of the effects: each outcome is
	// estimated in months −Pre..min(HCommon, Months−1) (months 0..Months−1
	// after the start). Default 0: up to the common horizon HCommon of
	// every outcome (estimate.FromPanel's).
	Months int
	// Strata names the StrataFunc (RegisterStrata) that gives the units
	// their strata for exact matching ("cohort": the start month).
	// Default "": no strata. With strata the driver receives 4 bytes per
	// unit (psm.MatchRun takes the strata of all units).
	Strata string
	// Logit configures the propensity model (psm.FitLogitShards: the
	// options of psm.FitLogit except DropSeparated and Workers). Default:
	// R's glm(family = binomial).
	Logit psm.LogitOptions
	// Match is the matching rule (psm.MatchUnitsShards: with replacement
	// and the default tie rule; its weight and strata fields must be
	// nil). Default: the SFI rule, one nearest neighbour on the
	// probability scale with ties averaged.
	Match psm.MatchOptions
	// Effects configures the effects (estimate.EffectsFromSums).
	Effects estimate.EffectOptions
	// Workers bounds the goroutines of a shard's logit passes
	// (psm.LogitRowsOptions.Workers). Default 0: GOMAXPROCS of the worker.
	// The panel build uses the design's Workers.
	Workers int
	// Run runs one pipeline to completion. Default nil: the prism runner
	// in this process (beam.Run(ctx, "prism", p)). The psmbeam command
	// passes beamx.Run, which takes the runner from the --runner flag.
	Run func(ctx context.Context, p *beam.Pipeline) error
	// Progress, when not nil, is called after every pipeline with its
	// round.
	Progress func(r Round)
}

// Result is what Run returns: the fit, the matching and the effects of
// the units of all shards, in the unit numbering described in the
// package documentation.
type Result struct {
	// Logit is the propensity model (psm.FitLogitShards).
	Logit *psm.Logit
	// Matching is the matching of all units (psm.MatchUnitsShards); its
	// Scores are nil (the controls' scores stay on the shards).
	Matching *psm.UnitMatching
	// Effects are the monthly and accumulated effects of every outcome
	// (estimate.EffectsFromSums).
	Effects *estimate.Result
	// Units and Treated count the units of all shards and the treated
	// among them.
	Units, Treated int
	// Shards describes each shard, in the order of the directories.
	Shards []Shard
	// Canonical reports that the shards hold increasing ranges of person
	// ids (among the treated and among the controls), so that the unit
	// numbering is panel.Build's canonical order on the union of the
	// shards' registers.
	Canonical bool
	// Rounds lists the pipelines run, in order.
	Rounds []Round
}

// Shard is one person shard of a run.
type Shard struct {
	// Dir is the shard's register directory.
	Dir string
	// Treated and Controls count its units.
	Treated, Controls int
	// FirstTreated and FirstControl are the numbers, among all units, of
	// its first treated and first control unit: its treated are units
	// FirstTreated.. FirstTreated+Treated−1 and its controls
	// FirstControl..FirstControl+Controls−1.
	FirstTreated, FirstControl int
	// Counts are the sizes at every step of the shard's panel build.
	Counts panel.Counts
	// Notes are panel.Panel.Notes of the shard.
	Notes []string
}

// Round is one pipeline of a run.
type Round struct {
	// Index numbers the pipelines of the run from 0 (the files
	// round-IIII.in and round-IIII.out of WorkDir).
	Index int
	// Kind says what the shards computed: "start counts" (pass 0),
	// "layout" (pass 1), "logit scan", "logit pass", "treated scores",
	// "match moments", "match candidates", "effect sums".
	Kind string
	// Broadcast is the size in bytes of what every shard read (the
	// driver's request); Merged the size of the merged answer the driver
	// read back.
	Broadcast, Merged int
	// Wall is the time from building the pipeline to reading its result.
	Wall time.Duration
}
