package plot

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// savedFigure writes f as SVG and PNG (800×600 px) into a temporary
// directory and returns the SVG text and the decoded PNG.
func savedFigure(t *testing.T, f Drawer) (string, image.Image) {
	t.Helper()
	dir := t.TempDir()
	svgPath, pngPath := filepath.Join(dir, "fig.svg"), filepath.Join(dir, "fig.png")
	require.NoError(t, Save(f, svgPath, Pixels(800), Pixels(600)))
	require.NoError(t, Save(f, pngPath, Pixels(800), Pixels(600)))

	svg, err := os.ReadFile(svgPath)
	require.NoError(t, err)
	require.NotEmpty(t, svg)
	assert.True(t, strings.HasPrefix(string(svg), "<?xml"), "SVG header")

	r, err := os.Open(pngPath)
	require.NoError(t, err)
	defer r.Close()
	img, err := png.Decode(r)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 800, 600), img.Bounds(), "PNG size in pixels")

	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, ents, 2, "no temporary files left")
	return string(svg), img
}

// countColor counts pixels of exactly colour c (opaque fills are drawn
// with their exact colour away from anti-aliased edges).
func countColor(img image.Image, c color.NRGBA) int {
	n := 0
	var pix []uint8 // fast path for opaque colours: RGBA and NRGBA agree
	switch m := img.(type) {
	case *image.RGBA:
		pix = m.Pix
	case *image.NRGBA:
		pix = m.Pix
	}
	if pix != nil && c.A == 0xFF {
		for i := 0; i+3 < len(pix); i += 4 {
			if pix[i] == c.R && pix[i+1] == c.G && pix[i+2] == c.B && pix[i+3] == 0xFF {
				n++
			}
		}
		return n
	}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA) == c {
				n++
			}
		}
	}
	return n
}

// svgTexts returns the contents of the SVG's <text> elements.
func svgTexts(svg string) []string {
	var out []string
	for _, part := range strings.Split(svg, "<text")[1:] {
		i := strings.Index(part, ">")
		j := strings.Index(part, "</text>")
		if i >= 0 && j > i {
			out = append(out, part[i+1:j])
		}
	}
	return out
}

func TestMonthlyFiles(t *testing.T) {
	t.Parallel()
	c := sfiLikeCurve(1)
	f, err := Monthly("Employment without benefit", "employment", c)
	require.NoError(t, err)
	require.Len(t, f.Panels, 2)
	svg, img := savedFigure(t, f)

	texts := svgTexts(svg)
	for _, want := range []string{
		"Employment without benefit", XLabelMonths, "Share in employment (%)",
		"(percentage points)", // "Difference (percentage points)", wrapped to fit the panel
		"Treated", "Matched controls", "Difference",
		"95% CI (pointwise)", "95% band (simultaneous)", "True effect",
		"0", "3", "21", // month ticks
	} {
		assert.Contains(t, texts, want)
	}
	// The month axis is labelled only once (the upper panel's ticks are
	// unlabelled) and the title once.
	assert.Equal(t, 1, count(texts, XLabelMonths))
	assert.Equal(t, 1, count(texts, "21"))

	// Both band shades are visible in the PNG, over a sizeable area but
	// not most of it (the band must not dominate). The bounds are loose
	// and come from looking at the rendered figure (TestRenderExamples).
	ci, simul := countColor(img, colCI), countColor(img, colSimul)
	assert.Greater(t, ci, 10_000, "pointwise CI band pixels")
	assert.Greater(t, simul, 5_000, "simultaneous band pixels")
	assert.Less(t, ci+simul, 800*600/4, "bands cover less than a quarter of the image")
}

func count(xs []string, s string) int {
	n := 0
	for _, x := range xs {
		if x == s {
			n++
		}
	}
	return n
}

func TestMonthlyNaNAndOptional(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	c := Curve{
		Months:  []int{0, 1, 2, 3, 4, 5, 6},
		Treated: []float64{0.2, 0.22, nan, 0.25, nan, nan, nan},
		Control: []float64{0.21, 0.23, 0.24, 0.26, nan, nan, nan},
		Effect:  []float64{-0.01, -0.01, nan, -0.01, nan, nan, nan},
		Low:     []float64{-0.03, nan, nan, -0.03, nan, nan, nan},
		High:    []float64{0.01, nan, nan, 0.01, nan, nan, nan},
		Truth:   []float64{nan, nan, nan, nan, nan, nan, nan}, // nothing to draw: no legend entry
	}
	f, err := Monthly("", "education", c)
	require.NoError(t, err)
	svg, img := savedFigure(t, f)
	texts := svgTexts(svg)
	assert.NotContains(t, texts, "True effect")
	assert.NotContains(t, texts, "95% band (simultaneous)")
	assert.Contains(t, texts, "Confidence interval", "Level 0: the legend does not claim a level")
	assert.Greater(t, countColor(img, colCI), 100, "isolated band months are drawn as bars")
	// Months 4–6 are NaN everywhere: the axis stops at month 3.
	assert.InDelta(t, 3.5, f.Panels[1].X.Max, 1e-12)
	assert.NotContains(t, texts, "6")
}

func TestAccumulatedFiles(t *testing.T) {
	t.Parallel()
	months := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}
	eff, lo, hi, truth := make([]float64, 14), make([]float64, 14), make([]float64, 14), make([]float64, 14)
	for i := range eff {
		eff[i] = -0.014 * float64(i+1)
		lo[i], hi[i] = eff[i]-0.03*math.Sqrt(float64(i+1)), eff[i]+0.03*math.Sqrt(float64(i+1))
		truth[i] = -0.01 * float64(i+1)
	}
	f, err := Accumulated("Accumulated", "education", months, eff, lo, hi, truth)
	require.NoError(t, err)
	svg, img := savedFigure(t, f)
	texts := svgTexts(svg)
	for _, want := range []string{"Accumulated", "Accumulated effect (months in education)", XLabelMonths,
		"Accumulated effect", "Confidence interval", "True effect"} {
		assert.Contains(t, texts, want)
	}
	assert.Greater(t, countColor(img, colCI), 10_000)

	// Without interval and truth.
	f, err = Accumulated("", "education", months, eff, nil, nil, nil)
	require.NoError(t, err)
	svg, img = savedFigure(t, f)
	assert.NotContains(t, svgTexts(svg), "Confidence interval")
	assert.Zero(t, countColor(img, colCI))
}

func TestOverlapFiles(t *testing.T) {
	t.Parallel()
	tr, co, w := sfiLikeScores(1, 500, 3000)
	f, err := Overlap(tr, co, w, nil)
	require.NoError(t, err)
	require.Len(t, f.Panels, 2)
	svg, _ := savedFigure(t, f)
	texts := svgTexts(svg)
	for _, want := range []string{"Propensity score overlap", "Before matching", "After matching",
		"Propensity score", "Density", "Treated (n = 500)", "All controls (n = 3,000)"} {
		assert.Contains(t, texts, want)
	}
	assert.Equal(t, 1, count(texts, "Propensity score"), "x label only under the lower panel")

	f, err = Overlap(tr, co, nil, nil)
	require.NoError(t, err)
	require.Len(t, f.Panels, 1)
	svg, _ = savedFigure(t, f)
	assert.NotContains(t, svgTexts(svg), "After matching")
}

func TestOverlapScale(t *testing.T) {
	t.Parallel()
	// Scores near 0 for nearly everyone (the SFI situation): logit scale.
	tiny := func(n int, base float64) []float64 {
		x := make([]float64, n)
		for i := range x {
			x[i] = base * (1 + float64(i%50))
		}
		x[0] = 0.3 // one large score stretches the linear range
		return x
	}
	tr, co := tiny(200, 1e-4), tiny(2000, 1e-5)
	assert.True(t, skewed(tr, co))
	f, err := Overlap(tr, co, nil, nil)
	require.NoError(t, err)
	svg, _ := savedFigure(t, f)
	texts := svgTexts(svg)
	assert.Contains(t, texts, "Propensity score (logit scale)")
	assert.Contains(t, texts, "0.001")

	// Forced linear scale.
	f, err = Overlap(tr, co, nil, &OverlapOptions{Scale: ScaleLinear, Bins: 20})
	require.NoError(t, err)
	svg, _ = savedFigure(t, f)
	assert.Contains(t, svgTexts(svg), "Propensity score")
	assert.NotContains(t, svgTexts(svg), "Propensity score (logit scale)")

	// Spread-out scores stay linear; a score of exactly 0 forbids logit.
	spread := []float64{0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8}
	assert.False(t, skewed(spread, spread))
	assert.False(t, skewed(append([]float64{0}, tr...), co))
}

func TestLoveFiles(t *testing.T) {
	t.Parallel()
	b, a := loveSMDs(1)
	b[2] = math.NaN() // not drawn, no error
	f, err := Love(loveNames, b, a, 0.1)
	require.NoError(t, err)
	svg, img := savedFigure(t, f)
	texts := svgTexts(svg)
	for _, want := range append([]string{"Covariate balance", "Standardized mean difference",
		"Before matching", "After matching", "|SMD| = 0.1"}, loveNames...) {
		assert.Contains(t, texts, want)
	}
	assert.Greater(t, countColor(img, colTreated), 200, "after-matching dots")

	f, err = Love([]string{"x"}, []float64{0.3}, []float64{0.01}, 0)
	require.NoError(t, err)
	svg, _ = savedFigure(t, f)
	assert.NotContains(t, svg, "|SMD|", "threshold 0: no threshold lines")
}

func TestSavePlainPlotAndFormats(t *testing.T) {
	t.Parallel()
	p := plot.New()
	p.X.Label.Text = "plain x"
	l, err := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
	require.NoError(t, err)
	p.Add(l)
	svg, _ := savedFigure(t, p)
	assert.Contains(t, svgTexts(svg), "plain x")

	dir := t.TempDir()
	pdf := filepath.Join(dir, "fig.pdf")
	require.NoError(t, Save(p, pdf, 300, 200))
	b, err := os.ReadFile(pdf)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(string(b), "%PDF"))
}

func TestSaveErrors(t *testing.T) {
	dir := t.TempDir()
	p := plot.New()
	tests := []struct {
		name string
		d    Drawer
		path string
		w, h vg.Length
		want string
	}{
		{"extension", p, filepath.Join(dir, "x.gif"), 100, 100, `unsupported file extension ".gif"`},
		{"no extension", p, filepath.Join(dir, "x"), 100, 100, "unsupported file extension"},
		{"zero width", p, filepath.Join(dir, "x.png"), 0, 100, "width and height must be positive"},
		{"NaN height", p, filepath.Join(dir, "x.png"), 100, vg.Length(math.NaN()), "width and height must be positive"},
		{"nil", nil, filepath.Join(dir, "x.png"), 100, 100, "nil figure"},
		{"missing dir", p, filepath.Join(dir, "nope", "x.png"), 100, 100, "nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Save(tc.d, tc.path, tc.w, tc.h)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, ents, "failed saves leave no file")
}

func TestArgErrors(t *testing.T) {
	good := func() Curve { return sfiLikeCurve(1) }
	nan, inf := math.NaN(), math.Inf(1)
	short := []float64{0.1, 0.2}
	months := []int{0, 1, 2}
	three := []float64{0.1, 0.2, 0.3}

	tests := []struct {
		name string
		call func() error
		arg  string // ArgError.Arg
		msg  string // part of the message
	}{
		{"months empty", func() error { c := good(); c.Months = nil; _, err := Monthly("", "x", c); return err }, "Curve.Months", "empty"},
		{"months not increasing", func() error { c := good(); c.Months[3] = 2; _, err := Monthly("", "x", c); return err }, "Curve.Months", "increase strictly"},
		{"treated length", func() error { c := good(); c.Treated = short; _, err := Monthly("", "x", c); return err }, "Curve.Treated", "has 2 values, want 22"},
		{"control length", func() error { c := good(); c.Control = c.Control[1:]; _, err := Monthly("", "x", c); return err }, "Curve.Control", "want 22"},
		{"effect nil", func() error { c := good(); c.Effect = nil; _, err := Monthly("", "x", c); return err }, "Curve.Effect", "has 0 values"},
		{"low length", func() error { c := good(); c.Low = short; _, err := Monthly("", "x", c); return err }, "Curve.Low", "has 2 values"},
		{"high nil only", func() error { c := good(); c.High = nil; _, err := Monthly("", "x", c); return err }, "Curve.High", "give both or neither"},
		{"band low nil only", func() error { c := good(); c.BandLow = nil; _, err := Monthly("", "x", c); return err }, "Curve.BandLow", "give both or neither"},
		{"truth length", func() error { c := good(); c.Truth = short; _, err := Monthly("", "x", c); return err }, "Curve.Truth", "has 2 values"},
		{"share in percent", func() error { c := good(); c.Treated[4] = 25; _, err := Monthly("", "x", c); return err }, "Curve.Treated", "fractions in [0, 1]"},
		{"control inf", func() error { c := good(); c.Control[0] = inf; _, err := Monthly("", "x", c); return err }, "Curve.Control", "fractions"},
		{"effect inf", func() error { c := good(); c.Effect[1] = -inf; _, err := Monthly("", "x", c); return err }, "Curve.Effect", "use NaN"},
		{"low above high", func() error { c := good(); c.Low[5] = c.High[5] + 0.01; _, err := Monthly("", "x", c); return err }, "Curve.Low", "above Curve.High[5]"},
		{"treated all NaN", func() error {
			c := good()
			for i := range c.Treated {
				c.Treated[i] = nan
			}
			_, err := Monthly("", "x", c)
			return err
		}, "Curve.Treated", "no finite value"},
		{"level", func() error { c := good(); c.Level = 95; _, err := Monthly("", "x", c); return err }, "Curve.Level", "confidence level"},

		{"acc effect length", func() error { _, err := Accumulated("", "x", months, short, nil, nil, nil); return err }, "effect", "want 3 (the length of months)"},
		{"acc high length", func() error { _, err := Accumulated("", "x", months, three, three, short, nil); return err }, "high", "has 2 values"},
		{"acc low only", func() error { _, err := Accumulated("", "x", months, three, three, nil, nil); return err }, "high", "give both or neither"},
		{"acc truth length", func() error { _, err := Accumulated("", "x", months, three, nil, nil, short); return err }, "truth", "has 2 values"},
		{"acc months", func() error { _, err := Accumulated("", "x", []int{0, 0, 1}, three, nil, nil, nil); return err }, "months", "increase"},
		{"acc effect all NaN", func() error {
			_, err := Accumulated("", "x", months, []float64{nan, nan, nan}, nil, nil, nil)
			return err
		}, "effect", "no finite"},

		{"overlap treated empty", func() error { _, err := Overlap(nil, three, nil, nil); return err }, "treated", "empty"},
		{"overlap control empty", func() error { _, err := Overlap(three, nil, nil, nil); return err }, "control", "empty"},
		{"overlap score NaN", func() error { _, err := Overlap([]float64{0.1, nan}, three, nil, nil); return err }, "treated", "finite and in [0, 1]"},
		{"overlap score > 1", func() error { _, err := Overlap(three, []float64{1.5}, nil, nil); return err }, "control", "in [0, 1]"},
		{"overlap weights length", func() error { _, err := Overlap(three, three, short, nil); return err }, "controlWeights", "want 3 (the length of control)"},
		{"overlap weights negative", func() error { _, err := Overlap(three, three, []float64{1, -1, 0}, nil); return err }, "controlWeights", "non-negative"},
		{"overlap weights NaN", func() error { _, err := Overlap(three, three, []float64{1, nan, 0}, nil); return err }, "controlWeights", "non-negative"},
		{"overlap weights zero", func() error { _, err := Overlap(three, three, []float64{0, 0, 0}, nil); return err }, "controlWeights", "sum to zero"},
		{"overlap logit with 0", func() error {
			_, err := Overlap(three, []float64{0, 0.5}, nil, &OverlapOptions{Scale: ScaleLogit})
			return err
		}, "control", "strictly between 0 and 1"},
		{"overlap bins", func() error { _, err := Overlap(three, three, nil, &OverlapOptions{Bins: -1}); return err }, "OverlapOptions.Bins", "want > 0"},
		{"overlap scale", func() error { _, err := Overlap(three, three, nil, &OverlapOptions{Scale: 7}); return err }, "OverlapOptions.Scale", "ScaleAuto"},

		{"love names empty", func() error { _, err := Love(nil, nil, nil, 0.1); return err }, "names", "empty"},
		{"love before length", func() error { _, err := Love([]string{"a", "b", "c"}, short, three, 0.1); return err }, "smdBefore", "want 3 (the length of names)"},
		{"love after length", func() error { _, err := Love([]string{"a", "b", "c"}, three, short, 0.1); return err }, "smdAfter", "has 2 values"},
		{"love inf", func() error { _, err := Love([]string{"a", "b", "c"}, three, []float64{0, inf, 0}, 0.1); return err }, "smdAfter", "use NaN"},
		{"love threshold", func() error { _, err := Love([]string{"a", "b", "c"}, three, three, -0.1); return err }, "threshold", ">= 0"},
		{"love threshold NaN", func() error { _, err := Love([]string{"a", "b", "c"}, three, three, nan); return err }, "threshold", ">= 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = tc.call() })
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrInvalid)
			var ae *ArgError
			require.ErrorAs(t, err, &ae)
			assert.Equal(t, tc.arg, ae.Arg)
			assert.Contains(t, err.Error(), tc.msg)
			assert.True(t, strings.HasPrefix(err.Error(), "plot: "+tc.arg), err.Error())
		})
	}
}

func TestNiceTicks(t *testing.T) {
	labels := func(ts []plot.Tick) []string {
		var out []string
		for _, t := range ts {
			if !t.IsMinor() {
				out = append(out, t.Label)
			}
		}
		return out
	}
	tests := []struct {
		lo, hi float64
		want   []string
	}{
		{19, 36, []string{"20", "25", "30", "35"}},
		{-0.33, 0.07, []string{"−0.3", "−0.2", "−0.1", "0.0"}},
		{0, 5.9, []string{"0", "1", "2", "3", "4", "5"}},
		{-6.3, 4.5, []string{"−6", "−4", "−2", "0", "2", "4"}},
		{-6.3, 6.3, []string{"−5.0", "−2.5", "0.0", "2.5", "5.0"}},
		{0, 0.88, []string{"0.0", "0.2", "0.4", "0.6", "0.8"}},
		{1, 1, nil},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.lo, tc.hi), func(t *testing.T) {
			ts := niceTicks{}.Ticks(tc.lo, tc.hi)
			assert.Equal(t, tc.want, labels(ts))
			for _, tk := range ts {
				assert.True(t, tk.Value >= tc.lo-1e-9 && tk.Value <= tc.hi+1e-9, "tick %v outside range", tk.Value)
			}
		})
	}

	mt := labels(monthTicks{}.Ticks(-0.5, 21.5))
	assert.Equal(t, []string{"0", "3", "6", "9", "12", "15", "18", "21"}, mt)
	assert.Equal(t, []string{"0", "2", "4", "6", "8", "10", "12", "14"}, labels(monthTicks{}.Ticks(-0.5, 14.5)))
	assert.Equal(t, []string{"−6", "0", "6", "12", "18"}, labels(monthTicks{}.Ticks(-6.5, 21.5)))
	assert.Len(t, monthTicks{}.Ticks(-0.5, 21.5), 22, "minor ticks at every month")
	assert.Empty(t, labels(monthTicks{noLabels: true}.Ticks(-0.5, 21.5)))

	lt := labels(logitTicks{}.Ticks(math.Log(1e-5), math.Log(0.2/0.8)))
	assert.Equal(t, []string{"0.00001", "0.0001", "0.001", "0.01", "0.1"}, lt)
	lt = labels(logitTicks{}.Ticks(-2.5, 2.5))
	assert.Equal(t, []string{"0.1", "0.2", "0.5", "0.8", "0.9"}, lt)
}

func TestDensityIntegratesToOne(t *testing.T) {
	x := []float64{0.05, 0.1, 0.15, 0.5, 0.95, 1.0}
	w := []float64{1, 2, 0, 3, 1, 1}
	for _, weights := range [][]float64{nil, w} {
		d := density(x, weights, 0, 1, 10)
		s := 0.0
		for _, v := range d {
			s += v * 0.1
		}
		assert.InDelta(t, 1, s, 1e-12)
	}
	// Closed form with weights: bin 0 holds weight 1 (0.05), bin 1 weight
	// 2 (0.1) and 0 (0.15), bin 5 weight 3, bin 9 weight 1+1 (1.0 is in
	// the closed last bin); total 8, width 0.1.
	d := density(x, w, 0, 1, 10)
	assert.InDeltaSlice(t, []float64{1 / 0.8, 2 / 0.8, 0, 0, 0, 3 / 0.8, 0, 0, 0, 2 / 0.8}, d, 1e-12)
}

func TestGroupInt(t *testing.T) {
	for in, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 6487: "6,487", 3300000: "3,300,000", -12345: "-12,345"} {
		assert.Equal(t, want, groupInt(in))
	}
}

func TestWrapLabel(t *testing.T) {
	sty := newPlot().Y.Label.TextStyle
	s := "Share in employment with possible benefit (%)"
	assert.Equal(t, s, wrapLabel(sty, s, 1000))
	got := wrapLabel(sty, s, 150)
	parts := strings.Split(got, "\n")
	require.Len(t, parts, 2)
	assert.Equal(t, s, parts[0]+" "+parts[1])
	assert.Less(t, math.Abs(float64(sty.Width(parts[0])-sty.Width(parts[1]))), float64(sty.Width(s))/3,
		"split near the middle")
}

// legendCanvas is a 600×450 pt image canvas for legend placement tests.
func legendCanvas() draw.Canvas { return draw.New(vgimg.New(600, 450)) }

func TestLegendPlacement(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	rising, falling, flat := make([]float64, 11), make([]float64, 11), make([]float64, 11)
	for i := range xs {
		rising[i], falling[i], flat[i] = float64(i), 10-float64(i), 5
	}
	build := func(ys ...[]float64) (*plot.Plot, panelMeta) {
		b := newBuilder()
		for k, y := range ys {
			b.legend(fmt.Sprintf("series %d", k), b.line(xs, y, lineStyle(colTreated, 1), nil)...)
		}
		return b.p, b.meta
	}
	tests := []struct {
		name      string
		ys        [][]float64
		top, left bool
	}{
		{"rising: top left free", [][]float64{rising}, true, true},
		{"falling: top right free", [][]float64{falling}, true, false},
		{"both diagonals: bottom corners are taken too, flat middle", [][]float64{rising, falling}, true, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, m := build(tc.ys...)
			ymax := p.Y.Max
			placeLegend(p, m, legendCanvas())
			assert.Equal(t, tc.top, p.Legend.Top, "top")
			assert.Equal(t, tc.left, p.Legend.Left, "left")
			if len(tc.ys) == 2 {
				// The crossing diagonals cover all four corners: the
				// y axis is raised to make room above the data.
				assert.Greater(t, p.Y.Max, ymax)
			} else {
				assert.Equal(t, ymax, p.Y.Max, "no headroom needed")
			}
		})
	}

	// A band over the whole area: headroom, and Figure.Draw restores the
	// panel's range afterwards.
	b := newBuilder()
	b.legend("band", b.band(xs, make([]float64, 11), flat, colCI)...)
	f := &Figure{Panels: []*plot.Plot{b.p}, meta: []panelMeta{b.meta}}
	ymin, ymax := b.p.Y.Min, b.p.Y.Max
	f.Draw(legendCanvas())
	assert.Equal(t, ymin, b.p.Y.Min)
	assert.Equal(t, ymax, b.p.Y.Max)
	placeLegend(b.p, b.meta, legendCanvas())
	assert.Greater(t, b.p.Y.Max, ymax)
	assert.True(t, b.p.Legend.Top)
}

func TestFigureAlignsPanels(t *testing.T) {
	// Panels with y tick labels of different widths get data areas with
	// the same left and right edges.
	c := sfiLikeCurve(1)
	f, err := Monthly("t", "employment", c)
	require.NoError(t, err)
	f.Panels[1].Y.Min, f.Panels[1].Y.Max = -123456, 654321 // wide tick labels
	cv := legendCanvas()
	tiles := f.tiles(cv)
	cs := f.align(tiles)
	d0, d1 := f.Panels[0].DataCanvas(cs[0]), f.Panels[1].DataCanvas(cs[1])
	assert.InDelta(t, float64(d0.Min.X), float64(d1.Min.X), 0.5)
	assert.InDelta(t, float64(d0.Max.X), float64(d1.Max.X), 0.5)
	assert.Greater(t, float64(tiles[0].Max.Y), float64(tiles[1].Max.Y), "first panel on top")
}

func TestRunsSplitAtNaN(t *testing.T) {
	nan := math.NaN()
	y := []float64{nan, 1, 2, nan, 3, nan, nan, 4, 5, 6}
	got := runs(len(y), func(i int) bool { return finite(y[i]) })
	assert.Equal(t, [][2]int{{1, 3}, {4, 5}, {7, 10}}, got)
	assert.Empty(t, runs(3, func(int) bool { return false }))
}

func TestArgErrorFormat(t *testing.T) {
	err := elemErr("Curve.Low", 5, "bad")
	assert.Equal(t, "plot: Curve.Low[5]: bad", err.Error())
	assert.True(t, errors.Is(err, ErrInvalid))
}

func ExampleMonthly() {
	c := Curve{
		Months:  []int{0, 1, 2, 3},
		Treated: []float64{0.20, 0.24, 0.27, 0.30},
		Control: []float64{0.21, 0.26, 0.29, 0.31},
		Effect:  []float64{-0.01, -0.02, -0.02, -0.01},
		Low:     []float64{-0.03, -0.04, -0.04, -0.03},
		High:    []float64{0.01, 0.00, 0.00, 0.01},
		Level:   0.95,
	}
	f, err := Monthly("Employment without benefit", "employment without benefit", c)
	if err != nil {
		fmt.Println(err)
		return
	}
	dir, _ := os.MkdirTemp("", "plot")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "fig5_1.png")
	if err := f.Save(path, Pixels(800), Pixels(600)); err != nil {
		fmt.Println(err)
		return
	}
	r, _ := os.Open(path)
	defer r.Close()
	cfg, _ := png.DecodeConfig(r)
	fmt.Println(cfg.Width, "x", cfg.Height)

	c.Control = c.Control[:3]
	_, err = Monthly("", "employment", c)
	fmt.Println(err)
	// Output:
	// 800 x 600
	// plot: Curve.Control: has 3 values, want 4 (the length of Curve.Months)
}

// Months before the start: the axis reaches back to them, a gap of NaN
// months leaves no line, and a dashed line marks the start in both
// panels (and only when there are months before it).
func TestMonthlyPreProgramme(t *testing.T) {
	t.Parallel()
	nan := math.NaN()
	c := Curve{
		Months:  []int{-12, -11, -10, -9, -8, -7, -6, -5, -4, -3, -2, -1, 0, 1, 2},
		Treated: []float64{0.3, 0.31, 0.3, nan, nan, nan, nan, nan, nan, nan, nan, nan, 0.2, 0.22, 0.25},
		Control: []float64{0.3, 0.3, 0.31, nan, nan, nan, nan, nan, nan, nan, nan, nan, 0.21, 0.23, 0.24},
		Effect:  []float64{0, 0.01, -0.01, nan, nan, nan, nan, nan, nan, nan, nan, nan, -0.01, -0.01, 0.01},
	}
	// the start line is the only stroke dashed 4 pt on, 3 pt off
	starts := func(f *Figure) int {
		svg, _ := savedFigure(t, f)
		return strings.Count(svg, "stroke-dasharray:4,3")
	}
	f, err := Monthly("", "employment", c)
	require.NoError(t, err)
	assert.InDelta(t, -12.5, f.Panels[1].X.Min, 1e-12)
	assert.Equal(t, 2, starts(f))
	post := Curve{Months: c.Months[12:], Treated: c.Treated[12:], Control: c.Control[12:], Effect: c.Effect[12:]}
	g, err := Monthly("", "employment", post)
	require.NoError(t, err)
	assert.Equal(t, 0, starts(g))
}
