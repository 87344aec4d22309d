package plot

import (
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

// go test ./estimate/plot/ -run TestRenderExamples -plots=/tmp/plots
// renders the example figures (realistic SFI-like numbers) for viewing.
var plotsDir = flag.String("plots", "", "directory to render example figures into (empty = skip)")

// sfiLikeCurve is a realistic monthly curve for 22 event months: the
// treated share of employment without benefit rises from about 20 % to
// 35 %, the matched controls lie slightly above (by up to about 2.5
// percentage points around months 6–12), the pointwise 95 % interval is
// about ±2 pp, the simultaneous band about ±3 pp, and the truth is a
// constant −0.5 pp.
func sfiLikeCurve(seed uint64) Curve {
	r := rand.New(rand.NewPCG(seed, 1))
	const H = 21
	c := Curve{Level: 0.95}
	for m := 0; m <= H; m++ {
		base := 0.20 + 0.15*(1-math.Exp(-float64(m)/7))
		gap := -0.025 * math.Exp(-math.Pow(float64(m)-9, 2)/18)
		noise := 0.004 * r.NormFloat64()
		tr := base + gap/2 + noise
		co := base - gap/2 - noise/2
		eff := tr - co
		hw := 0.018 + 0.0004*float64(m)
		c.Months = append(c.Months, m)
		c.Treated = append(c.Treated, tr)
		c.Control = append(c.Control, co)
		c.Effect = append(c.Effect, eff)
		c.Low = append(c.Low, eff-hw)
		c.High = append(c.High, eff+hw)
		c.BandLow = append(c.BandLow, eff-1.5*hw)
		c.BandHigh = append(c.BandHigh, eff+1.5*hw)
		c.Truth = append(c.Truth, -0.005)
	}
	return c
}

// accumulate returns running sums of x (in months when x are shares).
func accumulate(x []float64) []float64 {
	out := make([]float64, len(x))
	s := 0.0
	for i, v := range x {
		s += v
		out[i] = s
	}
	return out
}

// sfiLikeScores draws logit-normal propensity scores for nt treated and
// nc controls (the treated shifted right) and nearest-neighbour (k = 1,
// with replacement) matching weights for the controls.
func sfiLikeScores(seed uint64, nt, nc int) (treated, control, w []float64) {
	r := rand.New(rand.NewPCG(seed, 2))
	logistic := func(z float64) float64 { return 1 / (1 + math.Exp(-z)) }
	for range nt {
		treated = append(treated, logistic(-1.0+0.8*r.NormFloat64()))
	}
	for range nc {
		control = append(control, logistic(-2.0+0.9*r.NormFloat64()))
	}
	idx := make([]int, nc)
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return control[idx[a]] < control[idx[b]] })
	sorted := make([]float64, nc)
	for i, j := range idx {
		sorted[i] = control[j]
	}
	w = make([]float64, nc)
	for _, t := range treated {
		k := sort.SearchFloat64s(sorted, t)
		best := k
		if k == nc || (k > 0 && t-sorted[k-1] <= sorted[k]-t) {
			best = k - 1
		}
		w[idx[best]]++
	}
	return treated, control, w
}

var loveNames = []string{
	"Age (years)", "Men", "Immigrants", "Descendants of immigrants",
	"Primary school only", "Upper secondary", "Vocational",
	"Self-supporting in start week", "Cash benefit in start quarter",
	"Sickness benefit in start quarter", "Match group 2", "Match group 3",
	"Weeks on benefit, 52 weeks before", "Weeks on benefit, 260 weeks before",
	"Months with wage income, 48 before",
}

func loveSMDs(seed uint64) (before, after []float64) {
	r := rand.New(rand.NewPCG(seed, 3))
	for range loveNames {
		before = append(before, 0.25*r.NormFloat64())
		after = append(after, 0.03*r.NormFloat64())
	}
	return before, after
}

func TestRenderExamples(t *testing.T) {
	if *plotsDir == "" {
		t.Skip("set -plots=DIR to render the example figures")
	}
	dir := *plotsDir
	require.NoError(t, os.MkdirAll(dir, 0o755))
	w, h := Pixels(800), Pixels(600)
	save := func(f *Figure, name string) {
		require.NoError(t, f.Save(filepath.Join(dir, name+".png"), w, h))
		require.NoError(t, f.Save(filepath.Join(dir, name+".svg"), w, h))
	}

	c := sfiLikeCurve(1)
	f, err := Monthly("Fig. 5.1 Employment without benefit", "employment without benefit", c)
	require.NoError(t, err)
	save(f, "monthly")

	// Education: 14 months observed, the rest NaN (beyond the cut-off),
	// no simultaneous band, no truth.
	e := sfiLikeCurve(2)
	for i := 15; i < len(e.Months); i++ {
		e.Treated[i], e.Control[i], e.Effect[i], e.Low[i], e.High[i] = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	e.BandLow, e.BandHigh, e.Truth = nil, nil, nil
	f, err = Monthly("Fig. 5.3 Education", "education", e)
	require.NoError(t, err)
	save(f, "monthly_education_nan")

	acc := accumulate(c.Effect)
	lo, hi := make([]float64, len(acc)), make([]float64, len(acc))
	for i := range acc {
		hw := 0.02 * math.Sqrt(float64(i+1)) * 1.4
		lo[i], hi[i] = acc[i]-hw, acc[i]+hw
	}
	f, err = Accumulated("Accumulated effect: employment without benefit", "employment without benefit",
		c.Months, acc, lo, hi, accumulate(c.Truth))
	require.NoError(t, err)
	save(f, "accumulated")

	tr, co, wt := sfiLikeScores(1, 6487, 60000)
	f, err = Overlap(tr, co, wt, nil)
	require.NoError(t, err)
	save(f, "overlap")
	f, err = Overlap(tr, co, nil, nil)
	require.NoError(t, err)
	save(f, "overlap_before_only")

	b, a := loveSMDs(1)
	f, err = Love(loveNames, b, a, 0.1)
	require.NoError(t, err)
	save(f, "love")

	// Gaps: a missing month inside the curve, an isolated month, a
	// falling outcome so that the legend corners differ.
	g := sfiLikeCurve(3)
	for _, i := range []int{5, 7, 8} {
		g.Treated[i], g.Effect[i], g.Low[i], g.High[i], g.BandLow[i], g.BandHigh[i] = math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN(), math.NaN()
	}
	for i := range g.Months {
		g.Treated[i], g.Control[i] = 0.6-g.Treated[i], 0.6-g.Control[i]
	}
	f, err = Monthly("Gaps: months 5, 7, 8 missing for the treated", "employment with possible benefit", g)
	require.NoError(t, err)
	save(f, "monthly_gaps")
	f, err = Accumulated("Accumulated, no interval, no truth", "education", g.Months, accumulate(g.Control), nil, nil, nil)
	require.NoError(t, err)
	save(f, "accumulated_plain")

	// SFI scale of the score: treated share 0.2 %, controls piled up near 0.
	tr, co, wt = sfiLikeScores(2, 6487, 1)
	r := rand.New(rand.NewPCG(9, 9))
	co = co[:0]
	for range 300000 {
		co = append(co, 1/(1+math.Exp(-(-7+1.2*r.NormFloat64()))))
	}
	for i := range tr {
		tr[i] = 1 / (1 + math.Exp(-(-5.5 + 1.0*r.NormFloat64())))
	}
	wt = make([]float64, len(co))
	for i := range wt {
		if co[i] > 0.001 {
			wt[i] = 1
		}
	}
	f, err = Overlap(tr, co, wt, nil)
	require.NoError(t, err)
	save(f, "overlap_sfi_scale")

	// 40 covariates at 800x600 and at the recommended height.
	var names []string
	for i := range 40 {
		names = append(names, loveNames[i%len(loveNames)]+" "+string(rune('A'+i/len(loveNames))))
	}
	rb := rand.New(rand.NewPCG(4, 4))
	var sb, sa []float64
	for range names {
		sb, sa = append(sb, 0.3*rb.NormFloat64()), append(sa, 0.04*rb.NormFloat64())
	}
	sb[3], sa[7] = math.NaN(), math.NaN()
	f, err = Love(names, sb, sa, 0.1)
	require.NoError(t, err)
	save(f, "love_40")
	require.NoError(t, f.Save(filepath.Join(dir, "love_40_tall.png"), w, 40*15+90))
}
