package estimate

import (
	"cmp"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/psmeval/psmeval/internal/buf"
	"github.com/psmeval/psmeval/psm"
)

// matchRule is the nearest-neighbour rule with which Bootstrap and OtsuRai
// (re-)match: the same rule as psm.Match with replacement, so that a
// replicate in which every person is drawn once reproduces the point
// estimate. Scores are compared on the scale they are given on (pass the
// logit of the propensity score to match on the logit).
//
// With frequency weights (bootstrap counts) c_j a control counts as c_j
// copies: the match set of a treated unit at t is every control with
// c_j > 0 and |x_j − t| ≤ d_K + TieTolerance (and ≤ Caliper), where d_K is
// the smallest distance at which the copies within it reach K, and
// control j gets the share c_j / Σ c over the set. This is the match set
// R's Matching::Match (ties = TRUE, replace = TRUE) would form on the
// resampled data with duplicated rows. With all c_j = 1 it is the usual
// rule: the K nearest and everything tied with the K-th share equally.
// The sets are found by psm's engine (psm.Index and psm.Searcher, which
// reads a count only for the controls a search passes).
type matchRule struct {
	// K is the number of neighbours; 0 means 1.
	K int
	// Caliper is the largest admissible |score distance| in standard
	// deviations of the scores (as psm.MatchOptions.Caliper and R
	// Matching::Match's caliper): the width is Caliper × sd, sd the
	// population standard deviation of the scores of the units being
	// matched, on the matching scale: for the point estimate all units of
	// the sample; for a replicate its units weighted by their counts, with
	// their re-fitted scores under Refit (the width R computes on the
	// resampled rows, as psm.Bootstrap). 0 means none. A treated unit with
	// fewer than K controls (by weight) within the caliper is unmatched
	// and left out of the estimate, as in psm.Match.
	Caliper float64
	// TieTolerance: controls whose distance is within this of the K-th
	// nearest are ties; 0 means exact equality.
	TieTolerance float64
	// Trim leaves out treated units whose score lies outside [min, max] of
	// the scores of the controls with positive weight (all strata), in
	// every replicate anew, as psm.MatchOptions.Trim.
	Trim bool
	// Strata restricts matches to controls with the same stratum code
	// (exact matching, e.g. on the cohort month); nil means one stratum.
	// Indexed by unit.
	Strata []int32

	// width is Caliper × sd of the scores (setWidth), the bound find uses.
	width float64
	// distance is the scale of the point estimate's scores (psm's): with
	// psm.LogitDistance re-fitted scores are matched on their logits.
	distance psm.Distance
	// noReplacement and tieR are psm's NoReplacement and TieRMatching:
	// the replicates then match through psm.Index.MatchInto with the
	// replicate's counts as weight vectors (rematch_units.go).
	noReplacement, tieR bool
}

// generic reports whether replicates match through MatchInto (a rule the
// lazy search does not cover).
func (r *matchRule) generic() bool { return r.noReplacement || r.tieR }

// setWidth sets r.width from the full-sample scores: Caliper times their
// population standard deviation (mean and sum of squares in unit order).
func (r *matchRule) setWidth(scores []float64) {
	if r == nil || r.Caliper <= 0 {
		return
	}
	mean := 0.0
	for _, v := range scores {
		mean += v
	}
	mean /= float64(len(scores))
	ss := 0.0
	for _, v := range scores {
		ss += (v - mean) * (v - mean)
	}
	r.width = r.Caliper * math.Sqrt(ss/float64(len(scores)))
}

func (r *matchRule) k() float64 {
	if r == nil || r.K <= 0 {
		return 1
	}
	return float64(r.K)
}

func (r *matchRule) validate(s *Sample) error {
	if r == nil {
		return nil
	}
	n := s.Len()
	if r.K < 0 {
		return invalid("psm.MatchOptions.K", "%d, want >= 0", r.K)
	}
	if nc := n - s.nTreated(); r.K > nc {
		return invalid("psm.MatchOptions.K", "%d neighbours, but the sample has %d control units", r.K, nc)
	}
	if r.Caliper < 0 || math.IsNaN(r.Caliper) {
		return invalid("psm.MatchOptions.Caliper", "%v, want >= 0", r.Caliper)
	}
	if r.TieTolerance < 0 || math.IsNaN(r.TieTolerance) {
		return invalid("psm.MatchOptions.TieTolerance", "%v, want >= 0", r.TieTolerance)
	}
	if r.Strata != nil && len(r.Strata) != n {
		return invalid("psm.UnitOptions.Strata", "%d entries for %d units", len(r.Strata), n)
	}
	return nil
}

// nTreated returns the number of treated units.
func (s *Sample) nTreated() int {
	nt := 0
	for _, t := range s.Treated {
		if t {
			nt++
		}
	}
	return nt
}

// index is the search structure of a set of scores: the controls in a
// psm.Index (the one nearest-neighbour engine), given to it in (person,
// unit) order so that its sorted positions run by (stratum, score,
// person, unit); the treated sorted the same way (the order in which
// replicates visit them, which makes the "same set as the last treated"
// cache effective and the summation order fixed).
type index struct {
	c      *psm.Index
	scores []float64 // the scores indexed, by unit (not a copy)
	unit   []int32   // by sorted control position: the unit
	prank  []int32   // its control-person rank
	pid    []int64   // its person id

	tunit []int32 // treated units in visiting order
	tx    []float64
	trank []int32 // treated-person ranks
	tpid  []int64
	tstr  []int32 // treated strata (0 without strata)
	tblk  []int32 // the block of each treated score (psm.Index.LowerBlock)

	// Outcome rows gathered once for the fixed-score bootstrap (see
	// gather, rematch_rows.go).
	g *gathered
}

// searcher searches an index's controls under counts (psm.Searcher; an
// index without controls matches nobody).
type searcher struct{ sr *psm.Searcher }

// searcher returns a searcher over the index's controls with the counts
// cnt and the rule's K, caliper width and tie tolerance; partial accepts
// sets lighter than K (all the stratum has).
func (ix *index) searcher(rule *matchRule, cnt counter, partial bool) searcher {
	if ix.c == nil {
		return searcher{}
	}
	o := psm.SearchOptions{K: int(rule.k()), Partial: partial}
	if rule != nil {
		o.Width, o.TieTolerance = rule.width, rule.TieTolerance
	}
	sr, err := ix.c.NewSearcher(cnt.fn(), &o)
	if err != nil { // the rule was validated
		panic("estimate: " + err.Error())
	}
	return searcher{sr}
}

// find returns the match set of a treated unit at t in stratum: sorted
// control positions [lo, hi) and their total count (psm.Searcher.Find).
func (s searcher) find(t float64, stratum int32) (lo, hi int, total float64, ok bool) {
	if s.sr == nil {
		return 0, 0, 0, false
	}
	return s.sr.Find(t, stratum)
}

// findAt is find for treated unit i of the index (the search starts at
// its remembered block).
func (s searcher) findAt(ix *index, i int) (lo, hi int, total float64, ok bool) {
	if s.sr == nil {
		return 0, 0, 0, false
	}
	return s.sr.FindNear(ix.tx[i], ix.tstr[i], int(ix.tblk[i]))
}

// support returns the score range of the controls with positive count.
func (s searcher) support() (lo, hi float64, ok bool) {
	if s.sr == nil {
		return math.Inf(1), math.Inf(-1), false
	}
	return s.sr.Support()
}

type strat struct {
	s    int32
	x    float64
	p    int64
	unit int32
}

func cmpStrat(a, b strat) int {
	if c := cmp.Compare(a.s, b.s); c != 0 {
		return c
	}
	if c := cmp.Compare(a.x, b.x); c != 0 {
		return c
	}
	if c := cmp.Compare(a.p, b.p); c != 0 {
		return c
	}
	return cmp.Compare(a.unit, b.unit)
}

// buildIndex indexes the controls with keep(u) (nil: all controls) on
// scores and sorts the treated. Without keep (the one index of a
// fixed-score bootstrap) the per-position gathers of unit, person rank
// and person id, random reads over all units, run on GOMAXPROCS
// goroutines.
func buildIndex(ix *index, s *Sample, pr *persons, scores []float64, strata []int32, keep func(u int) bool) error {
	st := func(u int) int32 {
		if strata == nil {
			return 0
		}
		return strata[u]
	}
	n := len(pr.ctrl)
	if keep != nil {
		n = 0
		for _, u := range pr.ctrl {
			if keep(int(u)) {
				n++
			}
		}
	}
	cu := make([]int32, 0, n) // controls in (person, unit) order
	for _, u := range pr.ctrl {
		if keep == nil || keep(int(u)) {
			cu = append(cu, u)
		}
	}
	x := make([]float64, n)
	var cs []int32
	if strata != nil {
		cs = make([]int32, n)
	}
	for j, u := range cu {
		x[j] = scores[u]
		if cs != nil {
			cs[j] = strata[u]
		}
	}
	ix.c, ix.scores = nil, scores
	ix.unit = buf.Resize(ix.unit, n)
	ix.prank = buf.Resize(ix.prank, n)
	ix.pid = buf.Resize(ix.pid, n)
	if n > 0 {
		c, err := psm.NewIndex(x, &psm.MatchOptions{ControlStrata: cs})
		if err != nil {
			return err
		}
		ix.c = c
		fill := func(lo, hi int) {
			for p := lo; p < hi; p++ {
				u := cu[c.Control(p)]
				ix.unit[p], ix.prank[p], ix.pid[p] = u, pr.rank[u], s.person(int(u))
			}
		}
		if keep == nil {
			parallelRange(n, fill)
		} else {
			fill(0, n)
		}
	}

	tb := make([]strat, 0, pr.nTreatedUnits)
	for u, tr := range s.Treated {
		if tr {
			tb = append(tb, strat{st(u), scores[u], s.person(u), int32(u)})
		}
	}
	slices.SortFunc(tb, cmpStrat)
	nt := len(tb)
	ix.tunit = buf.Resize(ix.tunit, nt)
	ix.tx = buf.Resize(ix.tx, nt)
	ix.trank = buf.Resize(ix.trank, nt)
	ix.tpid = buf.Resize(ix.tpid, nt)
	ix.tstr = buf.Resize(ix.tstr, nt)
	ix.tblk = buf.Resize(ix.tblk, nt)
	for i, e := range tb {
		ix.tunit[i], ix.tx[i], ix.trank[i], ix.tpid[i], ix.tstr[i] = e.unit, e.x, pr.rank[e.unit], e.p, e.s
		if ix.c != nil {
			ix.tblk[i] = int32(ix.c.LowerBlock(e.x, e.s))
		}
	}
	return nil
}

// counter returns the frequency weight of the control at sorted position
// pos of an index; fn returns the same as a function for psm.Searcher
// (a closure with a direct call: one indirect call per weight read).
type counter interface {
	at(pos int) float64
	fn() func(int) float64
}

type unitCount struct{}

func (unitCount) at(int) float64 { return 1 }

func (unitCount) fn() func(int) float64 { return nil } // psm: every control weighs 1

// replicateWidth returns c times the population standard deviation of the
// indexed scores under a replicate's weights (tweight for the treated in
// visiting order, cnt for the controls by sorted position): the caliper
// width of that replicate. Cost: O(units), only with a caliper.
func (ix *index) replicateWidth(c float64, cnt counter, tweight func(i int) float64) float64 {
	var sw, swx float64
	for i, t := range ix.tx {
		if w := tweight(i); w > 0 {
			sw += w
			swx += w * t
		}
	}
	for p, u := range ix.unit {
		if w := cnt.at(p); w > 0 {
			sw += w
			swx += w * ix.scores[u]
		}
	}
	if sw == 0 {
		return 0
	}
	mean := swx / sw
	var ss float64
	for i, t := range ix.tx {
		if w := tweight(i); w > 0 {
			ss += w * (t - mean) * (t - mean)
		}
	}
	for p, u := range ix.unit {
		if w := cnt.at(p); w > 0 {
			d := ix.scores[u] - mean
			ss += w * d * d
		}
	}
	return c * math.Sqrt(ss/sw)
}

// parallelRange calls f on consecutive chunks of [0, n) from GOMAXPROCS
// goroutines at once (f on [0, n) itself when n is small) and returns
// when all are done. f must only write to its own chunk.
func parallelRange(n int, f func(lo, hi int)) {
	const minChunk = 1 << 16
	k := min(runtime.GOMAXPROCS(0), n/minChunk)
	if k <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	for c := range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(c*n/k, (c+1)*n/k)
		}()
	}
	wg.Wait()
}
