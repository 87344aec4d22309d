package psm

import (
	"math"
)

// The previous implementation of Balance (the first implementation): every
// variable extracted as a column, all units sorted per variable with
// radixSort64, the eCDFs accumulated unit by unit. Kept as the general,
// independent path the tabulating and sorting paths of Balance are
// checked against (balance_paths_test.go). It passed
// TestBalanceAgainstMatchIt (MatchIt's bal1var, 1e-9) when it was
// Balance.

// oldBalanceColumns is the previous BalanceColumns without validation.
func oldBalanceColumns(names []string, treated, control [][]float64, m *Matching, den SMDDenominator) *BalanceTable {
	T, N := len(m.Matched), m.ix.n
	tb := make([]float64, T)
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
	tab := &BalanceTable{Rows: make([]BalanceRow, len(names)), NTreated: oldSumF(tb), NControl: oldSumF(cb),
		NTreatedMatched: oldSumF(m.MatchedWeight), NControlMatched: m.WeightedControls, NDistinctControls: m.NDistinctControls}
	for v := range names {
		tab.Rows[v] = oldBalanceRow(names[v], treated[v], control[v], tb, cb, m.MatchedWeight, m.ControlWeight, den)
	}
	return tab
}

func oldBalanceRow(name string, xt, xc, tb, cb, ta, ca []float64, den SMDDenominator) BalanceRow {
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
	vt := oldWvar(xt, tb, bin)
	var sd float64
	switch den {
	case SMDTreated:
		sd = math.Sqrt(vt)
	case SMDPooled:
		sd = math.Sqrt((vt + oldWvar(xc, cb, bin)) / 2)
	}
	if !(sd >= math.Sqrt(oldEpsilon)) || math.IsInf(sd, 0) {
		sd = oldPooledSD(xt, xc, tb, cb, bin)
	}
	var order []int32
	if !bin {
		order = oldSortAll(xt, xc)
	}
	r.Before = oldBalanceStats(xt, xc, tb, cb, bin, sd, order)
	r.After = oldBalanceStats(xt, xc, ta, ca, bin, sd, order)
	return r
}

func oldSumF(x []float64) float64 {
	var s float64
	for _, v := range x {
		s += v
	}
	return s
}

const oldEpsilon = 2.220446049250313e-16

func oldBalanceStats(xt, xc, wt, wc []float64, bin bool, sd float64, order []int32) BalanceStats {
	var s BalanceStats
	s.MeanTreated = oldWmean(xt, wt)
	s.MeanControl = oldWmean(xc, wc)
	d := s.MeanTreated - s.MeanControl
	s.SMD = d / sd
	if bin {
		s.VarRatio = math.NaN()
		s.ECDFMean, s.ECDFMax = math.Abs(d), math.Abs(d)
		return s
	}
	s.VarRatio = oldWvar(xt, wt, false) / oldWvar(xc, wc, false)
	// eCDF differences at each distinct value (the last unit of each run
	// of equal values in sorted order).
	st, sc := oldSumF(wt), oldSumF(wc)
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

// oldSortAll returns the units (treated 0..nt-1, then controls) in order of
// their value.
func oldSortAll(xt, xc []float64) []int32 {
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

func oldWmean(x, w []float64) float64 {
	var s, sw float64
	for i, v := range x {
		s += w[i] * v
		sw += w[i]
	}
	return s / sw
}

// oldWvar is MatchIt's oldWvar: weights normalized to sum 1, mean m,
// sum w (x-m)^2 / (1 - sum w^2); p(1-p) for 0/1 variables.
func oldWvar(x, w []float64, bin bool) float64 {
	sw := oldSumF(w)
	m := oldWmean(x, w)
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

// oldPooledSD is MatchIt's pooled_sd(contribution =
// "proportional"): the sd of all units around their group means.
func oldPooledSD(xt, xc, wt, wc []float64, bin bool) float64 {
	st, sc := oldSumF(wt), oldSumF(wc)
	sw := st + sc
	if bin {
		mt, mc := oldWmean(xt, wt), oldWmean(xc, wc)
		return math.Sqrt((mt*st*(1-mt) + mc*sc*(1-mc)) / sw)
	}
	mt, mc := oldWmean(xt, wt), oldWmean(xc, wc)
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
