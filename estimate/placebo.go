package estimate

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat/distuv"
)

// PreWindow is a range of event months From..To before the start, both
// included.
type PreWindow struct{ From, To int }

// DefaultPreWindow is the default pre-programme window of PlaceboTest and
// of the reference window of DiD: event months −60..−49, the year before
// the 48 months of wage history that the SFI design's covariates
// summarise. It needs EventOutcome.Pre >= 60 (panel.Design.PreMonths = 60).
var DefaultPreWindow = PreWindow{From: -60, To: -49}

// Len returns the number of months in w (0 when From > To).
func (w PreWindow) Len() int { return max(0, w.To-w.From+1) }

func (w PreWindow) String() string { return fmt.Sprintf("%d..%d", w.From, w.To) }

// checkPre checks that w is a non-empty window of months before the start
// inside −pre..−1; option names the option in the error and what the
// window in its message.
func (w PreWindow) checkPre(option, what, outcome string, pre int) error {
	switch {
	case w.From > w.To:
		return invalid(option, "%s %v is empty (From > To)", what, w)
	case w.To >= 0:
		return invalid(option, "%s %v overlaps the start: its months must be negative (before event month 0)", what, w)
	case w.From < -pre:
		return invalid(option, "%s %v lies beyond the %d pre-programme months of outcome %q (months −%d..−1; set panel.Design.PreMonths >= %d)",
			what, w, pre, outcome, pre, -w.From)
	}
	return nil
}

// PlaceboOptions configures PlaceboTest. The zero value is the default.
type PlaceboOptions struct {
	// Window is the pre-programme window [a, b] tested, a <= b < 0 and a
	// >= −Pre. The zero value means DefaultPreWindow, −60..−49.
	//
	// Choose months that the covariates do not summarise: matching on a
	// history of the outcome (the SFI design's 48 months of wage history)
	// balances those months by construction, so a test there proves
	// nothing. A window before the history windows tests whether the
	// groups, balanced on what the covariates record, differed earlier: a
	// difference there is evidence of a persistent unobserved difference
	// (selection on unobservables) that the matching leaves in the
	// post-programme months too.
	Window PreWindow
	// Level is the level of the sup-t critical value; 0 means 0.95.
	Level float64
	// Tolerance is the relative eigenvalue cut-off of the pseudo-inverse:
	// eigenvalues of Σ at most Tolerance·λ_max count as zero. 0 means
	// 1e-10.
	Tolerance float64
}

// Placebo is the pre-programme placebo test of one series.
type Placebo struct {
	Outcome, Subgroup, Group string
	// Window is the window tested.
	Window PreWindow
	// Effect and SE are the monthly effects D_m in the window and their
	// bootstrap standard errors, month Window.From first.
	Effect, SE []float64
	// Wald is D'Σ⁺D, DF the rank of Σ (its degrees of freedom) and WaldP
	// the chi-square p-value P(χ²_DF > Wald). NaN (and DF 0) when Σ = 0.
	Wald  float64
	DF    int
	WaldP float64
	// SupT is max_m |D_m|/SE_m over the months with SE_m > 0, SupTCrit
	// the Level quantile of the replicates' sup-t distribution and SupTP
	// the share of replicates whose sup-t is at least SupT. NaN when no
	// month has SE_m > 0.
	SupT, SupTCrit, SupTP float64
	// Replicates is the number of replicates used (Series.Valid).
	Replicates int
}

// PlaceboTest tests, for every series of res, that the effects in the
// pre-programme window [a, b] = opts.Window are zero, with the replicates
// of res (Bootstrap or OtsuRai with KeepDraws: the same matches and
// replicates as the effects after the start). With D the vector of the
// W = b−a+1 monthly effects of the window and D*_r its value in replicate
// r = 1..R:
//
//	Σ      = Σ_r (D*_r − D̄*)(D*_r − D̄*)' / (R−1)
//	Wald   = D' Σ⁺ D,  p = P(χ²_df > Wald),  df = rank Σ
//	SupT   = max_m |D_m| / SE_m,  SE_m = √Σ_mm
//	SupT*_r = max_m |D*_rm − D_m| / SE_m,  p = #{r: SupT*_r >= SupT} / R
//
// Σ⁺ is the Moore–Penrose pseudo-inverse from the eigen-decomposition of
// Σ, dropping eigenvalues at most Tolerance·λ_max; df is the number kept.
// With Σ of full rank this is the usual Wald statistic, asymptotically
// χ²_W under the null. Σ is singular when months do not vary across
// replicates — a binary outcome that is 0 for every treated and matched
// control in a month, months that are exact linear combinations of
// others — or when R <= W; the pseudo-inverse then tests D in the
// directions the replicates vary in, with df = rank Σ (components of D
// outside them are ignored). With Σ = 0 there is nothing to test: Wald,
// WaldP are NaN and DF is 0. The sup-t test uses only months with
// SE_m > 0; its critical value is the sup-t band's (summarize) restricted
// to the window. Use R well above W (the default 999 replicates for a
// 12-month window) so that Σ is estimated well.
//
// Errors (ErrInvalid): a window that is empty, overlaps the start
// (b >= 0) or lies beyond −Pre of an outcome, a Result without
// replicates (Draws), a bad Level. A series with fewer than 2 valid
// replicates (a subgroup without weight in the others) gets NaN
// statistics. Cost: O(R·W² + W³) per series.
func PlaceboTest(res *Result, opts *PlaceboOptions) ([]Placebo, error) {
	if res == nil {
		return nil, invalid("Result", "PlaceboTest needs a Result (got nil)")
	}
	if opts == nil {
		opts = &PlaceboOptions{}
	}
	w := opts.Window
	if w == (PreWindow{}) {
		w = DefaultPreWindow
	}
	level := opts.Level
	if level == 0 {
		level = 0.95
	}
	if !(level > 0 && level < 1) {
		return nil, invalid("PlaceboOptions.Level", "%v, want 0 < Level < 1", opts.Level)
	}
	tol := opts.Tolerance
	if tol == 0 {
		tol = 1e-10
	}
	if !(tol > 0 && tol < 1) {
		return nil, invalid("PlaceboOptions.Tolerance", "%v, want 0 < Tolerance < 1", opts.Tolerance)
	}
	out := make([]Placebo, 0, len(res.Series))
	for i := range res.Series {
		se := &res.Series[i]
		if err := w.checkPre("PlaceboOptions.Window", "placebo window", se.Outcome, se.Pre); err != nil {
			return nil, err
		}
		reps, err := monthlyDraws(res, se)
		if err != nil {
			return nil, err
		}
		out = append(out, placebo(se, reps, w, level, tol))
	}
	return out, nil
}

// monthlyDraws returns the replicate rows of se (each 2·len(Effects):
// monthly then accumulated), or an error when res kept none.
func monthlyDraws(res *Result, se *Series) ([][]float64, error) {
	W := 2 * len(se.Effects)
	if se.Draws == nil || len(se.Draws) != se.Valid*W {
		return nil, invalid("Series.Draws", "the series of outcome %q has no replicates (method %q): run Bootstrap or OtsuRai with KeepDraws",
			se.Outcome, res.Method)
	}
	reps := make([][]float64, se.Valid)
	for r := range reps {
		reps[r] = se.Draws[r*W : (r+1)*W]
	}
	return reps, nil
}

func placebo(se *Series, reps [][]float64, w PreWindow, level, tol float64) Placebo {
	W := w.Len()
	j0 := se.Index(w.From)
	R := len(reps)
	p := Placebo{Outcome: se.Outcome, Subgroup: se.Subgroup, Group: se.Group, Window: w,
		Effect: make([]float64, W), SE: make([]float64, W), Replicates: R}
	for k := range W {
		p.Effect[k] = se.Effects[j0+k].ATT
	}
	if R < 2 { // a subgroup without weight in most replicates
		nan := math.NaN()
		for k := range W {
			p.SE[k] = nan
		}
		p.Wald, p.WaldP, p.SupT, p.SupTCrit, p.SupTP = nan, nan, nan, nan, nan
		return p
	}
	mean := make([]float64, W)
	for _, r := range reps {
		for k := range W {
			mean[k] += r[j0+k]
		}
	}
	for k := range mean {
		mean[k] /= float64(R)
	}
	cov := mat.NewSymDense(W, nil)
	dev := make([]float64, W)
	for _, r := range reps {
		for k := range W {
			dev[k] = r[j0+k] - mean[k]
		}
		for a := range W {
			for b := a; b < W; b++ {
				cov.SetSym(a, b, cov.At(a, b)+dev[a]*dev[b])
			}
		}
	}
	cov.ScaleSym(1/float64(R-1), cov)
	for k := range W {
		p.SE[k] = math.Sqrt(cov.At(k, k))
	}

	// Wald with the pseudo-inverse
	p.Wald, p.WaldP = math.NaN(), math.NaN()
	var eig mat.EigenSym
	if eig.Factorize(cov, true) {
		vals := eig.Values(nil)
		var vecs mat.Dense
		eig.VectorsTo(&vecs)
		lmax := slices.Max(vals)
		if lmax > 0 {
			wald := 0.0
			for k, l := range vals {
				if l <= tol*lmax {
					continue
				}
				p.DF++
				proj := 0.0
				for a := range W {
					proj += vecs.At(a, k) * p.Effect[a]
				}
				wald += proj * proj / l
			}
			p.Wald = wald
			p.WaldP = distuv.ChiSquared{K: float64(p.DF)}.Survival(wald)
		}
	}

	// sup-t
	p.SupT, p.SupTCrit, p.SupTP = math.NaN(), math.NaN(), math.NaN()
	any := false
	supT := 0.0
	for k := range W {
		if p.SE[k] > 0 {
			any = true
			supT = max(supT, math.Abs(p.Effect[k])/p.SE[k])
		}
	}
	if !any {
		return p
	}
	t := make([]float64, R)
	ge := 0
	for b, r := range reps {
		mx := 0.0
		for k := range W {
			if p.SE[k] > 0 {
				mx = max(mx, math.Abs(r[j0+k]-p.Effect[k])/p.SE[k])
			}
		}
		t[b] = mx
		if mx >= supT {
			ge++
		}
	}
	slices.Sort(t)
	p.SupT, p.SupTCrit, p.SupTP = supT, Quantile7(level, t), float64(ge)/float64(R)
	return p
}
