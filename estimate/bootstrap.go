package estimate

import (
	"context"
	"fmt"
	"math"
	"runtime"

	"gonum.org/v1/gonum/floats"

	"github.com/psmeval/psmeval/internal/pool"
	"github.com/psmeval/psmeval/internal/rng"
	"github.com/psmeval/psmeval/psm"
)

// BootstrapOptions configures Bootstrap. The zero value is the default.
type BootstrapOptions struct {
	// Level is the confidence level of all intervals; 0 means 0.95.
	Level float64
	// Replicates is the number of bootstrap replicates; 0 means 999.
	Replicates int
	// Seed seeds the replicates: replicate b draws from a PCG stream keyed
	// by (Seed, b), so results are bit-identical for any Workers.
	Seed uint64
	// Workers bounds the number of replicates run at once; 0 means
	// GOMAXPROCS.
	Workers int
	// Scheme is how person counts are drawn; the zero value is
	// Multinomial (within the treated and within the controls).
	Scheme Scheme
	// Refit, when set, re-estimates the scores of every unit from the
	// replicate's frequency weights w (one per unit, the count of the
	// unit's person; w is reused, do not keep it) and returns them on the
	// scale of the scores passed to Bootstrap. The replicate is then
	// re-matched on the new scores: the intervals account for the
	// estimation of the propensity model and of the matching. Warm
	// starts and the model itself are the callback's business. nil
	// means fixed scores: only the matching is redone with the new
	// weights, which ignores the sampling variation of the estimated
	// scores. Refit is called from Workers goroutines at once: it must be
	// safe for concurrent use (fit into fresh or per-call buffers).
	Refit func(ctx context.Context, w []float64) ([]float64, error)
	// rule is the matching rule, that of the matched sample (set by
	// Bootstrap)
	rule matchRule
	// IncludeMonth0: see EffectOptions.
	IncludeMonth0 bool
	// KeepDraws keeps the replicate estimates in Series.Draws.
	KeepDraws bool
	// Progress, when set, is called after every replicate with the
	// number done and the total; calls are serialized.
	Progress func(done, total int)
}

// defaults returns the level, replicates and workers of o, or an error
// naming the option as a field of the options type opt.
func (o *BootstrapOptions) defaults(opt string) (level float64, reps, workers int, err error) {
	level, reps, workers = o.Level, o.Replicates, o.Workers
	if level == 0 {
		level = 0.95
	}
	if !(level > 0 && level < 1) {
		return 0, 0, 0, invalid(opt+".Level", "%v, want 0 < Level < 1", o.Level)
	}
	if reps == 0 {
		reps = 999
	}
	if reps < 2 {
		return 0, 0, 0, invalid(opt+".Replicates", "%d, want at least 2", o.Replicates)
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, reps)
	if o.Scheme != Multinomial && o.Scheme != Poisson {
		return 0, 0, 0, invalid(opt+".Scheme", "unknown scheme %d, want Multinomial or Poisson", int(o.Scheme))
	}
	return level, reps, workers, nil
}

// checkScores checks that scores has one finite value per unit.
func checkScores(s *Sample, scores []float64) error {
	if len(scores) != s.Len() {
		return invalid("scores", "%d scores for %d units", len(scores), s.Len())
	}
	for u, v := range scores {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return invalidUnit(s, "scores", u, v, "score %v is not finite", v)
		}
	}
	return nil
}

// Bootstrap estimates the effects of the matched sample um (psm.MatchUnits
// on one score per unit of s with s.Treated as the treated flags) and
// their bootstrap intervals (see Bounds). um's scores and matching
// options are the rule every replicate re-matches by: every option of
// psm.MatchOptions (K, caliper, tie rule and tolerance, trimming, strata,
// with or without replacement, the probability or the logit scale);
// um's frequency weights are not supported. Replicate b draws a count per
// person (opts.Scheme) from the stream (Seed, b), re-matches every treated
// unit with a positive count among the controls with positive counts —
// on the fixed scores, or on scores re-fitted by opts.Refit — as R's
// Match would on the resampled rows (a caliper in standard deviations of
// the replicate's own scores), and recomputes every monthly and
// accumulated effect in every subgroup. Nothing is copied per replicate.
//
// With replacement and psm.TieDistance, and fixed scores, the search
// (psm.Searcher) reads counts only for the controls it visits: with the
// Poisson scheme a replicate costs O(n_1·(K + ties)·Σ(H+1)) whatever the
// number of controls; with the multinomial scheme the block totals add
// O(n_0/256) binomial draws; a caliper adds O(n) for the replicate's
// standard deviation. With Refit each replicate also sorts the controls
// with positive counts, O(n_0 log n_0), plus the callback. Without
// replacement or with psm.TieRMatching a replicate passes all counts to
// psm's MatchInto: O(n) plus its cost.
//
// The plain bootstrap is not valid for nearest-neighbour matching with a
// fixed number of neighbours (Abadie and Imbens 2008); see OtsuRai for a
// valid alternative. Cancelling ctx stops the workers after their
// current replicate and returns ctx.Err().
func Bootstrap(ctx context.Context, s *Sample, um *psm.UnitMatching, opts *BootstrapOptions) (*Result, error) {
	if opts == nil {
		opts = &BootstrapOptions{}
	}
	level, R, workers, err := opts.defaults("BootstrapOptions")
	if err != nil {
		return nil, err
	}
	o := *opts // the rule and its caliper width are set in the copy
	opts = &o
	scores, err := prepareUnits(s, um, &opts.rule)
	if err != nil {
		return nil, err
	}
	// The outcome check (one pass over every unit's rows) runs beside the
	// index and the point estimate; its error comes first, as if it had
	// run before them.
	checked := make(chan error, 1)
	go func() { checked <- s.checkAll() }()
	pr := newPersons(s)
	var ix *index
	var series []Series
	if opts.Scheme == Multinomial && pr.hasOverlap {
		err = invalid("Sample.Person", "person %d has treated and control units; the multinomial scheme resamples within groups (use Poisson)", pr.overlap)
	} else {
		ix, _, series, err = pointEstimate(s, pr, scores, &opts.rule, opts.IncludeMonth0, um)
	}
	if cerr := <-checked; cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, err
	}
	var units *unitIndex
	if opts.rule.generic() {
		if units, err = newUnitIndex(um, scores, &opts.rule, opts.Refit != nil); err != nil {
			return nil, err
		}
	}

	l := s.layout()
	if opts.Refit == nil && units == nil {
		ix.gather(s, &l, &opts.rule)
	}
	gi := s.groups()
	G := len(gi.names)
	out := make([]float64, R*G*l.cols)

	err = pool.Run(ctx, workers, R, func() *worker { w := newWorker(s, pr, ix, &l, &gi, opts); w.units = units; return w }, func(w *worker, b int) error {
		return w.replicate(ctx, b, out[b*G*l.cols:(b+1)*G*l.cols])
	}, opts.Progress)
	if err != nil {
		return nil, err
	}
	method := "bootstrap-fixed"
	if opts.Refit != nil {
		method = "bootstrap-refit"
	}
	res := &Result{Method: method, Level: level, Replicates: R, IncludeMonth0: opts.IncludeMonth0, Series: series}
	fillFromReplicates(res, s, out, R, G, &l, opts.KeepDraws)
	return res, nil
}

// fillFromReplicates summarizes replicate rows out (R × G × cols monthly
// effects) into the series (outcome-major, then group).
func fillFromReplicates(res *Result, s *Sample, out []float64, R, G int, l *layout, keep bool) {
	for k := range s.Outcomes {
		H1, pre := s.Outcomes[k].width(), s.Outcomes[k].Pre
		for g := 0; g < G; g++ {
			se := &res.Series[k*G+g]
			var reps [][]float64
			for b := 0; b < R; b++ {
				src := out[b*G*l.cols+g*l.cols+l.off[k] : b*G*l.cols+g*l.cols+l.off[k]+H1]
				if math.IsNaN(src[0]) {
					continue
				}
				row := make([]float64, 2*H1)
				copy(row, src)
				copy(row[H1:], src)
				cumsum(row[H1:], pre, res.IncludeMonth0)
				reps = append(reps, row)
			}
			summarize(se, reps, res.Level)
			if keep {
				se.Draws = make([]float64, 0, len(reps)*2*H1)
				for _, r := range reps {
					se.Draws = append(se.Draws, r...)
				}
			}
		}
	}
}

// matches forms the match sets of all treated units (in index order)
// under the counter cnt (unit counts for the point estimate).
// prepareUnits validates the sample and the matched sample um of an
// inference method, sets *rule to um's rule with its caliper width, and
// returns the scores on the matching scale.
func prepareUnits(s *Sample, um *psm.UnitMatching, rule *matchRule) ([]float64, error) {
	if s == nil || um == nil {
		return nil, invalid(nilField(s == nil, "Sample", "psm.UnitMatching"), "needs a Sample and a psm.UnitMatching (got nil)")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	r, x, err := ruleFromUnits(s, um)
	if err != nil {
		return nil, err
	}
	*rule = r
	if err := prepare(s, x, rule); err != nil {
		return nil, err
	}
	return x, nil
}

// logits returns the logits of the re-fitted scores of replicate b (the
// matching scale of psm.LogitDistance); units with count 0 get 0.
func (w *worker) logits(p []float64, b int) ([]float64, error) {
	x := make([]float64, len(p))
	for u, v := range p {
		if w.w[u] == 0 {
			continue
		}
		if !(v > 0 && v < 1) {
			return nil, invalidUnit(w.s, "BootstrapOptions.Refit", u, v, "replicate %d: refitted score %v is outside (0,1), as LogitDistance needs", b, v)
		}
		x[u] = math.Log(v / (1 - v))
	}
	return x, nil
}

// prepare validates the sample, the matching rule and the scores of an
// inference method, and sets the rule's caliper width from the scores
// (rule must be the method's own copy).
func prepare(s *Sample, scores []float64, rule *matchRule) error {
	if err := s.validate(); err != nil {
		return err
	}
	if err := rule.validate(s); err != nil {
		return err
	}
	if err := checkScores(s, scores); err != nil {
		return err
	}
	rule.setWidth(scores)
	return nil
}

// pointEstimate matches every treated unit once with unit counts and
// returns the index (for the replicates to reuse), the match sets and the
// point estimates with their accumulated effects.
//
// For a rule the lazy search does not cover (rule.generic) the match sets
// are um's.
func pointEstimate(s *Sample, pr *persons, scores []float64, rule *matchRule, month0 bool, um *psm.UnitMatching) (*index, *matchSets, []Series, error) {
	ix := &index{}
	if err := buildIndex(ix, s, pr, scores, rule.Strata, nil); err != nil {
		return nil, nil, nil, err
	}
	var ms *matchSets
	if rule.generic() {
		var err error
		if ms, err = setsFromUnits(s, um, "the point estimate"); err != nil {
			return nil, nil, nil, err
		}
		if err := ms.validate(s); err != nil {
			return nil, nil, nil, err
		}
	} else {
		ms = ix.matches(s, rule, unitCount{}, nil)
	}
	series, err := effectsOf(s, ms, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	for i := range series {
		accumulate(series[i].Effects, month0)
	}
	return ix, ms, series, nil
}

func (ix *index) matches(s *Sample, rule *matchRule, cnt counter, tw func(i int) float64) *matchSets {
	m := &matchSets{Treated: make([]int32, 0, len(ix.tunit)), Start: []int{0}}
	sr := ix.searcher(rule, cnt, false)
	smin, smax := math.Inf(-1), math.Inf(1)
	if rule != nil && rule.Trim {
		smin, smax, _ = sr.support()
	}
	for i, u := range ix.tunit {
		if tw != nil && tw(i) == 0 {
			continue
		}
		m.Treated = append(m.Treated, u)
		if ix.tx[i] < smin || ix.tx[i] > smax {
			m.Start = append(m.Start, len(m.Control))
			continue
		}
		lo, hi, C, ok := sr.find(ix.tx[i], ix.tstr[i])
		if ok {
			for pos := lo; pos < hi; pos++ {
				if c := cnt.at(pos); c > 0 {
					m.Control = append(m.Control, ix.unit[pos])
					m.Weight = append(m.Weight, c/C)
				}
			}
		}
		m.Start = append(m.Start, len(m.Control))
	}
	return m
}

// MatchUnits matches every treated unit of s to the controls on scores
// (one per unit) with rule, with replacement, and returns the match sets
// (treated in the order of their scores). It is the matching Bootstrap
// and OtsuRai use for their point estimates; psm.Match with the same rule
// gives the same sets.
func matchUnits(s *Sample, scores []float64, rule *matchRule) (*matchSets, error) {
	if s == nil {
		return nil, invalid("Sample", "nil")
	}
	if len(s.Treated) == 0 {
		return nil, invalid("Sample.Treated", "sample has no units")
	}
	if err := rule.validate(s); err != nil {
		return nil, err
	}
	if err := checkScores(s, scores); err != nil {
		return nil, err
	}
	if rule != nil {
		r := *rule
		r.setWidth(scores)
		rule = &r
	}
	pr := newPersons(s)
	ix := &index{}
	var strata []int32
	if rule != nil {
		strata = rule.Strata
	}
	if err := buildIndex(ix, s, pr, scores, strata, nil); err != nil {
		return nil, err
	}
	return ix.matches(s, rule, unitCount{}, nil), nil
}

// worker holds one goroutine's buffers.
type worker struct {
	s    *Sample
	pr   *persons
	ix   *index // the fixed-score index (shared, read-only)
	l    *layout
	gi   *groupIndex
	opts *BootstrapOptions

	tcnt, ccnt *counts
	m, d       []float64
	sums, W    []float64
	gs         []int32
	// re-fit buffers
	w   []float64
	own *index
	// the replicates of a rule matched through MatchInto
	units  *unitIndex
	cw, tw []float64
	gm     psm.Matching
}

func newWorker(s *Sample, pr *persons, ix *index, l *layout, gi *groupIndex, opts *BootstrapOptions) *worker {
	G := len(gi.names)
	w := &worker{s: s, pr: pr, ix: ix, l: l, gi: gi, opts: opts,
		m: make([]float64, l.cols), d: make([]float64, l.cols),
		sums: make([]float64, G*l.cols), W: make([]float64, G)}
	if opts.Scheme == Multinomial {
		w.tcnt = newCounts(pr.nT)
		w.ccnt = newCounts(pr.nC)
	}
	if opts.Refit != nil || opts.rule.generic() {
		w.w = make([]float64, s.Len()) // the counts per unit
	}
	if opts.Refit != nil && !opts.rule.generic() {
		w.own = &index{}
	}
	return w
}

// replicate runs replicate b and writes its monthly effects (G × cols,
// NaN rows for groups without weight) into out.
func (w *worker) replicate(ctx context.Context, b int, out []float64) error {
	key := rng.ReplicateKey(w.opts.Seed, b)
	ix := w.ix
	var cnt counter
	var tweight func(i int) float64
	switch w.opts.Scheme {
	case Multinomial:
		w.tcnt.draw(key, streamTreated)
		w.ccnt.draw(key, streamControl)
		cnt = multCount{w.ccnt, ix.prank}
		tweight = func(i int) float64 { return w.tcnt.get(ix.trank[i]) }
	case Poisson:
		cnt = poisCount{key, ix.pid}
		tweight = func(i int) float64 { return poissonCount(key, ix.tpid[i]) }
	}
	if w.opts.rule.generic() {
		return w.replicateUnits(ctx, key, b, out)
	}
	if w.opts.Refit != nil {
		s := w.s
		scores, err := w.refit(ctx, key, b)
		if err != nil {
			return err
		}
		ww := w.w
		if err := buildIndex(w.own, s, w.pr, scores, w.opts.rule.Strata, func(u int) bool { return ww[u] > 0 }); err != nil {
			return fmt.Errorf("estimate: replicate %d: %w", b, err)
		}
		ix = w.own
		cnt = unitWeights{ww, ix.unit}
		tweight = func(i int) float64 { return ww[ix.tunit[i]] }
	}
	w.run(ix, cnt, tweight, out)
	return nil
}

// counts sets w.w to the replicate's count of every unit's person (the
// counts drawn for key).
func (w *worker) counts(key uint64) {
	s := w.s
	for u := range w.w {
		switch w.opts.Scheme {
		case Multinomial:
			if s.Treated[u] {
				w.w[u] = w.tcnt.get(w.pr.rank[u])
			} else {
				w.w[u] = w.ccnt.get(w.pr.rank[u])
			}
		case Poisson:
			w.w[u] = poissonCount(key, s.person(u))
		}
	}
}

// refit sets w.w to the replicate's counts and returns the scores
// re-fitted by opts.Refit on the matching scale.
func (w *worker) refit(ctx context.Context, key uint64, b int) ([]float64, error) {
	s := w.s
	w.counts(key)
	scores, err := w.opts.Refit(ctx, w.w)
	if err != nil {
		return nil, fmt.Errorf("estimate: replicate %d: refit: %w", b, err)
	}
	if len(scores) != s.Len() {
		return nil, invalid("BootstrapOptions.Refit", "replicate %d: refit returned %d scores for %d units", b, len(scores), s.Len())
	}
	for u, v := range scores {
		if w.w[u] > 0 && (math.IsNaN(v) || math.IsInf(v, 0)) {
			return nil, invalidUnit(s, "BootstrapOptions.Refit", u, v, "replicate %d: refitted score %v is not finite", b, v)
		}
	}
	if w.opts.rule.distance == psm.LogitDistance {
		return w.logits(scores, b)
	}
	return scores, nil
}

// run accumulates the replicate's effects over the treated in index
// order.
func (w *worker) run(ix *index, cnt counter, tweight func(i int) float64, out []float64) {
	s, l, rule := w.s, w.l, &w.opts.rule
	clear(w.sums)
	clear(w.W)
	lastLo, lastHi := -1, -1
	if rule.Caliper > 0 {
		r := *rule
		r.width = ix.replicateWidth(r.Caliper, cnt, tweight)
		rule = &r
	}
	sr := ix.searcher(rule, cnt, false)
	smin, smax := math.Inf(-1), math.Inf(1)
	if rule.Trim {
		smin, smax, _ = sr.support()
	}
	for i, u := range ix.tunit {
		wt := tweight(i)
		if wt == 0 || ix.tx[i] < smin || ix.tx[i] > smax {
			continue
		}
		lo, hi, C, ok := sr.findAt(ix, i)
		if !ok {
			continue
		}
		if lo != lastLo || hi != lastHi {
			clear(w.m)
			for pos := lo; pos < hi; pos++ {
				if c := cnt.at(pos); c > 0 {
					ix.addControl(w.m, s, l, pos, c/C)
				}
			}
			lastLo, lastHi = lo, hi
		}
		ix.treatedDiff(w.d, w.m, s, l, i, u)
		w.add(int(u), wt)
	}
	w.finish(out)
}

// add adds wt·w.d, the difference of treated unit u's row and its
// controls', to the sums of u's groups.
func (w *worker) add(u int, wt float64) {
	cols := w.l.cols
	w.gs = w.s.unitGroups(w.gs, u, w.gi)
	for _, g := range w.gs {
		dst := w.sums[int(g)*cols : (int(g)+1)*cols]
		floats.AddScaled(dst[:len(w.d)], wt, w.d) // dst += wt·d, unfused
		w.W[g] += wt
	}
}

// finish writes the replicate's monthly effects: the group sums over
// their weights (NaN for a group without weight).
func (w *worker) finish(out []float64) {
	cols := w.l.cols
	for g := range w.W {
		dst := out[g*cols : (g+1)*cols]
		if w.W[g] == 0 {
			for j := range dst {
				dst[j] = math.NaN()
			}
			continue
		}
		src := w.sums[g*cols : (g+1)*cols]
		for j := range dst {
			dst[j] = src[j] / w.W[g]
		}
	}
}
