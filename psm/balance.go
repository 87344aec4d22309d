package psm

import (
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/internal/buf"
)

// SMDDenominator selects the standard deviation that standardizes mean
// differences.
type SMDDenominator int

const (
	// SMDTreated divides by the sd of the treated group before matching
	// (the default; MatchIt/cobalt's default for the ATT, s.d.denom =
	// "treated", and Matching::MatchBalance's choice for the ATT).
	SMDTreated SMDDenominator = iota
	// SMDPooled divides by sqrt((var_t + var_c)/2), both before matching
	// (Rosenbaum & Rubin 1985, psmatch2's pstest "%bias", MatchIt
	// s.d.denom = "pooled").
	SMDPooled
)

// BalanceOptions configures Balance; the zero value is the default.
type BalanceOptions struct {
	// SMD selects the denominator of standardized mean differences;
	// default SMDTreated. The same denominator (from the data before
	// matching) is used before and after matching, so the change shows
	// the change of the mean difference only.
	SMD SMDDenominator
	// Workers bounds the goroutines (each tabulates a range of the
	// variables, then computes variables one at a time); default
	// GOMAXPROCS. The results do not depend on it.
	Workers int
}

// BalanceStats are the balance statistics of one variable in one sample.
type BalanceStats struct {
	// MeanTreated and MeanControl are weighted means (after matching the
	// treated with MatchedWeight, the controls with ControlWeight: the
	// layout of SFI Table 5.1).
	MeanTreated, MeanControl float64
	// SMD is (MeanTreated - MeanControl) / sd, sd chosen by
	// BalanceOptions.SMD.
	SMD float64
	// VarRatio is var_treated / var_control (NaN for 0/1 variables).
	VarRatio float64
	// ECDFMean and ECDFMax are the mean and the largest absolute
	// difference of the two weighted empirical distribution functions over
	// the distinct values of the variable among all units; ECDFMax is the
	// two-sample Kolmogorov–Smirnov statistic D. For 0/1 variables both
	// are |mean difference|.
	ECDFMean, ECDFMax float64
}

// BalanceRow is one variable of a balance table.
type BalanceRow struct {
	Name string
	// Binary is true when every value is 0 or 1.
	Binary        bool
	Before, After BalanceStats
}

// BalanceTable compares treated and control units before and after
// matching.
type BalanceTable struct {
	Rows []BalanceRow
	// Weighted numbers of units before (frequency weights of the
	// matching) and after (matched treated; WeightedControls).
	NTreated, NControl               float64
	NTreatedMatched, NControlMatched float64
	NDistinctControls                int
}

// Balance computes balance diagnostics of the named variables, columns
// of treated (one row per treated unit, in the order given to Match) and
// control (one row per control). Before matching, units carry the
// frequency weights used in the matching; after matching the treated
// carry MatchedWeight and the controls ControlWeight.
//
// The statistics are those of MatchIt's summary.matchit(standardize =
// TRUE) (function bal1var): weighted means; variances
// sum w (x - m)^2 / (1 - sum w^2) with w normalized to sum 1 (p(1-p) for
// 0/1 variables); SMD = mean difference / sd (if that sd is below
// sqrt(machine epsilon) the pooled within-group sd of all units is used,
// as MatchIt does); eCDF statistics evaluated at every distinct value
// among all units, zero-weight ones included.
//
// Cost: one pass over the values, O(N) per variable, with memory
// independent of N except for sorted variables (below). Columns are read
// in place. A row-major *mat.Dense is read once, sequentially, in blocks
// of rows, the variables split among the workers. A RowBlocker (as
// examples/sfi passes slices of its panel.CovStore) is read the same
// way through Rows, balanceRows (512) rows at a time into each worker's
// buffer, never copied whole; when it has a Slice(i, k, j, l int)
// mat.Matrix method returning a RowBlocker (panel.CovStore and CovSlice
// do) each worker reads the view of its own variables, else whole rows
// (then every worker converts every value). The values of the controls
// with ControlWeight > 0 are taken from the blocks; a sorted variable
// whose keys were not collected during the scan is read again with At.
// Other mat.Matrix types are copied column by column with At.
// A variable with few distinct values (integers 0..4095, and up to
// 65,536 other distinct values: dummies, counts of weeks, ages in days)
// is tabulated by value without sorting; the others are sorted (an
// in-place radix sort of one 8-byte key per control, O(N)). The
// after-matching statistics touch only the treated and the controls with
// ControlWeight > 0. 45 SFI-like variables of 3.3 million controls take
// about 0.6 s of CPU time (BenchmarkBalance), spread over the workers.
func Balance(names []string, treated, control mat.Matrix, m *Matching, opts *BalanceOptions) (*BalanceTable, error) {
	rt, ct := treated.Dims()
	rc, cc := control.Dims()
	if ct != len(names) {
		return nil, optionError("treated", "%d columns for %d names", ct, len(names))
	}
	if cc != len(names) {
		return nil, optionError("control", "%d columns for %d names", cc, len(names))
	}
	o, err := balanceOptions(m, opts)
	if err != nil {
		return nil, err
	}
	_, tcol := treated.(Columns)
	_, ccol := control.(Columns)
	if tcol != ccol { // one layout for both: copy the other into columns
		if !tcol {
			treated = toColumns(treated)
		} else {
			control = toColumns(control)
		}
	}
	if tcol || ccol {
		rt, rc = -1, -1 // balance checks every column's length
	}
	srcs := func(x mat.Matrix, r int) []colSrc {
		s := make([]colSrc, len(names))
		if c, ok := x.(Columns); ok {
			for j := range s {
				s[j] = colSrc{data: c[j], stride: 1}
			}
			return s
		}
		if d, ok := x.(*mat.Dense); ok {
			raw := d.RawMatrix()
			for j := range s {
				s[j] = colSrc{data: raw.Data[j:], stride: raw.Stride}
			}
			return s
		}
		if b, ok := x.(RowBlocker); ok {
			blk := &rowBlock{m: b, c: len(names)}
			for j := range s {
				s[j] = colSrc{blk: blk, j: j}
			}
			return s
		}
		for j := range s {
			v := make([]float64, r)
			for i := range v {
				v[i] = x.At(i, j)
			}
			s[j] = colSrc{data: v, stride: 1}
		}
		return s
	}
	return balance(names, srcs(treated, rt), srcs(control, rc), rt, rc, m, o)
}

// Columns is a matrix stored by columns, Columns[j] being column j (the
// layout of panel.Panel.Cols): it lets Balance and BalanceByCohort read
// variables that are not in one dense matrix without copying them. Every
// column must have the same length (Balance says which does not).
type Columns [][]float64

// toColumns copies x into Columns.
func toColumns(x mat.Matrix) Columns {
	r, c := x.Dims()
	out := make(Columns, c)
	for j := range out {
		out[j] = make([]float64, r)
		for i := range out[j] {
			out[j][i] = x.At(i, j)
		}
	}
	return out
}

// Dims returns the rows (the length of the first column) and columns.
func (c Columns) Dims() (r, cols int) {
	if len(c) == 0 {
		return 0, 0
	}
	return len(c[0]), len(c)
}

// At returns element (i, j), c[j][i].
func (c Columns) At(i, j int) float64 { return c[j][i] }

// T returns the transpose.
func (c Columns) T() mat.Matrix { return mat.Transpose{Matrix: c} }

// balanceOptions checks m and the options.
func balanceOptions(m *Matching, opts *BalanceOptions) (BalanceOptions, error) {
	var o BalanceOptions
	if opts != nil {
		o = *opts
	}
	if m == nil || m.ix == nil {
		return o, optionError("m", "nil or empty Matching")
	}
	if o.SMD != SMDTreated && o.SMD != SMDPooled {
		return o, optionError("SMD", "unknown denominator %d", o.SMD)
	}
	return o, nil
}

// balanceRows is the number of control rows a worker reads for all its
// variables before moving on to the next rows.
const balanceRows = 512

// balanceCol is the work on one variable.
type balanceCol struct {
	xt  []float64 // treated values
	xa  []float64 // values of the controls in balanceRun.ac
	cnt valueCounter
	tab valueTable // when not cnt.sorted
}

// balanceRun holds what is shared by all variables.
type balanceRun struct {
	T, N   int
	tw, cw []float64 // base weights (nil = 1)
	tb     []float64 // treated base weights, materialized
	ta     []float64 // treated weights after matching (MatchedWeight)
	ac     []int32   // controls with ControlWeight > 0, ascending
	ca     []float64 // their ControlWeight
	// sums of the weights; s2c0 = sum (cb/sc0)^2
	st0, sc0, s2c0, st1, sc1 float64
	den                      SMDDenominator
	s2allOnce                sync.Once
	s2all                    float64 // sum w^2 / (st0+sc0)^2 over all units
}

// balScratch is one worker's reusable buffers.
type balScratch struct {
	it    distinctIter
	keys  []uint64  // control keys of a sorted variable
	col   []float64 // a block of its control values
	cidx  []int32
	tkeys []uint64
	tidx  []int32
	aw    []float64   // after-matching weights per table value
	au    []afterUnit // after-matching units by value
	af    []afterVal
}

// afterUnit is a unit with after-matching weight: its value's key (or
// table slot) and seq, the treated index or T + position in ac.
type afterUnit struct {
	key uint64
	seq int32
}

// afterVal is a distinct value with after-matching weight and the sums
// of the treated and the control weights there.
type afterVal struct {
	v      float64
	wt, wc float64
}

// balance is Balance on the sources ts (treated) and cs (controls) of
// the variables; rt and rc are the numbers of rows of a matrix (-1: the
// lengths of the sources).
func balance(names []string, ts, cs []colSrc, rt, rc int, m *Matching, o BalanceOptions) (*BalanceTable, error) {
	T, N := len(m.Matched), m.ix.n
	for v, name := range names {
		nt, nc := rt, rc
		if nt < 0 {
			nt, nc = len(ts[v].data), len(cs[v].data)
		}
		if nt != T {
			return nil, lengthError("treated["+name+"]", nt, T, "treated")
		}
		if nc != N {
			return nil, lengthError("control["+name+"]", nc, N, "control")
		}
	}
	r := &balanceRun{T: T, N: N, tw: m.tw, cw: m.cw, ta: m.MatchedWeight, den: o.SMD}
	r.tb = make([]float64, T)
	for i := range r.tb {
		r.tb[i] = 1
		if m.tw != nil {
			r.tb[i] = m.tw[i]
		}
	}
	r.st0 = sumF(r.tb)
	if m.cw == nil {
		r.sc0 = float64(N) // = adding N ones
		u := 1 / r.sc0
		for j := 0; j < N; j++ {
			r.s2c0 += u * u
		}
	} else {
		r.sc0 = sumF(m.cw)
		for _, w := range m.cw {
			u := w / r.sc0
			r.s2c0 += u * u
		}
	}
	for j, w := range m.ControlWeight {
		if w != 0 {
			r.ac = append(r.ac, int32(j))
			r.ca = append(r.ca, w)
		}
	}
	r.st1, r.sc1 = sumF(r.ta), sumF(r.ca)
	tab := &BalanceTable{Rows: make([]BalanceRow, len(names)), NTreated: r.st0, NControl: r.sc0,
		NTreatedMatched: r.st1, NControlMatched: m.WeightedControls, NDistinctControls: m.NDistinctControls}

	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = max(1, min(workers, len(names)))
	cols := make([]balanceCol, len(names))
	xa := make([]float64, len(names)*len(r.ac))
	var xt []float64 // treated values of strided variables
	for v := range names {
		if ts[v].stride != 1 {
			xt = make([]float64, len(names)*T)
			break
		}
	}
	// One pass over the values: each worker takes a contiguous range of
	// variables and reads the control rows in blocks, so a row-major
	// matrix is read once, sequentially.
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		lo, hi := w*len(names)/workers, (w+1)*len(names)/workers
		for v := lo; v < hi; v++ {
			cols[v].xa = xa[v*len(r.ac) : (v+1)*len(r.ac)]
			if ts[v].stride == 1 {
				cols[v].xt = ts[v].data[:T]
			} else {
				cols[v].xt = xt[v*T : (v+1)*T]
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.scan(cols[lo:hi], ts[lo:hi], cs[lo:hi])
		}()
	}
	wg.Wait()
	// Statistics, one variable at a time (sorting those with many
	// distinct values).
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s balScratch
			for v := range next {
				c := &cols[v]
				if c.cnt.bad[0] >= 0 || c.cnt.bad[1] >= 0 {
					continue
				}
				if c.cnt.sorted {
					if !s.sortVariable(r, c, cs[v]) {
						continue
					}
				} else {
					s.it = distinctIter{tab: &c.tab, buf: s.it.buf}
				}
				tab.Rows[v] = r.row(names[v], &s.it, c.xt, c.xa, &s)
				c.cnt.keys = nil
			}
		}()
	}
	for _, sorted := range []bool{true, false} { // the long ones first
		for v := range names {
			if cols[v].cnt.sorted == sorted {
				next <- v
			}
		}
	}
	close(next)
	wg.Wait()
	for v, name := range names {
		c := &cols[v]
		if i := c.cnt.bad[0]; i >= 0 {
			return nil, &InputError{Field: name, Index: i, Value: c.xt[i], Msg: "treated value is not finite", Err: ErrBadValue}
		}
		if i := c.cnt.bad[1]; i >= 0 {
			return nil, &InputError{Field: name, Index: i, Value: cs[v].at(i), Msg: "control value is not finite", Err: ErrBadValue}
		}
	}
	return tab, nil
}

// scan tabulates the variables cols (treated sources ts, control
// sources cs) and collects their treated and after-matching control
// values.
func (r *balanceRun) scan(cols []balanceCol, ts, cs []colSrc) {
	nv := len(cols)
	if br := newBlockRows(ts); br != nil {
		for lo := 0; lo < r.T; lo += balanceRows {
			hi := min(lo+balanceRows, r.T)
			rows := br.rows(lo, hi)
			for i := lo; i < hi; i++ {
				q := (i-lo)*br.st + br.off
				for v, x := range rows[q : q+nv] {
					cols[v].xt[i] = x
				}
			}
		}
	} else if sameRows(ts) {
		d, st := ts[0].data, ts[0].stride
		for i := 0; i < r.T; i++ {
			for v, x := range d[i*st : i*st+nv] {
				cols[v].xt[i] = x
			}
		}
	} else {
		for v := range cols {
			if ts[v].stride != 1 {
				for i := range cols[v].xt {
					cols[v].xt[i] = ts[v].at(i)
				}
			}
		}
	}
	for v := range cols {
		c := &cols[v]
		c.cnt.init([2]bool{r.tw != nil, r.cw != nil}, r.T)
		if balanceForceSort {
			c.cnt.toSorted()
		}
		c.cnt.count(0, c.xt, 0, r.tw)
		if c.cnt.sorted { // the count stopped early: check the treated
			for i, x := range c.xt {
				if x-x != 0 { // NaN or ±Inf
					c.cnt.bad[0] = i
					break
				}
			}
		}
	}
	// The controls' values are counted in blocks of rows, from buf: a
	// row-major matrix, or the rows a RowBlocker copies, are copied block
	// by block into buf (one column after the other), reading each row's
	// variables in order; other strided sources are copied column by
	// column. The values of the controls in r.ac are taken from the
	// blocks.
	// (columns of buf are balanceRows+8 apart, not a multiple of 4 kB,
	// so that the stores of one row do not compete for a cache set)
	const bst = balanceRows + 8
	dense := sameRows(cs)
	br := newBlockRows(cs)
	var buf []float64
	for v := range cs {
		if cs[v].stride != 1 {
			buf = make([]float64, len(cs)*bst)
			break
		}
	}
	gathering, pa := 0, 0
	for lo := 0; lo < r.N; lo += balanceRows {
		hi := min(lo+balanceRows, r.N)
		pb := pa // r.ac[pa:pb] are the after-matching controls in lo..hi-1
		for pb < len(r.ac) && int(r.ac[pb]) < hi {
			pb++
		}
		if br != nil {
			br.columns(buf, bst, lo, hi)
		} else if dense {
			d, st := cs[0].data, cs[0].stride
			for i := lo; i < hi; i++ {
				p := i - lo
				for _, x := range d[i*st : i*st+nv] {
					buf[p] = x
					p += bst
				}
			}
		}
		for v := range cols {
			var d []float64
			switch {
			case dense || br != nil:
				d = buf[v*bst : v*bst+hi-lo]
			case cs[v].stride == 1:
				d = cs[v].data[lo:hi]
			default:
				d = buf[v*bst : v*bst+hi-lo]
				cs[v].read(d, lo)
			}
			for p, j := range r.ac[pa:pb] {
				cols[v].xa[pa+p] = d[int(j)-lo]
			}
			cols[v].cnt.count(1, d, lo, r.cw)
		}
		pa = pb
		r.collectKeys(cols, cs, hi, &gathering)
	}
	for v := range cols {
		c := &cols[v]
		if !c.cnt.sorted {
			c.cnt.table(&c.tab)
		}
		c.cnt.release()
	}
}

// maxGather is the number of variables with many distinct values whose
// control keys one worker collects during the scan; the keys of further
// ones are read again when they are sorted (bounding the memory to
// (maxGather+1) keys per control and worker).
const maxGather = 2

// collectKeys starts collecting the keys of the variables that switched
// to sorting in the block before hi (reading controls 0..hi-1 again),
// while fewer than maxGather do.
func (r *balanceRun) collectKeys(cols []balanceCol, cs []colSrc, hi int, gathering *int) {
	var buf []float64
	for v := range cols {
		c := &cols[v].cnt
		if !c.sorted || c.keys != nil || c.noGather || *gathering == maxGather {
			continue
		}
		c.noGather = true // decided once
		*gathering++
		c.keys = make([]uint64, r.N)
		if buf == nil {
			buf = make([]float64, balanceRows)
		}
		for lo := 0; lo < hi; lo += balanceRows { // controls 0..hi-1
			d := buf[:min(balanceRows, hi-lo)]
			cs[v].read(d, lo)
			c.gather(d, lo)
		}
	}
	for v := range cols {
		if c := &cols[v].cnt; c.sorted {
			c.noGather = true
		}
	}
}

// sameRows reports whether the sources are consecutive columns of one
// row-major matrix (with at least two columns).
func sameRows(s []colSrc) bool {
	if len(s) < 2 {
		return false
	}
	for v := range s {
		if s[v].stride < len(s) || s[v].stride != s[0].stride || len(s[v].data) == 0 ||
			len(s[v].data) != len(s[0].data)-v || &s[v].data[0] != &s[0].data[v] {
			return false
		}
	}
	return true
}

// sortVariable reads the controls' values of c again (checking them),
// sorts them and those of the treated, and sets s.it to merge them;
// false if a value is not finite.
func (s *balScratch) sortVariable(r *balanceRun, c *balanceCol, cs colSrc) bool {
	keys := c.cnt.keys
	if keys == nil {
		s.keys = buf.Resize(s.keys, r.N)
		keys = s.keys
		s.col = buf.Resize(s.col, balanceRows)
		for lo := 0; lo < r.N; lo += balanceRows {
			d := s.col[:min(balanceRows, r.N-lo)]
			cs.read(d, lo)
			for q, x := range d {
				if x-x != 0 { // NaN or ±Inf
					c.cnt.bad[1] = lo + q
					return false
				}
				keys[lo+q] = floatKey(x + 0)
			}
		}
	}
	var ci []int32
	if r.cw != nil {
		s.cidx = buf.Resize(s.cidx, r.N)
		for j := range s.cidx {
			s.cidx[j] = int32(j)
		}
		ci = s.cidx
	}
	s.tkeys = buf.Resize(s.tkeys, r.T)
	s.tidx = buf.Resize(s.tidx, r.T)
	for i, x := range c.xt {
		s.tkeys[i] = floatKey(x + 0)
		s.tidx[i] = int32(i)
	}
	sortKeys(keys, ci)
	sortKeys(s.tkeys, s.tidx)
	s.it = distinctIter{tk: s.tkeys, ti: s.tidx, tw: r.tw, ck: keys, ci: ci, cw: r.cw, buf: s.it.buf}
	return true
}

func sumF(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}

// row computes the statistics of one variable from its distinct values
// it, treated values xt and after-matching control values xa.
func (r *balanceRun) row(name string, it *distinctIter, xt, xa []float64, s *balScratch) BalanceRow {
	// before matching: the treated unit by unit, the controls by value
	bin := true
	var mc0 float64
	for it.reset(); ; {
		t := it.next()
		if t == nil {
			break
		}
		for d, v := range t.vals {
			mc0 += t.wc[d] * v
			if v != 0 && v != 1 {
				bin = false
			}
		}
	}
	mc0 /= r.sc0
	row := BalanceRow{Name: name, Binary: bin}
	mt0 := wmean(xt, r.tb)
	vt := wvar(xt, r.tb, bin)
	var vc float64
	if bin {
		vc = mc0 * (1 - mc0)
	} else {
		var ss float64
		for it.reset(); ; {
			t := it.next()
			if t == nil {
				break
			}
			for d, v := range t.vals {
				u := t.wc[d] / r.sc0
				ss += u * (v - mc0) * (v - mc0)
			}
		}
		vc = ss / (1 - r.s2c0)
	}
	var sd float64
	switch r.den {
	case SMDTreated:
		sd = math.Sqrt(vt)
	case SMDPooled:
		sd = math.Sqrt((vt + vc) / 2)
	}
	if !(sd >= math.Sqrt(epsilon)) || math.IsInf(sd, 0) {
		sd = r.pooledSD(it, xt, mt0, mc0, bin)
	}
	b := &row.Before
	b.MeanTreated, b.MeanControl = mt0, mc0
	b.SMD = (mt0 - mc0) / sd
	a := &row.After
	a.MeanTreated, a.MeanControl = wmean(xt, r.ta), wmean(xa, r.ca)
	a.SMD = (a.MeanTreated - a.MeanControl) / sd
	if bin {
		b.VarRatio, a.VarRatio = math.NaN(), math.NaN()
		b.ECDFMean, b.ECDFMax = math.Abs(mt0-mc0), math.Abs(mt0-mc0)
		d := a.MeanTreated - a.MeanControl
		a.ECDFMean, a.ECDFMax = math.Abs(d), math.Abs(d)
		return row
	}
	b.VarRatio = vt / vc
	a.VarRatio = wvar(xt, r.ta, false) / wvar(xa, r.ca, false)
	r.ecdf(it, xt, xa, s, b, a)
	return row
}

// pooledSD is MatchIt's pooled_sd(contribution = "proportional"): the sd
// of all units around their group means, before matching.
func (r *balanceRun) pooledSD(it *distinctIter, xt []float64, mt, mc float64, bin bool) float64 {
	sw := r.st0 + r.sc0
	if bin {
		return math.Sqrt((mt*r.st0*(1-mt) + mc*r.sc0*(1-mc)) / sw)
	}
	r.s2allOnce.Do(func() {
		var s2 float64
		for _, w := range r.tb {
			u := w / sw
			s2 += u * u
		}
		for j := 0; j < r.N; j++ {
			u := 1 / sw
			if r.cw != nil {
				u = r.cw[j] / sw
			}
			s2 += u * u
		}
		r.s2all = s2
	})
	var ss float64
	for i, v := range xt {
		u := r.tb[i] / sw
		ss += u * (v - mt) * (v - mt)
	}
	for it.reset(); ; {
		t := it.next()
		if t == nil {
			break
		}
		for d, v := range t.vals {
			u := t.wc[d] / sw
			ss += u * (v - mc) * (v - mc)
		}
	}
	return math.Sqrt(ss / (1 - r.s2all))
}

// afterValues returns the distinct values of the units with
// after-matching weight, ascending, with the sums of their weights (in
// unit order: the treated, then the controls in ascending order).
func (r *balanceRun) afterValues(it *distinctIter, xt, xa []float64, s *balScratch) []afterVal {
	s.af = s.af[:0]
	if t := it.tab; t != nil {
		slot := func(x float64) int {
			k, ok := slices.BinarySearch(t.vals, x+0)
			if !ok {
				panic("psm: balance value missing from its table")
			}
			return k
		}
		nv := len(t.vals)
		if nv <= 4*(len(xt)+len(xa)) {
			// few values: add into an array
			s.aw = buf.Resize(s.aw, 2*nv)
			aw := s.aw
			clear(aw)
			for i, x := range xt {
				if w := r.ta[i]; w != 0 {
					aw[2*slot(x)] += w
				}
			}
			for p, x := range xa {
				aw[2*slot(x)+1] += r.ca[p]
			}
			for k := 0; k < nv; k++ {
				if aw[2*k] != 0 || aw[2*k+1] != 0 {
					s.af = append(s.af, afterVal{t.vals[k], aw[2*k], aw[2*k+1]})
				}
			}
			return s.af
		}
		// many values: sort the units by slot
		s.au = s.au[:0]
		for i, x := range xt {
			if r.ta[i] != 0 {
				s.au = append(s.au, afterUnit{uint64(slot(x)), int32(i)})
			}
		}
		for p, x := range xa {
			s.au = append(s.au, afterUnit{uint64(slot(x)), int32(len(xt) + p)})
		}
	} else {
		// sorted keys: sort the units by key
		s.au = s.au[:0]
		for i, x := range xt {
			if r.ta[i] != 0 {
				s.au = append(s.au, afterUnit{floatKey(x + 0), int32(i)})
			}
		}
		for p, x := range xa {
			s.au = append(s.au, afterUnit{floatKey(x + 0), int32(len(xt) + p)})
		}
	}
	slices.SortFunc(s.au, func(a, b afterUnit) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return int(a.seq - b.seq)
	})
	for q, u := range s.au {
		if q == 0 || u.key != s.au[q-1].key {
			var v float64
			if it.tab != nil {
				v = it.tab.vals[u.key]
			} else {
				v = keyFloat(u.key)
			}
			s.af = append(s.af, afterVal{v: v})
		}
		f := &s.af[len(s.af)-1]
		if int(u.seq) < len(xt) {
			f.wt += r.ta[u.seq]
		} else {
			f.wc += r.ca[int(u.seq)-len(xt)]
		}
	}
	return s.af
}

// ecdf sets the eCDF statistics before (b) and after (a) matching: the
// mean and the largest |F_t(x) - F_c(x)| over the distinct values x of
// all units, with F_g(x) the weighted share of group g at or below x.
func (r *balanceRun) ecdf(it *distinctIter, xt, xa []float64, s *balScratch, b, a *BalanceStats) {
	af := r.afterValues(it, xt, xa, s)
	var ft0, fc0, ft1, fc1, tot0, mx0, tot1, mx1 float64
	p, nv := 0, 0
	for it.reset(); ; {
		t := it.next()
		if t == nil {
			break
		}
		nv += len(t.vals)
		for k, v := range t.vals {
			ft0 += t.wt[k]
			fc0 += t.wc[k]
			d0 := math.Abs(ft0/r.st0 - fc0/r.sc0)
			tot0 += d0
			mx0 = math.Max(mx0, d0)
			if p < len(af) && af[p].v == v {
				ft1 += af[p].wt
				fc1 += af[p].wc
				p++
			}
			d1 := math.Abs(ft1/r.st1 - fc1/r.sc1)
			tot1 += d1
			mx1 = math.Max(mx1, d1)
		}
	}
	b.ECDFMean, b.ECDFMax = tot0/float64(nv), mx0
	a.ECDFMean, a.ECDFMax = tot1/float64(nv), mx1
}

const epsilon = 2.220446049250313e-16

func wmean(x, w []float64) float64 {
	var s, sw float64
	for i, v := range x {
		s += w[i] * v
		sw += w[i]
	}
	return s / sw
}

// wvar is MatchIt's wvar: weights normalized to sum 1, mean m,
// sum w (x-m)^2 / (1 - sum w^2); p(1-p) for 0/1 variables.
func wvar(x, w []float64, bin bool) float64 {
	sw := sumF(w)
	m := wmean(x, w)
	if bin {
		return m * (1 - m)
	}
	var ss, s2 float64
	for i, v := range x {
		u := w[i] / sw
		ss += u * (v - m) * (v - m)
		s2 += u * u
	}
	return ss / (1 - s2)
}

// String formats the table like SFI Table 5.1 plus the diagnostics.
func (t *BalanceTable) String() string {
	s := fmt.Sprintf("%-24s %10s %10s %8s %8s %8s %8s %8s\n", "variable", "treated", "matched", "SMD pre", "SMD", "VR pre", "VR", "KS")
	for _, r := range t.Rows {
		s += fmt.Sprintf("%-24s %10.4g %10.4g %8.3f %8.3f %8.3f %8.3f %8.3f\n", r.Name,
			r.After.MeanTreated, r.After.MeanControl, r.Before.SMD, r.After.SMD,
			r.Before.VarRatio, r.After.VarRatio, r.After.ECDFMax)
	}
	s += fmt.Sprintf("%-24s %10.6g %10.6g\n", "N (weighted)", t.NTreatedMatched, t.NControlMatched)
	return s
}
