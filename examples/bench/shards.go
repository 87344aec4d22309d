package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/psm"
)

// shardedReport is the "sharded" object of the -json output (with
// -shards): the logit, the matching and the effects run again with the
// units split into contiguous shards, and the largest absolute
// differences from the single-process results.
type shardedReport struct {
	Shards int `json:"shards"`
	// Bounds are the shards' unit ranges: shard k holds units
	// Bounds[k] to Bounds[k+1]-1 (rows of the logit, and the control
	// units among them for the matching).
	Bounds []int `json:"bounds"`
	// Aligned says that every shard starts at a multiple of 4096 units,
	// the logit's block: then the sharded fit is FitLogit's bit for bit.
	Aligned bool `json:"logit_aligned"`
	// MaxAbsDiff is the largest of Parts.
	MaxAbsDiff float64 `json:"max_abs_diff"`
	// BitIdentical says that every compared value has the same bits as
	// the single-process one: with aligned shards, and effects whose
	// match sets each lie in one shard (estimate.EffectSums: a set's
	// terms split over shards are added in another order).
	BitIdentical bool         `json:"bit_identical"`
	Parts        shardedParts `json:"parts"`
	// Wall is the wall time of the sharded logit, scores, matching and
	// effects, in seconds.
	Wall float64 `json:"wall_s"`
}

// shardedParts are the largest absolute differences, sharded minus
// single-process, of each kind of result.
type shardedParts struct {
	Coefficients   float64 `json:"coefficients"`    // the logit's coefficients
	Scores         float64 `json:"scores"`          // every unit's score
	ControlWeights float64 `json:"control_weights"` // every control's matched weight (psm.Matching.ControlWeight)
	Effects        float64 `json:"effects"`         // treated mean, control mean, ATT and accumulated effect of every reported (outcome, month)
}

// runSharded runs the logit, the scores, the matching and the effects of
// the pipeline again with the units split at bounds (increasing, from 0
// to the number of units; shard k holds units bounds[k] to
// bounds[k+1]-1): psm.FitLogitShards over one psm.LogitRows per shard,
// the scores from its coefficients, psm.MatchUnitsShards over one
// psm.MatchControls per shard (the shard's control units) and the
// effects on that matching from the shards' estimate.EffectSums, and compares each with the
// single-process result. The pipeline's options must be ones the sharded
// functions accept: a logit that dropped covariates or left units out
// for separation (psm.LogitOptions.DropSeparated) is an error naming the
// option.
func (p *pipeline) runSharded(ctx context.Context, bounds []int) (*shardedReport, error) {
	pan := p.panel
	n := pan.Len()
	S := len(bounds) - 1
	if S < 1 || bounds[0] != 0 || bounds[S] != n || !slices.IsSorted(bounds) {
		return nil, fmt.Errorf("shard bounds %v: want increasing from 0 to %d (units)", bounds, n)
	}
	if len(p.dropped) > 0 || len(p.excluded) > 0 {
		return nil, fmt.Errorf("the logit dropped %s and left %d units out for separation (psm.LogitOptions.DropSeparated), which psm.FitLogitShards does not support",
			strings.Join(p.dropped, ", "), len(p.excluded))
	}
	r := &shardedReport{Shards: S, Bounds: bounds, Aligned: true}
	for _, b := range bounds[:S] {
		r.Aligned = r.Aligned && b%benchdata.LogitBlock == 0
	}
	start := time.Now()
	workers := p.cfg.workers
	if workers == 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, workers/S)

	// the logit: FitLogit's options less DropSeparated (which left the
	// model unchanged: nothing dropped)
	y := pan.TreatedIndicator()
	ls := make([]psm.LogitShard, S)
	for k := range S {
		rows, err := psm.NewLogitRows(pan.X, y, nil, bounds[k], bounds[k+1], &psm.LogitRowsOptions{Workers: workers})
		if err != nil {
			return nil, err
		}
		ls[k] = rows
	}
	fit, err := psm.FitLogitShards(ctx, ls, pan.CovNames, &psm.LogitOptions{Workers: p.cfg.workers})
	if err != nil {
		var sep *psm.SeparationError
		if errors.As(err, &sep) {
			return nil, fmt.Errorf("sharded logit: %w (the single-process fit drops separating covariates with psm.LogitOptions.DropSeparated, which psm.FitLogitShards does not support)", err)
		}
		return nil, fmt.Errorf("sharded logit: %w", err)
	}

	// the scores, shard by shard
	_, cols := pan.X.Dims()
	scores := make([]float64, n)
	for k := range S {
		lo, hi := bounds[k], bounds[k+1]
		if lo == hi {
			continue
		}
		fit.Predict(pan.X.Slice(lo, hi, 0, cols), scores[lo:hi])
	}

	// the matching: shard k holds its control units
	treated := p.sample.Treated
	var ts []float64
	ms := make([]psm.MatchShard, S)
	for k := range S {
		var units []int
		var cs []float64
		for u := bounds[k]; u < bounds[k+1]; u++ {
			if treated[u] {
				ts = append(ts, scores[u])
			} else {
				units = append(units, u)
				cs = append(cs, scores[u])
			}
		}
		c, err := psm.NewMatchControls(units, cs, nil)
		if err != nil {
			return nil, err
		}
		ms[k] = c
	}
	m, err := psm.MatchUnitsShards(ctx, ms, ts, treated, nil)
	if err != nil {
		return nil, fmt.Errorf("sharded matching: %w", err)
	}
	// the effects: each shard's control sums (estimate.EffectSums), merged
	// in order of shards
	var sums estimate.EffectSums
	for k := range S {
		part, err := estimate.NewEffectSums(p.sample, m, bounds[k], bounds[k+1])
		if err == nil {
			err = sums.Merge(part)
		}
		if err != nil {
			return nil, fmt.Errorf("sharded effects: %w", err)
		}
	}
	eff, err := estimate.EffectsFromSums(p.sample, m, &sums, nil)
	if err != nil {
		return nil, fmt.Errorf("sharded effects: %w", err)
	}
	r.Wall = time.Since(start).Seconds()

	var d differ
	r.Parts.Coefficients = d.slices(p.logit.Coef, fit.Coef)
	r.Parts.Scores = d.slices(p.scores, scores)
	if !slices.Equal(p.matching.ControlUnits, m.ControlUnits) {
		return nil, fmt.Errorf("sharded matching: other control units than the single-process matching's")
	}
	r.Parts.ControlWeights = d.slices(p.matching.ControlWeight, m.ControlWeight)
	r.Parts.Effects = d.slices(effectValues(p.effects), effectValues(eff))
	r.MaxAbsDiff = max(r.Parts.Coefficients, r.Parts.Scores, r.Parts.ControlWeights, r.Parts.Effects)
	r.BitIdentical = !d.bitsDiffer
	return r, nil
}

// differ measures absolute differences and remembers whether any value
// differed in its bits.
type differ struct{ bitsDiffer bool }

// slices returns max |a_i − b_i|: 0 for equal values and for two NaNs,
// +Inf when the lengths differ or only one value is NaN.
func (d *differ) slices(a, b []float64) float64 {
	if len(a) != len(b) {
		d.bitsDiffer = true
		return math.Inf(1)
	}
	m := 0.0
	for i, x := range a {
		y := b[i]
		if math.Float64bits(x) == math.Float64bits(y) {
			continue
		}
		d.bitsDiffer = true
		switch {
		case math.IsNaN(x) && math.IsNaN(y):
		case math.IsNaN(x) || math.IsNaN(y):
			m = math.Inf(1)
		default:
			m = max(m, math.Abs(x-y))
		}
	}
	return m
}

// effectRows returns the effects the report lists: every outcome and
// month of the whole sample.
func effectRows(res *estimate.Result) []effectRow {
	var rows []effectRow
	for _, se := range res.Series {
		if se.Subgroup != "" {
			continue
		}
		for _, e := range se.Effects {
			rows = append(rows, effectRow{se.Outcome, e.Month, e.TreatedMean, e.ControlMean, e.ATT, e.Accumulated})
		}
	}
	return rows
}

// effectValues returns the treated mean, control mean, ATT and
// accumulated effect of every row of effectRows, in order.
func effectValues(res *estimate.Result) []float64 {
	var v []float64
	for _, e := range effectRows(res) {
		v = append(v, e.TreatedMean, e.ControlMean, e.ATT, e.Accumulated)
	}
	return v
}
