package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// coord runs the rounds of the coordinator over the files in dir: each
// round one broadcast, written by the first part's call, and one answer
// per part. It is the transport under the file shards (fileLogit,
// fileMatch), which psm.FitLogitShards and psm.MatchUnitsShards call at
// once, one goroutine per part.
type coord struct {
	c      *config
	parts  int
	mu     sync.Mutex
	round  int  // the current round
	sent   bool // its broadcast written
	got    int  // answers received in the current round
	rounds []roundStats
	err    error // the broadcast error of the current round
	failed error // the first part's failure: it ends every wait
	// layout is the parts' units (data mode), sent with the logit scan
	layout []byte
}

// roundStats is one round in result.json: its kind and the bytes moved.
type roundStats struct {
	Round     int    `json:"round"`
	Kind      string `json:"kind"`
	Broadcast int    `json:"broadcast_bytes"` // the request, written once, read by every part
	Parts     int    `json:"parts_bytes"`     // the answers of all parts
}

// exchange takes part k's turn in the current round: it writes msg as
// the round's broadcast when no other part has, waits for part k's
// answer and returns it. The last answer of a round ends it.
func (co *coord) exchange(ctx context.Context, k int, msg []byte) ([]byte, error) {
	co.mu.Lock()
	r := co.round
	if !co.sent {
		co.sent = true
		co.err = writeFile(broadcastFile(co.c.dir, r), msg)
		co.rounds = append(co.rounds, roundStats{Round: r, Kind: kindName(msg[0]), Broadcast: len(msg)})
	}
	err := co.err
	co.mu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("round %d: %w", r, err)
	}
	b, err := waitFile(ctx, partFile(co.c.dir, r, k), co.c.poll, func() error {
		if e, err := os.ReadFile(errorFile(co.c.dir, k)); err == nil {
			return fmt.Errorf("part %d failed: %s", k, trimNL(e))
		}
		co.mu.Lock()
		defer co.mu.Unlock()
		return co.failed
	})
	if err != nil {
		co.mu.Lock()
		if co.failed == nil {
			co.failed = err
		}
		co.mu.Unlock()
		return nil, fmt.Errorf("round %d, part %d: %w", r, k, err)
	}
	co.mu.Lock()
	co.rounds[r].Parts += len(b)
	co.got++
	if co.got == co.parts {
		co.round, co.sent, co.got = co.round+1, false, 0
	}
	co.mu.Unlock()
	return b, nil
}

func trimNL(b []byte) string {
	for len(b) > 0 && b[len(b)-1] == '\n' {
		b = b[:len(b)-1]
	}
	return string(b)
}

// fileLogit is the psm.LogitShard of part k: its calls are rounds of
// files.
type fileLogit struct {
	co *coord
	k  int
}

// Scan implements psm.LogitShard.
func (s *fileLogit) Scan(ctx context.Context, start bool) (*psm.LogitScanPartial, error) {
	e := enc{b: []byte{kindScan}}
	b := uint8(0)
	if start {
		b = 1
	}
	e.u8(b)
	e.b = append(e.b, s.co.layout...)
	out, err := s.co.exchange(ctx, s.k, e.b)
	if err != nil {
		return nil, err
	}
	var part psm.LogitScanPartial
	if err := part.UnmarshalBinary(out); err != nil {
		return nil, fmt.Errorf("part %d: %w", s.k, err)
	}
	return &part, nil
}

// Pass implements psm.LogitShard.
func (s *fileLogit) Pass(ctx context.Context, plan *psm.LogitPlan, beta []float64) (*psm.LogitPartial, error) {
	pb, err := plan.MarshalBinary()
	if err != nil {
		return nil, err
	}
	e := enc{b: []byte{kindPass}}
	e.bytes(pb)
	if beta == nil {
		e.u8(0)
	} else {
		e.u8(1)
		e.floats(beta)
	}
	out, err := s.co.exchange(ctx, s.k, e.b)
	if err != nil {
		return nil, err
	}
	var part psm.LogitPartial
	if err := part.UnmarshalBinary(out); err != nil {
		return nil, fmt.Errorf("part %d: %w", s.k, err)
	}
	return &part, nil
}

// fileMatch is the psm.MatchShard of part k: its calls are rounds of
// files. It keeps its candidates for the effects round.
type fileMatch struct {
	co    *coord
	k     int
	m     model
	cands *psm.MatchCandidates
}

// Moments implements psm.MatchShard.
func (s *fileMatch) Moments(ctx context.Context, d psm.Distance) (*psm.MatchMoments, error) {
	e := enc{b: []byte{kindMoments}}
	e.model(s.m)
	e.u8(uint8(d))
	out, err := s.co.exchange(ctx, s.k, e.b)
	if err != nil {
		return nil, err
	}
	var m psm.MatchMoments
	if err := m.UnmarshalBinary(out); err != nil {
		return nil, fmt.Errorf("part %d: %w", s.k, err)
	}
	return &m, nil
}

// Candidates implements psm.MatchShard.
func (s *fileMatch) Candidates(ctx context.Context, q *psm.MatchQuery) (*psm.MatchCandidates, error) {
	qb, err := q.MarshalBinary()
	if err != nil {
		return nil, err
	}
	e := enc{b: []byte{kindCandidates}}
	e.model(s.m)
	e.bytes(qb)
	out, err := s.co.exchange(ctx, s.k, e.b)
	if err != nil {
		return nil, err
	}
	var c psm.MatchCandidates
	if err := c.UnmarshalBinary(out); err != nil {
		return nil, fmt.Errorf("part %d: %w", s.k, err)
	}
	s.cands = &c
	return &c, nil
}

// inputs is what the coordinator holds of the data: the covariate
// names, every unit's treated flag, and the treated units' covariates and
// outcomes (in unit order); the controls' rows stay with the parts.
type inputs struct {
	names    []string
	treated  []bool
	tx       *mat.Dense       // treated × covariates
	ts       *estimate.Sample // the treated units
	bounds   []int            // part k holds units bounds[k]..bounds[k+1]-1
	aligned  bool             // every part starts at a multiple of 4096 units
	persons  int
	starts   *panel.StartCounts // data mode: the merged start counts
	dataMode bool
}

// memoryInputs takes the inputs from the coordinator's own build of the
// whole panel (memory mode).
func memoryInputs(d *data) *inputs {
	in := partInfoOf(d.pan, d.sample, d.pan.Counts.Persons)
	tx, ts := treatedInputs([]*partInfo{in})
	return &inputs{names: d.pan.CovNames, treated: d.sample.Treated, tx: tx, ts: ts,
		bounds: d.bounds, aligned: d.aligned, persons: in.persons}
}

// runCoordinator is the coordinator role for n parts: it builds the data
// (memory mode: the whole panel, of which it keeps the inputs) or gathers
// the inputs from the parts (data mode, c.data: the start counts and
// treated rows rounds), runs psm.FitLogitShards and psm.MatchUnitsShards
// over file shards and the effect sums round, writes result.json and
// then the done file. It refuses a directory that holds a previous run's
// files.
func runCoordinator(ctx context.Context, c *config, n int) (*result, error) {
	if n < 1 {
		return nil, fmt.Errorf("-coordinate %d: want the number of parts, at least 1", n)
	}
	for _, f := range []string{broadcastFile(c.dir, 0), filepath.Join(c.dir, doneFile)} {
		if exists(f) {
			return nil, fmt.Errorf("%s exists: %s holds a previous run; use an empty directory", f, c.dir)
		}
	}
	co := &coord{c: c, parts: n}
	var in *inputs
	if c.data != "" {
		if err := checkSplit(c.data, n); err != nil {
			return nil, err
		}
		var err error
		if in, err = co.gather(ctx); err != nil {
			return nil, err
		}
	} else {
		d, err := buildData(ctx, c, n)
		if err != nil {
			return nil, fmt.Errorf("coordinator: %w", err)
		}
		in = memoryInputs(d)
	}
	res, err := co.run(ctx, in)
	if err != nil {
		return nil, err
	}
	if err := writeJSON(filepath.Join(c.dir, resultFile), res); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(c.dir, doneFile), nil); err != nil {
		return nil, err
	}
	return res, nil
}

// checkSplit checks that the split directory dir (-data of the
// coordinator), when it holds splitFile, was split into n parts.
func checkSplit(dir string, n int) error {
	b, err := os.ReadFile(filepath.Join(dir, splitFile))
	if os.IsNotExist(err) {
		return nil // shards from elsewhere
	}
	if err != nil {
		return err
	}
	var m splitManifest
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("-data %s: %s: %w", dir, splitFile, err)
	}
	if m.Parts != n {
		return fmt.Errorf("-data %s holds %d shards, but -coordinate %d", dir, m.Parts, n)
	}
	return nil
}

// roundAll runs one round in which every part answers the broadcast msg and
// returns the answers in part order; the first failure cancels the
// other parts' waits.
func (co *coord) roundAll(ctx context.Context, msg []byte) ([][]byte, error) {
	n := co.parts
	out := make([][]byte, n)
	errs := make([]error, n)
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			out[k], errs[k] = co.exchange(rctx, k, msg)
			if errs[k] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, context.Cause(ctx)
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// gather runs passes 0 and 1 of the data mode: the parts' start counts,
// merged and broadcast; then the parts build their panels and send their
// sizes, covariate names, outcome layout and treated rows, which must
// agree in names and layout.
func (co *coord) gather(ctx context.Context) (*inputs, error) {
	answers, err := co.roundAll(ctx, []byte{kindStarts})
	if err != nil {
		return nil, fmt.Errorf("start counts: %w", err)
	}
	var merged panel.StartCounts
	for k, b := range answers {
		var sc panel.StartCounts
		if err := sc.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("start counts: part %d: %w", k, err)
		}
		if err := merged.Merge(&sc); err != nil {
			return nil, fmt.Errorf("start counts: part %d: %w", k, err)
		}
	}
	if merged.Len() == 0 {
		return nil, fmt.Errorf("start counts: no part has an eligible treated person starting in the window: %w", panel.ErrEmptyWindow)
	}
	mb, err := merged.MarshalBinary()
	if err != nil {
		return nil, err
	}
	e := enc{b: []byte{kindTreated}}
	e.bytes(mb)
	if answers, err = co.roundAll(ctx, e.b); err != nil {
		return nil, fmt.Errorf("treated rows: %w", err)
	}
	parts := make([]*partInfo, co.parts)
	l := &layout{}
	in := &inputs{starts: &merged, dataMode: true}
	for k, b := range answers {
		if parts[k], err = decodePartInfo(b); err != nil {
			return nil, fmt.Errorf("part %d: %w", k, err)
		}
		if err := parts[k].sameLayout(parts[0], k); err != nil {
			return nil, err
		}
		l.units, l.treated = append(l.units, parts[k].units), append(l.treated, parts[k].treated)
		in.persons += parts[k].persons
	}
	in.names = parts[0].names
	in.treated = l.flags()
	in.bounds = l.bounds()
	in.aligned = true
	for _, b := range in.bounds[:co.parts] {
		in.aligned = in.aligned && b%benchdata.LogitBlock == 0
	}
	nt, nu := 0, len(in.treated)
	for _, p := range parts {
		nt += p.treated
	}
	if nt == 0 || nt == nu {
		return nil, fmt.Errorf("the parts' panels have %d treated and %d control units: need both", nt, nu-nt)
	}
	in.tx, in.ts = treatedInputs(parts)
	le := enc{}
	l.encode(&le)
	co.layout = le.b
	return in, nil
}

// run is the coordinator's rounds from the logit on.
func (co *coord) run(ctx context.Context, in *inputs) (*result, error) {
	n := co.parts
	ls := make([]psm.LogitShard, n)
	for k := range ls {
		ls[k] = &fileLogit{co: co, k: k}
	}
	fit, err := psm.FitLogitShards(ctx, ls, in.names, &psm.LogitOptions{Workers: co.c.workers})
	if err != nil {
		return nil, fmt.Errorf("logit: %w", err)
	}

	// the treated units' scores (their rows are the coordinator's)
	ts := fit.Predict(in.tx, nil)
	m := model{intercept: fit.Intercept, coef: fit.Coef}
	ms := make([]psm.MatchShard, n)
	fms := make([]*fileMatch, n)
	for k := range ms {
		fms[k] = &fileMatch{co: co, k: k, m: m}
		ms[k] = fms[k]
	}
	um, err := psm.MatchUnitsShards(ctx, ms, ts, in.treated, nil)
	if err != nil {
		return nil, fmt.Errorf("matching: %w", err)
	}

	// the effect sums: the merged candidates broadcast, every part
	// rebuilds the matching and sums its controls' outcomes
	var all psm.MatchCandidates
	for _, f := range fms {
		if err := all.Merge(f.cands); err != nil {
			return nil, fmt.Errorf("matching: %w", err)
		}
	}
	cb, err := all.MarshalBinary()
	if err != nil {
		return nil, err
	}
	e := enc{b: []byte{kindEffects}}
	e.floats(ts)
	e.bytes(cb)
	answers, err := co.roundAll(ctx, e.b)
	if err != nil {
		return nil, fmt.Errorf("effects: %w", err)
	}
	var sums estimate.EffectSums
	for k, b := range answers {
		var part estimate.EffectSums
		if err := part.UnmarshalBinary(b); err != nil {
			return nil, fmt.Errorf("effects: part %d: %w", k, err)
		}
		if err := sums.Merge(&part); err != nil {
			return nil, fmt.Errorf("effects: part %d: %w", k, err)
		}
	}
	eff, err := estimate.EffectsFromSumsTreated(in.ts, um, &sums, nil)
	if err != nil {
		return nil, fmt.Errorf("effects: %w", err)
	}
	res := newResult(in, fit, um, eff, co.rounds)
	for k := range n {
		res.PartStats = append(res.PartStats, readStats(co.c.dir, k))
	}
	return res, nil
}
