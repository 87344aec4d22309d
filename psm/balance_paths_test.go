package psm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// balanceVars are variables of the kinds Balance meets, each drawn for
// one unit (treated or not): every way through the tabulation (0/1 loop,
// histograms, hash table of other values, -0) and the sorting.
var balanceVars = []struct {
	name string
	draw func(rng *rand.Rand, treated bool) float64
}{
	{"dummy", func(rng *rand.Rand, tr bool) float64 {
		return balB2F(rng.Float64() < map[bool]float64{false: 0.3, true: 0.45}[tr])
	}},
	{"rare", func(rng *rand.Rand, tr bool) float64 { return balB2F(!tr && rng.Float64() < 0.01) }}, // constant 0 among the treated: pooled sd
	{"weeks", func(rng *rand.Rand, tr bool) float64 { u := rng.Float64(); return math.Floor(261 * u * u * u) }},
	{"wide", func(rng *rand.Rand, tr bool) float64 { return float64(rng.IntN(20000)) }}, // beyond the histograms
	{"negint", func(rng *rand.Rand, tr bool) float64 { return float64(rng.IntN(101) - 50) }},
	{"frac", func(rng *rand.Rand, tr bool) float64 { return float64(rng.IntN(41)) / 8 }},
	{"negzero", func(rng *rand.Rand, tr bool) float64 {
		return []float64{math.Copysign(0, -1), 0, 1, 2}[rng.IntN(4)]
	}},
	{"negzero01", func(rng *rand.Rand, tr bool) float64 { return []float64{math.Copysign(0, -1), 0, 1}[rng.IntN(3)] }},
	{"normal", func(rng *rand.Rand, tr bool) float64 { return rng.NormFloat64() + balB2F(tr)/2 }},
	{"tied", func(rng *rand.Rand, tr bool) float64 { return math.Round(rng.NormFloat64()*20) / 7 }},
	{"const", func(rng *rand.Rand, tr bool) float64 { return 3 }},
	{"tconst", func(rng *rand.Rand, tr bool) float64 {
		if tr {
			return 2
		}
		return float64(rng.IntN(5))
	}},
	{"large", func(rng *rand.Rand, tr bool) float64 { return 1e150 * rng.NormFloat64() }},
}

func balB2F(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// balanceScenario is random data and a matching.
type balanceScenario struct {
	name         string
	names        []string
	tcols, ccols [][]float64
	m            *Matching
	den          SMDDenominator
	tw, cw       []float64
	nt, nc       int
}

func makeBalanceScenario(t *testing.T, seed uint64, nt, nc int, o MatchOptions, weights bool, den SMDDenominator) *balanceScenario {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 8))
	s := &balanceScenario{name: fmt.Sprintf("seed=%d/nt=%d/nc=%d/K=%d/caliper=%g/norepl=%v/weights=%v/den=%d",
		seed, nt, nc, o.K, o.Caliper, o.NoReplacement, weights, den), nt: nt, nc: nc, den: den}
	for _, v := range balanceVars {
		s.names = append(s.names, v.name)
		tc, cc := make([]float64, nt), make([]float64, nc)
		for i := range tc {
			tc[i] = v.draw(rng, true)
		}
		for j := range cc {
			cc[j] = v.draw(rng, false)
		}
		s.tcols, s.ccols = append(s.tcols, tc), append(s.ccols, cc)
	}
	ps := func(tr bool) float64 {
		z := rng.NormFloat64() + balB2F(tr)
		if seed%2 == 0 {
			z = math.Round(z * 4) // ties
		}
		return 1 / (1 + math.Exp(-z))
	}
	pt, pc := make([]float64, nt), make([]float64, nc)
	for i := range pt {
		pt[i] = ps(true)
	}
	for j := range pc {
		pc[j] = ps(false)
	}
	if weights {
		// frequency weights, zeros included; dyadic, so that weighted
		// sums of the integer and dyadic variables are exact
		draw := func() float64 { return []float64{0, 0.5, 1, 1, 2, 3.25}[rng.IntN(6)] }
		s.tw, s.cw = make([]float64, nt), make([]float64, nc)
		for i := range s.tw {
			s.tw[i] = draw()
		}
		for j := range s.cw {
			s.cw[j] = draw()
		}
		if o.NoReplacement {
			for j := range s.cw {
				s.cw[j] = math.Floor(s.cw[j])
			}
			for i := range s.tw {
				s.tw[i] = math.Floor(s.tw[i])
			}
		}
		s.tw[0], s.cw[nc-1] = 1, 2
		// a value that only a zero-weight control has still counts as a
		// distinct value of the eCDFs
		s.cw[0] = 0
		s.ccols[3][0] = 99999
		if seed%3 == 0 { // weights for the controls only
			s.tw = nil
		}
	}
	o.TreatedWeights, o.ControlWeights = s.tw, s.cw
	m, err := Match(pt, pc, &o)
	require.NoError(t, err)
	s.m = m
	return s
}

func balanceScenarios(t *testing.T) []*balanceScenario {
	var out []*balanceScenario
	sizes := [][2]int{{40, 1001}, {150, 2600}, {7, 3}}
	seed := uint64(1)
	for _, sz := range sizes {
		for _, o := range []MatchOptions{{}, {K: 2, Caliper: 0.1}, {NoReplacement: true}} {
			if (o.NoReplacement || o.Caliper > 0) && sz[1] < 100 {
				continue
			}
			for _, w := range []bool{false, true} {
				for _, den := range []SMDDenominator{SMDTreated, SMDPooled} {
					out = append(out, makeBalanceScenario(t, seed, sz[0], sz[1], o, w, den))
					seed++
				}
			}
		}
	}
	if testing.Short() { // every third (the race detector is slow)
		var some []*balanceScenario
		for k := 0; k < len(out); k += 3 {
			some = append(some, out[k])
		}
		out = some
	}
	return out
}

// sameBits compares balance tables bit for bit (NaN equal to NaN).
func sameBits(t *testing.T, want, got *BalanceTable, msg string) {
	t.Helper()
	require.Len(t, got.Rows, len(want.Rows), msg)
	for k := range want.Rows {
		w, g := want.Rows[k], got.Rows[k]
		assert.Equal(t, w.Name, g.Name, msg)
		assert.Equal(t, w.Binary, g.Binary, "%s %s binary", msg, w.Name)
		for _, p := range [][2]BalanceStats{{w.Before, g.Before}, {w.After, g.After}} {
			a, b := p[0], p[1]
			for q, pair := range [][2]float64{{a.MeanTreated, b.MeanTreated}, {a.MeanControl, b.MeanControl},
				{a.SMD, b.SMD}, {a.VarRatio, b.VarRatio}, {a.ECDFMean, b.ECDFMean}, {a.ECDFMax, b.ECDFMax}} {
				assert.Equal(t, math.Float64bits(pair[0]), math.Float64bits(pair[1]), "%s %s stat %d: %v vs %v", msg, w.Name, q, pair[0], pair[1])
			}
		}
	}
	assert.Equal(t, want.NTreated, got.NTreated, msg)
	assert.Equal(t, want.NControl, got.NControl, msg)
	assert.Equal(t, want.NTreatedMatched, got.NTreatedMatched, msg)
	assert.Equal(t, want.NControlMatched, got.NControlMatched, msg)
	assert.Equal(t, want.NDistinctControls, got.NDistinctControls, msg)
}

// TestBalanceAgainstPrevious checks Balance against the previous
// implementation (oldBalanceColumns: all units sorted per variable, the
// eCDFs accumulated unit by unit), which matched MatchIt's bal1var, on
// random data covering every kind of variable, with and without
// frequency weights (zeros included), with replacement, K = 2 with a
// caliper, and without replacement. Tolerance 1e-12 relative to
// max(1, |value|): the two sum in different orders (by unit or by
// distinct value); with integer and dyadic data and weights the sums are
// exact and most statistics agree to the bit.
func TestBalanceAgainstPrevious(t *testing.T) {
	for _, s := range balanceScenarios(t) {
		want := oldBalanceColumns(s.names, s.tcols, s.ccols, s.m, s.den)
		got, err := balanceColumns(s.names, s.tcols, s.ccols, s.m, &BalanceOptions{SMD: s.den})
		require.NoError(t, err, s.name)
		require.Len(t, got.Rows, len(want.Rows))
		near := func(w, g float64, what string) {
			t.Helper()
			if math.IsNaN(w) || math.IsInf(w, 0) {
				assert.Equal(t, math.Float64bits(w), math.Float64bits(g), "%s %s: %v vs %v", s.name, what, w, g)
				return
			}
			assert.InDelta(t, w, g, 1e-12*math.Max(1, math.Abs(w)), "%s %s", s.name, what)
		}
		for k, w := range want.Rows {
			g := got.Rows[k]
			assert.Equal(t, w.Binary, g.Binary, "%s %s binary", s.name, w.Name)
			for _, p := range []struct {
				when string
				a, b BalanceStats
			}{{"before", w.Before, g.Before}, {"after", w.After, g.After}} {
				what := w.Name + " " + p.when
				near(p.a.MeanTreated, p.b.MeanTreated, what+" mean treated")
				near(p.a.MeanControl, p.b.MeanControl, what+" mean control")
				near(p.a.SMD, p.b.SMD, what+" SMD")
				near(p.a.VarRatio, p.b.VarRatio, what+" variance ratio")
				near(p.a.ECDFMean, p.b.ECDFMean, what+" eCDF mean")
				near(p.a.ECDFMax, p.b.ECDFMax, what+" eCDF max")
			}
		}
		assert.Equal(t, want.NTreated, got.NTreated)
		assert.Equal(t, want.NControl, got.NControl)
		assert.Equal(t, want.NTreatedMatched, got.NTreatedMatched)
		assert.Equal(t, want.NControlMatched, got.NControlMatched)
	}
}

// TestBalancePathsSameBits: tabulating by value (histograms, the 0/1
// loop, the hash table), sorting (keys collected during the scan or read
// again), a row-major *mat.Dense or columns, any number of workers: the
// same bits.
func TestBalancePathsSameBits(t *testing.T) {
	defer func(mo int, fs bool) { maxOther, balanceForceSort = mo, fs }(maxOther, balanceForceSort)
	for _, s := range balanceScenarios(t) {
		opts := &BalanceOptions{SMD: s.den}
		base, err := balanceColumns(s.names, s.tcols, s.ccols, s.m, opts)
		require.NoError(t, err)

		// the treated and control rows of one row-major matrix with an
		// extra column, as examples/sfi passes them
		nv := len(s.names)
		x := mat.NewDense(s.nt+s.nc, nv+1, nil)
		for v := range s.names {
			for i, val := range s.tcols[v] {
				x.Set(i, v, val)
			}
			for j, val := range s.ccols[v] {
				x.Set(s.nt+j, v, val)
			}
		}
		td, cd := x.Slice(0, s.nt, 0, nv), x.Slice(s.nt, s.nt+s.nc, 0, nv)
		for _, workers := range []int{1, 2, 5, 64} {
			o := &BalanceOptions{SMD: s.den, Workers: workers}
			got, err := Balance(s.names, td, cd, s.m, o)
			require.NoError(t, err)
			sameBits(t, base, got, fmt.Sprintf("%s dense workers=%d", s.name, workers))
			got, err = balanceColumns(s.names, s.tcols, s.ccols, s.m, o)
			require.NoError(t, err)
			sameBits(t, base, got, fmt.Sprintf("%s columns workers=%d", s.name, workers))
		}
		// another mat.Matrix than *mat.Dense (read with At)
		got, err := Balance(s.names, td.T().T(), cd.T().T(), s.m, opts)
		require.NoError(t, err)
		sameBits(t, base, got, s.name+" At")

		// sorting: all variables, or those with more than 16 distinct
		// values outside 0..4095 (the rest tabulated), with 1 worker (keys
		// of 2 variables collected, the others read again) and 2
		for _, mo := range []int{16, maxOtherDefault} {
			maxOther, balanceForceSort = mo, mo == maxOtherDefault
			for _, workers := range []int{1, 2} {
				o := &BalanceOptions{SMD: s.den, Workers: workers}
				got, err := Balance(s.names, td, cd, s.m, o)
				require.NoError(t, err)
				sameBits(t, base, got, fmt.Sprintf("%s sorted maxOther=%d workers=%d dense", s.name, mo, workers))
				got, err = balanceColumns(s.names, s.tcols, s.ccols, s.m, o)
				require.NoError(t, err)
				sameBits(t, base, got, fmt.Sprintf("%s sorted maxOther=%d workers=%d columns", s.name, mo, workers))
			}
		}
		maxOther, balanceForceSort = maxOtherDefault, false
	}
}

// TestBalanceManyDistinct: a variable with more distinct values than the
// hash table takes (at its default size) is sorted, one with nearly all
// values distinct is sorted early, one with many repeated values that
// still fit is tabulated; all three as the previous implementation.
func TestBalanceManyDistinct(t *testing.T) {
	if testing.Short() {
		t.Skip("70,000 controls")
	}
	rng := rand.New(rand.NewPCG(8, 1))
	nt, nc := 500, 90000
	pt, pc := make([]float64, nt), make([]float64, nc)
	for i := range pt {
		pt[i] = rng.Float64()*0.8 + 0.2
	}
	for j := range pc {
		pc[j] = rng.Float64()
	}
	m, err := Match(pt, pc, nil)
	require.NoError(t, err)
	draws := []func(j int) float64{
		func(j int) float64 { // 100 values, then all distinct: > maxOther, sorted late
			if j < 20000 {
				return float64(rng.IntN(100)) + 0.5
			}
			return float64(j) + 0.25
		},
		func(int) float64 { return rng.NormFloat64() },               // all distinct: sorted early
		func(int) float64 { return float64(rng.IntN(20000)) / 3 },    // 20,000 distinct: tabulated
		func(int) float64 { return float64(rng.IntN(3000)) * 1.5e3 }, // > 4095 but few: tabulated
	}
	names := []string{"late", "early", "fits", "big"}
	var tcols, ccols [][]float64
	for _, d := range draws {
		tc, cc := make([]float64, nt), make([]float64, nc)
		for i := range tc {
			tc[i] = d(0)
		}
		for j := range cc {
			cc[j] = d(j)
		}
		tcols, ccols = append(tcols, tc), append(ccols, cc)
	}
	want := oldBalanceColumns(names, tcols, ccols, m, SMDTreated)
	got, err := balanceColumns(names, tcols, ccols, m, nil)
	require.NoError(t, err)
	for k, w := range want.Rows {
		g := got.Rows[k]
		for _, p := range [][2]BalanceStats{{w.Before, g.Before}, {w.After, g.After}} {
			a, b := p[0], p[1]
			for q, pair := range [][2]float64{{a.MeanTreated, b.MeanTreated}, {a.MeanControl, b.MeanControl},
				{a.SMD, b.SMD}, {a.VarRatio, b.VarRatio}, {a.ECDFMean, b.ECDFMean}, {a.ECDFMax, b.ECDFMax}} {
				// 90,000 terms summed in another order: 1e-11
				assert.InDelta(t, pair[0], pair[1], 1e-11*math.Max(1, math.Abs(pair[0])), "%s stat %d", w.Name, q)
			}
		}
	}
	// which way each variable went
	r := &balanceRun{T: nt, N: nc}
	cols := make([]balanceCol, len(names))
	ts, cs := make([]colSrc, len(names)), make([]colSrc, len(names))
	for v := range names {
		ts[v], cs[v] = colSrc{data: tcols[v], stride: 1}, colSrc{data: ccols[v], stride: 1}
		cols[v].xt = tcols[v]
	}
	r.scan(cols, ts, cs)
	assert.True(t, cols[0].cnt.sorted, "late")
	assert.True(t, cols[1].cnt.sorted, "early")
	assert.False(t, cols[2].cnt.sorted, "fits")
	assert.False(t, cols[3].cnt.sorted, "big")
}

// TestBalanceNotFinite: the first non-finite value in variable order
// (treated before controls) is reported with its variable and index,
// whichever way the variables are tabulated or sorted.
func TestBalanceNotFinite(t *testing.T) {
	defer func(fs bool) { balanceForceSort = fs }(balanceForceSort)
	s := makeBalanceScenario(t, 99, 30, 1500, MatchOptions{}, false, SMDTreated)
	clone := func(c [][]float64) [][]float64 {
		out := make([][]float64, len(c))
		for k := range c {
			out[k] = slices.Clone(c[k])
		}
		return out
	}
	cases := []struct {
		name          string
		tset, cset    [][3]float64 // variable, index, value
		field         string
		index         int
		treated, sort bool
	}{
		{"control NaN in a dummy", nil, [][3]float64{{0, 700, math.NaN()}}, "dummy", 700, false, false},
		{"control Inf in weeks after another", nil, [][3]float64{{2, 1400, math.Inf(1)}, {2, 1499, math.NaN()}}, "weeks", 1400, false, false},
		{"treated before control of a later variable", [][3]float64{{8, 29, math.Inf(-1)}}, [][3]float64{{9, 3, math.NaN()}}, "normal", 29, true, false},
		{"control of an earlier variable first", [][3]float64{{8, 0, math.NaN()}}, [][3]float64{{5, 1000, math.NaN()}}, "frac", 1000, false, false},
		{"sorted: control NaN", nil, [][3]float64{{1, 1100, math.NaN()}}, "rare", 1100, false, true},
		{"sorted: read again", nil, [][3]float64{{11, 1, math.Inf(1)}}, "tconst", 1, false, true},
		{"sorted: treated", [][3]float64{{3, 5, math.NaN()}}, nil, "wide", 5, true, true},
	}
	for _, c := range cases {
		balanceForceSort = c.sort
		tc, cc := clone(s.tcols), clone(s.ccols)
		for _, e := range c.tset {
			tc[int(e[0])][int(e[1])] = e[2]
		}
		for _, e := range c.cset {
			cc[int(e[0])][int(e[1])] = e[2]
		}
		nv := len(s.names)
		td, cd := mat.NewDense(s.nt, nv, nil), mat.NewDense(s.nc, nv, nil)
		for v := range s.names {
			td.SetCol(v, tc[v])
			cd.SetCol(v, cc[v])
		}
		for _, workers := range []int{1, 3} {
			o := &BalanceOptions{Workers: workers}
			_, err1 := balanceColumns(s.names, tc, cc, s.m, o)
			_, err2 := Balance(s.names, td, cd, s.m, o)
			_, err3 := Balance(s.names, denseRows{d: td}, denseRows{d: cd}, s.m, o)
			_, err4 := Balance(s.names, denseRowsSliced{denseRows{d: td}}, denseRowsSliced{denseRows{d: cd}}, s.m, o)
			for _, err := range []error{err1, err2, err3, err4} {
				var ie *InputError
				require.ErrorAs(t, err, &ie, c.name)
				assert.ErrorIs(t, err, ErrBadValue, c.name)
				assert.Equal(t, c.field, ie.Field, c.name)
				assert.Equal(t, c.index, ie.Index, c.name)
				if c.treated {
					assert.Contains(t, err.Error(), "treated value is not finite", c.name)
				} else {
					assert.Contains(t, err.Error(), "control value is not finite", c.name)
				}
			}
		}
	}
}

// TestSortKeys checks the in-place radix sort against a stable sort by
// key of ascending indices, with many ties and with wide keys.
func TestSortKeys(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	for _, n := range []int{0, 1, 2, 31, 33, 500, 20000} {
		for _, spread := range []uint64{1, 7, 300, 1 << 40, math.MaxUint64} {
			keys := make([]uint64, n)
			for i := range keys {
				if spread == math.MaxUint64 {
					keys[i] = rng.Uint64()
				} else {
					keys[i] = 1<<62 + rng.Uint64N(spread)*0x10001
				}
			}
			type kv struct {
				k uint64
				i int32
			}
			want := make([]kv, n)
			idx := make([]int32, n)
			for i := range keys {
				want[i] = kv{keys[i], int32(i)}
				idx[i] = int32(i)
			}
			slices.SortStableFunc(want, func(a, b kv) int {
				switch {
				case a.k < b.k:
					return -1
				case a.k > b.k:
					return 1
				}
				return 0
			})
			plain := slices.Clone(keys)
			sortKeys(keys, idx)
			sortKeys(plain, nil)
			for i := range want {
				require.Equal(t, want[i].k, keys[i], "n=%d spread=%d at %d", n, spread, i)
				require.Equal(t, want[i].i, idx[i], "n=%d spread=%d at %d", n, spread, i)
				require.Equal(t, want[i].k, plain[i], "n=%d spread=%d at %d", n, spread, i)
			}
		}
	}
}
