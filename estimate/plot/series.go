package plot

import (
	"image/color"
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// region is the area a plotted element covers, in data coordinates: for
// x between xs[k] and xs[k+1] it spans [lo, hi], interpolated linearly.
// A line has lo == hi; a single point has len(xs) == 1. Regions are used
// only to find a legend position that covers no data.
type region struct {
	xs, lo, hi []float64
}

// panelMeta is what a Figure knows about a panel built by this package.
type panelMeta struct {
	regions []region
	legend  []string // legend entry texts, to measure the legend
	// rows > 0 marks a panel whose y tick labels are one per row (love
	// plot): at draw time their font shrinks to fit the row spacing.
	rows int
}

// builder adds NaN-safe series to one panel and records their regions
// and legend entries.
type builder struct {
	p    *plot.Plot
	meta panelMeta
	// strip, when not nil, receives the legend entries instead of the
	// panel's own legend (for a legend below the figure).
	strip *[]LegendEntry
}

func newBuilder() *builder { return &builder{p: newPlot()} }

// runs splits 0..n-1 into maximal runs [start, end) of indices with ok(i).
func runs(n int, ok func(int) bool) [][2]int {
	var out [][2]int
	start := -1
	for i := 0; i <= n; i++ {
		if i < n && ok(i) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, [2]int{start, i})
			start = -1
		}
	}
	return out
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// scaled returns a copy of x multiplied by s.
func scaled(x []float64, s float64) []float64 {
	if x == nil {
		return nil
	}
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = v * s
	}
	return out
}

// line adds the polyline (xs, ys), broken at non-finite values. With a
// glyph style, every point gets a marker; without one, isolated points
// (a run of length 1) still get a small marker so they are visible. It
// returns the legend thumbnails, or nil when nothing was drawn (no finite
// value).
func (b *builder) line(xs, ys []float64, sty draw.LineStyle, glyph *draw.GlyphStyle) []plot.Thumbnailer {
	rs := runs(len(xs), func(i int) bool { return finite(xs[i]) && finite(ys[i]) })
	for _, r := range rs {
		pts := make(plotter.XYs, r[1]-r[0])
		for i := range pts {
			pts[i] = plotter.XY{X: xs[r[0]+i], Y: ys[r[0]+i]}
		}
		if len(pts) > 1 {
			l := &plotter.Line{XYs: pts, LineStyle: sty}
			b.p.Add(l)
		}
		g := glyph
		if g == nil && len(pts) == 1 {
			g = &draw.GlyphStyle{Color: sty.Color, Radius: vg.Points(2), Shape: draw.CircleGlyph{}}
		}
		if g != nil {
			b.p.Add(&plotter.Scatter{XYs: pts, GlyphStyle: *g})
		}
		b.meta.regions = append(b.meta.regions, region{
			xs: pointsX(pts), lo: pointsY(pts), hi: pointsY(pts),
		})
	}
	if len(rs) == 0 {
		return nil
	}
	thumbs := []plot.Thumbnailer{&plotter.Line{LineStyle: sty}}
	if glyph != nil {
		thumbs = append(thumbs, &plotter.Scatter{GlyphStyle: *glyph})
	}
	return thumbs
}

// band adds a filled band between lo and hi, broken where either is not
// finite. A run of one point is drawn as a narrow bar a quarter of the
// smallest x spacing wide. It returns the legend thumbnail, or nil when
// nothing was drawn.
func (b *builder) band(xs, lo, hi []float64, fill color.Color) []plot.Thumbnailer {
	half := 0.25 * minSpacing(xs)
	rs := runs(len(xs), func(i int) bool { return finite(xs[i]) && finite(lo[i]) && finite(hi[i]) })
	for _, r := range rs {
		var ring plotter.XYs
		if r[1]-r[0] == 1 {
			i := r[0]
			ring = plotter.XYs{{X: xs[i] - half, Y: lo[i]}, {X: xs[i] + half, Y: lo[i]},
				{X: xs[i] + half, Y: hi[i]}, {X: xs[i] - half, Y: hi[i]}}
		} else {
			for i := r[0]; i < r[1]; i++ {
				ring = append(ring, plotter.XY{X: xs[i], Y: lo[i]})
			}
			for i := r[1] - 1; i >= r[0]; i-- {
				ring = append(ring, plotter.XY{X: xs[i], Y: hi[i]})
			}
		}
		poly := &plotter.Polygon{XYs: []plotter.XYs{ring}, Color: fill}
		b.p.Add(poly)
		b.meta.regions = append(b.meta.regions, region{
			xs: append([]float64(nil), xs[r[0]:r[1]]...),
			lo: append([]float64(nil), lo[r[0]:r[1]]...),
			hi: append([]float64(nil), hi[r[0]:r[1]]...),
		})
	}
	if len(rs) == 0 {
		return nil
	}
	return []plot.Thumbnailer{fillThumb{fill}}
}

// legend adds a legend entry and remembers its text for measuring. No
// thumbnails (a series that drew nothing) means no entry.
func (b *builder) legend(label string, thumbs ...plot.Thumbnailer) {
	if len(thumbs) == 0 {
		return
	}
	if b.strip != nil {
		*b.strip = append(*b.strip, LegendEntry{Label: label, Thumbs: thumbs})
		return
	}
	b.p.Legend.Add(label, thumbs...)
	b.meta.legend = append(b.meta.legend, label)
}

// minSpacing is the smallest positive gap between sorted finite xs, or 1.
func minSpacing(xs []float64) float64 {
	m := math.Inf(1)
	for i := 1; i < len(xs); i++ {
		if d := xs[i] - xs[i-1]; d > 0 && d < m {
			m = d
		}
	}
	if math.IsInf(m, 1) {
		return 1
	}
	return m
}

func pointsX(p plotter.XYs) []float64 {
	out := make([]float64, len(p))
	for i := range p {
		out[i] = p[i].X
	}
	return out
}

func pointsY(p plotter.XYs) []float64 {
	out := make([]float64, len(p))
	for i := range p {
		out[i] = p[i].Y
	}
	return out
}

// fillThumb is a legend thumbnail: a filled box of the band's colour.
type fillThumb struct{ c color.Color }

// Thumbnail implements plot.Thumbnailer.
func (f fillThumb) Thumbnail(c *draw.Canvas) {
	h := c.Max.Y - c.Min.Y
	pts := []vg.Point{
		{X: c.Min.X, Y: c.Min.Y + 0.1*h}, {X: c.Max.X, Y: c.Min.Y + 0.1*h},
		{X: c.Max.X, Y: c.Max.Y - 0.1*h}, {X: c.Min.X, Y: c.Max.Y - 0.1*h},
	}
	c.FillPolygon(f.c, pts)
}

// hline draws a horizontal reference line across the whole data area
// (not recorded as a region: the legend may sit on it).
type hline struct {
	y   float64
	sty draw.LineStyle
}

// Plot implements plot.Plotter.
func (h hline) Plot(c draw.Canvas, plt *plot.Plot) {
	if h.y < plt.Y.Min || h.y > plt.Y.Max {
		return
	}
	_, trY := plt.Transforms(&c)
	y := trY(h.y)
	c.StrokeLine2(h.sty, c.Min.X, y, c.Max.X, y)
}

// vline draws a vertical reference line from data y0 to y1, clipped to
// the data area (both 0: the whole height).
type vline struct {
	x      float64
	y0, y1 float64
	sty    draw.LineStyle
}

// Plot implements plot.Plotter.
func (v vline) Plot(c draw.Canvas, plt *plot.Plot) {
	if v.x < plt.X.Min || v.x > plt.X.Max {
		return
	}
	trX, trY := plt.Transforms(&c)
	x := trX(v.x)
	lo, hi := c.Min.Y, c.Max.Y
	if v.y0 != 0 || v.y1 != 0 {
		lo, hi = max(lo, trY(v.y0)), min(hi, trY(v.y1))
	}
	c.StrokeLine2(v.sty, x, lo, x, hi)
}
