package plot

import (
	"fmt"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Love draws a love plot: one row per covariate (names, first at the
// top), the standardized mean difference before matching as an open
// circle and after matching as a filled dot, joined by a thin line, with
// a zero line and dashed vertical lines at ±threshold (threshold 0 = no
// lines; 0.1 is the usual rule of thumb). SMDs are signed, in units of
// standard deviations, as computed by the psm balance functions (the
// layout of cobalt's love.plot with abs = FALSE). A NaN SMD (for example
// a constant covariate) is not drawn.
//
// Size: rows are evenly spaced, so about 25 covariates fit a 600×450 pt
// (800×600 px) figure; for more, use a height of about 15 pt per
// covariate plus 90 pt.
//
// Errors (an *ArgError) when names is empty, smdBefore or smdAfter do not
// have len(names) values or hold ±Inf, or threshold is negative or not
// finite.
func Love(names []string, smdBefore, smdAfter []float64, threshold float64) (*Figure, error) {
	n := len(names)
	if n == 0 {
		return nil, argErr("names", "is empty")
	}
	if err := checkLen("smdBefore", smdBefore, n, "names"); err != nil {
		return nil, err
	}
	if err := checkLen("smdAfter", smdAfter, n, "names"); err != nil {
		return nil, err
	}
	if err := checkNoInf("smdBefore", smdBefore); err != nil {
		return nil, err
	}
	if err := checkNoInf("smdAfter", smdAfter); err != nil {
		return nil, err
	}
	if !(threshold >= 0) || math.IsInf(threshold, 0) {
		return nil, argErr("threshold", "is %v; want a finite value >= 0 (0 = no threshold lines)", threshold)
	}

	b := newBuilder()
	b.meta.rows = n
	p := b.p
	p.X.Label.Text = "Standardized mean difference"

	// Rows: names[i] at y = n-1-i, so the first name is at the top.
	ticks := make([]plot.Tick, n)
	for i, name := range names {
		ticks[i] = plot.Tick{Value: float64(n - 1 - i), Label: name}
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.Y.Tick.Length = 0
	p.Y.Min, p.Y.Max = -0.6, float64(n)-0.4
	p.Add(gridLines{})

	xmin, xmax := -threshold, threshold
	for i := range names {
		for _, v := range []float64{smdBefore[i], smdAfter[i]} {
			if finite(v) {
				xmin, xmax = math.Min(xmin, v), math.Max(xmax, v)
			}
		}
	}
	if xmax-xmin == 0 {
		xmin, xmax = -0.1, 0.1
	}
	p.X.Min, p.X.Max = xmin, xmax
	padRange(&p.X, 0.06)

	// Reference lines span the rows only, so that a legend placed above
	// the rows (when no corner is free) is not crossed by them; they are
	// regions, so a legend in a corner does not sit on them either.
	rowLo, rowHi := -0.6, float64(n)-0.4
	refs := []float64{0}
	p.Add(vline{x: 0, y0: rowLo, y1: rowHi, sty: lineStyle(colZero, 0.9)})
	if threshold > 0 {
		dashed := lineStyle(colRef, 1.2, vg.Points(5), vg.Points(3))
		p.Add(vline{x: -threshold, y0: rowLo, y1: rowHi, sty: dashed},
			vline{x: threshold, y0: rowLo, y1: rowHi, sty: dashed})
		b.legend(fmt.Sprintf("|SMD| = %g", threshold), &plotter.Line{LineStyle: dashed})
		refs = append(refs, -threshold, threshold)
	}
	for _, x := range refs {
		b.meta.regions = append(b.meta.regions, region{xs: []float64{x}, lo: []float64{rowLo}, hi: []float64{rowHi}})
	}

	join := lineStyle(colRef, 0.8)
	var before, after plotter.XYs
	for i := range names {
		y := float64(n - 1 - i)
		sb, sa := smdBefore[i], smdAfter[i]
		if finite(sb) && finite(sa) {
			p.Add(&plotter.Line{XYs: plotter.XYs{{X: sb, Y: y}, {X: sa, Y: y}}, LineStyle: join})
		}
		if finite(sb) {
			before = append(before, plotter.XY{X: sb, Y: y})
		}
		if finite(sa) {
			after = append(after, plotter.XY{X: sa, Y: y})
		}
	}
	gBefore := draw.GlyphStyle{Color: colControl, Radius: vg.Points(3.2), Shape: draw.RingGlyph{}}
	gAfter := draw.GlyphStyle{Color: colTreated, Radius: vg.Points(3.2), Shape: draw.CircleGlyph{}}
	for _, s := range []struct {
		pts   plotter.XYs
		g     draw.GlyphStyle
		label string
	}{{before, gBefore, "Before matching"}, {after, gAfter, "After matching"}} {
		if len(s.pts) == 0 {
			continue
		}
		p.Add(&plotter.Scatter{XYs: s.pts, GlyphStyle: s.g})
		b.legend(s.label, &plotter.Scatter{GlyphStyle: s.g})
		for _, pt := range s.pts {
			b.meta.regions = append(b.meta.regions, region{
				xs: []float64{pt.X}, lo: []float64{pt.Y}, hi: []float64{pt.Y},
			})
		}
	}
	// The joining segments are covered by the points' regions at both
	// ends; add them so the legend does not sit on a long segment either.
	for i := range names {
		y := float64(n - 1 - i)
		if sb, sa := smdBefore[i], smdAfter[i]; finite(sb) && finite(sa) && sb != sa {
			b.meta.regions = append(b.meta.regions, region{
				xs: []float64{math.Min(sb, sa), math.Max(sb, sa)}, lo: []float64{y, y}, hi: []float64{y, y},
			})
		}
	}
	// Scatter and Line added above widened the axes to their data; restore
	// the rows' range (scatter glyph boxes still pad the canvas).
	p.Y.Min, p.Y.Max = rowLo, rowHi

	return &Figure{Title: "Covariate balance", Panels: []*plot.Plot{p}, meta: []panelMeta{b.meta}}, nil
}
