package estimate

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// prepostSample simulates n1 treated and n0 controls as synthSample does
// (selection on the observable x, the score), with outcomes in event
// months −P..H: P(Y(0)_m = 1 | x) = 0.1 + 0.5x + shift·D in every month
// (shift > 0 is a stable unobserved trait of the treated that the
// matching on x does not remove, the same in every month: parallel
// trends), plus trueTau(m) for the treated in months m >= 0. Binary,
// stored compactly, as FromPanel shares them. The scores are x.
func prepostSample(n1, n0, P, H int, shift float64, seed uint64) (*Sample, []float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	n := n1 + n0
	w := P + H + 1
	s := &Sample{Treated: make([]bool, n), Person: make([]int64, n)}
	x := make([]float64, n)
	y := make([]uint8, n*w)
	half := Subgroups{Name: "half", Levels: []string{"low", "high"}, Code: make([]int32, n)}
	for u := 0; u < n; u++ {
		s.Person[u] = 5000 + 7*int64(u)
		if u < n1 {
			s.Treated[u] = true
			x[u] = math.Sqrt(r.Float64())
		} else {
			x[u] = r.Float64()
		}
		if x[u] >= 0.5 {
			half.Code[u] = 1
		}
		for j := 0; j < w; j++ {
			m := j - P
			p := 0.1 + 0.5*x[u]
			if s.Treated[u] {
				p += shift
				if m >= 0 {
					p += trueTau(m)
				}
			}
			if r.Float64() < p {
				y[u*w+j] = 1
			}
		}
	}
	s.Outcomes = []EventOutcome{{Name: "y", H: H, Pre: P, Binary: y}}
	s.Subgroups = []Subgroups{half}
	return s, x
}

// columns returns a copy of s whose single outcome holds columns
// j0..j0+H of s's rows as months 0..H (Pre 0).
func columns(s *Sample, j0, H int) *Sample {
	o := &s.Outcomes[0]
	y := make([]uint8, s.Len()*(H+1))
	for u := range s.Treated {
		copy(y[u*(H+1):(u+1)*(H+1)], o.Binary[u*o.stride()+j0:])
	}
	return &Sample{Treated: s.Treated, Person: s.Person, Subgroups: s.Subgroups,
		Outcomes: []EventOutcome{{Name: o.Name, H: H, Binary: y}}}
}

// same asserts that a and b print identically with %v (Go prints the
// shortest representation that round-trips, so this is bit identity of
// every float, NaN included).
func same(t *testing.T, a, b any, msgAndArgs ...any) {
	t.Helper()
	assert.Equal(t, fmt.Sprintf("%v", a), fmt.Sprintf("%v", b), msgAndArgs...)
}

// methods runs every inference method on s with scores x.
func methods(t *testing.T, s *Sample, x []float64, workers int) map[string]*Result {
	t.Helper()
	ctx := context.Background()
	out := map[string]*Result{}
	ms, err := matchUnits(s, x, nil)
	require.NoError(t, err)
	out["effects"], err = effects(s, ms, nil)
	require.NoError(t, err)
	bo := &BootstrapOptions{Replicates: 60, Seed: 11, Workers: workers, KeepDraws: true}
	out["fixed"], err = Bootstrap(ctx, s, unitsFor(t, s, x, nil), bo)
	require.NoError(t, err)
	bo.Refit, bo.Scheme = refitShift(ctx, x), Poisson
	out["refit"], err = Bootstrap(ctx, s, unitsFor(t, s, x, nil), bo)
	require.NoError(t, err)
	out["otsu-rai"], err = OtsuRai(ctx, s, unitsFor(t, s, x, nil), &OtsuRaiOptions{Replicates: 60, Seed: 12, Workers: workers, KeepDraws: true})
	require.NoError(t, err)
	pm, err := psm.MatchUnits(x, s.Treated, nil)
	require.NoError(t, err)
	out["abadie-imbens"], err = AbadieImbens(s, pm, nil)
	require.NoError(t, err)
	z := mat.NewDense(s.Len(), 1, append([]float64(nil), x...))
	out["bias-adjusted"], err = BiasAdjusted(s, pm, z, nil)
	require.NoError(t, err)
	// Abadie–Imbens (2016) on a fitted logit score
	d := make([]float64, s.Len())
	for u, tr := range s.Treated {
		if tr {
			d[u] = 1
		}
	}
	fit, err := psm.FitLogit(ctx, z, d, nil, nil, nil)
	require.NoError(t, err)
	pm2, err := psm.MatchUnits(fit.Predict(z, nil), s.Treated, nil)
	require.NoError(t, err)
	out["abadie-imbens-2016"], err = AbadieImbens(s, pm2, &AbadieImbensOptions{EstimatedScore: &EstimatedScore{X: z, Fit: fit.Logit}})
	require.NoError(t, err)
	return out
}

// Months before the start change no number after it: with Pre = 4 the
// months 0..H of every method equal, bit for bit, those of the sample
// holding only months 0..H, and the months −4..−1 equal the monthly
// effects, intervals and band of the sample holding only those months
// (the same matches and replicates, one column at a time). Accumulated
// effects are 0 before the start.
func TestPreMonthsBitIdentical(t *testing.T) {
	const P, H = 4, 3
	s, x := prepostSample(120, 500, P, H, 0.05, 31)
	post := methods(t, columns(s, P, H), x, 2)
	pre := methods(t, columns(s, 0, P-1), x, 2)
	all := methods(t, s, x, 2)
	// Rosenbaum bounds read months 0..H at the same place
	ms, err := matchUnits(s, x, nil)
	require.NoError(t, err)
	for _, kind := range []WindowKind{WindowMonth, WindowEver, WindowSum} {
		w := Window{Outcome: "y", Kind: kind, From: 1, To: H}
		a, err := rosenbaum(s, ms, w, nil)
		require.NoError(t, err)
		b, err := rosenbaum(columns(s, P, H), ms, w, nil)
		require.NoError(t, err)
		same(t, b, a, "Rosenbaum kind %d", kind)
	}
	for name, res := range all {
		// After drops the months before the start: the estimate on the
		// sample without them, field by field (draws aside)
		af := res.After()
		for i := range af.Series {
			g, w := af.Series[i], post[name].Series[i]
			same(t, w.PreBandCrit, g.PreBandCrit, "%s %d After pre band", name, i)
			g.Draws, w.Draws = nil, nil
			g.PreBandCrit, w.PreBandCrit = 0, 0
			same(t, w, g, "%s %d After", name, i)
		}
		for i := range res.Series {
			se, po, pr := &res.Series[i], &post[name].Series[i], &pre[name].Series[i]
			require.Equal(t, P, se.Pre)
			require.Len(t, se.Effects, P+H+1)
			same(t, po.BandCrit, se.BandCrit, "%s %d band", name, i)
			if res.Method == "bootstrap-fixed" || res.Method == "bootstrap-refit" || res.Method == "otsu-rai" {
				same(t, pr.BandCrit[0], se.PreBandCrit, "%s %d pre band", name, i)
				assert.False(t, math.IsNaN(se.PreBandCrit))
			} else {
				assert.True(t, math.IsNaN(se.PreBandCrit))
			}
			for m := -P; m <= H; m++ {
				j := se.Index(m)
				e := se.Effects[j]
				require.Equal(t, m, e.Month)
				if m >= 0 {
					same(t, po.Effects[m], e, "%s %d month %d", name, i, m)
					if se.Monthly != nil {
						same(t, po.Monthly[m], se.Monthly[j], "%s %d month %d", name, i, m)
						same(t, po.Accumulated[m], se.Accumulated[j], "%s %d month %d", name, i, m)
					}
					continue
				}
				p := pr.Effects[m+P]
				same(t, []float64{p.TreatedMean, p.ControlMean, p.ATT}, []float64{e.TreatedMean, e.ControlMean, e.ATT}, "%s %d month %d", name, i, m)
				assert.Equal(t, 0.0, e.Accumulated)
				if se.Monthly != nil {
					same(t, pr.Monthly[m+P], se.Monthly[j], "%s %d month %d", name, i, m)
					assert.Equal(t, 0.0, se.Accumulated[j].SE)
				}
			}
		}
	}
}

// The placebo test and DiD are bit-identical for 1 and 2 workers and
// under a permutation of the rows of the sample.
func TestPlaceboDiDDeterministic(t *testing.T) {
	const P, H = 6, 2
	s, x := prepostSample(100, 400, P, H, 0.05, 32)
	n := s.Len()
	perm := make([]int, n)
	for i := range perm {
		perm[i] = (i*7919 + 13) % n // a permutation: 7919 is prime, n = 500
	}
	o := &s.Outcomes[0]
	w := o.width()
	s2 := &Sample{Treated: make([]bool, n), Person: make([]int64, n)}
	x2 := make([]float64, n)
	y2 := make([]uint8, len(o.Binary))
	half := Subgroups{Name: "half", Levels: s.Subgroups[0].Levels, Code: make([]int32, n)}
	for i, u := range perm {
		s2.Treated[i], s2.Person[i], x2[i], half.Code[i] = s.Treated[u], s.Person[u], x[u], s.Subgroups[0].Code[u]
		copy(y2[i*w:(i+1)*w], o.Binary[u*w:(u+1)*w])
	}
	s2.Outcomes = []EventOutcome{{Name: "y", H: H, Pre: P, Binary: y2}}
	s2.Subgroups = []Subgroups{half}

	po := &PlaceboOptions{Window: PreWindow{-6, -3}}
	do := &DiDOptions{Reference: PreWindow{-6, -3}}
	ref := methods(t, s, x, 1)
	for _, variant := range []struct {
		name string
		res  map[string]*Result
	}{{"2 workers", methods(t, s, x, 2)}, {"shuffled rows", methods(t, s2, x2, 2)}} {
		for _, name := range []string{"fixed", "refit", "otsu-rai"} {
			a, err := PlaceboTest(ref[name], po)
			require.NoError(t, err)
			b, err := PlaceboTest(variant.res[name], po)
			require.NoError(t, err)
			same(t, a, b, "%s %s placebo", variant.name, name)
			da, err := DiD(ref[name], do)
			require.NoError(t, err)
			db, err := DiD(variant.res[name], do)
			require.NoError(t, err)
			same(t, da, db, "%s %s DiD", variant.name, name)
		}
	}
}

// DiD by hand: tinySample's treated and controls with two months before
// the start (months −2, −1, 0, 1, 2) and tinyMatches.
//
//	T1 [1 0 | 1 1 0], match set {C1 ½, C2 ½}: [0 0 | 0 0 0]/2 + [1 0 | 1 0 1]/2
//	T2 [1 1 | 0 1 1], match set {C3 1}:       [0 1 | 0 1 0]
//	treated mean [1 .5 | .5 1 .5], control mean [.25 .5 | .25 .5 .25]
//	ATT [.75 0 | .25 .5 .25]; reference −2..−1: .375 (treated .75, control .375)
//	DiD [.375 −.375 | −.125 .125 −.125]
//	accumulated from month 1: [0 0 | 0 .125 0]; from month 0: [0 0 | −.125 0 −.125]
func TestDiDHand(t *testing.T) {
	const tol = 1e-15 // exact binary fractions
	y := []float64{
		1, 0, 1, 1, 0, // T1
		1, 1, 0, 1, 1, // T2
		0, 0, 0, 0, 0, // C1
		1, 0, 1, 0, 1, // C2
		0, 1, 0, 1, 0, // C3
	}
	s := &Sample{Treated: []bool{true, true, false, false, false}, Person: []int64{10, 11, 20, 21, 22},
		Outcomes: []EventOutcome{{Name: "emp", H: 2, Pre: 2, Y: y}}}
	for _, month0 := range []bool{false, true} {
		res, err := effects(s, tinyMatches(), &EffectOptions{IncludeMonth0: month0})
		require.NoError(t, err)
		d, err := DiD(res, &DiDOptions{Reference: PreWindow{-2, -1}})
		require.NoError(t, err)
		se := d.Series[0]
		assert.Equal(t, "did-effects", d.Method)
		wantATT := []float64{.375, -.375, -.125, .125, -.125}
		wantT := []float64{.25, -.25, -.25, .25, -.25}
		wantC := []float64{-.125, .125, -.125, .125, -.125}
		wantAcc := []float64{0, 0, 0, .125, 0}
		if month0 {
			wantAcc = []float64{0, 0, -.125, 0, -.125}
		}
		for j, e := range se.Effects {
			assert.Equal(t, j-2, e.Month)
			assert.InDelta(t, wantATT[j], e.ATT, tol, "month %d", e.Month)
			assert.InDelta(t, wantT[j], e.TreatedMean, tol, "month %d", e.Month)
			assert.InDelta(t, wantC[j], e.ControlMean, tol, "month %d", e.Month)
			assert.InDelta(t, wantAcc[j], e.Accumulated, tol, "month %d month0 %v", e.Month, month0)
		}
		// DiDSample gives the same point estimates
		ds, err := DiDSample(s, &DiDOptions{Reference: PreWindow{-2, -1}})
		require.NoError(t, err)
		r2, err := effects(ds, tinyMatches(), &EffectOptions{IncludeMonth0: month0})
		require.NoError(t, err)
		for j, e := range r2.Series[0].Effects {
			assert.InDelta(t, wantATT[j], e.ATT, tol, "DiDSample month %d", e.Month)
			assert.InDelta(t, wantAcc[j], e.Accumulated, tol, "DiDSample month %d", e.Month)
		}
	}
}

// DiD on the replicates equals the method run on DiDSample: the same
// matches and replicates with the differenced outcomes (the estimators
// are linear in the outcomes), to rounding (1e-12 on effects of order
// 0.1 from a few hundred terms). Abadie–Imbens on DiDSample gives finite
// standard errors.
func TestDiDEqualsDiDSample(t *testing.T) {
	const tol = 1e-12
	s, x := prepostSample(150, 600, 5, 3, 0.1, 33)
	do := &DiDOptions{Reference: PreWindow{-5, -2}}
	ds, err := DiDSample(s, do)
	require.NoError(t, err)
	a := methods(t, s, x, 2)
	b := methods(t, ds, x, 2)
	for _, name := range []string{"effects", "fixed", "refit", "otsu-rai"} {
		d, err := DiD(a[name], do)
		require.NoError(t, err)
		for i := range d.Series {
			p, q := &d.Series[i], &b[name].Series[i]
			require.Equal(t, len(q.Effects), len(p.Effects))
			for j := range p.Effects {
				assert.InDelta(t, q.Effects[j].ATT, p.Effects[j].ATT, tol, "%s %d %d", name, i, j)
				assert.InDelta(t, q.Effects[j].Accumulated, p.Effects[j].Accumulated, tol, "%s %d %d", name, i, j)
				if p.Monthly != nil {
					assert.InDelta(t, q.Monthly[j].SE, p.Monthly[j].SE, tol, "%s %d %d", name, i, j)
					assert.InDelta(t, q.Accumulated[j].SE, p.Accumulated[j].SE, tol, "%s %d %d", name, i, j)
					assert.InDelta(t, q.Monthly[j].Percentile.Lo, p.Monthly[j].Percentile.Lo, tol, "%s %d %d", name, i, j)
				}
			}
		}
	}
	for _, name := range []string{"abadie-imbens", "bias-adjusted"} {
		for _, se := range b[name].Series {
			for j := se.Pre; j < len(se.Effects); j++ {
				assert.False(t, math.IsNaN(se.Monthly[j].SE) || se.Monthly[j].SE <= 0, "%s month %d", name, j-se.Pre)
			}
		}
		_, err := DiD(a[name], do)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
}

// Size and power of the placebo test, and DiD under a stable trait.
//
// Size: with no pre-programme difference (shift 0) the tests of the
// 6-month window −6..−1 reject at 5 % in about 5 % of 200 samples
// (Otsu–Rai replicates, R = 199). Monte Carlo SE of a 5 % rate over 200
// samples: √(.05·.95/200) = 1.5 %; the bound 0.5 %..11 % is the rate ± 4
// SE (the Wald test with a covariance estimated from 199 replicates is a
// little liberal, Hotelling's T² versus χ²).
//
// Power: a stable trait raising the treated's monthly probability by
// 0.15 in every month is rejected in at least 19 of 20 samples; DiD with
// reference −6..−1 removes it: the mean over the 20 samples of DiD_m −
// trueTau(m) is within 4 Monte Carlo SE of 0 (the plain estimate is off
// by 0.15).
func TestPlaceboSizePower(t *testing.T) {
	if testing.Short() {
		t.Skip("Monte Carlo")
	}
	ctx := context.Background()
	const P, H, R = 6, 2, 199
	po := &PlaceboOptions{Window: PreWindow{-6, -1}}
	run := func(shift float64, seed uint64) (Placebo, *Result) {
		s, x := prepostSample(150, 600, P, H, shift, seed)
		res, err := OtsuRai(ctx, s, unitsFor(t, s, x, nil), &OtsuRaiOptions{Replicates: R, Seed: seed, KeepDraws: true})
		require.NoError(t, err)
		pl, err := PlaceboTest(res, po)
		require.NoError(t, err)
		return pl[0], res
	}
	const S = 200
	rejW, rejT := 0, 0
	for k := range S {
		p, _ := run(0, uint64(1000+k))
		require.Equal(t, 6, p.DF)
		if p.WaldP < 0.05 {
			rejW++
		}
		if p.SupTP < 0.05 {
			rejT++
		}
	}
	sizeW, sizeT := float64(rejW)/S, float64(rejT)/S
	t.Logf("size at 5%%: Wald %.3f, sup-t %.3f (MC SE 0.015)", sizeW, sizeT)
	assert.True(t, sizeW >= 0.005 && sizeW <= 0.11, "Wald size %v", sizeW)
	assert.True(t, sizeT >= 0.005 && sizeT <= 0.11, "sup-t size %v", sizeT)

	const S2 = 20
	rejW, rejT = 0, 0
	var bias, bias2, plain [H + 1]float64
	for k := range S2 {
		p, res := run(0.15, uint64(5000+k))
		if p.WaldP < 0.05 {
			rejW++
		}
		if p.SupTP < 0.05 {
			rejT++
		}
		d, err := DiD(res, &DiDOptions{Reference: po.Window})
		require.NoError(t, err)
		for m := 0; m <= H; m++ {
			e := d.Series[0].Effects[d.Series[0].Index(m)].ATT - trueTau(m)
			bias[m] += e / S2
			bias2[m] += e * e / S2
			plain[m] += (res.Series[0].Effects[P+m].ATT - trueTau(m)) / S2
		}
	}
	t.Logf("power: Wald %d/%d, sup-t %d/%d; DiD bias %v, plain bias %v", rejW, S2, rejT, S2, bias, plain)
	assert.GreaterOrEqual(t, rejW, 19)
	assert.GreaterOrEqual(t, rejT, 19)
	for m := 0; m <= H; m++ {
		mcse := math.Sqrt((bias2[m] - bias[m]*bias[m]) / S2)
		assert.Less(t, math.Abs(bias[m]), 4*mcse, "DiD month %d", m)
		assert.Greater(t, plain[m], 0.1, "plain month %d", m)
	}
}

// A binary month that is 0 for everyone has Σ singular: the pseudo-
// inverse drops it (df = window − 1) and sup-t skips it.
func TestPlaceboSingular(t *testing.T) {
	s, x := prepostSample(100, 400, 4, 1, 0, 34)
	o := &s.Outcomes[0]
	for u := range s.Treated {
		o.Binary[u*o.stride()+1] = 0 // month −3
	}
	res, err := Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 50, KeepDraws: true})
	require.NoError(t, err)
	pl, err := PlaceboTest(res, &PlaceboOptions{Window: PreWindow{-4, -1}})
	require.NoError(t, err)
	p := pl[0]
	assert.Equal(t, 3, p.DF)
	assert.Equal(t, 0.0, p.SE[1])
	assert.False(t, math.IsNaN(p.WaldP))
	assert.False(t, math.IsNaN(p.SupTP))
	// a window of that month alone: Σ = 0, nothing to test
	pl, err = PlaceboTest(res, &PlaceboOptions{Window: PreWindow{-3, -3}})
	require.NoError(t, err)
	assert.Equal(t, 0, pl[0].DF)
	assert.True(t, math.IsNaN(pl[0].Wald) && math.IsNaN(pl[0].WaldP) && math.IsNaN(pl[0].SupTP))
	// a series with one valid replicate (a subgroup without weight in the
	// others) gets NaN statistics, not an error
	se := &res.Series[1]
	se.Valid, se.Draws = 1, se.Draws[:2*len(se.Effects)]
	pl, err = PlaceboTest(res, &PlaceboOptions{Window: PreWindow{-4, -1}})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(pl[1].WaldP) && math.IsNaN(pl[1].SupTP) && math.IsNaN(pl[1].SE[0]))
	assert.False(t, math.IsNaN(pl[0].WaldP))
	d, err := DiD(res, &DiDOptions{Reference: PreWindow{-4, -1}})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(d.Series[1].Monthly[4].SE))
}

func TestPrePostBadOptions(t *testing.T) {
	s, x := prepostSample(60, 200, 4, 1, 0, 35)
	res, err := Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 20, KeepDraws: true})
	require.NoError(t, err)
	noDraws, err := Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 20})
	require.NoError(t, err)
	for _, c := range []struct {
		name string
		w    PreWindow
		msg  string
	}{
		{"default beyond Pre", PreWindow{}, `placebo window -60..-49 lies beyond the 4 pre-programme months of outcome "y"`},
		{"overlaps the start", PreWindow{-2, 0}, "placebo window -2..0 overlaps the start"},
		{"after the start", PreWindow{1, 2}, "overlaps the start"},
		{"beyond Pre", PreWindow{-5, -1}, "lies beyond the 4 pre-programme months"},
		{"empty", PreWindow{-1, -3}, "placebo window -1..-3 is empty"},
	} {
		_, err := PlaceboTest(res, &PlaceboOptions{Window: c.w})
		require.ErrorIs(t, err, ErrInvalid, c.name)
		assert.Contains(t, err.Error(), c.msg, c.name)
		_, err = DiD(res, &DiDOptions{Reference: c.w})
		require.ErrorIs(t, err, ErrInvalid, c.name)
		assert.Contains(t, err.Error(), "DiD reference window", c.name)
		_, err = DiDSample(s, &DiDOptions{Reference: c.w})
		require.ErrorIs(t, err, ErrInvalid, c.name)
	}
	_, err = PlaceboTest(noDraws, &PlaceboOptions{Window: PreWindow{-4, -1}})
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "KeepDraws")
	_, err = DiD(noDraws, &DiDOptions{Reference: PreWindow{-4, -1}})
	require.ErrorIs(t, err, ErrInvalid)
	_, err = PlaceboTest(res, &PlaceboOptions{Window: PreWindow{-4, -1}, Level: 2})
	require.ErrorIs(t, err, ErrInvalid)
	_, err = PlaceboTest(nil, nil)
	require.ErrorIs(t, err, ErrInvalid)
	s.Outcomes[0].Pre = -1
	_, err = Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), nil)
	require.ErrorIs(t, err, ErrInvalid)
}

// DiDSample of a compact 0/1 outcome with a longer stride, on more units
// than one goroutine's chunk: every value is y − mean of the reference
// months, as the formula has it (NaN where y is missing), bit for bit.
func TestDiDSampleBinary(t *testing.T) {
	const n, pre, h, stride = 150_000, 6, 3, 12
	rng := rand.New(rand.NewPCG(5, 6))
	b := make([]uint8, n*stride)
	for i := range b {
		b[i] = uint8(rng.IntN(2))
		if i%stride == pre+h && rng.IntN(10) == 0 {
			b[i] = missing
		}
	}
	treated := make([]bool, n)
	for u := range n / 10 {
		treated[u] = true
	}
	s := &Sample{Treated: treated, Outcomes: []EventOutcome{{Name: "y", H: h, Pre: pre, Stride: stride, Binary: b}}}
	ds, err := DiDSample(s, &DiDOptions{Reference: PreWindow{-5, -3}})
	require.NoError(t, err)
	o := ds.Outcomes[0]
	require.Equal(t, pre+h+1, o.width())
	for u := range n {
		row := b[u*stride:]
		ref := (float64(row[1]) + float64(row[2]) + float64(row[3])) / 3
		for j := range pre + h + 1 {
			want := float64(row[j]) - ref
			if row[j] == missing {
				want = math.NaN()
			}
			if got := o.Y[u*(pre+h+1)+j]; math.Float64bits(got) != math.Float64bits(want) && !(math.IsNaN(got) && math.IsNaN(want)) {
				t.Fatalf("unit %d month %d: %v, want %v", u, j-pre, got, want)
			}
		}
	}
}
