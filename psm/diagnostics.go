package psm

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Thresholds of the diagnostics: a value beyond one is flagged (see
// Diagnostics.Flags). They are conventions of this library, stated so that
// a reader can disagree with them; cobalt (R) and OHDSI CohortMethod use
// the same quantities with similar rules of thumb.
const (
	// MaxUnmatchedShare: more than 5 % of the treated left unmatched (off
	// the common support, outside the caliper, no control in their
	// stratum) changes the estimand from the ATT to the effect on the
	// matched treated.
	MaxUnmatchedShare = 0.05
	// MinESSShare: an effective sample size of the matched controls below
	// a quarter of the matched treated means that few controls carry the
	// comparison (matching with replacement reuses them).
	MinESSShare = 0.25
	// MaxControlShare: one control carrying more than 5 % of the control
	// weight dominates the counterfactual.
	MaxControlShare = 0.05
	// MinEquipoise: Walker et al. (2013) call treatment groups comparable
	// when at least half of the units of each have a preference score in
	// [0.3, 0.7].
	MinEquipoise = 0.5
	// MaxCohortSMD: the largest |standardized mean difference| of a
	// covariate within one start cohort after matching; 0.1 is the usual
	// threshold for a whole sample (Austin 2009), applied here per cohort.
	MaxCohortSMD = 0.1
	// CohortSMDNoise: a cohort's |SMD| is flagged only beyond this many
	// times its sampling noise under balance, sqrt(2/n) for n matched
	// treated (the SD of a standardized difference of two means of n), so
	// that the largest of many comparisons in small cohorts is not
	// flagged by chance alone.
	CohortSMDNoise = 4
)

// Diagnostics summarises a matched sample with the checks a reviewer of a
// matching study asks for, each compared with its threshold.
type Diagnostics struct {
	// Treated counts the treated units with positive weight; Matched
	// those with a match set; Trimmed, Caliper and NoControls those
	// unmatched for each reason (MatchStatus).
	Treated    int `json:"treated"`
	Matched    int `json:"matched"`
	Trimmed    int `json:"trimmed"`
	Caliper    int `json:"outside_caliper"`
	NoControls int `json:"no_controls"`
	// UnmatchedShare is (Treated − Matched) / Treated.
	UnmatchedShare float64 `json:"unmatched_share"`
	// Controls counts the distinct controls used (ControlWeight > 0);
	// ControlWeight is Σ_j w_j (the weighted number of matched treated).
	Controls      int     `json:"controls"`
	ControlWeight float64 `json:"control_weight"`
	// ESS is the effective sample size of the matched controls,
	// (Σ_j w_j)² / Σ_j w_j² (Kish), and ESSShare = ESS / Matched.
	ESS      float64 `json:"ess"`
	ESSShare float64 `json:"ess_share"`
	// MaxShare is the largest share max_j w_j / Σ_j w_j of one control
	// in the control weight, and MaxShareControl that control (input
	// index; −1 when no control is used).
	MaxShare        float64 `json:"max_control_share"`
	MaxShareControl int     `json:"max_share_control"`
	// Flags lists, in words, every threshold crossed (empty: none).
	Flags []string `json:"flags"`
}

// Diagnose computes the Diagnostics of m. Cost O(treated + controls used).
func Diagnose(m *Matching) Diagnostics {
	var d Diagnostics
	d.MaxShareControl = -1
	for i, st := range m.Status {
		switch st {
		case StatusAbsent:
			continue
		case StatusMatched:
			d.Matched++
		case StatusTrimmed:
			d.Trimmed++
		case StatusCaliper:
			d.Caliper++
		case StatusNoControls:
			d.NoControls++
		default:
			panic(fmt.Sprintf("psm: Diagnose: unit %d has status %d", i, st))
		}
		d.Treated++
	}
	var s2, wmax float64
	for _, j := range m.MatchedControls {
		w := m.ControlWeight[j]
		d.ControlWeight += w
		s2 += w * w
		if w > wmax {
			wmax, d.MaxShareControl = w, int(j)
		}
	}
	d.Controls = len(m.MatchedControls)
	d.UnmatchedShare = ratio(float64(d.Treated-d.Matched), float64(d.Treated))
	if s2 > 0 {
		d.ESS = d.ControlWeight * d.ControlWeight / s2
		d.MaxShare = wmax / d.ControlWeight
	}
	d.ESSShare = ratio(d.ESS, float64(d.Matched))
	if d.UnmatchedShare > MaxUnmatchedShare {
		d.Flags = append(d.Flags, fmt.Sprintf("%.1f %% of the treated are unmatched (%d off support, %d outside the caliper, %d without controls in their stratum; threshold %.0f %%): the estimate is the effect on the matched treated",
			100*d.UnmatchedShare, d.Trimmed, d.Caliper, d.NoControls, 100*MaxUnmatchedShare))
	}
	if d.Matched > 0 && d.ESSShare < MinESSShare {
		d.Flags = append(d.Flags, fmt.Sprintf("the matched controls' effective sample size %.0f is %.2f of the matched treated (threshold %.2f): few controls carry the comparison", d.ESS, d.ESSShare, MinESSShare))
	}
	if d.MaxShare > MaxControlShare {
		d.Flags = append(d.Flags, fmt.Sprintf("control %d carries %.1f %% of the control weight (threshold %.0f %%)", d.MaxShareControl, 100*d.MaxShare, 100*MaxControlShare))
	}
	return d
}

// treatedWeight is the frequency weight of treated unit i (1 without
// weights).
func (m *Matching) treatedWeight(i int) float64 {
	if m.tw == nil {
		return 1
	}
	return m.tw[i]
}

// binaryColumns reports for every column of x whether all its values
// are 0 or 1, in one pass over the rows (row-major: a column at a time
// would stride through the whole matrix once per column; a RowBlocker is
// read lgSub rows at a time).
func binaryColumns(x mat.Matrix) []bool {
	r, c := x.Dims()
	bin := make([]bool, c)
	for v := range bin {
		bin[v] = true
	}
	left := c // columns still binary
	check := func(row []float64) {
		for v, u := range row {
			if bin[v] && u != 0 && u != 1 {
				bin[v] = false
				left--
			}
		}
	}
	if d, ok := x.(*mat.Dense); ok {
		raw := d.RawMatrix()
		for i := 0; i < r && left > 0; i++ {
			check(raw.Data[i*raw.Stride : i*raw.Stride+c])
		}
		return bin
	}
	if b, ok := x.(RowBlocker); ok { // lgSub rows at a time
		buf := make([]float64, lgSub*c)
		for lo := 0; lo < r && left > 0; lo += lgSub {
			hi := min(lo+lgSub, r)
			b.Rows(buf, lo, hi)
			for i := 0; i < hi-lo && left > 0; i++ {
				check(buf[i*c : (i+1)*c])
			}
		}
		return bin
	}
	for i := 0; i < r && left > 0; i++ {
		for v := range bin {
			if u := x.At(i, v); bin[v] && u != 0 && u != 1 {
				bin[v] = false
				left--
			}
		}
	}
	return bin
}

// isBinary reports whether every value of x is 0 or 1.
func isBinary(x []float64) bool {
	for _, v := range x {
		if v != 0 && v != 1 {
			return false
		}
	}
	return true
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return math.NaN()
	}
	return a / b
}

// Preference is the distribution of the preference score (Walker et al.
// 2013), the propensity score with the treated share taken out:
//
//	ln(F/(1−F)) = ln(p/(1−p)) − ln(P/(1−P)),
//
// P the treated share of the units given. F = 0.5 for a unit whose odds
// of treatment equal the sample's, whatever the prevalence (6,487 treated
// among 3.3 million in the SFI design).
type Preference struct {
	// P is the treated share used.
	P float64 `json:"treated_share"`
	// Treated and Control are the deciles (0, 10, ..., 100 %; R quantile
	// type 7) of F in each group.
	Treated [11]float64 `json:"deciles_treated"`
	Control [11]float64 `json:"deciles_control"`
	// EquipoiseTreated and EquipoiseControl are the shares of each group
	// with F in [0.3, 0.7]; Equipoise says whether both reach MinEquipoise.
	EquipoiseTreated float64 `json:"equipoise_treated"`
	EquipoiseControl float64 `json:"equipoise_control"`
	Equipoise        bool    `json:"equipoise"`
}

// PreferenceScores computes the preference-score distribution of the
// treated and control propensity scores (each in [0, 1]; 0 and 1 give F =
// 0 and 1). Cost O(N log N). It is an error when a group is empty or a
// score is outside [0, 1].
func PreferenceScores(treated, control []float64) (*Preference, error) {
	if len(treated) == 0 || len(control) == 0 {
		return nil, &InputError{Field: "treated", Index: -1, Msg: fmt.Sprintf("%d treated and %d control scores: both groups are needed", len(treated), len(control)), Err: ErrEmptyGroup}
	}
	P := float64(len(treated)) / float64(len(treated)+len(control))
	shift := math.Log(P / (1 - P))
	f := func(name string, ps []float64) ([]float64, error) {
		out := make([]float64, len(ps))
		for i, p := range ps {
			if !(p >= 0 && p <= 1) {
				return nil, &InputError{Field: name, Index: i, Value: p, Msg: "not in [0, 1]", Err: ErrBadScore}
			}
			out[i] = 1 / (1 + math.Exp(-(math.Log(p/(1-p)) - shift)))
		}
		slices.Sort(out)
		return out, nil
	}
	ft, err := f("treated", treated)
	if err != nil {
		return nil, err
	}
	fc, err := f("control", control)
	if err != nil {
		return nil, err
	}
	pr := &Preference{P: P}
	for k := 0; k <= 10; k++ {
		pr.Treated[k] = quantile7(ft, float64(k)/10)
		pr.Control[k] = quantile7(fc, float64(k)/10)
	}
	pr.EquipoiseTreated, pr.EquipoiseControl = shareIn(ft, 0.3, 0.7), shareIn(fc, 0.3, 0.7)
	pr.Equipoise = pr.EquipoiseTreated >= MinEquipoise && pr.EquipoiseControl >= MinEquipoise
	return pr, nil
}

// quantile7 is R's quantile(x, q, type = 7) of sorted x.
func quantile7(x []float64, q float64) float64 {
	h := q * float64(len(x)-1)
	lo := int(math.Floor(h))
	if lo+1 >= len(x) {
		return x[len(x)-1]
	}
	return x[lo] + (h-float64(lo))*(x[lo+1]-x[lo])
}

// shareIn is the share of sorted x in [lo, hi].
func shareIn(x []float64, lo, hi float64) float64 {
	a, _ := slices.BinarySearch(x, lo)
	b, found := slices.BinarySearch(x, hi)
	for found && b < len(x) && x[b] == hi {
		b++
	}
	return float64(b-a) / float64(len(x))
}

// CohortBalance is the balance of each covariate within each start cohort
// after matching.
type CohortBalance struct {
	// Cohorts are the cohort codes in ascending order, N[c] the matched
	// treated weight of cohort Cohorts[c], and SMD[c][v] the standardized
	// mean difference of covariate v in it.
	Cohorts []int32
	N       []float64
	SMD     [][]float64
	// Worst is the largest |SMD| over cohorts and covariates, at cohort
	// WorstCohort and covariate WorstVar (index into the names given).
	Worst       float64
	WorstCohort int32
	WorstVar    int
	// Flagged says whether some cohort's |SMD| exceeds both MaxCohortSMD
	// and CohortSMDNoise·sqrt(2/N[c]); the largest such is FlagSMD, of
	// covariate FlagVar in cohort FlagCohort, whose limit is FlagLimit.
	Flagged    bool
	FlagSMD    float64
	FlagCohort int32
	FlagVar    int
	FlagLimit  float64
}

// BalanceByCohort computes the balance of the covariates (columns of
// treated and control, one per name; rows in the order of m's treated
// and controls, as Balance takes them) within each start cohort of the
// treated (cohort, one code per treated unit): the matched treated of
// cohort c with their MatchedWeight against the controls of their match
// sets, each with MatchedWeight[i]·(its weight in the set of i) (the
// subgroup's own ControlWeight). SMD = (weighted mean treated − weighted
// mean control) / sd, sd the standard deviation of the covariate over all
// treated before matching, with their frequency weights, as Balance
// computes it (MatchIt's: the weighted variance with divisor 1 − Σu² of
// the normalised weights u, or p(1−p) when every value is 0 or 1), the
// same for every cohort. A covariate constant among the treated (sd 0)
// gets SMD ±Inf or NaN and is left out of Worst. It needs the match sets
// (not MatchOptions.SkipSets). Cost O((treated + set entries) ×
// covariates).
func BalanceByCohort(names []string, treated, control mat.Matrix, cohort []int32, m *Matching) (*CohortBalance, error) {
	nt, nc := len(m.Status), len(m.ControlWeight)
	if r, c := treated.Dims(); r != nt || c != len(names) {
		return nil, optionError("treated", "%d×%d for %d treated units and %d names", r, c, nt, len(names))
	}
	if r, c := control.Dims(); r != nc || c != len(names) {
		return nil, optionError("control", "%d×%d for %d controls and %d names", r, c, nc, len(names))
	}
	if len(cohort) != nt {
		return nil, optionError("cohort", "%d cohorts for %d treated units", len(cohort), nt)
	}
	if m.Start == nil {
		return nil, optionError("SkipSets", "the matching was made without its match sets")
	}
	var codes []int32
	for i, st := range m.Status {
		if st == StatusMatched {
			codes = append(codes, cohort[i])
		}
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	V, C := len(names), len(codes)
	sumT, sumC := make([]float64, C*V), make([]float64, C*V)
	wT, wC := make([]float64, C), make([]float64, C)
	for i, st := range m.Status {
		if st != StatusMatched {
			continue
		}
		k, _ := slices.BinarySearch(codes, cohort[i])
		w := m.MatchedWeight[i]
		wT[k] += w
		for v := range V {
			sumT[k*V+v] += w * treated.At(i, v)
		}
		for e := m.Start[i]; e < m.Start[i+1]; e++ {
			j, wj := int(m.Control[e]), w*m.Weight[e]
			wC[k] += wj
			for v := range V {
				sumC[k*V+v] += wj * control.At(j, v)
			}
		}
	}
	tb := make([]float64, nt) // the treated's weights before matching
	for i, st := range m.Status {
		if st != StatusAbsent {
			tb[i] = m.treatedWeight(i)
		}
	}
	sd := make([]float64, V)
	xt := make([]float64, nt)
	binC := binaryColumns(control)
	for v := range V {
		for i := range xt {
			xt[i] = treated.At(i, v)
		}
		sd[v] = math.Sqrt(wvar(xt, tb, isBinary(xt) && binC[v]))
	}
	cb := &CohortBalance{Cohorts: codes, N: wT, SMD: make([][]float64, C), WorstVar: -1, FlagVar: -1}
	for k := range C {
		row := make([]float64, V)
		lim := math.Max(MaxCohortSMD, CohortSMDNoise*math.Sqrt(2/wT[k]))
		for v := range V {
			row[v] = (sumT[k*V+v]/wT[k] - sumC[k*V+v]/wC[k]) / sd[v]
			a := math.Abs(row[v])
			if math.IsInf(a, 0) || math.IsNaN(a) {
				continue
			}
			if a > cb.Worst {
				cb.Worst, cb.WorstCohort, cb.WorstVar = a, codes[k], v
			}
			if a > lim && a > cb.FlagSMD {
				cb.Flagged = true
				cb.FlagSMD, cb.FlagCohort, cb.FlagVar, cb.FlagLimit = a, codes[k], v, lim
			}
		}
		cb.SMD[k] = row
	}
	return cb, nil
}
