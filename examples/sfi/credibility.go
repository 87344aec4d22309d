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
// reported interval runs on it (estimate.go), since months before the
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
)

// defaultPreWindow is the default -pre-window.
const defaultPreWindow = "-60..-49"

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
}

// credibilitySample returns the analysis sample with the W months of the
// pre-programme window in front of every outcome's months 0..H, as its
// months -W..-1.
func (a *analysis) credibilitySample(w estimate.PreWindow) (*estimate.Sample, error) {
	p, s := a.panel, a.sample
	W := w.Len()
	cs := *s
	cs.Outcomes = make([]estimate.Outcome, len(s.Outcomes))
	n := p.N()
	for k, o := range s.Outcomes {
		reg := a.reg.Outcome(o.Name)
		if reg == nil {
			return nil, fmt.Errorf("credibility: outcome %q is not in the register", o.Name)
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
			for m := 0; m <= o.H; m++ {
				if o.Binary != nil {
					row[W+m] = o.Binary[u*stride+o.Pre+m]
				} else {
					return nil, fmt.Errorf("credibility: outcome %q is not a 0/1 panel outcome", o.Name)
				}
			}
		}
		cs.Outcomes[k] = estimate.Outcome{Name: o.Name, H: o.H, Pre: W, Binary: b}
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
		if cr.did, err = estimate.AbadieImbens(ds, a.matching, nil); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	matches, err := estimate.MatchesFromPSM(a.sample, a.matching)
	if err != nil {
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
		rb, err := estimate.Rosenbaum(a.sample, matches, estimate.Window{Outcome: oi.name, Kind: estimate.WindowSum, From: from, To: len(se.Effects) - 1}, nil)
		if err != nil {
			return fmt.Errorf("credibility: Rosenbaum bounds of %s: %w", oi.name, err)
		}
		cr.rosenbaum[oi.name] = rb
	}
	a.cred = cr
	done()
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
