package estimate

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"

	"gonum.org/v1/gonum/floats"

	"github.com/psmeval/psmeval/internal/buf"
)

// MatchRule is the nearest-neighbour rule with which Bootstrap and OtsuRai
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
type MatchRule struct {
	// K is the number of neighbours; 0 means 1.
	K int
	// Caliper is the largest admissible |score distance| in standard
	// deviations of the scores (as psm.MatchOptions.Caliper and R
	// Matching::Match's caliper): the width is Caliper × sd, sd the
	// population standard deviation (divisor N) of the scores given to the
	// estimator over all units of the sample, on the scale they are given
	// on. The width is computed once from the full-sample scores and kept
	// fixed in every replicate (also when the replicates re-fit the
	// scores). 0 means none. A treated unit with fewer than K controls
	// (by weight) within the caliper is unmatched and left out of the
	// estimate, as in psm.Match.
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
}

// setWidth sets r.width from the full-sample scores: Caliper times their
// population standard deviation (mean and sum of squares in unit order).
func (r *MatchRule) setWidth(scores []float64) {
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

func (r *MatchRule) k() float64 {
	if r == nil || r.K <= 0 {
		return 1
	}
	return float64(r.K)
}

func (r *MatchRule) validate(s *Sample) error {
	if r == nil {
		return nil
	}
	n := s.N()
	if r.K < 0 {
		return fmt.Errorf("%w: MatchRule.K = %d < 0", ErrInvalid, r.K)
	}
	if nc := n - s.nTreated(); r.K > nc {
		return fmt.Errorf("%w: MatchRule.K = %d neighbours, but the sample has %d control units", ErrInvalid, r.K, nc)
	}
	if r.Caliper < 0 || math.IsNaN(r.Caliper) {
		return fmt.Errorf("%w: MatchRule.Caliper = %v", ErrInvalid, r.Caliper)
	}
	if r.TieTolerance < 0 || math.IsNaN(r.TieTolerance) {
		return fmt.Errorf("%w: MatchRule.TieTolerance = %v", ErrInvalid, r.TieTolerance)
	}
	if r.Strata != nil && len(r.Strata) != n {
		return fmt.Errorf("%w: MatchRule.Strata has %d entries for %d units", ErrInvalid, len(r.Strata), n)
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

// index is a sorted search structure over the control units, built once
// per set of scores: controls sorted by (stratum, score, person, unit),
// one segment per stratum; the treated sorted the same way (the order in
// which replicates visit them, which makes the "same range as the last
// treated" cache effective and the summation order fixed).
type index struct {
	x     []float64 // sorted control scores
	unit  []int32   // their units
	prank []int32   // their control-person ranks
	pid   []int64   // their person ids

	tunit []int32 // treated units in visiting order
	tx    []float64
	trank []int32 // treated-person ranks
	tpid  []int64
	tlo   []int32 // segment [tlo, thi) of the sorted controls for each treated
	thi   []int32

	segLo []int32 // start of each stratum's segment, then len(x)

	// Outcome rows gathered once for the fixed-score bootstrap (see
	// gather): trows holds the treated rows in visiting order; rows the
	// rows of the controls near a treated unit in sorted order, gidx the
	// row of sorted position pos (−1: not gathered, read Sample.Outcomes).
	cols  int
	trows []float64
	rows  []float64
	gidx  []int32
}

// gatherWindow is the number of controls on each side of a treated unit's
// position whose outcome rows gather copies. The search visits a control
// further away only when all nearer ones have count 0 (probability about
// e^-w per side), so the fallback to Sample.Outcomes is rare.
const gatherWindow = 8

// gather copies the outcome rows (all outcomes, months 0..H) of the
// treated and of the controls within gatherWindow positions of a treated
// unit into contiguous arrays in visiting order, so that replicates read
// memory nearly sequentially instead of one random row per visited unit.
// Cost: O((n₁ + gathered controls)·cols) once.
func (ix *index) gather(s *Sample, l *layout) {
	ix.cols = l.cols
	ix.trows = make([]float64, len(ix.tunit)*l.cols)
	for i, u := range ix.tunit {
		s.addRow(ix.trows[i*l.cols:(i+1)*l.cols], int(u), 1, l)
	}
	ix.gidx = make([]int32, len(ix.x))
	for i := range ix.gidx {
		ix.gidx[i] = -1
	}
	n := 0
	for i, t := range ix.tx {
		a, b := int(ix.tlo[i]), int(ix.thi[i])
		if a >= b {
			continue
		}
		p := a + sort.SearchFloat64s(ix.x[a:b], t)
		for pos := max(a, p-gatherWindow); pos < min(b, p+gatherWindow); pos++ {
			if ix.gidx[pos] < 0 {
				ix.gidx[pos] = 0
				n++
			}
		}
	}
	ix.rows = make([]float64, n*l.cols)
	k := int32(0)
	for pos, g := range ix.gidx {
		if g == 0 {
			ix.gidx[pos] = k
			s.addRow(ix.rows[int(k)*l.cols:int(k+1)*l.cols], int(ix.unit[pos]), 1, l)
			k++
		}
	}
}

// support returns [min, max] of the scores of the controls with positive
// weight (over all strata); ok = false when there is none.
func (ix *index) support(cnt counter) (lo, hi float64, ok bool) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for k := 0; k+1 < len(ix.segLo); k++ {
		a, b := int(ix.segLo[k]), int(ix.segLo[k+1])
		for p := a; p < b; p++ {
			if cnt.at(p) > 0 {
				lo = min(lo, ix.x[p])
				break
			}
		}
		for p := b - 1; p >= a; p-- {
			if cnt.at(p) > 0 {
				hi = max(hi, ix.x[p])
				break
			}
		}
	}
	return lo, hi, lo <= hi
}

// addControl adds a·(row of sorted control position pos) into dst.
func (ix *index) addControl(dst []float64, s *Sample, l *layout, pos int, a float64) {
	if ix.gidx != nil {
		if g := ix.gidx[pos]; g >= 0 {
			row := ix.rows[int(g)*ix.cols : int(g+1)*ix.cols]
			floats.AddScaled(dst[:len(row)], a, row) // dst += a·row, unfused
			return
		}
	}
	s.addRow(dst, int(ix.unit[pos]), a, l)
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

// buildIndex sorts the controls with keep(u) (nil: all controls) and the
// treated. buf is reused when large enough.
func buildIndex(ix *index, s *Sample, pr *persons, scores []float64, strata []int32, keep func(u int) bool, sbuf []strat) []strat {
	st := func(u int) int32 {
		if strata == nil {
			return 0
		}
		return strata[u]
	}
	if cap(sbuf) < len(s.Treated)-pr.nTreatedUnits {
		sbuf = make([]strat, 0, len(s.Treated)-pr.nTreatedUnits)
	}
	sbuf = sbuf[:0]
	for u, tr := range s.Treated {
		if !tr && (keep == nil || keep(u)) {
			sbuf = append(sbuf, strat{st(u), scores[u], s.person(u), int32(u)})
		}
	}
	slices.SortFunc(sbuf, cmpStrat)
	n := len(sbuf)
	ix.x = buf.Resize(ix.x, n)
	ix.unit = buf.Resize(ix.unit, n)
	ix.prank = buf.Resize(ix.prank, n)
	ix.pid = buf.Resize(ix.pid, n)
	for i, e := range sbuf {
		ix.x[i], ix.unit[i], ix.prank[i], ix.pid[i] = e.x, e.unit, pr.rank[e.unit], e.p
	}
	segs := sbuf // reuse: segment boundaries by stratum
	var sCode []int32
	var sLo []int32
	for i := 0; i < n; i++ {
		if i == 0 || segs[i].s != segs[i-1].s {
			sCode = append(sCode, segs[i].s)
			sLo = append(sLo, int32(i))
		}
	}
	sLo = append(sLo, int32(n))
	ix.segLo = sLo

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
	ix.tlo = buf.Resize(ix.tlo, nt)
	ix.thi = buf.Resize(ix.thi, nt)
	for i, e := range tb {
		ix.tunit[i], ix.tx[i], ix.trank[i], ix.tpid[i] = e.unit, e.x, pr.rank[e.unit], e.p
		k, found := slices.BinarySearch(sCode, e.s)
		if found {
			ix.tlo[i], ix.thi[i] = sLo[k], sLo[k+1]
		} else {
			ix.tlo[i], ix.thi[i] = 0, 0
		}
	}
	return sbuf
}

// segment returns the stratum segment [a, b) containing sorted position pos.
func (ix *index) segment(pos int) (a, b int) {
	k, found := slices.BinarySearch(ix.segLo, int32(pos))
	if !found {
		k--
	}
	return int(ix.segLo[k]), int(ix.segLo[k+1])
}

// counter returns the frequency weight of sorted control position pos.
type counter interface {
	at(pos int) float64
}

type unitCount struct{}

func (unitCount) at(int) float64 { return 1 }

// find returns the match range [lo, hi) of sorted control positions for a
// treated unit at t in segment [a, b), the total weight C of the controls
// in it (skipping position excl, −1 for none), and ok = false when no
// control with positive weight qualifies or, unless partial, the controls
// within reach (stratum, caliper) weigh less than K. Cost: O(range size + zero-weight
// controls skipped), independent of the number of controls.
func (ix *index) find(t float64, a, b int, rule *MatchRule, cnt counter, excl int, partial bool) (lo, hi int, C float64, ok bool) {
	if a >= b {
		return 0, 0, 0, false
	}
	x := ix.x
	p := a + sort.SearchFloat64s(x[a:b], t)
	L, R := p-1, p
	K := rule.k()
	cal := math.Inf(1)
	tol := 0.0
	if rule != nil {
		if rule.Caliper > 0 {
			cal = rule.width
		}
		tol = rule.TieTolerance
	}
	got := 0.0
	dK := math.NaN()
	for got < K {
		dl, dr := math.Inf(1), math.Inf(1)
		if L >= a {
			dl = t - x[L]
		}
		if R < b {
			dr = x[R] - t
		}
		var d float64
		var pos int
		if dl <= dr {
			if math.IsInf(dl, 1) {
				break
			}
			d, pos = dl, L
			L--
		} else {
			d, pos = dr, R
			R++
		}
		if d > cal {
			break
		}
		if pos == excl {
			continue
		}
		if c := cnt.at(pos); c > 0 {
			got += c
			dK = d
		}
	}
	if got == 0 || (got < K && !partial) {
		return 0, 0, 0, false
	}
	lim := dK + tol
	if lim > cal {
		lim = cal
	}
	for L >= a && t-x[L] <= lim {
		L--
	}
	for R < b && x[R]-t <= lim {
		R++
	}
	lo, hi = L+1, R
	for pos := lo; pos < hi; pos++ {
		if pos != excl {
			C += cnt.at(pos)
		}
	}
	return lo, hi, C, true
}
