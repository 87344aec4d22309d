package plot

import (
	"math"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

const (
	legendInset  = 6 // pt between the legend and the data area's edge
	legendMargin = 4 // pt of clearance kept between the legend and data
)

// legendSize is the width and height of p's legend with the given
// entries, following plot.Legend.Draw's layout.
func legendSize(p *plot.Plot, entries []string) (w, h vg.Length) {
	sty := p.Legend.TextStyle
	var enth vg.Length
	for _, e := range entries {
		r := sty.Rectangle(e)
		enth = max(enth, r.Max.Y)
		w = max(w, p.Legend.ThumbnailWidth+sty.Rectangle(" "+e).Max.X)
	}
	n := vg.Length(len(entries))
	h = n*enth + (n-1)*p.Legend.Padding + sty.FontExtents().Descent
	return w, h
}

// legendRect is the legend's rectangle in corner (top, left) of dc.
func legendRect(dc draw.Canvas, w, h vg.Length, top, left bool) vg.Rectangle {
	in := vg.Points(legendInset)
	var r vg.Rectangle
	if left {
		r.Min.X = dc.Min.X + in
		r.Max.X = r.Min.X + w
	} else {
		r.Max.X = dc.Max.X - in
		r.Min.X = r.Max.X - w
	}
	if top {
		r.Max.Y = dc.Max.Y - in
		r.Min.Y = r.Max.Y - h
	} else {
		r.Min.Y = dc.Min.Y + in
		r.Max.Y = r.Min.Y + h
	}
	return r
}

// setLegend puts p's legend into corner (top, left), inset from the axes.
func setLegend(p *plot.Plot, top, left bool) {
	in := vg.Points(legendInset)
	p.Legend.Top, p.Legend.Left = top, left
	p.Legend.XOffs, p.Legend.YOffs = in, in
	if !left {
		p.Legend.XOffs = -in
	}
	if top {
		p.Legend.YOffs = -in
	}
}

// placeLegend chooses the legend corner of p drawn on tile c: the first
// of top left, top right, bottom left, bottom right whose rectangle
// (plus a margin) covers none of the data regions. If every corner is
// taken, the y axis maximum is raised just enough for the legend to fit
// above the data at the top corner that needs the smaller raise.
func placeLegend(p *plot.Plot, m panelMeta, c draw.Canvas) {
	dc := p.DataCanvas(c)
	w, h := legendSize(p, m.legend)
	if w <= 0 || h <= 0 {
		return
	}
	for _, corner := range [][2]bool{{true, true}, {true, false}, {false, true}, {false, false}} {
		r := legendRect(dc, w, h, corner[0], corner[1])
		if !covers(p, dc, m.regions, grow(r, vg.Points(legendMargin))) {
			setLegend(p, corner[0], corner[1])
			return
		}
	}
	// No free corner: make headroom at the top.
	H := float64(dc.Max.Y - dc.Min.Y)
	need := float64(h + vg.Points(legendInset+2*legendMargin))
	if H-need < 0.3*H {
		setLegend(p, true, true) // panel too small: keep the default corner
		return
	}
	best, bestLeft := math.Inf(1), true
	for _, left := range []bool{true, false} {
		r := grow(legendRect(dc, w, h, true, left), vg.Points(legendMargin))
		top := maxHi(p, dc, m.regions, r.Min.X, r.Max.X)
		if math.IsInf(top, -1) {
			top = p.Y.Min
		}
		ymax := p.Y.Min + (top-p.Y.Min)*H/(H-need)
		if ymax < best {
			best, bestLeft = ymax, left
		}
	}
	if best > p.Y.Max {
		p.Y.Max = best
	}
	setLegend(p, true, bestLeft)
}

func grow(r vg.Rectangle, d vg.Length) vg.Rectangle {
	r.Min.X -= d
	r.Min.Y -= d
	r.Max.X += d
	r.Max.Y += d
	return r
}

// dataX converts a canvas x coordinate to data units (linear x axis).
func dataX(p *plot.Plot, dc draw.Canvas, x vg.Length) float64 {
	f := float64(x-dc.Min.X) / float64(dc.Max.X-dc.Min.X)
	return p.X.Min + f*(p.X.Max-p.X.Min)
}

// samples are the data x values at which regions are tested inside the
// canvas x range [x0, x1]: a uniform grid plus every region vertex there.
func samples(p *plot.Plot, dc draw.Canvas, regions []region, x0, x1 vg.Length) []float64 {
	a, b := dataX(p, dc, x0), dataX(p, dc, x1)
	if a > b {
		a, b = b, a
	}
	const n = 32
	xs := make([]float64, 0, n+1)
	for i := 0; i <= n; i++ {
		xs = append(xs, a+(b-a)*float64(i)/n)
	}
	for _, r := range regions {
		for _, x := range r.xs {
			if x >= a && x <= b {
				xs = append(xs, x)
			}
		}
	}
	return xs
}

// spans calls fn with the [lo, hi] extent of region r at data x, once per
// piece of r that contains x (a vertical piece gives its full extent).
func spans(r region, x float64, fn func(lo, hi float64)) {
	if len(r.xs) == 1 {
		if r.xs[0] == x {
			fn(r.lo[0], r.hi[0])
		}
		return
	}
	for k := 0; k+1 < len(r.xs); k++ {
		x0, x1 := r.xs[k], r.xs[k+1]
		if x < math.Min(x0, x1) || x > math.Max(x0, x1) {
			continue
		}
		if x0 == x1 {
			fn(math.Min(r.lo[k], r.lo[k+1]), math.Max(r.hi[k], r.hi[k+1]))
			continue
		}
		t := (x - x0) / (x1 - x0)
		fn(r.lo[k]+t*(r.lo[k+1]-r.lo[k]), r.hi[k]+t*(r.hi[k+1]-r.hi[k]))
	}
}

// covers reports whether any region overlaps the canvas rectangle rect.
func covers(p *plot.Plot, dc draw.Canvas, regions []region, rect vg.Rectangle) bool {
	_, trY := p.Transforms(&dc)
	hit := false
	for _, x := range samples(p, dc, regions, rect.Min.X, rect.Max.X) {
		for _, r := range regions {
			spans(r, x, func(lo, hi float64) {
				ylo, yhi := trY(lo), trY(hi)
				if ylo > yhi {
					ylo, yhi = yhi, ylo
				}
				if ylo <= rect.Max.Y && yhi >= rect.Min.Y {
					hit = true
				}
			})
			if hit {
				return true
			}
		}
	}
	return false
}

// maxHi is the largest data y of any region within canvas x range
// [x0, x1], or -Inf when none is there.
func maxHi(p *plot.Plot, dc draw.Canvas, regions []region, x0, x1 vg.Length) float64 {
	top := math.Inf(-1)
	for _, x := range samples(p, dc, regions, x0, x1) {
		for _, r := range regions {
			spans(r, x, func(lo, hi float64) { top = math.Max(top, math.Max(lo, hi)) })
		}
	}
	return top
}
