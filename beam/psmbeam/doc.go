// Package psmbeam runs a psmeval evaluation on person shards as Apache
// Beam pipelines (the Go SDK): the sharded passes of docs/scale-out.md on
// a runner that spreads the shards over workers — the embedded prism
// runner in one process, or Flink, Spark or Dataflow — with the
// library's own partial results merged by Beam combiners.
//
// # Input and output
//
// Run takes a list of person-shard directories, each a register written
// by registerio.WriteDir (Parquet or CSV; every person in exactly one
// shard), and Options: the name of a registered DesignFunc that makes
// the panel.Design of a shard's register (the same design for every
// shard), an optional registered StrataFunc for exact matching, the
// matching rule, the logit's options, the months of the effects, and a
// work directory. It returns the fit (psm.Logit), the matching of all
// units (psm.UnitMatching) and the effects (estimate.Result) that
// panel.Build, psm.FitLogit, psm.MatchUnits and estimate.Effects give on
// the union of the shards' registers in one process: the same units and
// match sets, and the coefficients and effects to rounding (the logit's
// sums and the effect sums are added in another grouping; the tests
// assert 1e-12 absolute).
//
// Units are numbered as the treated of shard 0, of shard 1, ..., then
// the controls of shard 0, of shard 1, ..., each shard's in its panel's
// order (by person id and draw). When the shards hold increasing ranges
// of person ids (Result.Canonical) this is panel.Build's order on the
// whole register, and the matching can be compared unit by unit.
//
// # Passes and pipelines
//
// A Beam pipeline is a directed acyclic graph, and the logit's IRLS is a
// loop whose every step needs the merged sums of the step before: so a
// run is a driver loop of pipelines, one per round of docs/scale-out.md,
// as Beam's iterative examples (k-means) are. Each pipeline is
//
//	Create(shard indices) → Reshuffle → ParDo(shard's partial) →
//	Combine(merge) → ParDo(write the merged result)
//
// The driver writes the round's request to round-IIII.in in the work
// directory; every shard reads it and emits the encoding of its partial
// result; one CombineFn (CreateAccumulator, AddInput, MergeAccumulators,
// ExtractOutput) decodes and merges them with the library's Merge, which
// is associative and commutative, so a runner may combine per bundle and
// then as a tree; its accumulators travel between workers in the
// library's binary encodings (a registered Beam coder); and the merged
// encoding is written to round-IIII.out, which the driver reads. The
// pipelines, in order:
//
//  0. start counts: each shard reads its register and counts its eligible
//     treated persons' start days (panel.CountStarts); merged: the start
//     distribution of all shards (panel.StartCounts).
//  1. layout: each shard reads its register again, builds its panel with
//     Design.Starts = the merged counts (its controls draw their simulated
//     starts from the treated of all shards), writes its panel's
//     covariates, outcomes and strata to shard-KKKK.bin in the work
//     directory, and sends its counts, names, the treated units' outcome
//     rows and (with strata) every unit's stratum.
//  2. logit: psm.FitLogitShards, the library's coordinator, over one
//     psm.LogitShard whose Scan and Pass are pipelines over all shards
//     (psm.LogitScanPartial, psm.LogitPartial): a scan, a pass at the
//     start values and one pass per IRLS iteration.
//  3. matching: the treated units' scores (one record per shard), then
//     psm.MatchUnitsShards over one psm.MatchShard whose calls are
//     pipelines: with a caliper or trimming the moments
//     (psm.MatchMoments), then the candidates for the broadcast query
//     (psm.MatchCandidates).
//  4. effects: the match sets are broadcast in a compact numbering (the
//     treated and the controls in some set); each shard sums its
//     controls' outcomes (estimate.NewEffectSums), merged
//     (estimate.EffectSums), and the driver finishes with
//     estimate.EffectsFromSums.
//
// Pipelines per run: Iterations + 7 (the logit's iterations, about 10 to
// 15), one more with a caliper or trimming. What each moves, for p
// covariates, q = p+1 terms, T treated units, B blocks of 4,096 rows
// that a shard's rows touch, m candidates per treated unit, E set
// entries, D distinct matched controls and W = Σ(Pre+H+1) outcome months:
//
//	pass 0   each shard sends 20 + 8 bytes per distinct start day (at most 1.5 KB)
//	pass 1   the merged counts broadcast; each shard sends T_k·W bytes of treated
//	         outcomes (+ 4 per unit with strata) and writes 8p + W (+ 4) bytes per unit
//	scan     each shard sends 58 + 32p + B(40 + 16p)
//	pass     broadcast 13 + 8p + 16q; each shard sends 44 + B(24 + 4(q+1)(q+2))
//	scores   broadcast 8q; each shard sends 8 bytes per treated unit
//	moments  about 100 bytes per shard
//	match    broadcast 42 + 12T (+ 4T with strata); each shard ≤ T(16 + 28m)
//	effects  broadcast 8T + 12E + 16D; each shard sends 36 + 8T·W
//
// Every request also carries 16 bytes per shard (the numbering of the
// units) and the merged answer is about the size of one shard's (the
// by-shard records of passes 1 and 3 are the sum of the shards').
//
// # Cost
//
// A worker keeps nothing between pipelines: every round after pass 1
// reads the shard's cached panel (8p + W bytes per unit) instead of
// reading and building it again, and a logit pass makes two passes over
// the shard's rows: one at the previous iteration's coefficients, which
// restores the linear predictor that psm.LogitRows keeps between rounds
// in one process (FitLogit's divergence check reads its largest change),
// then the pass at the new coefficients: about n(q+1)(q+2) multiply-adds
// per shard of n units instead of half that. Passes 0 and 1 each read the
// shard's register. The driver holds one byte per unit (the treated
// flags of psm.MatchRun), four more per unit with strata, and the
// treated units' outcomes (T·W bytes).
//
// # Runners and files
//
// Options.Run runs each pipeline: by default the prism runner in this
// process; the psmbeam command (cmd/psmbeam) passes beamx.Run, so that
// --runner=flink|spark|dataflow and Beam's usual flags (--endpoint,
// --environment_type, --project, --region, --staging_location, ...)
// choose the runner. Designs and strata are named, not passed as values:
// on a distributed runner the workers run the same binary, which must
// register them (RegisterDesign, RegisterStrata) in an init function.
// The shard directories and the work directory must be paths that the
// driver and every worker can reach (with prism, local directories; on
// a cluster, a shared file system).
//
// Not supported (errors from the library): psm.LogitOptions.DropSeparated,
// matching without replacement and psm.TieRMatching; subgroup effects,
// the bootstrap and Otsu–Rai intervals (they need every unit's scores or
// outcomes in one place), and pass 5 of docs/scale-out.md.
package psmbeam
