package psmbeam

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	_ "github.com/apache/beam/sdks/v2/go/pkg/beam/runners/prism" // the default runner

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/atomicfile"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// Run evaluates the programme on the person shards whose registers are
// in dirs (registerio.WriteDir's layout, one directory per shard), as a
// sequence of Beam pipelines driven from here (see the package
// documentation for the passes, rounds and bytes). Errors name the
// option, or the shard and its directory; a pipeline's own error comes
// back through the runner as text.
//
// beam.Init must have been called (after flag.Parse, first thing in
// main, as every Beam program does); Run returns an error otherwise.
func Run(ctx context.Context, dirs []string, opts *Options) (*Result, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	switch {
	case !beam.Initialized():
		return nil, errors.New("psmbeam: beam.Init has not been called (call it after flag.Parse in main)")
	case len(dirs) == 0:
		return nil, errors.New("psmbeam: no shard directories")
	case o.Design == "":
		return nil, errors.New("psmbeam: Options.Design: no design named (RegisterDesign)")
	case o.WorkDir == "":
		return nil, errors.New("psmbeam: Options.WorkDir: required (a directory the driver and every worker can read and write)")
	case o.Months < 0:
		return nil, fmt.Errorf("psmbeam: Options.Months %d: want >= 0 (0: every month up to the common horizon)", o.Months)
	case o.Workers < 0:
		return nil, fmt.Errorf("psmbeam: Options.Workers %d: want >= 0 (0: GOMAXPROCS)", o.Workers)
	// the library refuses these too, but only after the logit's pipelines
	case o.Logit.DropSeparated:
		return nil, errors.New("psmbeam: Options.Logit.DropSeparated: not supported on shards (psm.FitLogitShards)")
	case o.Match.NoReplacement:
		return nil, errors.New("psmbeam: Options.Match.NoReplacement: not supported on shards (psm.MatchRun)")
	case o.Match.TieRule == psm.TieRMatching:
		return nil, errors.New("psmbeam: Options.Match.TieRule: TieRMatching is not supported on shards (psm.MatchRun)")
	}
	if _, err := lookupDesign(o.Design); err != nil {
		return nil, fmt.Errorf("psmbeam: %w", err)
	}
	if o.Strata != "" {
		if _, err := lookupStrata(o.Strata); err != nil {
			return nil, fmt.Errorf("psmbeam: %w", err)
		}
	}
	if err := os.MkdirAll(o.WorkDir, 0o755); err != nil {
		return nil, fmt.Errorf("psmbeam: Options.WorkDir: %w", err)
	}
	if _, err := os.Stat(roundPath(o.WorkDir, 0, "in")); !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("psmbeam: Options.WorkDir %s holds a previous run's files (round-0000.in); use an empty directory", o.WorkDir)
	}
	if o.Run == nil {
		o.Run = func(ctx context.Context, p *beam.Pipeline) error {
			_, err := beam.Run(ctx, "prism", p)
			return err
		}
	}
	var read []byte
	if o.Read != nil {
		r := *o.Read
		r.Allocator = nil
		var err error
		if read, err = json.Marshal(&r); err != nil {
			return nil, fmt.Errorf("psmbeam: Options.Read: %w", err)
		}
	}
	d := &driver{o: &o, dirs: slices.Clone(dirs), read: read}
	return d.run(ctx)
}

// driver is the coordinator of a run: it writes each round's request,
// runs its pipeline and reads the merged answer.
type driver struct {
	o      *Options
	dirs   []string
	read   []byte // Options.Read as JSON
	rounds []Round

	// the numbering of the units (after pass 1)
	treated, units             int
	firstTreated, firstControl []int
	ref                        *shardLayout // the first shard with units: its covariates and outcomes are every shard's
}

// roundPath is the file of round i's request ("in") or merged answer
// ("out").
func roundPath(work string, i int, ext string) string {
	return filepath.Join(work, fmt.Sprintf("round-%04d.%s", i, ext))
}

// round runs one pipeline: req is broadcast (a file of the work
// directory), every shard answers (shardFn), the answers are merged
// (mergeFn) and the merged encoding written to a file, which round reads
// back and returns. An empty answer (no shard had rows for the request)
// is an error.
func (d *driver) round(ctx context.Context, req *request) ([]byte, error) {
	t0 := time.Now()
	i := len(d.rounds)
	in, out := roundPath(d.o.WorkDir, i, "in"), roundPath(d.o.WorkDir, i, "out")
	req.treated, req.firstTreated, req.firstControl = d.treated, d.firstTreated, d.firstControl
	msg := req.encode()
	if err := writeFile(in, msg); err != nil {
		return nil, fmt.Errorf("psmbeam: round %d: %w", i, err)
	}
	idx := make([]int, len(d.dirs))
	for k := range idx {
		idx[k] = k
	}
	p, s := beam.NewPipelineWithRoot()
	s = s.Scope(fmt.Sprintf("round %d: %v", i, req.kind))
	shards := beam.Reshuffle(s, beam.CreateList(s, idx))
	parts := beam.ParDo(s, &shardFn{WorkDir: d.o.WorkDir, Request: in, Dirs: d.dirs, Design: d.o.Design,
		Strata: d.o.Strata, Months: d.o.Months, Read: d.read, Workers: d.o.Workers}, shards)
	merged := beam.Combine(s, &mergeFn{Kind: req.kind}, parts)
	beam.ParDo0(s, &writeFn{Path: out}, merged)
	if err := d.o.Run(ctx, p); err != nil {
		return nil, fmt.Errorf("psmbeam: round %d (%v): %w", i, req.kind, err)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		return nil, fmt.Errorf("psmbeam: round %d (%v): the merged answer: %w", i, req.kind, err)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("psmbeam: round %d (%v): no shard answered", i, req.kind)
	}
	r := Round{Index: i, Kind: req.kind.String(), Broadcast: len(msg), Merged: len(b), Wall: time.Since(t0)}
	d.rounds = append(d.rounds, r)
	if d.o.Progress != nil {
		d.o.Progress(r)
	}
	return b, nil
}

// writeFile writes data to path atomically.
func writeFile(path string, data []byte) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// run is the driver loop: the passes in order.
func (d *driver) run(ctx context.Context) (*Result, error) {
	res := &Result{}
	lays, err := d.layout(ctx, res)
	if err != nil {
		return nil, err
	}
	names := d.ref.covNames

	// pass 2: the logit, psm's coordinator over one shard whose calls are
	// pipelines over all shards
	fit, err := psm.FitLogitShards(ctx, []psm.LogitShard{&logitShard{d: d}}, names, &d.o.Logit)
	if err != nil {
		return nil, fmt.Errorf("psmbeam: logit: %w", err)
	}
	res.Logit = fit
	m := model{intercept: fit.Intercept, coef: fit.Coef}

	// pass 3: the treated units' scores, then the matching
	b, err := d.round(ctx, &request{kind: kindScores, model: m})
	if err != nil {
		return nil, err
	}
	ts, err := d.treatedScores(b)
	if err != nil {
		return nil, err
	}
	treated := make([]bool, d.units)
	for u := range d.treated {
		treated[u] = true
	}
	uo := &psm.UnitOptions{Match: d.o.Match}
	if d.o.Strata != "" {
		uo.Strata = make([]int32, 0, d.units)
		for _, l := range lays {
			uo.Strata = append(uo.Strata, l.strata[:l.treated]...)
		}
		for _, l := range lays {
			uo.Strata = append(uo.Strata, l.strata[l.treated:]...)
		}
	}
	um, err := psm.MatchUnitsShards(ctx, []psm.MatchShard{&matchShard{d: d, m: m}}, ts, treated, uo)
	if err != nil {
		return nil, fmt.Errorf("psmbeam: matching: %w", err)
	}
	res.Matching = um

	// pass 4: the effect sums over the compact match sets
	cs, err := compactOf(um)
	if err != nil {
		return nil, err
	}
	b, err = d.round(ctx, &request{kind: kindSums, sets: cs})
	if err != nil {
		return nil, err
	}
	var sums estimate.EffectSums
	if err := sums.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("psmbeam: effect sums: %w", err)
	}
	s := cs.sample(d.ref.outcomes)
	u := 0
	for _, l := range lays {
		for i, o := range l.outcomes {
			w := o.pre + o.h + 1
			copy(s.Outcomes[i].Binary[u*w:], o.treatedY)
		}
		u += l.treated
	}
	eff, err := estimate.EffectsFromSums(s, cs.matching(), &sums, &d.o.Effects)
	if err != nil {
		return nil, fmt.Errorf("psmbeam: effects: %w", err)
	}
	res.Effects = eff
	res.Rounds = d.rounds
	return res, nil
}

// layout runs passes 0 and 1 and numbers the units: the treated of shard 0, of
// shard 1, ..., then the controls of shard 0, of shard 1, .... It checks
// that every shard has the same covariates and outcomes.
func (d *driver) layout(ctx context.Context, res *Result) ([]*shardLayout, error) {
	starts, err := d.round(ctx, &request{kind: kindStarts})
	if err != nil {
		return nil, err
	}
	var sc panel.StartCounts
	if err := sc.UnmarshalBinary(starts); err != nil {
		return nil, fmt.Errorf("psmbeam: start counts: %w", err)
	}
	if sc.Len() == 0 {
		return nil, fmt.Errorf("psmbeam: no shard has an eligible treated person (a start in the window that passes the design's rules)")
	}
	b, err := d.round(ctx, &request{kind: kindLayout, starts: starts})
	if err != nil {
		return nil, err
	}
	var bs byShard
	if err := bs.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("psmbeam: layout: %w", err)
	}
	if len(bs.recs) != len(d.dirs) {
		return nil, fmt.Errorf("psmbeam: layout: %d of %d shards answered", len(bs.recs), len(d.dirs))
	}
	lays := make([]*shardLayout, len(d.dirs))
	for k, r := range bs.recs {
		if r.shard != k {
			return nil, fmt.Errorf("psmbeam: layout: shard %d missing", k)
		}
		if lays[k], err = decodeLayout(r.data); err != nil {
			return nil, fmt.Errorf("psmbeam: shard %d (%s): %w", k, d.dirs[k], err)
		}
	}
	k0 := 0 // the first shard with units
	for k0 < len(lays)-1 && lays[k0].treated+lays[k0].controls == 0 {
		k0++
	}
	l0 := lays[k0]
	d.ref = l0
	if len(l0.covNames) == 0 {
		return nil, fmt.Errorf("psmbeam: Options.Design %q: no covariates", d.o.Design)
	}
	for k, l := range lays {
		if l.treated+l.controls == 0 {
			continue
		}
		if !slices.Equal(l.covNames, l0.covNames) {
			return nil, fmt.Errorf("psmbeam: shard %d (%s): covariates %q, but shard %d (%s) has %q: the design must give every shard the same covariates",
				k, d.dirs[k], l.covNames, k0, d.dirs[k0], l0.covNames)
		}
		same := len(l.outcomes) == len(l0.outcomes)
		for i := 0; same && i < len(l.outcomes); i++ {
			a, b := l.outcomes[i], l0.outcomes[i]
			same = a.name == b.name && a.pre == b.pre && a.h == b.h
		}
		if !same {
			return nil, fmt.Errorf("psmbeam: shard %d (%s): outcomes %s, but shard %d (%s) has %s: the design and the outcomes' data must be the same for every shard",
				k, d.dirs[k], outcomeNames(l), k0, d.dirs[k0], outcomeNames(l0))
		}
	}
	d.firstTreated, d.firstControl = make([]int, len(lays)), make([]int, len(lays))
	for k, l := range lays {
		d.firstTreated[k] = d.treated
		d.treated += l.treated
	}
	d.units = d.treated
	for k, l := range lays {
		d.firstControl[k] = d.units
		d.units += l.controls
	}
	res.Units, res.Treated = d.units, d.treated
	res.Canonical = true
	var lastT, lastC int64
	first := [2]bool{true, true}
	for k, l := range lays {
		sh := Shard{Dir: d.dirs[k], Treated: l.treated, Controls: l.controls,
			FirstTreated: d.firstTreated[k], FirstControl: d.firstControl[k], Notes: l.notes}
		if err := json.Unmarshal(l.counts, &sh.Counts); err != nil {
			return nil, fmt.Errorf("psmbeam: shard %d (%s): counts: %w", k, d.dirs[k], err)
		}
		res.Shards = append(res.Shards, sh)
		if l.treated > 0 {
			res.Canonical = res.Canonical && (first[0] || l.treatedIDs[0] > lastT)
			lastT, first[0] = l.treatedIDs[1], false
		}
		if l.controls > 0 {
			res.Canonical = res.Canonical && (first[1] || l.controlIDs[0] > lastC)
			lastC, first[1] = l.controlIDs[1], false
		}
	}
	if d.treated == 0 || d.units == d.treated {
		return nil, fmt.Errorf("psmbeam: the shards hold %d treated and %d control units: need both", d.treated, d.units-d.treated)
	}
	return lays, nil
}

func outcomeNames(l *shardLayout) string {
	s := "["
	for i, o := range l.outcomes {
		if i > 0 {
			s += " "
		}
		s += fmt.Sprintf("%s(%d..%d)", o.name, -o.pre, o.h)
	}
	return s + "]"
}

// treatedScores returns the treated units' scores in unit order from the
// merged answer of the scores round: one record per shard.
func (d *driver) treatedScores(b []byte) ([]float64, error) {
	var bs byShard
	if err := bs.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("psmbeam: treated scores: %w", err)
	}
	if len(bs.recs) != len(d.dirs) {
		return nil, fmt.Errorf("psmbeam: treated scores: %d of %d shards answered", len(bs.recs), len(d.dirs))
	}
	ts := make([]float64, 0, d.treated)
	for k, r := range bs.recs {
		dd := dec{b: r.data}
		s := dd.floats()
		if err := dd.end(); err != nil {
			return nil, fmt.Errorf("psmbeam: treated scores of shard %d (%s): %w", r.shard, d.dirs[r.shard], err)
		}
		if r.shard != k || d.firstTreated[k] != len(ts) {
			return nil, fmt.Errorf("psmbeam: treated scores: shard %d (%s) missing or of another size", k, d.dirs[k])
		}
		ts = append(ts, s...)
	}
	if len(ts) != d.treated {
		return nil, fmt.Errorf("psmbeam: treated scores: %d, want %d", len(ts), d.treated)
	}
	return ts, nil
}

// logitShard is the psm.LogitShard of the driver: all shards at once,
// each call one pipeline whose shards' partials are merged by the
// runner. It remembers the fit's scan and last coefficients, which every
// pass broadcasts with its own (the workers keep no linear predictor
// between pipelines).
type logitShard struct {
	d     *driver
	start bool
	prev  []float64 // the last pass's coefficients (nil: none, or the start values)
}

// Scan implements psm.LogitShard.
func (s *logitShard) Scan(ctx context.Context, start bool) (*psm.LogitScanPartial, error) {
	s.start, s.prev = start, nil
	b, err := s.d.round(ctx, &request{kind: kindScan, start: start})
	if err != nil {
		return nil, err
	}
	var part psm.LogitScanPartial
	if err := part.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("psmbeam: logit scan: %w", err)
	}
	return &part, nil
}

// Pass implements psm.LogitShard.
func (s *logitShard) Pass(ctx context.Context, plan *psm.LogitPlan, beta []float64) (*psm.LogitPartial, error) {
	pb, err := plan.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b, err := s.d.round(ctx, &request{kind: kindPass, start: s.start, prev: s.prev, plan: pb, beta: beta})
	if err != nil {
		return nil, err
	}
	var part psm.LogitPartial
	if err := part.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("psmbeam: logit pass: %w", err)
	}
	s.prev = slices.Clone(beta)
	return &part, nil
}

// matchShard is the psm.MatchShard of the driver: the controls of all
// shards, each call one pipeline.
type matchShard struct {
	d *driver
	m model
}

// Moments implements psm.MatchShard.
func (s *matchShard) Moments(ctx context.Context, dist psm.Distance) (*psm.MatchMoments, error) {
	b, err := s.d.round(ctx, &request{kind: kindMoments, model: s.m, dist: dist})
	if err != nil {
		return nil, err
	}
	var m psm.MatchMoments
	if err := m.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("psmbeam: match moments: %w", err)
	}
	return &m, nil
}

// Candidates implements psm.MatchShard.
func (s *matchShard) Candidates(ctx context.Context, q *psm.MatchQuery) (*psm.MatchCandidates, error) {
	qb, err := q.MarshalBinary()
	if err != nil {
		return nil, err
	}
	b, err := s.d.round(ctx, &request{kind: kindCandidates, model: s.m, query: qb})
	if err != nil {
		return nil, err
	}
	var c psm.MatchCandidates
	if err := c.UnmarshalBinary(b); err != nil {
		return nil, fmt.Errorf("psmbeam: match candidates: %w", err)
	}
	return &c, nil
}
