package plot

import (
	"image/color"
	"math"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
)

// ScoreScale is the x scale of an overlap figure.
type ScoreScale int

const (
	// ScaleAuto (the default) uses the logit scale when more than half of
	// either group's scores lie in the lowest or the highest tenth of the
	// range of all scores (as when a few thousand treated are matched
	// from millions of controls and nearly all scores are close to 0),
	// and no score is exactly 0 or 1; otherwise the linear scale.
	ScaleAuto ScoreScale = iota
	// ScaleLinear bins and draws the score itself.
	ScaleLinear
	// ScaleLogit bins and draws log(p/(1−p)) (the logit model's linear
	// predictor), with ticks labelled in probabilities. Scores of exactly
	// 0 or 1 are an error.
	ScaleLogit
)

// OverlapOptions configures Overlap. The zero value is the default.
type OverlapOptions struct {
	// Scale of the score axis; the zero value is ScaleAuto.
	Scale ScoreScale
	// Bins is the number of equal-width bins; 0 means ⌈2·n^(1/3)⌉ for n
	// treated (Rice's rule), limited to [10, 50].
	Bins int
}

// Overlap draws the distribution of the propensity score among the
// treated and the controls as density histograms (area 1 per group, on
// common equal-width bins over the range of all scores): the upper panel
// before matching (all controls, unweighted); with controlWeights, a
// lower panel after matching (the controls weighted by their matching
// weights, so unmatched controls with weight 0 drop out). The treated
// are unweighted in both panels; they are drawn filled, the controls as
// a dashed outline on top.
//
// opts may be nil (the defaults). Cost O(n) in the number of scores.
//
// Errors (an *ArgError) for empty groups, scores that are not finite or
// lie outside [0, 1] (or are 0 or 1 on the logit scale), controlWeights of
// the wrong length, negative or not finite, or summing to zero, and bad
// options.
func Overlap(treated, control []float64, controlWeights []float64, opts *OverlapOptions) (*Figure, error) {
	var o OverlapOptions
	if opts != nil {
		o = *opts
	}
	if len(treated) == 0 {
		return nil, argErr("treated", "is empty")
	}
	if len(control) == 0 {
		return nil, argErr("control", "is empty")
	}
	if err := checkScores("treated", treated); err != nil {
		return nil, err
	}
	if err := checkScores("control", control); err != nil {
		return nil, err
	}
	matched := 0
	if controlWeights != nil {
		if err := checkLen("controlWeights", controlWeights, len(control), "control"); err != nil {
			return nil, err
		}
		sum := 0.0
		for i, w := range controlWeights {
			if !(w >= 0) || math.IsInf(w, 0) {
				return nil, elemErr("controlWeights", i, "is %v; weights must be finite and non-negative", w)
			}
			if w > 0 {
				matched++
			}
			sum += w
		}
		if sum == 0 {
			return nil, argErr("controlWeights", "sum to zero: no matched control")
		}
	}
	if o.Bins < 0 {
		return nil, argErr("OverlapOptions.Bins", "is %d; want > 0, or 0 for the default", o.Bins)
	}
	logit := false
	switch o.Scale {
	case ScaleAuto:
		logit = skewed(treated, control)
	case ScaleLinear:
	case ScaleLogit:
		for _, g := range []struct {
			name string
			x    []float64
		}{{"treated", treated}, {"control", control}} {
			for i, v := range g.x {
				if v == 0 || v == 1 {
					return nil, elemErr(g.name, i, "is %v; the logit scale needs scores strictly between 0 and 1", v)
				}
			}
		}
		logit = true
	default:
		return nil, argErr("OverlapOptions.Scale", "is %d; want ScaleAuto, ScaleLinear or ScaleLogit", o.Scale)
	}

	tx, cx := treated, control
	xlabel := "Propensity score"
	var xt plot.Ticker = niceTicks{}
	if logit {
		tx, cx = logits(treated), logits(control)
		xlabel = "Propensity score (logit scale)"
		xt = logitTicks{}
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range [][]float64{tx, cx} {
		for _, v := range s {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if hi-lo < 1e-9 {
		d := 0.005
		if logit {
			d = 0.5
		}
		lo, hi = lo-d, hi+d
		if !logit {
			lo, hi = math.Max(0, lo), math.Min(1, hi)
		}
	}
	k := o.Bins
	if k == 0 {
		k = int(math.Ceil(2 * math.Cbrt(float64(len(treated)))))
		k = min(max(k, 10), 50)
	}

	dTreated := density(tx, nil, lo, hi, k)
	treatedLabel := "Treated (n = " + groupInt(len(treated)) + ")"

	before := newBuilder()
	before.p.Title.Text = "Before matching"
	before.p.Add(gridLines{xTicks: xt})
	histogram(before, dTreated, lo, hi, colTreated, true, false, treatedLabel)
	histogram(before, density(cx, nil, lo, hi, k), lo, hi, colControl, false, true,
		"All controls (n = "+groupInt(len(control))+")")
	before.p.Y.Label.Text = "Density"
	before.p.X.Label.Text = xlabel
	before.p.X.Tick.Marker = xt
	scoreRange(before.p, lo, hi)

	f := &Figure{
		Title:  "Propensity score overlap",
		Panels: []*plot.Plot{before.p},
		meta:   []panelMeta{before.meta},
	}
	if controlWeights == nil {
		return f, nil
	}
	before.p.X.Label.Text = ""
	before.p.X.Tick.Marker = unlabelled{xt}

	after := newBuilder()
	after.p.Title.Text = "After matching"
	after.p.Add(gridLines{xTicks: xt})
	histogram(after, dTreated, lo, hi, colTreated, true, false, treatedLabel)
	histogram(after, density(cx, controlWeights, lo, hi, k), lo, hi, colControl, false, true,
		"Matched controls (weighted, n = "+groupInt(matched)+")")
	after.p.Y.Label.Text = "Density"
	after.p.X.Label.Text = xlabel
	after.p.X.Tick.Marker = xt
	scoreRange(after.p, lo, hi)
	f.Panels = append(f.Panels, after.p)
	f.meta = append(f.meta, after.meta)
	return f, nil
}

// skewed reports whether the logit scale suits the scores better: more
// than half of either group in the lowest or highest tenth of the pooled
// range, and no score at exactly 0 or 1.
func skewed(treated, control []float64) bool {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, s := range [][]float64{treated, control} {
		for _, v := range s {
			if v == 0 || v == 1 {
				return false
			}
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if !(hi > lo) {
		return false
	}
	a, b := lo+0.1*(hi-lo), hi-0.1*(hi-lo)
	for _, s := range [][]float64{treated, control} {
		low, high := 0, 0
		for _, v := range s {
			if v <= a {
				low++
			}
			if v >= b {
				high++
			}
		}
		if 2*low > len(s) || 2*high > len(s) {
			return true
		}
	}
	return false
}

func logits(p []float64) []float64 {
	out := make([]float64, len(p))
	for i, v := range p {
		out[i] = math.Log(v / (1 - v))
	}
	return out
}

// logitTicks labels a logit axis in probabilities: majors at 1, 2 and 5
// times powers of ten below 0.5, at 0.5, and mirrored above it (0.8, 0.9,
// 0.95, 0.98, 0.99, ...); decades only when that gives more than eight.
type logitTicks struct{}

// Ticks implements plot.Ticker.
func (logitTicks) Ticks(lo, hi float64) []plot.Tick {
	if !(hi > lo) || math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil
	}
	var small, decades []float64
	for e := -12; e <= -1; e++ {
		d := math.Pow(10, float64(e))
		for _, m := range []float64{1, 2, 5} {
			if m*d < 0.5 {
				small = append(small, m*d)
			}
		}
		decades = append(decades, d)
	}
	build := func(ps []float64) []plot.Tick {
		all := append(append([]float64(nil), ps...), 0.5)
		for i := len(ps) - 1; i >= 0; i-- {
			all = append(all, 1-ps[i])
		}
		var ts []plot.Tick
		for _, p := range all {
			x := math.Log(p / (1 - p))
			if x >= lo-1e-9 && x <= hi+1e-9 {
				ts = append(ts, plot.Tick{Value: x, Label: probLabel(p)})
			}
		}
		return ts
	}
	ts := build(small)
	if len(ts) > 8 {
		ts = build(decades)
	}
	for len(ts) > 8 { // very wide ranges: every other decade
		thin := ts[:0:0]
		for i, t := range ts {
			if i%2 == 0 {
				thin = append(thin, t)
			}
		}
		ts = thin
	}
	return ts
}

// probLabel formats a probability tick: 0.001, 0.5, 0.999 (12
// significant digits at most, so that 1−1e-3 prints as 0.999).
func probLabel(p float64) string {
	p, _ = strconv.ParseFloat(strconv.FormatFloat(p, 'g', 12, 64), 64)
	if p < 1e-6 {
		return strconv.FormatFloat(p, 'g', -1, 64)
	}
	return strconv.FormatFloat(p, 'f', -1, 64)
}

// checkScores requires finite scores in [0, 1].
func checkScores(arg string, x []float64) error {
	for i, v := range x {
		if !(v >= 0 && v <= 1) {
			return elemErr(arg, i, "is %v; propensity scores must be finite and in [0, 1]", v)
		}
	}
	return nil
}

// density returns the (weighted) density histogram of x on k equal bins
// over [lo, hi]: weight in the bin / (total weight × bin width). The last
// bin is closed on the right.
func density(x, w []float64, lo, hi float64, k int) []float64 {
	d := make([]float64, k)
	width := (hi - lo) / float64(k)
	total := 0.0
	for i, v := range x {
		wi := 1.0
		if w != nil {
			wi = w[i]
		}
		if wi == 0 {
			continue
		}
		b := int((v - lo) / width)
		b = min(max(b, 0), k-1)
		d[b] += wi
		total += wi
	}
	for i := range d {
		d[i] /= total * width
	}
	return d
}

// histogram adds a density histogram as a step outline, filled with a
// tint of col when fill is true; dashed draws the outline dashed (so that
// it stays visible where it coincides with another group's outline).
func histogram(b *builder, d []float64, lo, hi float64, col color.NRGBA, fill, dashed bool, label string) {
	k := len(d)
	width := (hi - lo) / float64(k)
	pts := make(plotter.XYs, 0, 2*k+2)
	pts = append(pts, plotter.XY{X: lo, Y: 0})
	for i, v := range d {
		x0 := lo + float64(i)*width
		pts = append(pts, plotter.XY{X: x0, Y: v}, plotter.XY{X: x0 + width, Y: v})
	}
	pts = append(pts, plotter.XY{X: hi, Y: 0})
	outline := lineStyle(col, 1.4)
	if dashed {
		outline = lineStyle(col, 1.8, vg.Points(5), vg.Points(3))
	}
	var tint color.Color
	if fill {
		t := col
		t.A = 0x55
		tint = t
	}
	if tint != nil {
		b.p.Add(&plotter.Polygon{XYs: []plotter.XYs{pts}, Color: tint})
	}
	// The outline is an open step line, so the polygon's closing edge
	// along y = 0 is not stroked.
	b.p.Add(&plotter.Line{XYs: pts, LineStyle: outline})
	zeros := make([]float64, len(pts))
	b.meta.regions = append(b.meta.regions, region{xs: pointsX(pts), lo: zeros, hi: pointsY(pts)})
	b.legend(label, &plotter.Polygon{Color: tint, LineStyle: outline})
}

// scoreRange sets the axes of an overlap panel: x over the scores, y from 0.
func scoreRange(p *plot.Plot, lo, hi float64) {
	p.X.Min, p.X.Max = lo, hi
	padRange(&p.X, 0.02)
	p.Y.Min = 0
	p.Y.Max *= 1.05
}

// unlabelled keeps a ticker's positions but drops the labels (all ticks
// become short minor ticks), for the upper panel of a stack.
type unlabelled struct{ plot.Ticker }

// Ticks implements plot.Ticker.
func (u unlabelled) Ticks(lo, hi float64) []plot.Tick {
	ts := u.Ticker.Ticks(lo, hi)
	out := ts[:0:0]
	for _, t := range ts {
		if !t.IsMinor() {
			out = append(out, plot.Tick{Value: t.Value})
		}
	}
	return out
}

// groupInt formats n with thousands separators: 3300000 -> "3,300,000".
func groupInt(n int) string {
	s := strconv.Itoa(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
