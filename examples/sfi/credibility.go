package main

// The credibility section, "effect or selection?": a pre-programme
// placebo test, conditional difference-in-differences and Rosenbaum
// bounds on the matches of the analysis (docs/credibility.md).
//
// The pre-programme window (-pre-window, default -60..-49 event months)
// lies before the 48 months of wage history the covariates summarise:
// matching balances those months by construction, so a difference there
// would prove nothing. Its outcomes are read from the register for every
// unit of the panel (the person's outcome in calendar month cohort + m)
// and put in front of the panel's months 0..H as months -W..-1 of a
// credibility sample (W the window's length); the estimator of the
// reported interval runs on it (analysis.estimate in run.go), since months before the
// start change no number after it (estimate.Result.After gives the
// reported effects), and its replicates are joint over the window and
// the months after the start:
//
//   - the placebo test (estimate.PlaceboTest) asks whether the effects in
//     the window are zero (Wald with the replicates' covariance, sup-t);
//   - conditional difference-in-differences (estimate.DiD) subtracts the
//     window's mean effect from every month after the start (Heckman,
//     Ichimura and Todd 1997);
//   - Rosenbaum bounds (estimate.Rosenbaum) on the months spent in each
//     outcome over 1..H give the Gamma at which the effect stops being
//     significant at 5 %.

import (
	"context"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// defaultPreWindow is the default -pre-window. persistentPreWindow is
// that of -scenario persistent, whose trait pauses from February 2008
// (synth.Options.UnobservedPersistent): event months -61..-54 of every
// start in the SFI window lie before that (January 2007 is month -61 of
// a February 2012 start).
const (
	defaultPreWindow    = "-60..-49"
	persistentPreWindow = "-61..-54"
)

// parsePreWindow parses -pre-window: "A..B" with A <= B < 0, or "off".
func parsePreWindow(s string) (w estimate.PreWindow, on bool, err error) {
	if s == "off" {
		return w, false, nil
	}
	a, b, ok := strings.Cut(s, "..")
	if ok {
		w.From, err = strconv.Atoi(a)
		if err == nil {
			w.To, err = strconv.Atoi(b)
		}
	}
	if !ok || err != nil || w.From > w.To || w.To >= 0 {
		return w, false, fmt.Errorf("-pre-window %q: want A..B with A <= B < 0 event months before the start (e.g. %s), or off", s, defaultPreWindow)
	}
	return w, true, nil
}

// credibility holds the section's results for the whole-sample series.
type credibility struct {
	window estimate.PreWindow // in event months before the start
	method string             // the estimator that gave the replicates
	// placebo and did by outcome; placebo is nil without replicates
	// (-bootstrap 0)
	placebo map[string]*estimate.Placebo
	did     *estimate.Result
	// rosenbaum by outcome: months in the outcome over 1..H
	rosenbaum map[string]*estimate.RosenbaumResult
	// confounder by outcome, with -sensatt
	confounder map[string]*confounderResult
}

// credibilitySample returns the analysis sample with the W months of the
// pre-programme window in front of every outcome's months 0..H, as its
// months -W..-1.
func (a *analysis) credibilitySample(w estimate.PreWindow) (*estimate.Sample, error) {
	p, s := a.panel, a.sample
	W := w.Len()
	cs := *s
	cs.Outcomes = make([]estimate.EventOutcome, len(s.Outcomes))
	n := p.Len()
	for k, o := range s.Outcomes {
		reg := a.reg.Outcome(o.Name)
		if reg == nil {
			return nil, fmt.Errorf("credibility: outcome %q is not in the register", o.Name)
		}
		if o.Binary == nil {
			return nil, fmt.Errorf("credibility: outcome %q is not a 0/1 panel outcome", o.Name)
		}
		stride := o.Stride
		if stride == 0 {
			stride = o.Pre + o.H + 1
		}
		width := W + o.H + 1
		b := make([]uint8, n*width)
		for u := 0; u < n; u++ {
			row := b[u*width : (u+1)*width]
			for j := 0; j < W; j++ {
				m := w.From + j
				v, ok := reg.Get(int(p.Person[u]), p.Cohort[u]+panel.Month(m))
				if !ok {
					return nil, fmt.Errorf("credibility: outcome %q is not observed in event month %d of unit %d (person %d, start %v): "+
						"the data begin in %v, which does not reach back to the pre-programme window %v; set -pre-window later or off",
						o.Name, m, u, p.ID[u], p.Cohort[u], reg.FirstMonth, w)
				}
				if v {
					row[j] = 1
				}
			}
			copy(row[W:], o.Binary[u*stride+o.Pre:u*stride+o.Pre+o.H+1])
		}
		cs.Outcomes[k] = estimate.EventOutcome{Name: o.Name, H: o.H, Pre: W, Binary: b}
	}
	return &cs, nil
}

// prepareCredibility builds the credibility sample when the section is
// on.
func (a *analysis) prepareCredibility() error {
	w, on, err := parsePreWindow(a.cfg.preWindow)
	if err != nil || !on {
		return err
	}
	a.credSample, err = a.credibilitySample(w)
	return err
}

// credibilityChecks runs the section on the replicates of the reported
// method that estimate kept (credRes).
func (a *analysis) credibilityChecks(ctx context.Context) error {
	if a.credSample == nil {
		return nil
	}
	w, _, _ := parsePreWindow(a.cfg.preWindow)
	done := a.watch.start(fmt.Sprintf("credibility: placebo test and difference-in-differences on months %v, Rosenbaum bounds", w))
	cr := &credibility{window: w, method: a.method(), placebo: map[string]*estimate.Placebo{}, rosenbaum: map[string]*estimate.RosenbaumResult{}}
	a.cred = cr
	rel := estimate.PreWindow{From: -w.Len(), To: -1} // the window's months in credSample
	if res := a.credRes; res != nil {
		pl, err := estimate.PlaceboTest(res, &estimate.PlaceboOptions{Window: rel})
		if err != nil {
			return err
		}
		for i := range pl {
			if pl[i].Subgroup == "" {
				cr.placebo[pl[i].Outcome] = &pl[i]
			}
		}
		if cr.did, err = estimate.DiD(res, &estimate.DiDOptions{Reference: rel}); err != nil {
			return err
		}
	} else {
		// no replicates (-bootstrap 0): DiD with Abadie-Imbens standard
		// errors on the differenced sample, no placebo test
		ds, err := estimate.DiDSample(a.credSample, &estimate.DiDOptions{Reference: rel})
		if err != nil {
			return err
		}
		if a.method() == "abadie-imbens-2016" {
			cr.did, err = a.abadieImbens2016(ds, false)
		} else {
			cr.did, err = estimate.AbadieImbens(ds, a.matching, nil)
		}
		if err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	from := 1
	if a.effects.IncludeMonth0 {
		from = 0
	}
	for _, oi := range outcomeInfo {
		se := a.effects.Find(oi.name, "", "")
		if se == nil {
			continue
		}
		rb, err := estimate.Rosenbaum(a.sample, a.matching, estimate.Window{Outcome: oi.name, Kind: estimate.WindowSum, From: from, To: len(se.Effects) - 1}, nil)
		if err != nil {
			return fmt.Errorf("credibility: Rosenbaum bounds of %s: %w", oi.name, err)
		}
		cr.rosenbaum[oi.name] = rb
	}
	done()
	if a.cfg.sensatt != "" {
		done := a.watch.start(fmt.Sprintf("credibility: simulated confounder (%d draws per outcome)", a.cfg.sensattDraws))
		var err error
		if cr.confounder, err = a.simulatedConfounder(ctx); err != nil {
			return err
		}
		done()
	}
	return nil
}

// didAccumulated returns the DiD accumulated effect at the horizon of an
// outcome with the interval of the reported method and the truth.
func (a *analysis) didAccumulated(name string) (effect, lo, hi, truth float64, ok bool) {
	cr := a.cred
	if cr == nil || cr.did == nil {
		return 0, 0, 0, 0, false
	}
	se := cr.did.Find(name, "", "")
	main := a.effects.Find(name, "", "")
	if se == nil || main == nil {
		return 0, 0, 0, 0, false
	}
	H := len(main.Effects) - 1
	i := se.Index(H)
	effect = se.Effects[i].Accumulated
	lo, hi = math.NaN(), math.NaN()
	if se.Accumulated != nil {
		iv := intervalMethods[a.method()].interval(se.Accumulated[i])
		lo, hi = iv.Lo, iv.Hi
	}
	truth = truthAt(main.TruthAccumulated, H)
	return effect, lo, hi, truth, true
}

// writeCredibility prints the section.
func (a *analysis) writeCredibility(w io.Writer) {
	cr := a.cred
	if cr == nil {
		return
	}
	fmt.Fprintf(w, "\nCredibility: effect or selection? (pre-programme window: event months %v, before the 48 months of history\n", cr.window)
	fmt.Fprintln(w, "the covariates summarise; difference-in-differences subtracts the window's mean difference)")
	fmt.Fprintf(w, "%-36s %9s %9s %8s %17s %8s %8s\n", "outcome", "placebo p", "sup-t p", "DiD acc", "interval", "truth", "Gamma*")
	for _, oi := range outcomeInfo {
		main := a.effects.Find(oi.name, "", "")
		if main == nil {
			continue
		}
		wp, sp := "n/a", "n/a"
		if pl := cr.placebo[oi.name]; pl != nil {
			wp, sp = fmt.Sprintf("%.3f", pl.WaldP), fmt.Sprintf("%.3f", pl.SupTP)
		}
		did, lo, hi, truth, _ := a.didAccumulated(oi.name)
		ts := "n/a"
		if !math.IsNaN(truth) {
			ts = fmt.Sprintf("%.2f", truth)
		}
		g := "n/a"
		if rb := cr.rosenbaum[oi.name]; rb != nil {
			g = fmt.Sprintf("%.2f", rb.GammaStar)
		}
		fmt.Fprintf(w, "%-36s %9s %9s %8.2f  [%6.2f, %6.2f] %8s %8s\n", oi.label, wp, sp, did, lo, hi, ts, g)
	}
	fmt.Fprintln(w, "placebo p: Wald test that the effects in the window are 0 (the replicates' covariance); sup-t p: the same by the")
	fmt.Fprintln(w, "sup-t statistic. A small p says the matched groups differed before the history the covariates record: selection")
	fmt.Fprintln(w, "on unobservables that matching leaves after the start too. Gamma*: the odds of treatment between look-alike units")
	fmt.Fprintln(w, "at which the accumulated effect stops being significant at 5 % (Rosenbaum bounds; 1: not significant).")
	if cr.confounder == nil {
		return
	}
	fmt.Fprintf(w, "\nSimulated confounder (Ichino, Mealli & Nannicini 2008): P(U=1 | T, Y) = %s for Y the outcome in month H\n", a.cfg.sensatt)
	fmt.Fprintf(w, "%-36s %4s %8s %8s %8s %9s %9s\n", "outcome", "H", "plain", "with U", "se", "outcome OR", "select OR")
	for _, oi := range outcomeInfo {
		if r := cr.confounder[oi.name]; r != nil {
			fmt.Fprintf(w, "%-36s %4d %8.2f %8.2f %8.2f %9.2f %9.2f\n", oi.label, r.month, 100*r.plain, 100*r.ATT, 100*r.SE, r.OutcomeOddsRatio, r.SelectionOddsRatio)
		}
	}
	fmt.Fprintln(w, "(percentage points; odds ratios of U on the untreated outcome and on selection, given the covariates)")
}

// credibilityJSON is the "credibility" object of summary.json.
func (a *analysis) credibilityJSON() map[string]any {
	cr := a.cred
	if cr == nil {
		return nil
	}
	out := map[string]any{"window": cr.window.String(), "method": cr.method}
	for _, oi := range outcomeInfo {
		main := a.effects.Find(oi.name, "", "")
		if main == nil {
			continue
		}
		o := map[string]any{}
		if pl := cr.placebo[oi.name]; pl != nil {
			o["placebo_p"] = jsonNum(pl.WaldP)
			o["placebo_df"] = pl.DF
			o["placebo_supt_p"] = jsonNum(pl.SupTP)
		}
		if did, lo, hi, truth, ok := a.didAccumulated(oi.name); ok {
			o["did_accumulated"] = map[string]any{"effect": jsonNum(did), "ci_low": jsonNum(lo), "ci_high": jsonNum(hi), "truth": jsonNum(truth)}
			se := cr.did.Find(oi.name, "", "")
			var monthly []map[string]any
			for m := 0; m < len(main.Effects); m++ {
				i := se.Index(m)
				e := map[string]any{"month": m, "effect": jsonNum(se.Effects[i].ATT)}
				if se.Monthly != nil {
					iv := intervalMethods[a.method()].interval(se.Monthly[i])
					e["ci_low"], e["ci_high"] = jsonNum(iv.Lo), jsonNum(iv.Hi)
				}
				monthly = append(monthly, e)
			}
			o["did_monthly"] = monthly
		}
		if rb := cr.rosenbaum[oi.name]; rb != nil {
			o["gamma_star"] = jsonNum(rb.GammaStar)
			o["rosenbaum_method"] = rb.Method.String()
		}
		if r := cr.confounder[oi.name]; r != nil {
			c := r.Cells
			o["simulated_confounder"] = map[string]any{"p11": c.P11, "p10": c.P10, "p01": c.P01, "p00": c.P00,
				"month": r.month, "effect_plain": jsonNum(r.plain), "effect": jsonNum(r.ATT), "se": jsonNum(r.SE),
				"outcome_odds_ratio": jsonNum(r.OutcomeOddsRatio), "selection_odds_ratio": jsonNum(r.SelectionOddsRatio), "draws": len(r.Draws)}
		}
		out[oi.name] = o
	}
	return out
}

// jsonNum is v, or nil (JSON null) when v is NaN or infinite.
func jsonNum(v float64) any {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return v
}

// parseCells parses -sensatt: "p11,p10,p01,p00" probabilities, or "" for
// none.
func parseCells(s string) (*psm.ConfounderCells, error) {
	if s == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	var v [4]float64
	if len(parts) != 4 {
		return nil, fmt.Errorf("-sensatt %q: want four probabilities p11,p10,p01,p00", s)
	}
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || !(f >= 0 && f <= 1) {
			return nil, fmt.Errorf("-sensatt %q: %q is not a probability in [0, 1]", s, p)
		}
		v[i] = f
	}
	return &psm.ConfounderCells{P11: v[0], P10: v[1], P01: v[2], P00: v[3]}, nil
}

// confounderResult is the simulated confounder of one outcome: the
// outcome in event month H (0/1) without and with U.
type confounderResult struct {
	month int
	plain float64 // the matching estimate of month H
	*psm.SimulatedConfounderResult
}

// simulatedConfounder runs psm.SimulatedConfounder for each outcome's
// 0/1 value in month H with -sensatt's cells: U is added to the logit
// (the design's covariates and weights, units left out of the logit not
// matched), the units are matched again within the strata, and the
// month-H effect re-estimated, over -sensatt-draws draws. Each draw
// re-fits the logit on the whole panel: opt-in.
func (a *analysis) simulatedConfounder(ctx context.Context) (map[string]*confounderResult, error) {
	cells, err := parseCells(a.cfg.sensatt)
	if cells == nil || err != nil {
		return nil, err
	}
	p := a.panel
	n := p.Len()
	w := make([]float64, n)
	for u := range w {
		w[u] = 1
		if a.fitW != nil {
			w[u] = a.fitW[u]
		}
	}
	for _, u := range a.excluded {
		w[u] = 0
	}
	var ts, cs []int32
	for u, tr := range a.y {
		if tr == 1 {
			ts = append(ts, a.strata[u])
		} else {
			cs = append(cs, a.strata[u])
		}
	}
	out := map[string]*confounderResult{}
	for _, oi := range outcomeInfo {
		se := a.effects.Find(oi.name, "", "")
		if se == nil {
			continue
		}
		H := len(se.Effects) - 1
		var o *estimate.EventOutcome
		for k := range a.sample.Outcomes {
			if a.sample.Outcomes[k].Name == oi.name {
				o = &a.sample.Outcomes[k]
			}
		}
		y := make([]float64, n)
		stride := o.Stride
		if stride == 0 {
			stride = o.Pre + o.H + 1
		}
		for u := range y {
			v := o.Binary[u*stride+o.Pre+H]
			if v == panel.Missing {
				return nil, fmt.Errorf("-sensatt: outcome %q is missing in month %d for unit %d", oi.name, H, u)
			}
			y[u] = float64(v)
		}
		r, err := psm.SimulatedConfounder(ctx, a.x, a.fit.Covariates, a.y, y, *cells, &psm.SimulatedConfounderOptions{
			Draws: a.cfg.sensattDraws, Seed: a.cfg.seed, Workers: a.cfg.workers, Weights: w,
			Match: psm.MatchOptions{TreatedStrata: ts, ControlStrata: cs}})
		if err != nil {
			return nil, fmt.Errorf("-sensatt: %s: %w", oi.name, err)
		}
		out[oi.name] = &confounderResult{month: H, plain: se.Effects[H].ATT, SimulatedConfounderResult: r}
	}
	return out, nil
}
