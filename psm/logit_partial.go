package psm

import (
	"fmt"
	"math"
	"slices"
)

// Partial results of the logit fit. FitLogit's passes over the rows are
// made of blocks of lgBlock rows; each block's sums are kept apart and
// the coordinator adds them in block order, starting from zero. Floating
// point addition is not associative, so a shard that added its own blocks
// first would change the bits of the fit; instead a partial is a list of
// terms, each the sums of one row range (a block, or a shard's rows after
// Compact), kept in order of rows. Merge combines lists (associative and
// commutative: terms are placed by their rows); the coordinator adds the
// terms of all shards in order of rows. When every term is one block of
// the single-process fit (shards start at multiples of 4096 rows and are
// not compacted), the sums are those of FitLogit, bit for bit.

// lgRange is the rows lo..hi-1 of the whole data covered by one term.
type lgRange struct{ lo, hi int }

// lgBad is the first bad value of a scan: the row (of the whole data),
// the column (p: treatment, p+1: weight), the value and the error
// (code 1 ErrBadValue, 2 ErrNotBinary, 3 ErrBadWeight; 0 none).
type lgBad struct {
	row, col int
	val      float64
	code     uint8
}

var lgBadErrs = [...]error{nil, ErrBadValue, ErrNotBinary, ErrBadWeight}

func lgBadCode(err error) uint8 {
	for c, e := range lgBadErrs {
		if e == err {
			return uint8(c)
		}
	}
	panic("psm: lgBadCode: unknown error")
}

// LogitScanPartial is what a range of rows contributes to the first pass
// of a logit fit (LogitShard.Scan): the number of units with positive
// weight and of treated among them, each covariate's range among treated
// and among controls, the first bad value, and, for each block of rows,
// the weight sums sum w and sum w*y, the deviance at R's starting values
// (when the scan computed them), and per covariate sum w*x and the weight
// of its nonzero values. These give the centres c_j = sum w*x_j / sum w,
// the constant columns, the single-covariate separation check and the
// choice of the sparse pass.
//
// The zero value is an empty partial that takes the layout of the first
// one merged into it. Encoded size (MarshalBinary): 58 + 32p +
// B(40 + 16p) bytes for p covariates and B blocks, about as much in
// memory.
type LogitScanPartial struct {
	p     int
	k     int  // values per term, 3 + 2p; 0: the zero value
	start bool // the deviance at R's starting values was computed
	nPos  int
	n1    int
	min0  []float64
	max0  []float64
	min1  []float64
	max1  []float64
	bad   lgBad
	rows  []lgRange
	sums  []float64 // per term: sum w, sum w*y, dev, sum w*x (p), nonzero weight (p)
}

func newLogitScanPartial(p int, start bool) *LogitScanPartial {
	s := &LogitScanPartial{p: p, k: 3 + 2*p, start: start,
		min0: make([]float64, p), max0: make([]float64, p), min1: make([]float64, p), max1: make([]float64, p)}
	for j := range p {
		s.min0[j], s.min1[j] = math.Inf(1), math.Inf(1)
		s.max0[j], s.max1[j] = math.Inf(-1), math.Inf(-1)
	}
	return s
}

// add appends the block s of rows r (s's bad row is a row of x, row base+i
// of the whole data).
func (sp *LogitScanPartial) add(r lgRange, s *lgScan, base int) {
	sp.rows = append(sp.rows, r)
	sp.sums = append(sp.sums, s.sumW, s.sumWY, s.dev)
	sp.sums = append(sp.sums, s.sumWX...)
	sp.sums = append(sp.sums, s.nzW...)
	if s.badErr != nil && (sp.bad.code == 0 || base+s.badRow < sp.bad.row) {
		sp.bad = lgBad{row: base + s.badRow, col: s.badCol, val: s.badVal, code: lgBadCode(s.badErr)}
	}
	sp.nPos += s.nPos
	sp.n1 += s.n1
	for j := range sp.p {
		sp.min0[j] = math.Min(sp.min0[j], s.min0[j])
		sp.max0[j] = math.Max(sp.max0[j], s.max0[j])
		sp.min1[j] = math.Min(sp.min1[j], s.min1[j])
		sp.max1[j] = math.Max(sp.max1[j], s.max1[j])
	}
}

// Covariates returns the number of covariates p.
func (sp *LogitScanPartial) Covariates() int { return sp.p }

// Rows returns the number of rows the partial covers.
func (sp *LogitScanPartial) Rows() int { return lgRowCount(sp.rows) }

// Blocks returns the number of row ranges (terms) the partial holds.
func (sp *LogitScanPartial) Blocks() int { return len(sp.rows) }

// Merge adds o to sp: counts add, ranges widen, the first bad value (by
// row) is kept, and o's terms are placed among sp's by their rows. Merge
// is associative and commutative, and a fit from merged partials is the
// fit from the separate ones. It is an error (an *InputError with
// ErrBadOption, sp unchanged) when the partials differ in the number of
// covariates or in whether they hold the starting deviance, or when their
// rows overlap. o is not modified.
func (sp *LogitScanPartial) Merge(o *LogitScanPartial) error {
	if o.k == 0 {
		return nil
	}
	if sp.k == 0 {
		*sp = LogitScanPartial{p: o.p, k: o.k, start: o.start,
			min0: slices.Clone(o.min0), max0: slices.Clone(o.max0), min1: slices.Clone(o.min1), max1: slices.Clone(o.max1),
			bad: o.bad, nPos: o.nPos, n1: o.n1, rows: slices.Clone(o.rows), sums: slices.Clone(o.sums)}
		return nil
	}
	if sp.p != o.p || sp.start != o.start {
		return optionError("LogitScanPartial", "merging a partial of %d covariates (start values %v) into one of %d (%v)",
			o.p, o.start, sp.p, sp.start)
	}
	rows, sums, err := lgMergeTerms(sp.rows, sp.sums, o.rows, o.sums, sp.k, "LogitScanPartial")
	if err != nil {
		return err
	}
	sp.rows, sp.sums = rows, sums
	if o.bad.code != 0 && (sp.bad.code == 0 || o.bad.row < sp.bad.row) {
		sp.bad = o.bad
	}
	sp.nPos += o.nPos
	sp.n1 += o.n1
	for j := range sp.p {
		sp.min0[j] = math.Min(sp.min0[j], o.min0[j])
		sp.max0[j] = math.Max(sp.max0[j], o.max0[j])
		sp.min1[j] = math.Min(sp.min1[j], o.min1[j])
		sp.max1[j] = math.Max(sp.max1[j], o.max1[j])
	}
	return nil
}

// LogitPartial is what a range of rows contributes to one IRLS pass of a
// logit fit (LogitShard.Pass) at the coefficients broadcast for it: the
// number of units whose fitted probability is numerically 0 or 1, the
// largest change of the linear predictor since the previous pass, and,
// for each block of rows, the deviance and the upper triangle of
// sum_i W_i v_i v_i' with v_i = (u_i, z_i): U'WU and U'Wz in the internal
// coordinates u of LogitPlan, at R's working weights W and response z
// (see FitLogit). With the sparse pass (LogitPlan.Sparse) the sums are
// kept in the pass's split (logit_sparse.go) and the coordinator centres
// them after adding.
//
// The zero value is an empty partial that takes the layout of the first
// one merged into it. Encoded size (MarshalBinary): 44 + B(24 + 8K) bytes
// for B blocks (one after Compact), with K = m(m+1)/2, m = q+1 for q
// terms (the intercept and p covariates) in the dense pass, and
// K = md(md+1)/2 + ns*md + ns(ns+1)/2 in the sparse pass with ns sparse
// covariates and md = q+1-ns less the constant ones: about 4(q+1)²
// bytes per block of 4096 rows (23 KB for 74 covariates). In memory a
// block takes about twice that (the pass's padded layout).
type LogitPartial struct {
	q, md, ns int // layout: q terms; md = 0 the dense pass, else the sparse split's md and ns
	k         int // values per term: the pass's partial Gram, then the deviance; 0: the zero value
	rows      []lgRange
	sums      []float64
	maxDelta  float64 // the largest |eta_new - eta_old| (NaN wins)
	boundary  int
}

// lgPartialLen returns the number of values per term of a partial of the
// layout (q, md, ns): the padded partial Gram of the pass and the
// deviance.
func lgPartialLen(q, md, ns int) int {
	if md == 0 {
		return lgGramLen(q+1) + 1
	}
	md4 := lgStride(md)
	return md*md4 + ns*md4 + ns*ns + 1
}

// newPartial returns an empty partial of the shard's layout with room for
// its blocks (zeroed), reusing buf when it is large enough.
func (pr *lgProblem) newPartial(buf []float64) *LogitPartial {
	part := &LogitPartial{q: pr.q}
	if pr.sp != nil {
		part.md, part.ns = pr.sp.md, pr.sp.ns
	}
	part.k = lgPartialLen(part.q, part.md, part.ns)
	need := pr.nblocks * part.k
	if cap(buf) >= need {
		part.sums = buf[:need]
		clear(part.sums)
	} else {
		part.sums = make([]float64, need)
	}
	part.rows = make([]lgRange, pr.nblocks)
	for b := range part.rows {
		lo, hi := pr.blockRows(b)
		part.rows[b] = lgRange{pr.base + lo, pr.base + hi}
	}
	return part
}

// Rows returns the number of rows the partial covers.
func (p *LogitPartial) Rows() int { return lgRowCount(p.rows) }

// Blocks returns the number of row ranges (terms) the partial holds.
func (p *LogitPartial) Blocks() int { return len(p.rows) }

// Merge adds o to p: boundary counts add, the largest change of eta is
// kept (NaN wins), and o's terms are placed among p's by their rows. Merge
// is associative and commutative; the coordinator adds the terms in order
// of rows whatever the order of merging, so a fit from merged partials is
// bit-identical to the fit from the separate ones. It is an error (an
// *InputError with ErrBadOption, p unchanged) when the layouts differ
// (another number of terms, or another pass) or the rows overlap. o is not
// modified.
func (p *LogitPartial) Merge(o *LogitPartial) error {
	if o.k == 0 {
		return nil
	}
	if p.k == 0 {
		*p = LogitPartial{q: o.q, md: o.md, ns: o.ns, k: o.k, rows: slices.Clone(o.rows), sums: slices.Clone(o.sums),
			maxDelta: o.maxDelta, boundary: o.boundary}
		return nil
	}
	if p.q != o.q || p.md != o.md || p.ns != o.ns {
		return optionError("LogitPartial", "merging a partial of layout %s into one of %s", o.layout(), p.layout())
	}
	rows, sums, err := lgMergeTerms(p.rows, p.sums, o.rows, o.sums, p.k, "LogitPartial")
	if err != nil {
		return err
	}
	p.rows, p.sums = rows, sums
	p.boundary += o.boundary
	p.maxDelta = lgMaxDelta(p.maxDelta, o.maxDelta)
	return nil
}

// Compact adds the terms of p, in order of rows, into one term covering
// all its rows: the partial then has the size of one block, and a fit from
// compacted partials equals the single-process fit to rounding (the sums
// are added in another order), not bit for bit. The rows must be
// contiguous (an *InputError with ErrBadOption otherwise, p unchanged).
// Cost: O(B K) for B blocks of K values.
func (p *LogitPartial) Compact() error {
	if len(p.rows) <= 1 {
		return nil
	}
	for t := 1; t < len(p.rows); t++ {
		if p.rows[t].lo != p.rows[t-1].hi {
			return optionError("LogitPartial", "Compact: rows %d to %d are missing between two blocks",
				p.rows[t-1].hi, p.rows[t].lo-1)
		}
	}
	sum := make([]float64, p.k)
	for t := range p.rows {
		for j, v := range p.sums[t*p.k : (t+1)*p.k] {
			sum[j] += v
		}
	}
	p.rows = []lgRange{{p.rows[0].lo, p.rows[len(p.rows)-1].hi}}
	p.sums = sum
	return nil
}

func (p *LogitPartial) layout() string {
	return lgLayout(p.q, p.md, p.ns)
}

func lgLayout(q, md, ns int) string {
	if md == 0 {
		return fmt.Sprintf("dense pass, %d terms", q)
	}
	return fmt.Sprintf("sparse pass, %d terms, %d dense and %d sparse", q, md, ns)
}

// lgMaxDelta is the larger of two changes of eta, NaN if either is NaN
// (the rule of sumPassResults).
func lgMaxDelta(a, b float64) float64 {
	if b > a || math.IsNaN(b) {
		return b
	}
	return a
}

func lgRowCount(rows []lgRange) int {
	n := 0
	for _, r := range rows {
		n += r.hi - r.lo
	}
	return n
}

// lgMergeTerms merges two lists of terms (rows sorted and disjoint, k
// values each) into new slices sorted by rows, or reports an overlap.
func lgMergeTerms(ra []lgRange, sa []float64, rb []lgRange, sb []float64, k int, what string) ([]lgRange, []float64, error) {
	rows := make([]lgRange, 0, len(ra)+len(rb))
	sums := make([]float64, 0, len(sa)+len(sb))
	i, j := 0, 0
	for i < len(ra) || j < len(rb) {
		var r lgRange
		if j == len(rb) || (i < len(ra) && ra[i].lo < rb[j].lo) {
			r = ra[i]
			sums = append(sums, sa[i*k:(i+1)*k]...)
			i++
		} else {
			r = rb[j]
			sums = append(sums, sb[j*k:(j+1)*k]...)
			j++
		}
		if n := len(rows); n > 0 && r.lo < rows[n-1].hi {
			return nil, nil, optionError(what, "rows %d to %d of both partials overlap", r.lo, min(r.hi, rows[n-1].hi)-1)
		}
		rows = append(rows, r)
	}
	return rows, sums, nil
}

// lgRef is term t of partial k.
type lgRef struct{ k, t int }

// lgOrder returns the terms of the partials (rows[k] the row ranges of
// partial k, of shard k) in order of rows, checking that they cover rows
// lo..hi-1 once each; hi < 0 accepts any end, which it returns.
func lgOrder(rows [][]lgRange, lo, hi int) ([]lgRef, int, error) {
	var refs []lgRef
	for k, rs := range rows {
		for t := range rs {
			refs = append(refs, lgRef{k, t})
		}
	}
	at := func(r lgRef) lgRange { return rows[r.k][r.t] }
	slices.SortStableFunc(refs, func(a, b lgRef) int { return at(a).lo - at(b).lo })
	next := lo
	for i, r := range refs {
		switch rr := at(r); {
		case rr.lo > next:
			return nil, 0, optionError("shards", "rows %d to %d are in no shard's partial (LogitRowsOptions.Offset)", next, rr.lo-1)
		case rr.lo < next:
			prev := refs[i-1]
			return nil, 0, optionError("shards", "shards %d and %d both have rows %d to %d (LogitRowsOptions.Offset)",
				prev.k, r.k, rr.lo, min(rr.hi, next)-1)
		}
		next = at(r).hi
	}
	switch {
	case hi >= 0 && next < hi:
		return nil, 0, optionError("shards", "rows %d to %d are in no shard's partial (LogitRowsOptions.Offset)", next, hi-1)
	case hi >= 0 && next > hi:
		return nil, 0, optionError("shards", "the partials have rows up to %d, want %d rows (those of the scan)", next-1, hi)
	}
	return refs, next, nil
}

// lgFoldScan adds the scan partials of the shards: counts, ranges and the
// first bad value, and the terms' sums in order of rows (from zero, as
// FitLogit adds its blocks). It returns the totals and the number of rows,
// and an error when the partials do not cover rows 0..n-1 once each.
func lgFoldScan(parts []*LogitScanPartial) (*lgScan, int, error) {
	var all LogitScanPartial // the counts, ranges and first bad value
	rows := make([][]lgRange, len(parts))
	for k, sp := range parts {
		rows[k] = sp.rows
		head := *sp
		head.rows, head.sums = nil, nil
		if err := all.Merge(&head); err != nil {
			return nil, 0, err
		}
	}
	refs, n, err := lgOrder(rows, 0, -1)
	if err != nil {
		return nil, 0, err
	}
	p := all.p
	tot := newLgScan(p)
	if all.bad.code != 0 {
		tot.badRow, tot.badCol, tot.badVal, tot.badErr = all.bad.row, all.bad.col, all.bad.val, lgBadErrs[all.bad.code]
		return tot, n, nil
	}
	tot.nPos, tot.n1 = all.nPos, all.n1
	copy(tot.min0, all.min0)
	copy(tot.max0, all.max0)
	copy(tot.min1, all.min1)
	copy(tot.max1, all.max1)
	k := all.k
	for _, r := range refs {
		s := parts[r.k].sums[r.t*k : (r.t+1)*k]
		tot.sumW += s[0]
		tot.sumWY += s[1]
		tot.dev += s[2]
		for j := range p {
			tot.sumWX[j] += s[3+j]
			tot.nzW[j] += s[3+p+j]
		}
	}
	return tot, n, nil
}

// lgFoldPass adds the pass partials of the shards: boundary counts, the
// largest change of eta, and the terms' deviances and partial Grams in
// order of rows (from zero, as FitLogit adds its blocks), which must cover
// rows lo..hi-1 once each. It writes the Gram (centred and assembled from
// the split with sp, the sparse pass) to g, of length lgGramLen(q+1).
func lgFoldPass(parts []*LogitPartial, lo, hi int, sp *lgSparse, q int, g []float64) (lgPassResult, error) {
	var r lgPassResult
	md, ns := 0, 0
	if sp != nil {
		md, ns = sp.md, sp.ns
	}
	k := lgPartialLen(q, md, ns)
	rows := make([][]lgRange, len(parts))
	for s, p := range parts {
		if p.k == 0 { // the zero value: no rows
			continue
		}
		if p.q != q || p.md != md || p.ns != ns {
			return lgPassResult{}, optionError("shards", "shard %d: a partial of the %s, want the %s", s, p.layout(), lgLayout(q, md, ns))
		}
		rows[s] = p.rows
		r.boundary += p.boundary
		r.maxDelta = lgMaxDelta(r.maxDelta, p.maxDelta)
	}
	refs, _, err := lgOrder(rows, lo, hi)
	if err != nil {
		return lgPassResult{}, err
	}
	plen := k - 1
	acc := g
	if sp != nil {
		acc = make([]float64, plen)
	}
	clear(acc[:plen])
	for _, ref := range refs {
		t := parts[ref.k].sums[ref.t*k : (ref.t+1)*k]
		for j, v := range t[:plen] {
			acc[j] += v
		}
		r.dev += t[plen]
	}
	if sp != nil {
		sp.assemble(g, q+1, acc)
	}
	return r, nil
}
