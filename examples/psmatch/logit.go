package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"text/tabwriter"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/psmeval/psmeval/psm"
)

// logitJSON is the "logit" section of the -json output.
type logitJSON struct {
	Converged    bool       `json:"converged"`
	Iterations   int        `json:"iterations"`
	Coefficients namedFloat `json:"coefficients"`
	StdErrors    namedFloat `json:"std_errors"`
}

// namedFloat marshals as a JSON object whose keys keep the given order;
// NaN (an aliased term) is null.
type namedFloat struct {
	names  []string
	values []float64
}

func (nf namedFloat) MarshalJSON() ([]byte, error) {
	return orderedObject(nf.names, func(i int) string { return jsonFloat(nf.values[i]) }), nil
}

// treatmentAndWeights returns the -treatment column and the -weights
// column (nil without -weights).
func treatmentAndWeights(tab *flatfile.Table, cfg *config) (y, w []float64, err error) {
	if y, err = tab.Column(cfg.treatment); err != nil {
		return nil, nil, err
	}
	if cfg.weights != "" {
		if w, err = tab.Column(cfg.weights); err != nil {
			return nil, nil, err
		}
	}
	return y, w, nil
}

// dropSeparatedHelp is the usage text of -drop-separated.
const dropSeparatedHelp = "when a covariate predicts the treatment perfectly for some units (quasi-complete separation), " +
	"drop it and leave those units out of the model and of the matching, as Stata's logit does " +
	"(psm.LogitOptions.DropSeparated), instead of stopping; the JSON gains \"dropped_covariates\" and \"excluded_units\""

// propensity is the fitted model with the covariate matrix it was fitted
// on (without the covariates -drop-separated dropped), the fitted scores
// of every row and the rows left out (-drop-separated; they are not
// matched).
type propensity struct {
	*psm.Logit
	x        mat.Matrix
	names    []string
	scores   []float64
	excluded []int
	dropped  []string
}

// fitPropensity fits the logit of the treatment on the covariates and
// fills the counts and the logit section of res.
func fitPropensity(ctx context.Context, tab *flatfile.Table, cfg *config, res *result) (*propensity, error) {
	y, w, err := treatmentAndWeights(tab, cfg)
	if err != nil {
		return nil, err
	}
	x, err := tab.Matrix(cfg.covariates)
	if err != nil {
		return nil, err
	}
	lo := &psm.LogitOptions{Workers: cfg.workers, MaxIter: cfg.maxIter}
	pf := &propensity{x: x, names: cfg.covariates}
	lo.DropSeparated = cfg.dropSeparated
	lf, err := psm.FitLogit(ctx, x, y, w, cfg.covariates, lo)
	if err != nil {
		return nil, propensityError(err, cfg)
	}
	fit := lf.Logit
	pf.x, pf.names, pf.excluded, pf.dropped, pf.scores = lf.X, lf.Covariates, lf.Excluded, lf.Dropped, lf.Scores(nil)
	if cfg.dropSeparated {
		n := len(lf.Excluded)
		res.ExcludedUnits = &n
		res.DroppedCovariates = append([]string{}, lf.Dropped...)
	}
	pf.Logit = fit
	res.NTreated = fit.NTreated
	res.NControl = fit.N - fit.NTreated
	res.Logit = &logitJSON{
		Converged:    fit.Converged,
		Iterations:   fit.Iterations,
		Coefficients: namedFloat{fit.Names, fit.Coef},
		StdErrors:    namedFloat{fit.Names, fit.SE},
	}
	return pf, nil
}

// propensityError names the treatment column by its own name in a bad
// treatment value (psm says "treatment") and suggests -drop-separated for
// a separation it can handle.
func propensityError(err error, cfg *config) error {
	var le *psm.InputError
	if errors.As(err, &le) && le.Field == "treatment" {
		e := *le
		e.Field = cfg.treatment
		return fmt.Errorf("propensity model: %w (the treatment column must hold 0 or 1)", &e)
	}
	var se *psm.SeparationError
	if errors.As(err, &se) && !cfg.dropSeparated && !se.Complete {
		return fmt.Errorf("propensity model: %w; -drop-separated drops the separating covariate and leaves out the units it predicts perfectly, as Stata's logit does", err)
	}
	return fmt.Errorf("propensity model: %w", err)
}

// writeLogitTable prints the coefficient table in the layout of R's
// summary.glm.
func writeLogitTable(w io.Writer, pf *propensity, treatment string) error {
	fit := pf.Logit
	status := fmt.Sprintf("converged in %d iterations", fit.Iterations)
	if !fit.Converged {
		status = fmt.Sprintf("NOT converged after %d iterations", fit.Iterations)
	}
	fmt.Fprintf(w, "Propensity model: logit of %s (IRLS, %s)\n\n", treatment, status)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "term\testimate\tstd.error\tz value\tPr(>|z|)\t")
	for i, n := range fit.Names {
		if math.IsNaN(fit.Coef[i]) {
			fmt.Fprintf(tw, "%s\tNA\tNA\tNA\tNA\t\n", n)
			continue
		}
		p := math.Erfc(math.Abs(fit.Z[i]) / math.Sqrt2)
		fmt.Fprintf(tw, "%s\t%.6g\t%.6g\t%.3f\t%.3g\t\n", n, fit.Coef[i], fit.SE[i], fit.Z[i], p)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(pf.dropped) > 0 || len(pf.excluded) > 0 {
		fmt.Fprintf(w, "\n-drop-separated: dropped %v; %d units predicted perfectly left out of the model and the matching\n", pf.dropped, len(pf.excluded))
	}
	if len(fit.Aliased) > 0 {
		fmt.Fprintf(w, "\naliased (dropped, as R's NA): %v\n", fit.Aliased)
	}
	// Degrees of freedom as R's glm: units with positive weight minus terms.
	df := fit.N - fit.Rank
	nullDF := fit.N - 1
	if !fit.Intercept {
		nullDF = fit.N
	}
	_, err := fmt.Fprintf(w, "\nnull deviance %.6g on %d df; residual deviance %.6g on %d df; AIC %.6g; log-likelihood %.6g\n",
		fit.NullDeviance, nullDF, fit.Deviance, df, fit.AIC, fit.LogLik)
	return err
}
