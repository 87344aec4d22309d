package psm

import (
	"cmp"
	"math"
	"slices"
	"sort"
)

// ATTOptions configures ATT. The zero value is the documented default.
type ATTOptions struct {
	// MatchingCaliperQuirk reproduces how R Matching::Match treats
	// treated units that were not matched (dropped by the caliper or for
	// lack of controls in their stratum; trimmed and zero-weight units are
	// not affected) in its Abadie–Imbens standard error: they stay in the
	// denominator N_1 and enter the sum of squared individual effects with
	// an effect of 0 (so each adds ATT^2). Default false: the formula is
	// applied to the matched treated units only, which is the Abadie–Imbens
	// variance of the ATT on the matched sample. Without dropped units
	// both agree.
	MatchingCaliperQuirk bool
}

// ATTResult holds the average treatment effect on the treated and its
// standard errors.
type ATTResult struct {
	// ATT = TreatedMean - ControlMean.
	ATT float64
	// SE is the Abadie–Imbens (2006) standard error for matching with
	// replacement and ties, R Matching::Match(..., Var.calc = 0)$se.
	SE float64
	// SEStandard is the naive standard error that treats the matched
	// pairs as independent, Matching::Match's se.standard.
	SEStandard float64
	// TreatedMean is the weighted mean outcome of the matched treated;
	// ControlMean the mean of their matched-control averages.
	TreatedMean, ControlMean float64
	// NMatched and SumWeights count the matched treated units (SumWeights
	// with their frequency weights, N_1 of the formulas).
	NMatched   int
	SumWeights float64
}

// ATT estimates the average treatment effect on the treated from a
// matching and its standard errors. yTreated and yControl hold the
// outcome of every treated and control unit in the order given to Match;
// only matched treated units and controls in their sets are read (others
// may be NaN).
//
// With treated weights t_i (matched units only), match sets S_i with
// control weights w_j and W_i = sum of w_j over S_i, set means
// m_i = sum_{j in S_i} w_j y_j / W_i and N_1 = sum t_i:
//
//	ATT          = sum_i t_i (y_i - m_i) / N_1
//	SSE          = sum_i t_i/W_i sum_{j in S_i} w_j (y_i - y_j - ATT)^2
//	SEStandard^2 = SSE / N_1^2
//	sigma^2      = SSE / (2 N_1)             (Var.calc = 0: one variance for all)
//	K_j          = sum_i t_i w_j / W_i,  KK_j = sum_i t_i w_j^2 / W_i^2
//	SE^2         = [ sigma^2 sum_j (K_j^2 - KK_j)/w_j + sum_i t_i (y_i - m_i - ATT)^2 ] / N_1^2
//
// which is R Matching::Match(Y, Tr, X, estimand = "ATT", ties = TRUE,
// replace = TRUE, Var.calc = 0)$se and $se.standard (RmatchLoop in
// Matching.R, EstFuncC in matching.cc) for unit weights. With frequency
// weights the control term is that of w_j copies of control j (Matching
// uses w_j^2 (K_j/w_j)^2 - ... instead, so with weights the SE equals R's on
// the data with rows copied, not R's weighted SE). Without replacement
// every control copy is used once and the control term is 0.
// See ATTOptions for units dropped by a caliper.
//
// Cost: O(T + B) plus the size of the blocks in the match sets.
func ATT(yTreated, yControl []float64, m *Matching, opts *ATTOptions) (ATTResult, error) {
	e, err := NewATTEvaluator(m, opts)
	if err != nil {
		return ATTResult{}, err
	}
	return e.ATT(yTreated, yControl)
}

// ATTEvaluator computes ATT for many outcomes of one matching (monthly
// outcomes, bootstrap-free standard errors of every event month): the
// work that does not depend on the outcome — the union of the match
// sets' index blocks, their weighted sizes and the control term
// sum_j (K_j^2 - KK_j)/w_j of the variance — is done once by
// NewATTEvaluator, so each ATT call costs O(T) plus the controls in the
// match sets' blocks. Results equal ATT's bit for bit. An ATTEvaluator
// holds scratch space and is not safe for concurrent use; the Matching
// must not change while it is in use.
type ATTEvaluator struct {
	m *Matching
	o ATTOptions
	// block path (matching with replacement)
	sets  []int   // matched treated, by first block
	k0    []int32 // per treated: index of its first block in the union
	spans []attSpan
	bw    []float64 // weighted count of each union block
	kterm float64
	bmean []float64 // scratch
	bm2   []float64 // scratch
	mean  []float64 // scratch, per treated
	m2    []float64 // scratch, per treated
}

// attSpan is a run of consecutive index blocks in the union of the match
// sets; off is the position of its first block in the per-block arrays.
type attSpan struct{ lo, hi, off int32 }

// NewATTEvaluator prepares ATT for matching m (see ATT). Cost: O(T log T)
// plus the controls in the match sets' blocks.
func NewATTEvaluator(m *Matching, opts *ATTOptions) (*ATTEvaluator, error) {
	e := &ATTEvaluator{m: m}
	if opts != nil {
		e.o = *opts
	}
	if m == nil || m.ix == nil {
		return nil, optionError("m", "nil or empty Matching")
	}
	if m.BlockLo == nil {
		if m.Start == nil {
			return nil, optionError("m", "matching has neither block ranges nor expanded sets")
		}
		return e, nil
	}
	e.prepareBlocks()
	return e, nil
}

// prepareBlocks finds the union of the set ranges as disjoint spans of
// blocks, each set's first block in the per-block arrays, the blocks'
// weighted counts and the control term: block k holds bw[k] control
// copies, each with K = sum t_i/W_i and KK = sum t_i/W_i^2 over the sets
// covering it.
func (e *ATTEvaluator) prepareBlocks() {
	m := e.m
	ix := m.ix
	T := len(m.Matched)
	for i, ok := range m.Matched {
		if ok {
			e.sets = append(e.sets, i)
		}
	}
	slices.SortFunc(e.sets, func(a, b int) int { return cmp.Compare(m.BlockLo[a], m.BlockLo[b]) })
	var u int32
	for _, i := range e.sets {
		a, b := m.BlockLo[i], m.BlockHi[i]
		if n := len(e.spans); n > 0 && a <= e.spans[n-1].hi {
			if b > e.spans[n-1].hi {
				u += b - e.spans[n-1].hi
				e.spans[n-1].hi = b
			}
			continue
		}
		e.spans = append(e.spans, attSpan{a, b, u})
		u += b - a
	}
	e.k0 = make([]int32, T)
	for _, i := range e.sets {
		a := m.BlockLo[i]
		k := sort.Search(len(e.spans), func(k int) bool { return e.spans[k].hi > a })
		e.k0[i] = e.spans[k].off + a - e.spans[k].lo
	}
	e.bw = make([]float64, u)
	for _, sp := range e.spans {
		for b := sp.lo; b < sp.hi; b++ {
			var w float64
			for _, j := range ix.order[ix.bstart[b]:ix.bstart[b+1]] {
				if m.cw != nil {
					w += m.cw[j]
				} else {
					w++
				}
			}
			e.bw[sp.off+b-sp.lo] = w
		}
	}
	ma := make([]float64, u) // sum t_i/W_i over the sets covering the block
	mb := make([]float64, u) // sum t_i/W_i^2
	for _, i := range e.sets {
		f := m.MatchedWeight[i] / m.SetWeight[i]
		g := f / m.SetWeight[i]
		for k := e.k0[i]; k < e.k0[i]+m.BlockHi[i]-m.BlockLo[i]; k++ {
			ma[k] += f
			mb[k] += g
		}
	}
	for k, w := range e.bw {
		e.kterm += w * (ma[k]*ma[k] - mb[k])
	}
	e.bmean = make([]float64, u)
	e.bm2 = make([]float64, u)
	e.mean = make([]float64, T)
	e.m2 = make([]float64, T)
}

// ATT returns the estimate and standard errors for one outcome (see the
// package function ATT for the formulas and the argument layout).
func (e *ATTEvaluator) ATT(yTreated, yControl []float64) (ATTResult, error) {
	m, o := e.m, e.o
	T := len(m.Matched)
	if len(yTreated) != T {
		return ATTResult{}, lengthError("yTreated", len(yTreated), T, "treated")
	}
	if len(yControl) != m.ix.n {
		return ATTResult{}, lengthError("yControl", len(yControl), m.ix.n, "control")
	}
	if m.NMatched == 0 {
		return ATTResult{}, ErrNoMatch
	}
	for i, ok := range m.Matched {
		if ok && (math.IsNaN(yTreated[i]) || math.IsInf(yTreated[i], 0)) {
			return ATTResult{}, &InputError{Field: "yTreated", Index: i, Value: yTreated[i],
				Msg: "outcome of a matched treated unit is not finite", Err: ErrBadValue}
		}
	}
	var sets setStats
	var err error
	if m.BlockLo != nil {
		sets, err = e.blockSetStats(yControl)
	} else {
		sets, err = explicitSetStats(yControl, m)
	}
	if err != nil {
		return ATTResult{}, err
	}

	var r ATTResult
	var sy, sm float64
	for i, ok := range m.Matched {
		if !ok {
			continue
		}
		t := m.MatchedWeight[i]
		r.NMatched++
		r.SumWeights += t
		sy += t * yTreated[i]
		sm += t * sets.mean[i]
	}
	n1 := r.SumWeights
	r.TreatedMean = sy / n1
	r.ControlMean = sm / n1
	var sumTau float64
	for i, ok := range m.Matched {
		if ok {
			sumTau += m.MatchedWeight[i] * (yTreated[i] - sets.mean[i])
		}
	}
	r.ATT = sumTau / n1
	var sse, dvar float64
	for i, ok := range m.Matched {
		if !ok {
			continue
		}
		t := m.MatchedWeight[i]
		e := yTreated[i] - sets.mean[i] - r.ATT
		sse += t * (e*e + sets.m2[i])
		dvar += t * e * e
	}
	r.SEStandard = math.Sqrt(sse) / n1
	sigma2 := 0.5 * sse / n1
	sn := n1
	if o.MatchingCaliperQuirk {
		for i, st := range m.Status {
			if st == StatusCaliper || st == StatusNoControls {
				w := 1.0
				if m.tw != nil {
					w = m.tw[i]
				}
				sn += w
				dvar += w * r.ATT * r.ATT
			}
		}
	}
	r.SE = math.Sqrt((sigma2*sets.kterm + dvar) / (sn * sn))
	return r, nil
}

// setStats holds per treated unit the weighted mean of the outcome over
// its match set and the weighted mean squared deviation from it (both
// with set weights summing to 1), and the control term
// sum_j (K_j^2 - KK_j)/w_j of the Abadie–Imbens variance.
type setStats struct {
	mean, m2 []float64
	kterm    float64
}

func badControl(j int32, v float64) error {
	return &InputError{Field: "yControl", Index: int(j), Value: v,
		Msg: "outcome of a matched control is not finite", Err: ErrBadValue}
}

// blockSetStats works on index blocks: each block in some set gets its
// weighted mean and sum of squared deviations (one pass over its
// controls), and the set statistics are merged from whole blocks (Chan et
// al.'s pairwise update), so a set costs O(blocks in it). Work is
// proportional to the blocks in the union of the sets, not to N.
func (e *ATTEvaluator) blockSetStats(y []float64) (setStats, error) {
	m := e.m
	ix := m.ix
	for _, sp := range e.spans {
		for b := sp.lo; b < sp.hi; b++ {
			var w, mean, m2 float64
			for _, j := range ix.order[ix.bstart[b]:ix.bstart[b+1]] {
				wj := 1.0
				if m.cw != nil {
					wj = m.cw[j]
				}
				if wj == 0 {
					continue
				}
				v := y[j]
				if math.IsNaN(v) || math.IsInf(v, 0) {
					return setStats{}, badControl(j, v)
				}
				w += wj
				d := v - mean
				mean += d * wj / w
				m2 += wj * d * (v - mean)
			}
			k := sp.off + b - sp.lo
			e.bmean[k], e.bm2[k] = mean, m2
		}
	}
	s := setStats{mean: e.mean, m2: e.m2, kterm: e.kterm}
	for _, i := range e.sets {
		k0 := e.k0[i]
		var w, mean, m2 float64
		for k := k0; k < k0+m.BlockHi[i]-m.BlockLo[i]; k++ {
			wb := e.bw[k]
			if wb == 0 {
				continue
			}
			if w == 0 {
				w, mean, m2 = wb, e.bmean[k], e.bm2[k]
				continue
			}
			n := w + wb
			d := e.bmean[k] - mean
			mean += d * wb / n
			m2 += e.bm2[k] + d*d*w*wb/n
			w = n
		}
		s.mean[i] = mean
		s.m2[i] = m2 / w
	}
	return s, nil
}

// explicitSetStats works on the expanded sets (always present without
// replacement).
func explicitSetStats(y []float64, m *Matching) (setStats, error) {
	if m.Start == nil {
		return setStats{}, optionError("m", "matching has neither block ranges nor expanded sets")
	}
	T := len(m.Matched)
	s := setStats{mean: make([]float64, T), m2: make([]float64, T)}
	var kc, kk []float64
	if !m.noRepl {
		kc = make([]float64, m.ix.n)
		kk = make([]float64, m.ix.n)
	}
	for i, ok := range m.Matched {
		if !ok {
			continue
		}
		lo, hi := m.Start[i], m.Start[i+1]
		var mean float64
		for k := lo; k < hi; k++ {
			j := m.Control[k]
			v := y[j]
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return setStats{}, badControl(j, v)
			}
			mean += m.Weight[k] * v
		}
		var m2 float64
		t := m.MatchedWeight[i]
		for k := lo; k < hi; k++ {
			j := m.Control[k]
			d := y[j] - mean
			m2 += m.Weight[k] * d * d
			if kc != nil {
				kc[j] += t * m.Weight[k]
				kk[j] += t * m.Weight[k] * m.Weight[k]
			}
		}
		s.mean[i], s.m2[i] = mean, m2
	}
	for j := range kc {
		if kc[j] == 0 {
			continue
		}
		wj := 1.0
		if m.cw != nil {
			wj = m.cw[j]
		}
		s.kterm += (kc[j]*kc[j] - kk[j]) / wj
	}
	return s, nil
}
