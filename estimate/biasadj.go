package estimate

import (
	"errors"
	"fmt"
	"math"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// BiasAdjustedOptions configures BiasAdjusted. The zero value is the
// default.
type BiasAdjustedOptions struct {
	// Level is the confidence level of the normal intervals; 0 means 0.95.
	Level float64
	// IncludeMonth0: see EffectOptions.
	IncludeMonth0 bool
	// MatchingCaliperQuirk: see psm.ATTOptions.
	MatchingCaliperQuirk bool
	// Names names the columns of z in errors (nil: "column k").
	Names []string
	// Tolerance: see psm.BiasAdjustOptions (0: R Match's default).
	Tolerance float64
}

// BiasAdjusted computes the bias-corrected matching effects (Abadie and
// Imbens 2011) of s from um, the matched sample (psm.MatchUnits on one
// score per unit of s with s.Treated as the treated flags), with their
// Abadie–Imbens standard errors, for every outcome and event month, the
// accumulated effects and every subgroup. z holds the covariates of the
// adjustment, one row per unit of s (unit order) and one column per
// covariate (typically the logit's covariates); only the rows of matched
// treated units and of controls in their sets are read.
//
// In every (sub)group, outcome and month the estimate is
// psm.BiasAdjustedATT: mu_0(z) = a + z·b is the least-squares fit of
// the control outcomes on z over the group's matched controls, each
// weighted by its match count K_j in the group, and
//
//	ATT_BC = ATT - sum_i [ z_i - sum_{j in S_i} w_ij z_j ]·b / N_1,
//
// the ATT of the outcomes y - z·b, with the Abadie–Imbens standard error
// (Var.calc = 0) of those outcomes: R Matching::Match(Y, Tr, X, Z,
// estimand = "ATT", BiasAdjust = TRUE, ties = TRUE, replace = TRUE)$est
// and $se for the group's treated. b is fitted per outcome and month
// (with R's ridge when the regression is singular, see
// psm.BiasAdjustedATT). The estimator is linear in the outcome for a
// given matching and z, so the accumulated effect is the running sum of
// the monthly ones and equals the bias-corrected ATT of the cumulated
// outcome, whose standard error is reported. Effect.TreatedMean is the
// treated mean and Effect.ControlMean = TreatedMean - ATT, the adjusted
// control mean. Intervals are normal (estimate ± z·SE); percentile
// intervals and bands are NaN. The scores are treated as known.
//
// Cost: one psm.BiasAdjustEvaluator per (sub)group (a pass over the
// matched units with p^2 work each and an O(p^3) inverse) and two of
// its ATT calls per outcome-month, each O(p) per matched unit plus
// psm.ATTEvaluator's cost.
func BiasAdjusted(s *Sample, um *psm.UnitMatching, z mat.Matrix, opts *BiasAdjustedOptions) (*Result, error) {
	if opts == nil {
		opts = &BiasAdjustedOptions{}
	}
	level := opts.Level
	if level == 0 {
		level = 0.95
	}
	if !(level > 0 && level < 1) {
		return nil, invalid("BiasAdjustedOptions.Level", "%v, want 0 < Level < 1", opts.Level)
	}
	if s == nil || um == nil {
		return nil, invalid(nilField(s == nil, "Sample", "psm.UnitMatching"), "BiasAdjusted needs a Sample and a psm.UnitMatching (got nil)")
	}
	if err := s.validate(); err != nil {
		return nil, err
	}
	if d, ok := z.(*mat.Dense); z == nil || ok && d == nil {
		return nil, invalid("z", "BiasAdjusted needs the covariates z (got nil)")
	}
	rows, p := z.Dims()
	if rows != s.Len() {
		return nil, invalid("z", "%d rows for %d units", rows, s.Len())
	}
	ms, err := setsFromUnits(s, um, "BiasAdjusted")
	if err != nil {
		return nil, err
	}
	m := um.Matching
	res, err := effects(s, ms, &EffectOptions{IncludeMonth0: opts.IncludeMonth0})
	if err != nil {
		return nil, err
	}
	res.Method, res.Level = "bias-adjusted", level

	tr, co := s.split()
	zt := mat.NewDense(len(tr), p, nil)
	zc := mat.NewDense(len(co), p, nil)
	for i, u := range tr {
		for k := 0; k < p; k++ {
			zt.Set(i, k, z.At(int(u), k))
		}
	}
	for j, u := range co {
		for k := 0; k < p; k++ {
			zc.Set(j, k, z.At(int(u), k))
		}
	}
	subs := groupMatchings(s, m, tr)
	G := len(subs)
	bo := &psm.BiasAdjustOptions{MatchingCaliperQuirk: opts.MatchingCaliperQuirk, Names: opts.Names, Tolerance: opts.Tolerance}
	evs := make([]*psm.BiasAdjustEvaluator, G)
	for g := range evs {
		if subs[g].NMatched == 0 {
			continue
		}
		if evs[g], err = psm.NewBiasAdjustEvaluator(zt, zc, subs[g], bo); err != nil {
			return nil, zError(err, s, tr, co, res.Series[g])
		}
	}
	used := m.MatchedControls
	yT := make([]float64, len(tr))
	yC := make([]float64, len(co))
	aT := make([]float64, len(tr))
	aC := make([]float64, len(co))
	for j := range yC {
		yC[j], aC[j] = math.NaN(), math.NaN()
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
		for _, j := range used {
			aC[j] = 0
		}
		for mo := 0; mo < o.width(); mo++ {
			matchedMonth(o, mo, tr, co, used, accumulates(mo-o.Pre, opts.IncludeMonth0), yT, yC, aT, aC)
			for g := 0; g < G; g++ {
				se := &res.Series[k*G+g]
				e := &se.Effects[mo]
				seM[g][mo], seA[g][mo] = math.NaN(), math.NaN()
				if subs[g].NMatched == 0 {
					e.ATT, e.ControlMean = math.NaN(), math.NaN()
					continue
				}
				r, err := evs[g].ATT(yT, yC)
				if err != nil {
					return nil, fmt.Errorf("estimate: outcome %q month %d: %w", o.Name, mo-o.Pre, err)
				}
				e.ATT, e.ControlMean = r.ATT, e.TreatedMean-r.ATT
				seM[g][mo] = r.SE
				r, err = evs[g].ATT(aT, aC)
				if err != nil {
					return nil, fmt.Errorf("estimate: outcome %q accumulated month %d: %w", o.Name, mo-o.Pre, err)
				}
				seA[g][mo] = r.SE
			}
		}
		for g := 0; g < G; g++ {
			se := &res.Series[k*G+g]
			accumulate(se.Effects, opts.IncludeMonth0)
			normalOnly(se, seM[g], seA[g], level)
		}
	}
	return res, nil
}

// zError turns a covariate error of psm.NewBiasAdjustEvaluator (which
// names the row among the treated or the controls) into an *Error naming
// the unit of the Sample (the row of z), or one saying which group it
// concerns; both keep psm's error as Cause.
func zError(err error, s *Sample, tr, co []int32, se Series) error {
	group := "whole sample"
	if se.Subgroup != "" {
		group = se.Subgroup + " = " + se.Group
	}
	var me *psm.InputError
	if errors.As(err, &me) && me.Index >= 0 && (me.Field == "zTreated" || me.Field == "zControl") {
		u := tr
		if me.Field == "zControl" {
			u = co
		}
		e := invalidUnit(s, "z", int(u[me.Index]), me.Value, "%s (%v)", me.Msg, me.Value).(*Error)
		e.Cause = me.Err
		return e
	}
	return &Error{Unit: -1, Person: -1, Msg: "bias adjustment (" + group + ")", Err: ErrInvalid, Cause: err}
}
