package plot

import (
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// Colours: the Okabe–Ito palette, distinguishable with the common forms
// of colour blindness; the band shades are opaque tints of the effect
// colour so that overlapping bands stay predictable in SVG and PNG.
var (
	colTreated = color.NRGBA{R: 0x00, G: 0x72, B: 0xB2, A: 0xFF} // blue
	colControl = color.NRGBA{R: 0xD5, G: 0x5E, B: 0x00, A: 0xFF} // vermillion
	colEffect  = color.NRGBA{R: 0x00, G: 0x4C, B: 0x80, A: 0xFF} // dark blue
	colCI      = color.NRGBA{R: 0xB3, G: 0xD1, B: 0xE6, A: 0xFF} // tint of the effect colour
	colSimul   = color.NRGBA{R: 0xDD, G: 0xEA, B: 0xF3, A: 0xFF} // lighter tint
	colTruth   = color.NRGBA{R: 0x20, G: 0x20, B: 0x20, A: 0xFF}
	colZero    = color.NRGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xFF}
	colGrid    = color.NRGBA{R: 0xE4, G: 0xE4, B: 0xE4, A: 0xFF}
	colRef     = color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0xFF}
)

// Font sizes in points. At 600×450 pt (800×600 px at 96 dpi) these are
// 14–17 px, comfortably legible.
const (
	sizeFigTitle = 14
	sizeTitle    = 12.5
	sizeLabel    = 12
	sizeTick     = 11
	sizeLegend   = 11
)

var sans = font.Font{Typeface: "Liberation", Variant: "Sans"}

// newPlot returns a gonum plot with the package's fonts and axis style.
func newPlot() *plot.Plot {
	p := plot.New()
	p.Title.TextStyle.Font = font.From(sans, sizeTitle)
	p.Title.Padding = vg.Points(4)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Font = font.From(sans, sizeLabel)
		a.Label.Padding = vg.Points(4)
		a.Tick.Label.Font = font.From(sans, sizeTick)
		a.Tick.Length = vg.Points(5)
		a.Padding = vg.Points(2)
	}
	p.X.Tick.Marker = niceTicks{}
	p.Y.Tick.Marker = niceTicks{}
	p.Legend.TextStyle.Font = font.From(sans, sizeLegend)
	p.Legend.ThumbnailWidth = vg.Points(26)
	p.Legend.Padding = vg.Points(3)
	return p
}

// figTitleStyle is the style of a Figure's overall title.
func figTitleStyle() text.Style {
	s := plot.New().Title.TextStyle
	s.Font = font.From(sans, sizeFigTitle)
	return s
}

// gridLines draws light grid lines at the major ticks of the axes. For
// the x axis it uses xTicks when set (so that a panel whose tick labels
// are hidden still gets the grid of the panel below it).
// startLine marks the start of the programme: a dashed vertical line
// between event months −1 and 0.
type startLine struct{}

// Plot implements plot.Plotter.
func (startLine) Plot(c draw.Canvas, plt *plot.Plot) {
	if plt.X.Min > -0.5 || plt.X.Max < -0.5 {
		return
	}
	trX, _ := plt.Transforms(&c)
	x := trX(-0.5)
	sty := draw.LineStyle{Color: colZero, Width: vg.Points(1), Dashes: []vg.Length{vg.Points(4), vg.Points(3)}}
	c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
}

type gridLines struct {
	xTicks plot.Ticker
	noX    bool // no vertical lines
}

// Plot implements plot.Plotter.
func (g gridLines) Plot(c draw.Canvas, plt *plot.Plot) {
	trX, trY := plt.Transforms(&c)
	sty := draw.LineStyle{Color: colGrid, Width: vg.Points(0.6)}
	if !g.noX {
		xt := g.xTicks
		if xt == nil {
			xt = plt.X.Tick.Marker
		}
		for _, t := range xt.Ticks(plt.X.Min, plt.X.Max) {
			if t.IsMinor() || t.Value < plt.X.Min || t.Value > plt.X.Max {
				continue
			}
			x := trX(t.Value)
			c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
		}
	}
	for _, t := range plt.Y.Tick.Marker.Ticks(plt.Y.Min, plt.Y.Max) {
		if t.IsMinor() || t.Value < plt.Y.Min || t.Value > plt.Y.Max {
			continue
		}
		y := trY(t.Value)
		c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
	}
}

func lineStyle(c color.Color, width float64, dashes ...vg.Length) draw.LineStyle {
	return draw.LineStyle{Color: c, Width: vg.Points(width), Dashes: dashes}
}

// monthTicks marks whole event months: major ticks every step months,
// step the smallest of 1, 2, 3, 6, 12, 24, ... giving at most 8 labels,
// and minor ticks at every month when the range is short enough.
type monthTicks struct {
	noLabels bool // marks only, all short (upper panel of a stack): no label height
}

// Ticks implements plot.Ticker.
func (m monthTicks) Ticks(lo, hi float64) []plot.Tick {
	first, last := math.Ceil(lo), math.Floor(hi)
	if !(last >= first) || math.IsInf(first, 0) || math.IsInf(last, 0) {
		return nil
	}
	span := last - first
	step := 1.0
	for _, s := range []float64{1, 2, 3, 6, 12} {
		step = s
		if span/s < 8 {
			break
		}
	}
	for span/step >= 8 { // long ranges: 24, 48, ...
		step *= 2
	}
	var ticks []plot.Tick
	for v := first; v <= last; v++ {
		isMajor := math.Mod(v, step) == 0
		if !isMajor && (step == 1 || span > 60 || m.noLabels) {
			continue
		}
		t := plot.Tick{Value: v}
		if isMajor && !m.noLabels {
			t.Label = formatTick(v, 0) // unlabelled ticks are minor (short)
		}
		ticks = append(ticks, t)
	}
	return ticks
}

// niceTicks puts major ticks at multiples of a "nice" step (1, 2, 2.5 or
// 5 times a power of ten) chosen to give at most about seven labels, and
// a minor tick halfway between majors. Labels use as many decimals as the
// step needs and a true minus sign.
type niceTicks struct{}

// Ticks implements plot.Ticker.
func (niceTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	const target = 6
	raw := (hi - lo) / target
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	step, mult := 10*mag, 10.0
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if m*mag >= raw*(1-1e-9) {
			step, mult = m*mag, m
			break
		}
	}
	dec := max(0, int(-math.Floor(math.Log10(step)+1e-9)))
	if mult == 2.5 {
		dec++
	}
	var ticks []plot.Tick
	half := step / 2
	for k := math.Ceil(lo/half - 1e-9); ; k++ {
		v := k * half
		if v > hi+1e-9*step {
			break
		}
		if math.Mod(k, 2) != 0 {
			ticks = append(ticks, plot.Tick{Value: v})
			continue
		}
		v = math.Round(v/step) * step
		ticks = append(ticks, plot.Tick{Value: v, Label: formatTick(v, dec)})
	}
	return ticks
}

// formatTick formats v with dec decimals and a minus sign (U+2212).
func formatTick(v float64, dec int) string {
	s := strconv.FormatFloat(v, 'f', dec, 64)
	if s[0] == '-' {
		if strings.Trim(s[1:], "0.") == "" {
			return s[1:] // "-0.0" -> "0.0"
		}
		return "−" + s[1:]
	}
	return s
}

// padRange widens an axis range by frac of its width on each side (and
// to a unit-less minimum width when the range is a single value).
func padRange(a *plot.Axis, frac float64) {
	if math.IsInf(a.Min, 0) || math.IsInf(a.Max, 0) {
		return
	}
	w := a.Max - a.Min
	if w <= 0 {
		w = math.Max(math.Abs(a.Max), 1)
	}
	a.Min -= frac * w
	a.Max += frac * w
}
