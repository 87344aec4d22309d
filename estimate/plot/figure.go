package plot

import (
	"errors"
	"fmt"
	"image/color"
	"io"
	"math"
	"path/filepath"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgpdf"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/psmeval/psmeval/internal/atomicfile"
)

// DPI is the resolution of PNG output: dots per inch.
const DPI = 96

// Pixels converts a size in PNG pixels (at DPI) to a vg.Length, so that
// Save(f, "fig.png", Pixels(800), Pixels(600)) writes an 800×600 image.
func Pixels(n int) vg.Length { return vg.Length(n) * vg.Inch / DPI }

// Drawer is anything that draws itself on a canvas: *Figure and
// *plot.Plot both are.
type Drawer interface {
	Draw(c draw.Canvas)
}

// Figure is a column of gonum plots drawn on one canvas, top to bottom,
// with their data areas aligned left and right and an optional common
// title. Constructors in this package fill it; its fields may be changed
// before drawing.
type Figure struct {
	// Title is drawn centred above all panels; "" means none.
	Title string
	// TitleStyle is the style of Title; the constructors set Liberation
	// Sans 14 pt. The zero value (no font size) also means that.
	TitleStyle text.Style
	// Panels are drawn from top to bottom. Nil entries leave a gap.
	Panels []*plot.Plot
	// Heights are the relative heights of the panels' tiles; nil (or a
	// length different from Panels) means equal heights.
	Heights []float64
	// Gap is the vertical space between panels; 0 means 8 pt.
	Gap vg.Length
	// Legend entries are drawn in rows centred below the panels (wrapped
	// to the figure's width); nil means none. Monthly puts its legend
	// here, because its bands usually leave no free corner.
	Legend []LegendEntry
	// LegendStyle is the text style of Legend; the zero value means
	// Liberation Sans 11 pt.
	LegendStyle text.Style
	// FixedLegends turns off automatic legend placement. By default
	// (false) each legend of a panel built by this package is put at draw
	// time in the first corner (top left, top right, bottom left, bottom
	// right) where it covers no data, and the y axis is extended upwards
	// to make room when no corner is free. Panels added by the caller
	// always keep their own legend settings.
	FixedLegends bool

	meta []panelMeta // parallel to Panels for panels built here
}

// Draw draws the figure on c. It implements Drawer. Automatic legend
// placement changes the panels' legend corner and y range only while
// drawing; they are restored before Draw returns.
func (f *Figure) Draw(c draw.Canvas) {
	c.SetColor(color.White)
	c.Fill(c.Rectangle.Path())
	margin := vg.Points(5)
	c = draw.Crop(c, margin, -margin, margin, 0)
	if f.Title != "" {
		sty := f.TitleStyle
		if sty.Font.Size == 0 || sty.Handler == nil {
			sty = figTitleStyle()
		}
		sty.XAlign, sty.YAlign = draw.XCenter, draw.YTop
		top := c.Max.Y - vg.Points(3)
		c.FillText(sty, vg.Point{X: c.Center().X, Y: top}, f.Title)
		c.Max.Y = top - sty.Height(f.Title) - vg.Points(5)
	} else {
		c.Max.Y -= vg.Points(4) // room for the ascent of a panel title
	}
	if len(f.Legend) > 0 {
		c.Min.Y = f.drawStrip(c)
	}
	if len(f.Panels) == 0 {
		return
	}
	tiles := f.tiles(c)

	// Save what legend placement may change, restore afterwards.
	type state struct {
		ylabel       string
		ytickSize    vg.Length
		ymin, ymax   float64
		top, left    bool
		xoffs, yoffs vg.Length
	}
	saved := make([]state, len(f.Panels))
	for i, p := range f.Panels {
		if p != nil {
			saved[i] = state{p.Y.Label.Text, p.Y.Tick.Label.Font.Size, p.Y.Min, p.Y.Max, p.Legend.Top, p.Legend.Left, p.Legend.XOffs, p.Legend.YOffs}
		}
	}
	defer func() {
		for i, p := range f.Panels {
			if p != nil {
				s := saved[i]
				p.Y.Label.Text = s.ylabel
				p.Y.Tick.Label.Font.Size = s.ytickSize
				p.Y.Min, p.Y.Max = s.ymin, s.ymax
				p.Legend.Top, p.Legend.Left = s.top, s.left
				p.Legend.XOffs, p.Legend.YOffs = s.xoffs, s.yoffs
			}
		}
	}()

	for i, p := range f.Panels {
		if p != nil && i < len(f.meta) && f.meta[i].rows > 0 {
			// One label per row: shrink the font to the row spacing,
			// between 7 pt and the normal size.
			dc := p.DataCanvas(tiles[i])
			rowH := (dc.Max.Y - dc.Min.Y) / vg.Length(p.Y.Max-p.Y.Min)
			p.Y.Tick.Label.Font.Size = min(p.Y.Tick.Label.Font.Size, max(vg.Points(7), 0.85*rowH))
		}
	}
	for i, p := range f.Panels {
		if p != nil {
			dc := p.DataCanvas(tiles[i])
			p.Y.Label.Text = wrapLabel(p.Y.Label.TextStyle, p.Y.Label.Text, dc.Max.Y-dc.Min.Y)
		}
	}
	cs := f.align(tiles)
	if !f.FixedLegends {
		for i, p := range f.Panels {
			if p != nil && i < len(f.meta) && len(f.meta[i].legend) > 0 {
				placeLegend(p, f.meta[i], cs[i])
			}
		}
		cs = f.align(tiles) // y tick labels may have changed width
	}
	for i, p := range f.Panels {
		if p != nil {
			p.Draw(cs[i])
		}
	}
}

// LegendEntry is one entry of a Figure's legend strip: thumbnails drawn
// on top of each other in a small box, followed by the label.
type LegendEntry struct {
	Label  string
	Thumbs []plot.Thumbnailer
}

// Layout of the legend strip, in points.
const (
	stripThumb    = 26 // thumbnail width
	stripThumbGap = 5  // between thumbnail and label
	stripEntryGap = 18 // between entries
	stripRowGap   = 3  // between rows
)

// drawStrip draws f.Legend in rows centred at the bottom of c and returns
// the y coordinate above the strip (the new bottom for the panels).
func (f *Figure) drawStrip(c draw.Canvas) vg.Length {
	sty := f.LegendStyle
	if sty.Font.Size == 0 || sty.Handler == nil {
		sty = newPlot().Legend.TextStyle
	}
	sty.XAlign, sty.YAlign = draw.XLeft, draw.YCenter
	width := func(e LegendEntry) vg.Length {
		return vg.Points(stripThumb+stripThumbGap) + sty.Width(e.Label)
	}
	avail := c.Max.X - c.Min.X
	var rows [][]LegendEntry
	var rowW []vg.Length
	for _, e := range f.Legend {
		w := width(e)
		n := len(rows)
		if n > 0 && rowW[n-1]+vg.Points(stripEntryGap)+w <= avail {
			rows[n-1] = append(rows[n-1], e)
			rowW[n-1] += vg.Points(stripEntryGap) + w
			continue
		}
		rows = append(rows, []LegendEntry{e})
		rowW = append(rowW, w)
	}
	rowH := sty.Height("Mg") + vg.Points(2)
	y := c.Min.Y + vg.Points(2) + vg.Length(len(rows))*rowH + vg.Length(len(rows)-1)*vg.Points(stripRowGap)
	top := y + vg.Points(6)
	for i, row := range rows {
		x := c.Center().X - rowW[i]/2
		for _, e := range row {
			box := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - rowH}, Max: vg.Point{X: x + vg.Points(stripThumb), Y: y},
			}}
			for _, t := range e.Thumbs {
				t.Thumbnail(&box)
			}
			c.FillText(sty, vg.Point{X: x + vg.Points(stripThumb+stripThumbGap), Y: y - rowH/2}, e.Label)
			x += width(e) + vg.Points(stripEntryGap)
		}
		y -= rowH + vg.Points(stripRowGap)
	}
	return top
}

// wrapLabel breaks a one-line label that is longer than avail into two
// lines at the space that makes the longer line shortest.
func wrapLabel(sty text.Style, s string, avail vg.Length) string {
	if s == "" || strings.Contains(s, "\n") || sty.Width(s) <= 0.92*avail {
		return s
	}
	best, bestW := s, sty.Width(s)
	for i, r := range s {
		if r != ' ' {
			continue
		}
		a, b := s[:i], s[i+1:]
		if w := max(sty.Width(a), sty.Width(b)); w < bestW {
			best, bestW = a+"\n"+b, w
		}
	}
	return best
}

// tiles splits c into one tile per panel by Heights.
func (f *Figure) tiles(c draw.Canvas) []draw.Canvas {
	n := len(f.Panels)
	w := make([]float64, n)
	total := 0.0
	for i := range w {
		w[i] = 1
		if len(f.Heights) == n && f.Heights[i] > 0 && !math.IsInf(f.Heights[i], 0) {
			w[i] = f.Heights[i]
		}
		total += w[i]
	}
	gap := f.Gap
	if gap == 0 {
		gap = vg.Points(8)
	}
	avail := c.Max.Y - c.Min.Y - gap*vg.Length(n-1)
	out := make([]draw.Canvas, n)
	top := c.Max.Y
	for i := range out {
		h := avail * vg.Length(w[i]/total)
		t := c
		t.Max.Y = top
		t.Min.Y = top - h
		out[i] = t
		top -= h + gap
	}
	return out
}

// align shrinks the tiles horizontally so that all panels' data areas
// share the same left and right edges (like plot.Align, but for a single
// column with unequal heights).
func (f *Figure) align(tiles []draw.Canvas) []draw.Canvas {
	out := append([]draw.Canvas(nil), tiles...)
	var left, right []vg.Length
	var maxL, maxR vg.Length
	for i, p := range f.Panels {
		var l, r vg.Length
		if p != nil {
			dc := p.DataCanvas(tiles[i])
			l = dc.Min.X - tiles[i].Min.X
			r = tiles[i].Max.X - dc.Max.X
		}
		left, right = append(left, l), append(right, r)
		maxL, maxR = max(maxL, l), max(maxR, r)
	}
	for i, p := range f.Panels {
		if p != nil {
			out[i].Min.X += maxL - left[i]
			out[i].Max.X -= maxR - right[i]
		}
	}
	return out
}

// Save writes the figure to path; see the package-level Save.
func (f *Figure) Save(path string, width, height vg.Length) error {
	return Save(f, path, width, height)
}

// Save draws d (a *Figure or a *plot.Plot) on a canvas of the given size
// and writes it to path, in the format given by the extension: .svg
// (fonts referenced, not embedded), .png (at DPI dots per inch; use
// Pixels for sizes in pixels), or .pdf (fonts embedded). The file is
// written atomically through a temporary file in the same directory: on
// error no partial file is left and an existing file is untouched.
func Save(d Drawer, path string, width, height vg.Length) error {
	if d == nil {
		return errors.New("plot: Save: nil figure")
	}
	if !(width > 0 && height > 0) || math.IsInf(float64(width), 0) || math.IsInf(float64(height), 0) {
		return fmt.Errorf("plot: Save %s: width and height must be positive and finite, got %v × %v", path, width, height)
	}
	var cw vg.CanvasWriterTo
	switch ext := strings.ToLower(filepath.Ext(path)); ext {
	case ".svg":
		cw = vgsvg.New(width, height)
	case ".png":
		cw = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(width, height), vgimg.UseDPI(DPI))}
	case ".pdf":
		cw = vgpdf.New(width, height)
	default:
		return fmt.Errorf("plot: Save %s: unsupported file extension %q (want .svg, .png or .pdf)", path, ext)
	}
	d.Draw(draw.New(cw))
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := cw.WriteTo(w)
		return err
	})
}
