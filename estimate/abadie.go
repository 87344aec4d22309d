package estimate

import (
	"fmt"
	"math"
	"reflect"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// AbadieImbensOptions configures AbadieImbens. The zero value is the
// default.
type AbadieImbensOptions struct {
	// Level is the confidence level of the normal intervals; 0 means 0.95.
	Level float64
	// IncludeMonth0: see EffectOptions.
	IncludeMonth0 bool
	// MatchingCaliperQuirk: see psm.ATTOptions.
	MatchingCaliperQuirk bool
	// EstimatedScore, when not nil, replaces every standard error by the
	// Abadie–Imbens (2016) variance for matching on a score estimated by
	// a logit (psm.NewScoreAdjuster): SE² − ĉ'Cov ĉ + d̂'Cov d̂, each
	// quadratic form less its outcome noise (psm.ScoreAdjustResult). Result.Method
	// is then "abadie-imbens-2016". Default nil: the score is treated as
	// known.
	EstimatedScore *EstimatedScore
}

// EstimatedScore describes the logit whose fitted probabilities were
// matched on, for the Abadie–Imbens (2016) adjustment (see
// psm.NewScoreAdjuster for the formula).
type EstimatedScore struct {
	// X holds the covariates of the logit, one row per unit of the
	// Sample in unit order (the x given to psm.FitLogit, without the
	// intercept column, such as LogitFit.X); Fit is the logit fitted
	// on them. A matrix other than a *mat.Dense is copied to float64 by
	// psm.NewScoreAdjuster.
	X   mat.Matrix
	Fit *psm.Logit
	// K is the number of neighbours of the matching (default 0 = 1) and
	// L the number of same-group neighbours for the conditional
	// covariances (default 0 = 2); see psm.ScoreAdjustOptions.
	K, L int
	// NoDerivativeTerm and PlugIn: see psm.ScoreAdjustOptions (default
	// false).
	NoDerivativeTerm, PlugIn bool
}

// AbadieImbens computes the effects of s from um, the matched sample
// (psm.MatchUnits on one score per unit of s with s.Treated as the
// treated flags), with the Abadie–Imbens (2006) standard error of every monthly effect
// and of every accumulated effect (the ATT of the cumulated outcome
// Σ_{k≤m} y_k, which equals the accumulated effect because the estimator
// is linear), in the whole sample and in every subgroup (the ATT of the
// subgroup's treated with their match sets: K_j counts only their uses
// of control j). The standard errors are psm.ATT's, which equal R
// Matching::Match(..., estimand = "ATT", Var.calc = 0)$se. Intervals are
// normal (estimate ± z·SE); percentile intervals and simultaneous bands
// are NaN (the method gives no joint distribution over months). The
// scores are treated as known (no adjustment for their estimation,
// Abadie and Imbens 2016) unless opts.EstimatedScore is set: then each
// SE is that of psm.ScoreAdjuster, with um's strata
// (psm.ScoreAdjustOptions.Strata), whose sums run over the (sub)group's
// units (for a subgroup a plug-in analogue the theorem does not cover),
// and a month whose adjusted variance is negative gets a NaN SE and
// interval. Cost: one psm.ATTEvaluator per (sub)group and two of its ATT
// calls per outcome-month, each O(T) plus the controls in the match sets;
// with EstimatedScore also one psm.ScoreAdjuster per (sub)group (O(N (L +
// K) q) for q logit terms) and two O(N q) Adjust calls per outcome-month.
func AbadieImbens(s *Sample, um *psm.UnitMatching, opts *AbadieImbensOptions) (*Result, error) {
	if opts == nil {
		opts = &AbadieImbensOptions{}
	}
	level := opts.Level
	if level == 0 {
		level = 0.95
	}
	if !(level > 0 && level < 1) {
		return nil, invalid("AbadieImbensOptions.Level", "%v, want 0 < Level < 1", opts.Level)
	}
	ms, err := setsFromUnits(s, um, "AbadieImbens")
	if err != nil {
		return nil, err
	}
	m := um.Matching
	res, err := effects(s, ms, &EffectOptions{IncludeMonth0: opts.IncludeMonth0})
	if err != nil {
		return nil, err
	}
	res.Method, res.Level = "abadie-imbens", level
	var adjs []*psm.ScoreAdjuster
	var yU, aU []float64
	if es := opts.EstimatedScore; es != nil {
		res.Method = "abadie-imbens-2016"
		if adjs, err = scoreAdjusters(s, es, um.Options.Strata); err != nil {
			return nil, err
		}
		yU = make([]float64, s.Len())
		aU = make([]float64, s.Len())
	}

	tr, co := s.split()
	subs := groupMatchings(s, m, tr)
	G := len(subs)
	var used []int
	for j, w := range m.ControlWeight {
		if w > 0 {
			used = append(used, j)
		}
	}
	yT := make([]float64, len(tr))
	yC := make([]float64, len(co))
	aT := make([]float64, len(tr))
	aC := make([]float64, len(co))
	for j := range yC {
		yC[j], aC[j] = math.NaN(), math.NaN()
	}
	for _, j := range used {
		aC[j] = 0
	}
	ao := &psm.ATTOptions{MatchingCaliperQuirk: opts.MatchingCaliperQuirk}
	evs := make([]*psm.ATTEvaluator, G)
	for g := range evs {
		if subs[g].NMatched == 0 {
			continue
		}
		if evs[g], err = psm.NewATTEvaluator(subs[g], ao); err != nil {
			return nil, err
		}
	}
	for k := range s.Outcomes {
		o := &s.Outcomes[k]
		seM := make([][]float64, G)
		seA := make([][]float64, G)
		for g := range seM {
			seM[g] = make([]float64, o.width())
			seA[g] = make([]float64, o.width())
		}
		clear(aT)
		clear(aU)
		for _, j := range used {
			aC[j] = 0
		}
		for mo := 0; mo < o.width(); mo++ {
			if adjs != nil {
				for u := range yU {
					yU[u] = o.at(u, mo)
					if accumulates(mo-o.Pre, opts.IncludeMonth0) {
						aU[u] += yU[u]
					}
				}
			}
			matchedMonth(o, mo, tr, co, used, accumulates(mo-o.Pre, opts.IncludeMonth0), yT, yC, aT, aC)
			for g := 0; g < G; g++ {
				seM[g][mo], seA[g][mo] = math.NaN(), math.NaN()
				if subs[g].NMatched == 0 {
					continue
				}
				r, err := evs[g].ATT(yT, yC)
				if err != nil {
					return nil, fmt.Errorf("estimate: outcome %q month %d: %w", o.Name, mo-o.Pre, err)
				}
				seM[g][mo] = r.SE
				if adjs != nil && adjs[g] != nil {
					a, err := adjs[g].Adjust(yU, r)
					if err != nil {
						return nil, fmt.Errorf("estimate: outcome %q month %d: %w", o.Name, mo-o.Pre, err)
					}
					seM[g][mo] = a.SE
				}
				r, err = evs[g].ATT(aT, aC)
				if err != nil {
					return nil, fmt.Errorf("estimate: outcome %q accumulated month %d: %w", o.Name, mo-o.Pre, err)
				}
				seA[g][mo] = r.SE
				if adjs != nil && adjs[g] != nil {
					a, err := adjs[g].Adjust(aU, r)
					if err != nil {
						return nil, fmt.Errorf("estimate: outcome %q accumulated month %d: %w", o.Name, mo-o.Pre, err)
					}
					seA[g][mo] = a.SE
				}
			}
		}
		for g := 0; g < G; g++ {
			normalOnly(&res.Series[k*G+g], seM[g], seA[g], level)
		}
	}
	return res, nil
}

// scoreAdjusters returns one psm.ScoreAdjuster per group of s (the
// order of groupMatchings), its sums restricted to the group's units and
// its neighbours to the matching's strata (nil: one stratum).
func scoreAdjusters(s *Sample, es *EstimatedScore, strata []int32) ([]*psm.ScoreAdjuster, error) {
	if xNil := nilMatrix(es.X); xNil || es.Fit == nil {
		return nil, invalid(nilField(xNil, "EstimatedScore.X", "EstimatedScore.Fit"), "EstimatedScore needs X and Fit")
	}
	if r, _ := es.X.Dims(); r != s.Len() {
		return nil, invalid("EstimatedScore.X", "%d rows for %d units", r, s.Len())
	}
	gi := s.groups()
	G := len(gi.names)
	inc := make([][]bool, G)
	for g := 1; g < G; g++ {
		inc[g] = make([]bool, s.Len())
	}
	var gs []int32
	for u := 0; u < s.Len(); u++ {
		gs = s.unitGroups(gs, u, &gi)
		for _, g := range gs[1:] {
			inc[g][u] = true
		}
	}
	adjs := make([]*psm.ScoreAdjuster, G)
	for g := range adjs {
		nt := 0
		for u, t := range s.Treated {
			if t && (inc[g] == nil || inc[g][u]) {
				nt++
			}
		}
		if nt == 0 {
			continue // a group without treated units has no effect
		}
		a, err := psm.NewScoreAdjuster(es.X, s.Treated, es.Fit, &psm.ScoreAdjustOptions{K: es.K, L: es.L, Include: inc[g], Strata: strata, NoDerivativeTerm: es.NoDerivativeTerm, PlugIn: es.PlugIn})
		if err != nil {
			return nil, &Error{Field: "AbadieImbensOptions.EstimatedScore", Unit: -1, Person: -1, Msg: fmt.Sprintf("group %d", g), Err: ErrInvalid, Cause: err}
		}
		adjs[g] = a
	}
	return adjs, nil
}

// groupMatchings returns one Matching per group of s (the whole sample
// first, then every subgroup level, in the order of Result.Series): m
// with the treated outside the group absent (Matched false, weight 0,
// StatusAbsent), so that estimators on it count only the group's uses of
// each control. tr lists the treated units in the order of m.
func groupMatchings(s *Sample, m *psm.Matching, tr []int32) []*psm.Matching {
	gi := s.groups()
	G := len(gi.names)
	subs := make([]*psm.Matching, G)
	subs[0] = m
	var gs []int32
	for g := 1; g < G; g++ {
		sub := *m
		sub.Matched = make([]bool, len(m.Matched))
		sub.MatchedWeight = make([]float64, len(m.Matched))
		sub.Status = make([]psm.MatchStatus, len(m.Matched))
		sub.NMatched = 0
		subs[g] = &sub
	}
	for i, u := range tr {
		gs = s.unitGroups(gs, int(u), &gi)
		for _, g := range gs[1:] {
			sub := subs[g]
			sub.Matched[i] = m.Matched[i]
			sub.MatchedWeight[i] = m.MatchedWeight[i]
			sub.Status[i] = m.Status[i]
			if m.Matched[i] {
				sub.NMatched++
			}
		}
	}
	for g := 1; g < G; g++ {
		for i := range tr {
			if subs[g].Status[i] == psm.StatusMatched && !subs[g].Matched[i] {
				subs[g].Status[i] = psm.StatusAbsent // not in the group
			}
		}
	}
	return subs
}

// matchedMonth reads event-month column mo of o for the treated units tr
// into yT and for the matched controls (indices used into co) into yC,
// and with acc adds them to the running sums aT and aC: the per-month
// step that Abadie-Imbens and the bias-adjusted estimator share.
func matchedMonth[I int | int32](o *EventOutcome, mo int, tr, co []int32, used []I, acc bool, yT, yC, aT, aC []float64) {
	for i, u := range tr {
		yT[i] = o.at(int(u), mo)
	}
	for _, j := range used {
		yC[j] = o.at(int(co[j]), mo)
	}
	if !acc {
		return
	}
	for i := range aT {
		aT[i] += yT[i]
	}
	for _, j := range used {
		aC[j] += yC[j]
	}
}

// nilMatrix reports whether x is nil or a nil pointer.
func nilMatrix(x mat.Matrix) bool {
	if x == nil {
		return true
	}
	v := reflect.ValueOf(x)
	return v.Kind() == reflect.Pointer && v.IsNil()
}
