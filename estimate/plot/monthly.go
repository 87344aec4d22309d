package plot

import (
	"fmt"
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// XLabelMonths is the x-axis label of the event-time figures.
const XLabelMonths = "Months since start (0 = start month)"

// Curve holds one outcome's monthly results by event month, as plain
// slices of equal length (the length of Months).
type Curve struct {
	// Months are the event months (0 = start month), strictly increasing.
	// Months before the start (negative) may be given, for pre-programme
	// curves; a dashed vertical line then marks the start, and NaN values
	// leave a gap (for example between a pre-programme window and the
	// start).
	Months []int
	// Treated and Control are the shares with the outcome among the
	// treated and the (weighted) matched controls: fractions in [0, 1],
	// drawn in percent. NaN = not observed. Both are required.
	Treated, Control []float64
	// Effect is the difference Treated − Control (a fraction, drawn in
	// percentage points). Required.
	Effect []float64
	// Low and High are the pointwise confidence limits of Effect; both
	// nil means no interval.
	Low, High []float64
	// Truth is the true effect (synthetic data); nil means none.
	Truth []float64
	// BandLow and BandHigh are a simultaneous confidence band over the
	// months; both nil means none.
	BandLow, BandHigh []float64
	// Level is the confidence level of the intervals, used in the legend
	// ("95% CI"); 0 means unknown, and the legend says "Confidence
	// interval".
	Level float64
}

// Monthly draws the layout of the SFI report's Fig. 5.1–5.3 for one
// outcome: the upper panel shows the share with the outcome among the
// treated and the matched controls by event month (in percent); the lower
// panel shows the difference in percentage points with its confidence
// interval shaded (the simultaneous band, if given, in a lighter shade
// behind it), a zero line, and the true effect dashed if given. The
// panels share the month axis; their data areas are aligned.
//
// outcomeLabel names the outcome in lower case, for example
// "employment without benefit"; the upper y label reads
// "Share in <outcomeLabel> (%)". title is the figure title ("" = none).
//
// Errors (an *ArgError) for mismatched lengths, non-increasing months,
// infinite values, shares outside [0, 1], Low > High, Level outside
// [0, 1), or a Treated, Control or Effect with no finite value.
func Monthly(title, outcomeLabel string, c Curve) (*Figure, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	xs := monthsFloat(c.Months)
	xt := monthTicks{}

	// Upper panel: group shares in percent.
	var strip []LegendEntry
	top := newBuilder()
	top.strip = &strip
	top.p.Add(gridLines{xTicks: xt})
	glyph := func(col color.Color, shape draw.GlyphDrawer) *draw.GlyphStyle {
		return &draw.GlyphStyle{Color: col, Radius: vg.Points(2.6), Shape: shape}
	}
	thC := top.line(xs, scaled(c.Control, 100), lineStyle(colControl, 1.8, vg.Points(6), vg.Points(3)),
		glyph(colControl, draw.BoxGlyph{}))
	thT := top.line(xs, scaled(c.Treated, 100), lineStyle(colTreated, 1.8),
		glyph(colTreated, draw.CircleGlyph{}))
	top.legend("Treated", thT...)
	top.legend("Matched controls", thC...)
	top.p.Y.Label.Text = fmt.Sprintf("Share in %s (%%)", outcomeLabel)
	top.p.X.Tick.Marker = monthTicks{noLabels: true}
	all := [][]float64{c.Treated, c.Control, c.Effect, c.Low, c.High, c.BandLow, c.BandHigh, c.Truth}
	monthRange(&top.p.X, c.Months, all...)
	padRange(&top.p.Y, 0.05)
	if c.Months[0] < 0 {
		top.p.Add(startLine{})
	}

	// Lower panel: difference in percentage points.
	bot := newBuilder()
	bot.strip = &strip
	bot.p.Add(gridLines{xTicks: xt})
	effectPanel(bot, xs, scaled(c.Effect, 100), scaled(c.Low, 100), scaled(c.High, 100),
		scaled(c.BandLow, 100), scaled(c.BandHigh, 100), scaled(c.Truth, 100), c.Level,
		"Difference")
	bot.p.Y.Label.Text = "Difference (percentage points)"
	bot.p.X.Label.Text = XLabelMonths
	bot.p.X.Tick.Marker = xt
	monthRange(&bot.p.X, c.Months, all...)
	if c.Months[0] < 0 {
		bot.p.Add(startLine{})
	}

	return &Figure{
		Title:   title,
		Panels:  []*plot.Plot{top.p, bot.p},
		Heights: []float64{0.52, 0.48},
		Legend:  strip,
		meta:    []panelMeta{top.meta, bot.meta},
	}, nil
}

// Accumulated draws the accumulated effect by event month: the running
// sum of the monthly effects, read as months in the outcome gained (+) or
// lost (−) up to that month, with its confidence interval shaded
// (low/high both nil = none), a zero line, and the true accumulated
// effect dashed (truth nil = none). All values are in months; NaN =
// missing. The y label reads "Accumulated effect (months in
// <outcomeLabel>)".
//
// Errors (an *ArgError) for mismatched lengths (named "effect", "low",
// "high", "truth" against "months"), non-increasing months, infinite
// values, low > high, or an effect with no finite value.
func Accumulated(title, outcomeLabel string, months []int, effect, low, high, truth []float64) (*Figure, error) {
	if err := checkMonths("months", months); err != nil {
		return nil, err
	}
	n := len(months)
	if err := checkLen("effect", effect, n, "months"); err != nil {
		return nil, err
	}
	if err := checkNoInf("effect", effect); err != nil {
		return nil, err
	}
	if !anyFinite(effect) {
		return nil, argErr("effect", "has no finite value")
	}
	if err := checkBand("low", "high", low, high, n, "months"); err != nil {
		return nil, err
	}
	if err := checkOptional("truth", truth, n, "months"); err != nil {
		return nil, err
	}
	if err := checkNoInf("truth", truth); err != nil {
		return nil, err
	}
	xs := monthsFloat(months)
	xt := monthTicks{}
	b := newBuilder()
	b.p.Add(gridLines{xTicks: xt})
	effectPanel(b, xs, effect, low, high, nil, nil, truth, 0, "Accumulated effect")
	b.p.Y.Label.Text = fmt.Sprintf("Accumulated effect (months in %s)", outcomeLabel)
	b.p.X.Label.Text = XLabelMonths
	b.p.X.Tick.Marker = xt
	monthRange(&b.p.X, months, effect, low, high, truth)
	return &Figure{
		Title:  title,
		Panels: []*plot.Plot{b.p},
		meta:   []panelMeta{b.meta},
	}, nil
}

// effectPanel adds bands, zero line, estimate and truth to b, and sets a
// y range that includes zero, padded by 5 %.
func effectPanel(b *builder, xs, eff, low, high, blow, bhigh, truth []float64, level float64, label string) {
	ci, band := "Confidence interval", "Simultaneous band"
	if level > 0 {
		pct := fmt.Sprintf("%g%%", math.Round(level*1000)/10)
		ci, band = pct+" CI (pointwise)", pct+" band (simultaneous)"
	}
	var thBand, thCI, thTruth []plot.Thumbnailer
	if blow != nil {
		thBand = b.band(xs, blow, bhigh, colSimul)
	}
	if low != nil {
		thCI = b.band(xs, low, high, colCI)
	}
	b.p.Add(hline{y: 0, sty: lineStyle(colZero, 0.9)})
	thEff := b.line(xs, eff, lineStyle(colEffect, 2),
		&draw.GlyphStyle{Color: colEffect, Radius: vg.Points(2.2), Shape: draw.CircleGlyph{}})
	if truth != nil {
		thTruth = b.line(xs, truth, lineStyle(colTruth, 1.5, vg.Points(5), vg.Points(3)), nil)
	}
	b.legend(label, thEff...)
	b.legend(ci, thCI...)
	b.legend(band, thBand...)
	b.legend("True effect", thTruth...)
	b.p.Y.Min = math.Min(b.p.Y.Min, 0)
	b.p.Y.Max = math.Max(b.p.Y.Max, 0)
	padRange(&b.p.Y, 0.05)
}

// check validates a Curve; errors name the field.
func (c *Curve) check() error {
	if err := checkMonths("Curve.Months", c.Months); err != nil {
		return err
	}
	n := len(c.Months)
	const ref = "Curve.Months"
	for _, s := range []struct {
		name string
		x    []float64
	}{{"Curve.Treated", c.Treated}, {"Curve.Control", c.Control}, {"Curve.Effect", c.Effect}} {
		if err := checkLen(s.name, s.x, n, ref); err != nil {
			return err
		}
		if !anyFinite(s.x) {
			return argErr(s.name, "has no finite value")
		}
	}
	if err := checkShares("Curve.Treated", c.Treated); err != nil {
		return err
	}
	if err := checkShares("Curve.Control", c.Control); err != nil {
		return err
	}
	if err := checkNoInf("Curve.Effect", c.Effect); err != nil {
		return err
	}
	if err := checkBand("Curve.Low", "Curve.High", c.Low, c.High, n, ref); err != nil {
		return err
	}
	if err := checkBand("Curve.BandLow", "Curve.BandHigh", c.BandLow, c.BandHigh, n, ref); err != nil {
		return err
	}
	if err := checkOptional("Curve.Truth", c.Truth, n, ref); err != nil {
		return err
	}
	if err := checkNoInf("Curve.Truth", c.Truth); err != nil {
		return err
	}
	if !(c.Level >= 0 && c.Level < 1) {
		return argErr("Curve.Level", "is %v; want a confidence level in (0, 1), or 0 for unknown", c.Level)
	}
	return nil
}

func monthsFloat(m []int) []float64 {
	out := make([]float64, len(m))
	for i, v := range m {
		out[i] = float64(v)
	}
	return out
}

// monthRange sets the x range to the months where any of the series has
// a finite value (so months beyond a cut-off, all NaN, are not shown),
// plus half a month each side.
func monthRange(a *plot.Axis, months []int, series ...[]float64) {
	first, last := -1, -1
	for i := range months {
		for _, s := range series {
			if s != nil && finite(s[i]) {
				if first < 0 {
					first = i
				}
				last = i
				break
			}
		}
	}
	if first < 0 {
		first, last = 0, len(months)-1
	}
	a.Min = float64(months[first]) - 0.5
	a.Max = float64(months[last]) + 0.5
}
