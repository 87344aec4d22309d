package main

// The -bias-adjust option of the matching stage: the bias-corrected ATT
// (psm.BiasAdjustedATT) of each outcome with Z = the logit's covariates.

import (
	"fmt"
	"io"
	"text/tabwriter"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// biasAdjustHelp is the usage text of -bias-adjust.
const biasAdjustHelp = "also report the bias-corrected ATT (Abadie-Imbens 2011) of each outcome, adjusted " +
	"by a regression on the covariates among the matched controls, as R Matching::Match(..., Z = covariates, " +
	"BiasAdjust = TRUE): \"att_bias_adjusted\" and \"se_bias_adjusted\" in the JSON (the se, like se_ai, over " +
	"the matched treated); needs -outcomes and -replace"

// checkBiasAdjust validates -bias-adjust against the other matching flags.
func (c *matchConfig) checkBiasAdjust() error {
	switch {
	case !c.biasAdjust:
		return nil
	case len(c.outcomes) == 0:
		return fmt.Errorf("%w: -bias-adjust needs -outcomes", errUsage)
	case !c.replace:
		return fmt.Errorf("%w: -bias-adjust needs matching with replacement (-replace=false given; R's Match has no bias adjustment without replacement)", errUsage)
	}
	return nil
}

// newBiasAdjuster prepares the bias adjustment of matching m with the
// covariate rows of x (rt: file rows of the treated, rc: of the
// controls); names are the covariates; quirk is -r-caliper-se.
func newBiasAdjuster(x mat.Matrix, rt, rc []int, m *psm.Matching, names []string, quirk bool) (*psm.BiasAdjustEvaluator, error) {
	_, p := x.Dims()
	zt := mat.NewDense(len(rt), p, nil)
	zc := mat.NewDense(len(rc), p, nil)
	for k, i := range rt {
		zt.SetRow(k, mat.Row(nil, i, x))
	}
	for k, i := range rc {
		zc.SetRow(k, mat.Row(nil, i, x))
	}
	ev, err := psm.NewBiasAdjustEvaluator(zt, zc, m, &psm.BiasAdjustOptions{Names: names, MatchingCaliperQuirk: quirk})
	if err != nil {
		return nil, fmt.Errorf("-bias-adjust%s: %w", fileRow(err, rt, rc), err)
	}
	return ev, nil
}

// biasAdjusted sets the bias-corrected estimate and SE of one outcome.
func biasAdjusted(ev *psm.BiasAdjustEvaluator, name string, yt, yc []float64, rt, rc []int, o *outcomeJSON) error {
	r, err := ev.ATT(yt, yc)
	if err != nil {
		return fmt.Errorf("outcome %q (-bias-adjust)%s: %w", name, fileRow(err, rt, rc), err)
	}
	o.ATTBiasAdjusted, o.SEBiasAdjusted = &r.ATT, &r.SE
	return nil
}

// writeBiasAdjustTable prints the bias-corrected estimates, if any.
func writeBiasAdjustTable(w io.Writer, s *matchSummary) error {
	if len(s.outcomes.values) == 0 || s.outcomes.values[0].ATTBiasAdjusted == nil {
		return nil
	}
	fmt.Fprintln(w, "\nBias-corrected (regression on the covariates among the matched controls):")
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "outcome\tATT\tse (AI)\t")
	for i, n := range s.outcomes.names {
		v := s.outcomes.values[i]
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t\n", n, *v.ATTBiasAdjusted, *v.SEBiasAdjusted)
	}
	return tw.Flush()
}
