package psm

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/psmeval/psmeval/internal/pool"
	"github.com/psmeval/psmeval/internal/rng"
)

// BootstrapOptions configures Bootstrap. The zero value (or a nil
// pointer) is the default: 999 replicates from seed 0, 95 % percentile
// intervals, GOMAXPROCS workers, and the zero MatchOptions (the SFI rule).
type BootstrapOptions struct {
	// Replicates is the number of bootstrap replicates; default (0) 999,
	// at least 2.
	Replicates int
	// Seed seeds the replicates: replicate b draws from PCG streams keyed
	// by (Seed, b), so the draws and the results are bit-identical for
	// any Workers.
	Seed uint64
	// Level is the confidence level of the intervals; default (0) 0.95.
	Level float64
	// Workers bounds the replicates run at once; default (0) GOMAXPROCS.
	Workers int
	// Match is the matching rule of the point estimate and of every
	// replicate: every option of MatchOptions applies (K, caliper, trim,
	// strata, matching without replacement, the tie rule and tolerance).
	// TreatedWeights and ControlWeights are the units' frequency weights
	// (whole numbers, the copies of each unit that the replicates
	// resample).
	Match MatchOptions
	// Progress, when set, is called after every replicate with the number
	// done and the total; calls are serialized.
	Progress func(done, total int)
}

// BootstrapResult holds the point estimates and the bootstrap intervals
// of each outcome (in the order given to Bootstrap).
type BootstrapResult struct {
	// Level is the confidence level of Low and High.
	Level float64
	// Replicates is the number of replicates run; Valid the number in
	// which at least one treated unit was matched (the others, possible
	// with a caliper, strata or trimming, have NaN estimates and are left
	// out of the intervals).
	Replicates, Valid int
	// ATT is the point estimate of each outcome: ATT(yTreated[k],
	// yControl[k], Match(treated, control, &opts.Match)).ATT.
	ATT []float64
	// Low and High are the percentile interval of each outcome: R's
	// quantile(type = 7) at (1 − Level)/2 and (1 + Level)/2 of the valid
	// replicate estimates (NaN when fewer than 2 are valid).
	Low, High []float64
	// Draws[k][b] is replicate b's estimate of outcome k (NaN when
	// replicate b matched no treated unit).
	Draws [][]float64
}

// Stream ids of Bootstrap's per-replicate PCG generators, one per group.
const (
	bootStreamTreated uint64 = 0x7472656174656421 // "treated!"
	bootStreamControl uint64 = 0x636f6e74726f6c73 // "controls"
)

// Bootstrap matches treated to control units on their scores with
// opts.Match, estimates the ATT of every outcome (yTreated[k] and
// yControl[k], one value per treated and per control unit), and forms
// percentile intervals from opts.Replicates bootstrap replicates.
//
// A replicate resamples each group separately (the treated, then the
// controls; stratified by group, as R's boot with strata = treatment):
// a group whose frequency weights sum to W draws W copies with
// replacement from its W unit copies (W units without weights), and a
// unit's replicate frequency weight is the number of draws that fell on
// its copies. The replicate is then matched again through the same Index
// with those weights — every option of opts.Match applies in every
// replicate, a caliper in standard deviations of the replicate's own
// scores, as R Matching::Match would compute it on the resampled rows —
// and every outcome's ATT is recomputed. With replacement, a replicate
// equals psm.Match and ATT on the resampled data with duplicated rows.
//
// Draws: unit copies are ordered by (stratum, score, weight, outcomes,
// input position) within each group before drawing, so that reordering
// the input rows moves no draw between distinguishable units; with
// replacement the intervals are then the same for any row order up to
// the order of floating-point sums (about 1e-15). Without replacement the
// treated are matched in input order (as R does), so the order matters
// by construction.
//
// The plain bootstrap of nearest-neighbour matching with a fixed number
// of neighbours is not consistent for the variance (Abadie and Imbens
// 2008); it is offered as what applied work reports, beside the
// Abadie-Imbens standard error of ATT.
//
// Cost per replicate: O(n) draws (O(n log n) with weights) plus
// (*Index).MatchInto and one ATT pass per outcome. Errors: *InputError
// values for bad options or data (as Match and ATT); ctx's error when it
// is cancelled (workers stop after their current replicate).
func Bootstrap(ctx context.Context, treated, control []float64, yTreated, yControl [][]float64, opts *BootstrapOptions) (*BootstrapResult, error) {
	var o BootstrapOptions
	if opts != nil {
		o = *opts
	}
	if o.Replicates == 0 {
		o.Replicates = 999
	}
	if o.Replicates < 2 {
		return nil, optionError("Replicates", "%d replicates; want at least 2", o.Replicates)
	}
	if o.Level == 0 {
		o.Level = 0.95
	}
	if !(o.Level > 0 && o.Level < 1) {
		return nil, optionError("Level", "%v; want 0 < Level < 1", o.Level)
	}
	if o.Workers < 0 {
		return nil, optionError("Workers", "%d; want >= 0 (0 = GOMAXPROCS)", o.Workers)
	}
	if o.Workers == 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if len(yTreated) != len(yControl) {
		return nil, optionError("yControl", "%d outcomes for the controls, %d for the treated", len(yControl), len(yTreated))
	}
	for k := range yTreated {
		if len(yTreated[k]) != len(treated) {
			return nil, lengthError("yTreated", len(yTreated[k]), len(treated), "treated")
		}
		if len(yControl[k]) != len(control) {
			return nil, lengthError("yControl", len(yControl[k]), len(control), "control")
		}
	}
	for k := range yTreated {
		if err := bootCheckOutcome("yTreated", k, yTreated[k]); err != nil {
			return nil, err
		}
		if err := bootCheckOutcome("yControl", k, yControl[k]); err != nil {
			return nil, err
		}
	}
	mo := o.Match
	if err := bootCheckWeights("TreatedWeights", mo.TreatedWeights, len(treated), "treated"); err != nil {
		return nil, err
	}
	if err := bootCheckWeights("ControlWeights", mo.ControlWeights, len(control), "control"); err != nil {
		return nil, err
	}

	// The point estimate (validates the scores, options and outcomes).
	ix, err := NewIndex(control, &mo)
	if err != nil {
		return nil, err
	}
	m, err := ix.Match(treated, &mo)
	if err != nil {
		return nil, err
	}
	res := &BootstrapResult{Level: o.Level, Replicates: o.Replicates,
		ATT: make([]float64, len(yTreated)), Low: make([]float64, len(yTreated)),
		High: make([]float64, len(yTreated)), Draws: make([][]float64, len(yTreated))}
	ev, err := NewATTEvaluator(m, nil)
	if err != nil {
		return nil, err
	}
	for k := range yTreated {
		r, err := ev.ATT(yTreated[k], yControl[k])
		if err != nil {
			return nil, err
		}
		res.ATT[k] = r.ATT
		res.Draws[k] = make([]float64, o.Replicates)
	}

	tg := newBootGroup(treated, mo.TreatedWeights, mo.TreatedStrata, yTreated)
	cg := newBootGroup(control, mo.ControlWeights, mo.ControlStrata, yControl)
	// one worker's replicate weights and matching, reused
	type worker struct {
		ro  MatchOptions
		dst Matching
	}
	newWorker := func() *worker {
		w := &worker{ro: mo}
		w.ro.TreatedWeights = make([]float64, len(treated))
		w.ro.ControlWeights = make([]float64, len(control))
		return w
	}
	err = pool.Run(ctx, o.Workers, o.Replicates, newWorker, func(w *worker, b int) error {
		key := rng.ReplicateKey(o.Seed, b)
		tg.draw(w.ro.TreatedWeights, rand.NewPCG(key, bootStreamTreated))
		cg.draw(w.ro.ControlWeights, rand.NewPCG(key, bootStreamControl))
		return bootReplicate(ix, &w.dst, treated, yTreated, yControl, &w.ro, res.Draws, b)
	}, o.Progress)
	if err != nil {
		return nil, err
	}
	valid := make([]float64, 0, o.Replicates)
	for k, d := range res.Draws {
		valid = valid[:0]
		for _, v := range d {
			if !math.IsNaN(v) {
				valid = append(valid, v)
			}
		}
		res.Valid = len(valid)
		res.Low[k], res.High[k] = math.NaN(), math.NaN()
		if len(valid) >= 2 {
			slices.Sort(valid)
			res.Low[k] = quantile7(valid, (1-o.Level)/2)
			res.High[k] = quantile7(valid, (1+o.Level)/2)
		}
	}
	if len(res.Draws) == 0 {
		res.Valid = o.Replicates
	}
	return res, nil
}

// bootCheckOutcome requires every value of outcome k to be finite: a
// replicate may match any unit.
func bootCheckOutcome(field string, k int, y []float64) error {
	for i, v := range y {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return &InputError{Field: field, Index: i, Value: v, Msg: fmt.Sprintf("outcome %d: want a finite value (a replicate may match any unit)", k), Err: ErrBadValue}
		}
	}
	return nil
}

// bootCheckWeights validates frequency weights for Bootstrap: finite,
// >= 0 and whole numbers (the copies a replicate resamples).
func bootCheckWeights(field string, w []float64, n int, of string) error {
	if err := checkWeights(field, w, n, of, false); err != nil {
		return err
	}
	for i, v := range w {
		if v != math.Trunc(v) {
			return &InputError{Field: field, Index: i, Value: v,
				Msg: "the bootstrap resamples whole-number frequency weights (copies)", Err: ErrBadWeight}
		}
	}
	return nil
}

// bootReplicate matches the replicate with the frequency weights in ro
// and writes each outcome's ATT into draws[k][b]: NaN when the replicate
// leaves no treated unit matched.
func bootReplicate(ix *Index, dst *Matching, treated []float64, yTreated, yControl [][]float64, ro *MatchOptions, draws [][]float64, b int) error {
	err := ix.MatchInto(dst, treated, ro)
	if errors.Is(err, ErrNoMatch) || errors.Is(err, ErrEmptyGroup) || errors.Is(err, ErrNoCommonSupport) || errors.Is(err, ErrTooFewControls) {
		for k := range draws {
			draws[k][b] = math.NaN()
		}
		return nil
	}
	if err != nil {
		return err
	}
	ev, err := NewATTEvaluator(dst, nil)
	if err != nil {
		return err
	}
	for k := range yTreated {
		r, err := ev.ATT(yTreated[k], yControl[k])
		if err != nil {
			return err
		}
		draws[k][b] = r.ATT
	}
	return nil
}

// bootGroup is one group's units in drawing order with the cumulative
// sums of their weights (the copies each unit owns).
type bootGroup struct {
	order []int32   // units in drawing order
	cum   []float64 // cum[i] = copies of order[0..i]; nil without weights
	total uint64    // number of copies (and of draws)
}

// newBootGroup orders the units by (stratum, score, weight, outcomes,
// position) and sums their weights.
func newBootGroup(score, w []float64, strata []int32, y [][]float64) *bootGroup {
	g := &bootGroup{order: make([]int32, len(score))}
	for i := range g.order {
		g.order[i] = int32(i)
	}
	slices.SortStableFunc(g.order, func(a, b int32) int {
		if strata != nil {
			if c := cmp.Compare(strata[a], strata[b]); c != 0 {
				return c
			}
		}
		if c := cmp.Compare(score[a], score[b]); c != 0 {
			return c
		}
		if w != nil {
			if c := cmp.Compare(w[a], w[b]); c != 0 {
				return c
			}
		}
		for _, yk := range y {
			if c := cmp.Compare(yk[a], yk[b]); c != 0 {
				return c
			}
		}
		return 0
	})
	if w == nil {
		g.total = uint64(len(score))
		return g
	}
	g.cum = make([]float64, len(score))
	s := 0.0
	for i, u := range g.order {
		s += w[u]
		g.cum[i] = s
	}
	g.total = uint64(s)
	return g
}

// draw sets dst[u] to the number of the group's total draws (uniform over
// the unit copies, from src) that fall on unit u's copies.
func (g *bootGroup) draw(dst []float64, src *rand.PCG) {
	clear(dst)
	if g.total == 0 {
		return
	}
	for range g.total {
		c := rng.Uint64N(src, g.total)
		i := int(c)
		if g.cum != nil {
			// the unit whose copies cover copy c: the first with cum > c
			i, _ = slices.BinarySearchFunc(g.cum, float64(c), func(e, t float64) int {
				if e <= t {
					return -1
				}
				return 1
			})
		}
		dst[g.order[i]]++
	}
}
