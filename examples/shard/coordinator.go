package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/psmeval/psmeval/estimate"
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

// runCoordinator is the coordinator role for n parts: it builds the data
// (of which it reads the covariate names, the treated units' rows and
// the treated outcomes), runs psm.FitLogitShards and
// psm.MatchUnitsShards over file shards and the effect sums round,
// writes result.json and then the done file. It refuses a directory
// that holds a previous run's files.
func runCoordinator(ctx context.Context, c *config, n int) (*result, error) {
	if n < 1 {
		return nil, fmt.Errorf("-coordinate %d: want the number of parts, at least 1", n)
	}
	for _, f := range []string{broadcastFile(c.dir, 0), filepath.Join(c.dir, doneFile)} {
		if exists(f) {
			return nil, fmt.Errorf("%s exists: %s holds a previous run; use an empty directory", f, c.dir)
		}
	}
	d, err := buildData(ctx, c, n)
	if err != nil {
		return nil, fmt.Errorf("coordinator: %w", err)
	}
	co := &coord{c: c, parts: n}
	res, err := co.run(ctx, d)
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

// run is the coordinator's rounds.
func (co *coord) run(ctx context.Context, d *data) (*result, error) {
	n, pan := co.parts, d.pan
	ls := make([]psm.LogitShard, n)
	for k := range ls {
		ls[k] = &fileLogit{co: co, k: k}
	}
	fit, err := psm.FitLogitShards(ctx, ls, pan.CovNames, &psm.LogitOptions{Workers: co.c.workers})
	if err != nil {
		return nil, fmt.Errorf("logit: %w", err)
	}

	// the treated units' scores (their rows are the coordinator's)
	treated := d.sample.Treated
	var ts []float64
	scores := fit.Predict(pan.X, nil)
	for u, t := range treated {
		if t {
			ts = append(ts, scores[u])
		}
	}
	m := model{intercept: fit.Intercept, coef: fit.Coef}
	ms := make([]psm.MatchShard, n)
	fms := make([]*fileMatch, n)
	for k := range ms {
		fms[k] = &fileMatch{co: co, k: k, m: m}
		ms[k] = fms[k]
	}
	um, err := psm.MatchUnitsShards(ctx, ms, ts, treated, nil)
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
	parts := make([]*estimate.EffectSums, n)
	errs := make([]error, n)
	ectx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for k := range n {
		wg.Go(func() {
			out, err := co.exchange(ectx, k, e.b)
			if err == nil {
				parts[k] = &estimate.EffectSums{}
				if err = parts[k].UnmarshalBinary(out); err != nil {
					err = fmt.Errorf("part %d: %w", k, err)
				}
			}
			if err != nil {
				cancel()
			}
			errs[k] = err
		})
	}
	wg.Wait()
	var sums estimate.EffectSums
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("effects: %w", context.Cause(ctx))
	}
	for k := range n {
		if errs[k] != nil {
			return nil, fmt.Errorf("effects: %w", errs[k])
		}
		if err := sums.Merge(parts[k]); err != nil {
			return nil, fmt.Errorf("effects: part %d: %w", k, err)
		}
	}
	eff, err := estimate.EffectsFromSums(d.sample, um, &sums, nil)
	if err != nil {
		return nil, fmt.Errorf("effects: %w", err)
	}
	return newResult(d, fit, um, eff, co.rounds), nil
}
