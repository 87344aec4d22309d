package psm

import (
	"fmt"
	"math"
	"runtime"
	"sync"

	"gonum.org/v1/gonum/mat"
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
	// Workers bounds the goroutines (one variable each); default
	// GOMAXPROCS.
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
// Cost: O(n log n) per non-binary variable (a radix sort of all units),
// run in parallel over variables.
func Balance(names []string, treated, control mat.Matrix, m *Matching, opts *BalanceOptions) (*BalanceTable, error) {
	rt, ct := treated.Dims()
	rc, cc := control.Dims()
	if ct != len(names) {
		return nil, optionError("treated", "%d columns for %d names", ct, len(names))
	}
	if cc != len(names) {
		return nil, optionError("control", "%d columns for %d names", cc, len(names))
	}
	col := func(x mat.Matrix, r, j int) []float64 {
		v := make([]float64, r)
		if d, ok := x.(*mat.Dense); ok {
			mat.Col(v, j, d)
			return v
		}
		for i := range v {
			v[i] = x.At(i, j)
		}
		return v
	}
	tcols := make([][]float64, len(names))
	ccols := make([][]float64, len(names))
	for j := range names {
		tcols[j] = col(treated, rt, j)
		ccols[j] = col(control, rc, j)
	}
	return BalanceColumns(names, tcols, ccols, m, opts)
}

// BalanceColumns is Balance with the variables given as columns:
// treated[v] holds variable v for every treated unit, control[v] for
// every control.
func BalanceColumns(names []string, treated, control [][]float64, m *Matching, opts *BalanceOptions) (*BalanceTable, error) {
	var o BalanceOptions
	if opts != nil {
		o = *opts
	}
	if m == nil || m.ix == nil {
		return nil, optionError("m", "nil or empty Matching")
	}
	if o.SMD != SMDTreated && o.SMD != SMDPooled {
		return nil, optionError("SMD", "unknown denominator %d", o.SMD)
	}
	if len(treated) != len(names) {
		return nil, optionError("treated", "%d columns for %d names", len(treated), len(names))
	}
	if len(control) != len(names) {
		return nil, optionError("control", "%d columns for %d names", len(control), len(names))
	}
	T, N := len(m.Matched), m.ix.n
	for v, name := range names {
		if len(treated[v]) != T {
			return nil, lengthError("treated["+name+"]", len(treated[v]), T, "treated")
		}
		if len(control[v]) != N {
			return nil, lengthError("control["+name+"]", len(control[v]), N, "control")
		}
		for i, x := range treated[v] {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, &MatchInputError{Field: name, Index: i, Value: x, Msg: "treated value is not finite", Err: ErrBadValue}
			}
		}
		for i, x := range control[v] {
			if math.IsNaN(x) || math.IsInf(x, 0) {
				return nil, &MatchInputError{Field: name, Index: i, Value: x, Msg: "control value is not finite", Err: ErrBadValue}
			}
		}
	}
	tb := make([]float64, T) // base weights
	for i := range tb {
		tb[i] = 1
		if m.tw != nil {
			tb[i] = m.tw[i]
		}
	}
	cb := make([]float64, N)
	for j := range cb {
		cb[j] = 1
		if m.cw != nil {
			cb[j] = m.cw[j]
		}
	}
	tab := &BalanceTable{Rows: make([]BalanceRow, len(names)), NTreated: sumF(tb), NControl: sumF(cb),
		NTreatedMatched: sumF(m.MatchedWeight), NControlMatched: m.WeightedControls, NDistinctControls: m.NDistinctControls}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers && w < len(names); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for v := range next {
				tab.Rows[v] = balanceRow(names[v], treated[v], control[v], tb, cb, m.MatchedWeight, m.ControlWeight, o.SMD)
			}
		}()
	}
	for v := range names {
		next <- v
	}
	close(next)
	wg.Wait()
	return tab, nil
}

func sumF(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}

func balanceRow(name string, xt, xc, tb, cb, ta, ca []float64, den SMDDenominator) BalanceRow {
	bin := true
	for _, v := range xt {
		if v != 0 && v != 1 {
			bin = false
			break
		}
	}
	for _, v := range xc {
		if !bin {
			break
		}
		if v != 0 && v != 1 {
			bin = false
		}
	}
	r := BalanceRow{Name: name, Binary: bin}
	// SMD denominator from the base weights.
	vt := wvar(xt, tb, bin)
	var sd float64
	switch den {
	case SMDTreated:
		sd = math.Sqrt(vt)
	case SMDPooled:
		sd = math.Sqrt((vt + wvar(xc, cb, bin)) / 2)
	}
	if !(sd >= math.Sqrt(epsilon)) || math.IsInf(sd, 0) {
		sd = pooledSDProportional(xt, xc, tb, cb, bin)
	}
	var order []int32
	if !bin {
		order = sortAll(xt, xc)
	}
	r.Before = balanceStats(xt, xc, tb, cb, bin, sd, order)
	r.After = balanceStats(xt, xc, ta, ca, bin, sd, order)
	return r
}

const epsilon = 2.220446049250313e-16

func balanceStats(xt, xc, wt, wc []float64, bin bool, sd float64, order []int32) BalanceStats {
	var s BalanceStats
	s.MeanTreated = wmean(xt, wt)
	s.MeanControl = wmean(xc, wc)
	d := s.MeanTreated - s.MeanControl
	s.SMD = d / sd
	if bin {
		s.VarRatio = math.NaN()
		s.ECDFMean, s.ECDFMax = math.Abs(d), math.Abs(d)
		return s
	}
	s.VarRatio = wvar(xt, wt, false) / wvar(xc, wc, false)
	// eCDF differences at each distinct value (the last unit of each run
	// of equal values in sorted order).
	st, sc := sumF(wt), sumF(wc)
	nt := int32(len(xt))
	val := func(k int32) float64 {
		if k < nt {
			return xt[k]
		}
		return xc[k-nt]
	}
	var cum, tot, mx float64
	n := 0
	for p, k := range order {
		if k < nt {
			cum += wt[k] / st
		} else {
			cum -= wc[k-nt] / sc
		}
		if p+1 < len(order) && val(order[p+1]) == val(k) {
			continue
		}
		a := math.Abs(cum)
		tot += a
		mx = math.Max(mx, a)
		n++
	}
	s.ECDFMean, s.ECDFMax = tot/float64(n), mx
	return s
}

// sortAll returns the units (treated 0..nt-1, then controls) in order of
// their value.
func sortAll(xt, xc []float64) []int32 {
	n := len(xt) + len(xc)
	keys := make([]uint64, n)
	idx := make([]int32, n)
	for i, v := range xt {
		keys[i] = floatKey(v + 0) // -0 -> +0 by the addition
		idx[i] = int32(i)
	}
	for j, v := range xc {
		keys[len(xt)+j] = floatKey(v + 0)
		idx[len(xt)+j] = int32(len(xt) + j)
	}
	_, idx = radixSort64(keys, idx)
	return idx
}

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

// pooledSDProportional is MatchIt's pooled_sd(contribution =
// "proportional"): the sd of all units around their group means.
func pooledSDProportional(xt, xc, wt, wc []float64, bin bool) float64 {
	st, sc := sumF(wt), sumF(wc)
	sw := st + sc
	if bin {
		mt, mc := wmean(xt, wt), wmean(xc, wc)
		return math.Sqrt((mt*st*(1-mt) + mc*sc*(1-mc)) / sw)
	}
	mt, mc := wmean(xt, wt), wmean(xc, wc)
	var ss, s2 float64
	for i, v := range xt {
		u := wt[i] / sw
		ss += u * (v - mt) * (v - mt)
		s2 += u * u
	}
	for i, v := range xc {
		u := wc[i] / sw
		ss += u * (v - mc) * (v - mc)
		s2 += u * u
	}
	return math.Sqrt(ss / (1 - s2))
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
