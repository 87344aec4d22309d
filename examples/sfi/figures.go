package main

import (
	"context"
	"fmt"
	"math"
	"path/filepath"

	"github.com/psmeval/psmeval/estimate"
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
		n := len(se.Effects)
		c := eplot.Curve{Level: 0.95}
		a.windowCurve(&c, oi.name)
		var accM, accLo, accHi, acc []float64
		for m, e := range se.Effects {
			c.Months = append(c.Months, m)
			c.Treated = append(c.Treated, e.TreatedMean)
			c.Control = append(c.Control, e.ControlMean)
			c.Effect = append(c.Effect, e.ATT)
			lo, hi, _ := a.interval(se, m, false)
			c.Low, c.High = append(c.Low, lo), append(c.High, hi)
			if se.Monthly != nil {
				c.BandLow = append(c.BandLow, se.Monthly[m].Band.Lo)
				c.BandHigh = append(c.BandHigh, se.Monthly[m].Band.Hi)
			}
			alo, ahi, _ := a.interval(se, m, true)
			accM = append(accM, e.Accumulated)
			accLo, accHi = append(accLo, alo), append(accHi, ahi)
		}
		if se.Truth != nil {
			c.Truth = append(c.Truth, se.Truth...)
		} else {
			c.Truth = nil
		}
		acc = se.TruthAccumulated
		title := fmt.Sprintf("Fig. 5.%d  %s: treated vs matched controls", k+1, oi.label)
		f, err := eplot.Monthly(title, oi.short, c)
		if err != nil {
			return fmt.Errorf("figure %s: %w", oi.name, err)
		}
		figs = append(figs, fig{"monthly_" + oi.name, f})
		g, err := eplot.Accumulated(fmt.Sprintf("Accumulated effect on %s (months, from month 1)", oi.short), oi.short, c.Months[len(c.Months)-n:], accM, accLo, accHi, acc)
		if err != nil {
			return fmt.Errorf("figure accumulated %s: %w", oi.name, err)
		}
		figs = append(figs, fig{"accumulated_" + oi.name, g})
	}
	tr, co := estimate.SplitScores(a.sample, a.scores)
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

// windowCurve puts the credibility section's pre-programme window in
// front of curve c (months −60..−49 by default, then NaN up to month −1,
// so that the figure shows the gap and marks the start), with the
// reported method's intervals and a true effect of 0 before the start;
// nothing without the section.
func (a *analysis) windowCurve(c *eplot.Curve, outcome string) {
	if a.credRes == nil || a.cred == nil {
		return
	}
	se := a.credRes.Find(outcome, "", "")
	if se == nil || se.Monthly == nil {
		return
	}
	w := a.cred.window
	nan := math.NaN()
	truth := a.pop != nil
	for m := w.From; m < 0; m++ {
		tr, co, ef, lo, hi, bl, bh, t := nan, nan, nan, nan, nan, nan, nan, nan
		if m <= w.To {
			i := m - w.From // months -W..-1 of the credibility sample
			e := se.Effects[i]
			b := se.Monthly[i]
			iv := intervalMethods[a.method()].interval(b)
			tr, co, ef, lo, hi, bl, bh = e.TreatedMean, e.ControlMean, e.ATT, iv.Lo, iv.Hi, b.Band.Lo, b.Band.Hi
			if truth {
				t = 0
			}
		}
		c.Months = append(c.Months, m)
		c.Treated, c.Control, c.Effect = append(c.Treated, tr), append(c.Control, co), append(c.Effect, ef)
		c.Low, c.High = append(c.Low, lo), append(c.High, hi)
		c.BandLow, c.BandHigh = append(c.BandLow, bl), append(c.BandHigh, bh)
		c.Truth = append(c.Truth, t)
	}
}

func smds(b *psm.BalanceTable) (names []string, before, after []float64) {
	for _, r := range b.Rows {
		names = append(names, r.Name)
		before = append(before, r.Before.SMD)
		after = append(after, r.After.SMD)
	}
	return
}
