package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	eplot "github.com/psmeval/psmeval/estimate/plot"
	"github.com/psmeval/psmeval/psm"
)

// figures draws the three monthly figures (SFI Fig. 5.1-5.3), the three
// accumulated-effect figures, the propensity overlap before and after
// matching and a love plot, each as SVG and PNG (800x600 px). It stops
// with ctx's error before the next file once ctx is done.
func (a *analysis) figures(ctx context.Context, dir string) error {
	type fig struct {
		name string
		d    eplot.Drawer
	}
	var figs []fig
	for k, oi := range outcomeInfo {
		se := a.effects.Find(oi.name, "", "")
		if se == nil {
			continue
		}
		im := intervalMethods[a.method()]
		iv := eplot.Interval(im.interval)
		rs := se
		if res := im.result(a); res != nil {
			if r := res.Find(oi.name, "", ""); r != nil {
				rs = r
			}
		}
		c := eplot.SeriesCurve(rs, 0.95, iv)
		c.Truth = se.Truth
		c = a.withWindow(c, oi.name, iv)
		months, accM, accLo, accHi, _ := eplot.SeriesAccumulated(rs, iv)
		acc := se.TruthAccumulated
		title := fmt.Sprintf("Fig. 5.%d  %s: treated vs matched controls", k+1, oi.label)
		f, err := eplot.Monthly(title, oi.short, c)
		if err != nil {
			return fmt.Errorf("figure %s: %w", oi.name, err)
		}
		figs = append(figs, fig{"monthly_" + oi.name, f})
		g, err := eplot.Accumulated(fmt.Sprintf("Accumulated effect on %s (months, from month 1)", oi.short), oi.short, months, accM, accLo, accHi, acc)
		if err != nil {
			return fmt.Errorf("figure accumulated %s: %w", oi.name, err)
		}
		figs = append(figs, fig{"accumulated_" + oi.name, g})
	}
	tr, co, err := a.matching.Split(a.scores)
	if err != nil {
		return fmt.Errorf("overlap figure: %w", err)
	}
	ov, err := eplot.Overlap(tr, co, a.matching.ControlWeight, nil)
	if err != nil {
		return fmt.Errorf("overlap figure: %w", err)
	}
	figs = append(figs, fig{"overlap", ov})
	names, before, after := smds(a.balance)
	lv, err := eplot.Love(names, before, after, 0.1)
	if err != nil {
		return fmt.Errorf("love plot: %w", err)
	}
	figs = append(figs, fig{"love", lv})
	for _, f := range figs {
		h := eplot.Pixels(600)
		if f.name == "love" {
			h = eplot.Pixels(max(600, 16*len(names)+120))
		}
		for _, ext := range []string{".svg", ".png"} {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := eplot.Save(f.d, filepath.Join(dir, f.name+ext), eplot.Pixels(800), h); err != nil {
				return err
			}
		}
	}
	return nil
}

// withWindow puts the credibility section's pre-programme window in
// front of the curve c of months 0..H: months −60..−49 by default from
// the credibility estimate, then NaN up to month −1, so that the figure
// shows the gap and marks the start; the true effect is 0 before the
// start. c as it is without the section.
func (a *analysis) withWindow(c eplot.Curve, outcome string, iv eplot.Interval) eplot.Curve {
	if a.credRes == nil || a.cred == nil {
		return c
	}
	se := a.credRes.Find(outcome, "", "")
	if se == nil {
		return c
	}
	w := a.cred.window
	pre := eplot.SeriesCurve(se, c.Level, iv)
	W := w.Len()
	gap := -1 - w.To // months w.To+1..−1
	out := eplot.Curve{Level: c.Level}
	for m := w.From; m < 0; m++ {
		out.Months = append(out.Months, m)
	}
	out.Months = append(out.Months, c.Months...)
	// cat joins the window's first W values, the gap and the post values;
	// a series one part lacks is NaN there.
	cat := func(win, post []float64, nPost int) []float64 {
		if win == nil && post == nil {
			return nil
		}
		v := make([]float64, 0, W+gap+nPost)
		for i := range W {
			if win != nil {
				v = append(v, win[i])
			} else {
				v = append(v, math.NaN())
			}
		}
		for range gap {
			v = append(v, math.NaN())
		}
		if post != nil {
			return append(v, post...)
		}
		for range nPost {
			v = append(v, math.NaN())
		}
		return v
	}
	n := len(c.Months)
	var truth []float64
	if c.Truth != nil {
		truth = make([]float64, W) // the true effect before the start is 0
	}
	out.Treated, out.Control = cat(pre.Treated, c.Treated, n), cat(pre.Control, c.Control, n)
	out.Effect = cat(pre.Effect, c.Effect, n)
	out.Low, out.High = cat(pre.Low, c.Low, n), cat(pre.High, c.High, n)
	out.BandLow, out.BandHigh = cat(pre.BandLow, c.BandLow, n), cat(pre.BandHigh, c.BandHigh, n)
	out.Truth = cat(truth, c.Truth, n)
	return out
}

func smds(b *psm.BalanceTable) (names []string, before, after []float64) {
	for _, r := range b.Rows {
		names = append(names, r.Name)
		before = append(before, r.Before.SMD)
		after = append(after, r.After.SMD)
	}
	return
}
