package psm

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// setOf returns treated i's match set as control -> weight.
func setOf(m *Matching, i int) map[int32]float64 {
	s := map[int32]float64{}
	for k := m.Start[i]; k < m.Start[i+1]; k++ {
		s[m.Control[k]] += m.Weight[k]
	}
	return s
}

func assertSet(t *testing.T, want map[int32]float64, got map[int32]float64, msg string) {
	t.Helper()
	require.Len(t, got, len(want), "%s: set %v, want %v", msg, got, want)
	for j, w := range want {
		assert.InDelta(t, w, got[j], 1e-12, "%s: control %d", msg, j)
	}
}

// Hand-made cases; the expected sets follow from the rules in the
// MatchOptions documentation (computed by hand).
func TestMatchHand(t *testing.T) {
	cases := []struct {
		name    string
		treated []float64
		control []float64
		opts    MatchOptions
		want    []map[int32]float64 // per treated; nil = unmatched
	}{
		{"nearest", []float64{0.5}, []float64{0.1, 0.45, 0.6}, MatchOptions{},
			[]map[int32]float64{{1: 1}}},
		{"ties on both sides", []float64{0.5}, []float64{0.25, 0.75, 1}, MatchOptions{},
			[]map[int32]float64{{0: 0.5, 1: 0.5}}},
		{"tie block on one side and single on the other", []float64{0.5}, []float64{0.75, 0.25, 0.25, 0.9}, MatchOptions{},
			[]map[int32]float64{{0: 1.0 / 3, 1: 1.0 / 3, 2: 1.0 / 3}}},
		{"exact score ties", []float64{0.5, 0.25}, []float64{0.5, 0.125, 0.5, 0.5, 0.375}, MatchOptions{},
			[]map[int32]float64{{0: 1.0 / 3, 2: 1.0 / 3, 3: 1.0 / 3}, {1: 0.5, 4: 0.5}}},
		{"no tie at unequal distance", []float64{0.5}, []float64{0.3, 0.7}, MatchOptions{},
			// 0.5-0.3 = 0.2000000000000000111, 0.7-0.5 = 0.1999999999999999555
			[]map[int32]float64{{1: 1}}},
		{"tolerance makes them tie", []float64{0.5}, []float64{0.3, 0.7}, MatchOptions{TieTolerance: 1e-12},
			[]map[int32]float64{{0: 0.5, 1: 0.5}}},
		{"tolerance across a block boundary", []float64{0.5}, []float64{0.5, 0.5 + 1e-10, 0.5 + 2e-9, 0.5 - 5e-10},
			MatchOptions{TieTolerance: 1e-9},
			[]map[int32]float64{{0: 1.0 / 3, 1: 1.0 / 3, 3: 1.0 / 3}}},
		{"K=2, the second nearest inside a tie block", []float64{0.5}, []float64{0.625, 0.375, 0.625, 0.4, 0.625},
			MatchOptions{K: 2},
			// 0.4 (d .1) first; then 0.375 and 0.625 x3 tie at d .125
			[]map[int32]float64{{3: 0.2, 1: 0.2, 0: 0.2, 2: 0.2, 4: 0.2}}},
		{"K=2 exact", []float64{0.5}, []float64{0.1, 0.45, 0.6, 0.9}, MatchOptions{K: 2},
			[]map[int32]float64{{1: 0.5, 2: 0.5}}},
		{"treated below all controls", []float64{0.05}, []float64{0.1, 0.1, 0.2}, MatchOptions{},
			[]map[int32]float64{{0: 0.5, 1: 0.5}}},
		{"treated above all controls", []float64{0.95}, []float64{0.1, 0.9, 0.2}, MatchOptions{},
			[]map[int32]float64{{1: 1}}},
		{"trimming", []float64{0.05, 0.5, 0.95}, []float64{0.1, 0.9}, MatchOptions{Trim: true},
			[]map[int32]float64{nil, {0: 0.5, 1: 0.5}, nil}},
		{"zero weight control is absent", []float64{0.5}, []float64{0.45, 0.6},
			MatchOptions{ControlWeights: []float64{0, 1}},
			[]map[int32]float64{{1: 1}}},
		{"weighted tie block", []float64{0.5}, []float64{0.25, 0.75, 0.75},
			MatchOptions{ControlWeights: []float64{2, 1, 0.5}},
			[]map[int32]float64{{0: 2 / 3.5, 1: 1 / 3.5, 2: 0.5 / 3.5}}},
		{"K=2 reached by one control of weight 2", []float64{0.5}, []float64{0.45, 0.6},
			MatchOptions{K: 2, ControlWeights: []float64{2, 1}},
			[]map[int32]float64{{0: 1}}},
		{"strata", []float64{0.5, 0.5, 0.5}, []float64{0.45, 0.9, 0.52, 0.1},
			MatchOptions{TreatedStrata: []int32{1, 2, 3}, ControlStrata: []int32{2, 1, 1, 2}},
			[]map[int32]float64{{2: 1}, {0: 1}, nil}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Match(c.treated, c.control, &c.opts)
			require.NoError(t, err)
			for i, want := range c.want {
				if want == nil {
					assert.False(t, m.Matched[i], "treated %d should be unmatched", i)
					assert.Equal(t, m.Start[i], m.Start[i+1])
					continue
				}
				require.True(t, m.Matched[i], "treated %d should be matched (%v)", i, m.Status[i])
				assertSet(t, want, setOf(m, i), c.name)
			}
			// ControlWeight is the sum of the set weights.
			cw := make([]float64, len(c.control))
			for i, want := range c.want {
				for j, w := range want {
					cw[j] += w * m.MatchedWeight[i]
				}
			}
			assert.InDeltaSlice(t, cw, m.ControlWeight, 1e-12)
		})
	}
}

func TestMatchStatus(t *testing.T) {
	m, err := Match([]float64{0.5, 0.05, 0.5, 0.3}, []float64{0.4, 0.6},
		&MatchOptions{Trim: true, TreatedWeights: []float64{1, 1, 0, 1}})
	require.NoError(t, err)
	assert.Equal(t, []MatchStatus{StatusMatched, StatusTrimmed, StatusAbsent, StatusTrimmed}, m.Status)
	assert.Equal(t, 1, m.NMatched)
	assert.Equal(t, "trimmed", m.Status[1].String())
}

// The caliper is Caliper * sd of the score over all units (population
// sd, as R Matching::Match). Scores 0,1 (treated) and 0.4,0.45,0.6,1.4
// (controls): mean 0.641667, sd = sqrt(1.212083/6) = 0.449459. With
// caliper 0.3 the width is 0.134838: treated 0 has nothing within it.
func TestMatchCaliper(t *testing.T) {
	tr := []float64{0, 1}
	co := []float64{0.4, 0.45, 0.6, 1.4}
	all := append(append([]float64{}, tr...), co...)
	var mean, ss float64
	for _, v := range all {
		mean += v / 6
	}
	for _, v := range all {
		ss += (v - mean) * (v - mean) / 6
	}
	width := 0.3 * math.Sqrt(ss)
	require.InDelta(t, 0.134838, width, 1e-6) // by hand
	_, err := Match(tr, co, &MatchOptions{Caliper: 0.3})
	assert.ErrorIs(t, err, ErrNoMatch) // 0.4 and 1.4 are both 0.4 away
	// With a control at 0.9 the sd becomes 0.425824 and the width 0.127747:
	// treated 1 is matched to 0.9 (d 0.1), treated 0 still is not.
	m, err := Match([]float64{0, 1}, []float64{0.4, 0.45, 0.6, 1.4, 0.9}, &MatchOptions{Caliper: 0.3})
	require.NoError(t, err)
	assert.Equal(t, StatusCaliper, m.Status[0])
	assert.Equal(t, StatusMatched, m.Status[1])
	assertSet(t, map[int32]float64{4: 1}, setOf(m, 1), "caliper")
	assert.InDelta(t, 0.1, m.KthDistance[1], 1e-15)
	// K=2 needs two controls within the caliper (as Matching::Match).
	// Adding 1.1: mean 0.661111, sd 0.444614, width 0.133384; treated 0
	// has only 0.1 within it, treated 1 has 0.9 and 1.1.
	m, err = Match([]float64{0, 1}, []float64{0.4, 0.45, 0.6, 1.4, 0.9, 0.1, 1.1}, &MatchOptions{Caliper: 0.3, K: 2})
	require.NoError(t, err)
	assert.Equal(t, []MatchStatus{StatusCaliper, StatusMatched}, m.Status)
	assertSet(t, map[int32]float64{4: 0.5, 6: 0.5}, setOf(m, 1), "caliper K=2")
	_, err = Match([]float64{0, 1}, []float64{0.4, 0.45, 0.6, 1.4, 0.9, 0.1}, &MatchOptions{Caliper: 0.3, K: 2})
	assert.ErrorIs(t, err, ErrNoMatch)
}

func TestMatchNoReplacement(t *testing.T) {
	// Treated in input order: 0.5 takes 0.5; the next 0.5 takes 0.55 (d .05)
	// rather than 0.4 (d .1); 0.3 takes 0.4; 0.9 gets 0.1? no: 0.1 is the
	// only one left, d 0.8.
	m, err := Match([]float64{0.5, 0.5, 0.3, 0.9}, []float64{0.1, 0.4, 0.5, 0.55},
		&MatchOptions{NoReplacement: true})
	require.NoError(t, err)
	want := []map[int32]float64{{2: 1}, {3: 1}, {1: 1}, {0: 1}}
	for i, w := range want {
		assertSet(t, w, setOf(m, i), "no replacement")
	}
	// Equal distance on both sides: the lower score first; a tie block is
	// used in input order; controls run out.
	m, err = Match([]float64{0.5, 0.5, 0.5, 0.5, 0.5}, []float64{0.75, 0.25, 0.25, 0.75},
		&MatchOptions{NoReplacement: true})
	require.NoError(t, err)
	want = []map[int32]float64{{1: 1}, {2: 1}, {0: 1}, {3: 1}, nil}
	for i, w := range want {
		if w == nil {
			assert.Equal(t, StatusNoControls, m.Status[i])
			continue
		}
		assertSet(t, w, setOf(m, i), "no replacement ties")
	}
	// K=2 and a control of weight 2 used twice; a treated of weight 2 is
	// two copies.
	m, err = Match([]float64{0.5, 0.2}, []float64{0.45, 0.6, 0.1, 0.3},
		&MatchOptions{NoReplacement: true, K: 2, ControlWeights: []float64{2, 1, 1, 1}, TreatedWeights: []float64{2, 1}})
	require.NoError(t, err)
	// copy 1 of 0.5: 0.45 twice; copy 2: 0.6 and 0.3 (d .1 and .2 vs 0.1 d .4)
	assertSet(t, map[int32]float64{0: 0.5, 1: 0.25, 3: 0.25}, setOf(m, 0), "copies")
	assert.Equal(t, 2.0, m.MatchedWeight[0])
	// 0.2 needs 2 units; only 0.1 is left.
	assert.Equal(t, StatusNoControls, m.Status[1])
	assert.InDeltaSlice(t, []float64{1, 0.5, 0, 0.5}, m.ControlWeight, 1e-12)
	// With a caliper the treated does not consume anything.
	_, err = Match([]float64{0.5}, []float64{0.1}, &MatchOptions{NoReplacement: true, Caliper: 0.1})
	assert.ErrorIs(t, err, ErrNoMatch)
	// Non-integer weights are rejected, naming the option.
	_, err = Match([]float64{0.5}, []float64{0.1}, &MatchOptions{NoReplacement: true, ControlWeights: []float64{0.5}})
	var ie *InputError
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, "ControlWeights", ie.Field)
}

func TestMatchErrors(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name    string
		tr, co  []float64
		opts    *MatchOptions
		is      error
		field   string
		index   int
		message string
	}{
		{"NaN treated score", []float64{0.1, nan}, []float64{0.2}, nil, ErrBadScore, "treated", 1, "treated[1]"},
		{"Inf control score", []float64{0.1}, []float64{0.2, math.Inf(1)}, nil, ErrBadScore, "control", 1, "control[1]"},
		{"logit of 1", []float64{0.1}, []float64{1}, &MatchOptions{Distance: LogitDistance}, ErrBadScore, "control", 0, "(0, 1)"},
		{"weights length", []float64{0.1}, []float64{0.2}, &MatchOptions{ControlWeights: []float64{1, 1}}, ErrBadOption, "ControlWeights", -1, "length 2"},
		{"treated weights length", []float64{0.1}, []float64{0.2}, &MatchOptions{TreatedWeights: []float64{}}, ErrBadOption, "TreatedWeights", -1, "length 0"},
		{"negative weight", []float64{0.1}, []float64{0.2}, &MatchOptions{ControlWeights: []float64{-1}}, ErrBadWeight, "ControlWeights", 0, "ControlWeights[0]"},
		{"strata length", []float64{0.1}, []float64{0.2}, &MatchOptions{TreatedStrata: []int32{1, 2}, ControlStrata: []int32{1}}, ErrBadOption, "TreatedStrata", -1, "length 2"},
		{"only treated strata", []float64{0.1}, []float64{0.2}, &MatchOptions{TreatedStrata: []int32{1}}, ErrBadOption, "TreatedStrata", -1, "ControlStrata"},
		{"K > controls", []float64{0.1}, []float64{0.2, 0.3}, &MatchOptions{K: 3}, ErrTooFewControls, "K", -1, "K = 3"},
		{"negative K", []float64{0.1}, []float64{0.2}, &MatchOptions{K: -1}, ErrBadOption, "K", -1, "K = -1"},
		{"bad caliper", []float64{0.1}, []float64{0.2}, &MatchOptions{Caliper: nan}, ErrBadOption, "Caliper", -1, "Caliper"},
		{"bad tolerance", []float64{0.1}, []float64{0.2}, &MatchOptions{TieTolerance: -1}, ErrBadOption, "TieTolerance", -1, "TieTolerance"},
		{"no treated", nil, []float64{0.2}, nil, ErrEmptyGroup, "treated", -1, "no treated"},
		{"no controls", []float64{0.1}, nil, nil, ErrEmptyGroup, "control", -1, "no control"},
		{"all control weights 0", []float64{0.1}, []float64{0.2}, &MatchOptions{ControlWeights: []float64{0}}, ErrEmptyGroup, "ControlWeights", -1, "all control"},
		{"all treated weights 0", []float64{0.1}, []float64{0.2}, &MatchOptions{TreatedWeights: []float64{0}}, ErrEmptyGroup, "TreatedWeights", -1, "all treated"},
		{"no common support", []float64{0.9, 0.95}, []float64{0.2, 0.3}, &MatchOptions{Trim: true}, ErrNoCommonSupport, "", -1, "common support"},
		{"caliper leaves no match", []float64{0.9}, []float64{0.2, 0.3}, &MatchOptions{Caliper: 0.01}, ErrNoMatch, "", -1, "no treated unit could be matched"},
		{"no stratum with controls", []float64{0.9}, []float64{0.2}, &MatchOptions{TreatedStrata: []int32{1}, ControlStrata: []int32{2}}, ErrNoMatch, "", -1, "matched"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Match(c.tr, c.co, c.opts)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.ErrorIs(t, err, c.is)
			assert.Contains(t, err.Error(), c.message)
			if c.field != "" {
				var ie *InputError
				require.ErrorAs(t, err, &ie)
				assert.Equal(t, c.field, ie.Field)
				assert.Equal(t, c.index, ie.Index)
			}
		})
	}
	// Distance must agree with the index.
	ix, err := NewIndex([]float64{0.2}, nil)
	require.NoError(t, err)
	_, err = ix.Match([]float64{0.1}, &MatchOptions{Distance: LogitDistance})
	assert.ErrorIs(t, err, ErrBadOption)
}

// bruteForce computes match sets by the documented rule directly: for
// each treated unit sort all eligible controls by distance, find the
// distance at which the cumulative weight reaches K, take every control
// within it plus the tolerance. O(T N log N).
func bruteForce(tr, co []float64, o MatchOptions) ([]map[int32]float64, []MatchStatus) {
	if o.K == 0 {
		o.K = 1
	}
	tw := func(i int) float64 {
		if o.TreatedWeights == nil {
			return 1
		}
		return o.TreatedWeights[i]
	}
	cw := func(j int) float64 {
		if o.ControlWeights == nil {
			return 1
		}
		return o.ControlWeights[j]
	}
	// scale statistics
	var W, sx, s2 float64
	for i, v := range tr {
		W += tw(i)
		sx += tw(i) * v
		s2 += tw(i) * v * v
	}
	for j, v := range co {
		W += cw(j)
		sx += cw(j) * v
		s2 += cw(j) * v * v
	}
	mean := sx / W
	var ss float64
	for i, v := range tr {
		ss += tw(i) * (v - mean) * (v - mean)
	}
	for j, v := range co {
		ss += cw(j) * (v - mean) * (v - mean)
	}
	cal := o.Caliper * math.Sqrt(ss/W)
	sig := math.Sqrt(s2/W-mean*mean) * math.Sqrt(W/(W-1))
	dist := func(t, x float64) float64 {
		if o.TieRule == TieRMatching {
			d := (x-mean)/sig - (t-mean)/sig
			return d * d
		}
		return math.Abs(x - t)
	}
	cmin, cmax := math.Inf(1), math.Inf(-1)
	for j, v := range co {
		if cw(j) > 0 {
			cmin, cmax = math.Min(cmin, v), math.Max(cmax, v)
		}
	}
	sets := make([]map[int32]float64, len(tr))
	status := make([]MatchStatus, len(tr))
	for i, t := range tr {
		if tw(i) == 0 {
			status[i] = StatusAbsent
			continue
		}
		if o.Trim && (t < cmin || t > cmax) {
			status[i] = StatusTrimmed
			continue
		}
		var cand []int
		var stratumW float64
		for j, x := range co {
			if cw(j) == 0 || (o.TreatedStrata != nil && o.TreatedStrata[i] != o.ControlStrata[j]) {
				continue
			}
			stratumW += cw(j)
			if cal > 0 && math.Abs(t-x) > cal {
				continue
			}
			cand = append(cand, j)
		}
		if stratumW < float64(o.K) {
			status[i] = StatusNoControls
			continue
		}
		sort.Slice(cand, func(a, b int) bool { return dist(t, co[cand[a]]) < dist(t, co[cand[b]]) })
		cum, dk := 0.0, math.NaN()
		for _, j := range cand {
			cum += cw(j)
			if cum >= float64(o.K) {
				dk = dist(t, co[j])
				break
			}
		}
		if math.IsNaN(dk) {
			status[i] = StatusCaliper
			continue
		}
		set := map[int32]float64{}
		var sw float64
		for _, j := range cand {
			if dist(t, co[j]) <= dk+o.TieTolerance {
				set[int32(j)] = cw(j)
				sw += cw(j)
			}
		}
		for j := range set {
			set[j] /= sw
		}
		sets[i] = set
	}
	return sets, status
}

// TestMatchBruteForce compares Match with the brute-force rule on random
// small problems with heavy ties, weights, strata, calipers and both tie
// rules.
func TestMatchBruteForce(t *testing.T) {
	for _, eager := range []int{1 << 16, 0} {
		t.Run(fmt.Sprintf("eagerBlocks=%d", eager), func(t *testing.T) {
			old := eagerBlocks
			eagerBlocks = eager
			defer func() { eagerBlocks = old }()
			testMatchBruteForce(t)
		})
	}
}

func testMatchBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 1))
	for rep := 0; rep < 300; rep++ {
		nt, nc := 1+rng.IntN(15), 1+rng.IntN(40)
		levels := 2 + rng.IntN(12)
		score := func() float64 {
			if rng.IntN(4) == 0 {
				return rng.Float64()
			}
			return float64(rng.IntN(levels)) / float64(levels)
		}
		tr := make([]float64, nt)
		co := make([]float64, nc)
		for i := range tr {
			tr[i] = score()
		}
		for j := range co {
			co[j] = score()
		}
		o := MatchOptions{K: 1 + rng.IntN(3)}
		if rng.IntN(2) == 0 {
			o.ControlWeights = make([]float64, nc)
			for j := range co {
				o.ControlWeights[j] = float64(rng.IntN(3))
			}
			o.ControlWeights[rng.IntN(nc)] = 1
		}
		if rng.IntN(3) == 0 {
			o.TreatedWeights = make([]float64, nt)
			for i := range tr {
				o.TreatedWeights[i] = float64(rng.IntN(3))
			}
			o.TreatedWeights[rng.IntN(nt)] = 1
		}
		if rng.IntN(3) == 0 {
			o.Caliper = 0.05 + rng.Float64()
		}
		if rng.IntN(3) == 0 {
			o.TieTolerance = []float64{1e-12, 0.01, 0.1}[rng.IntN(3)]
		}
		if rng.IntN(3) == 0 {
			// with tolerance 0 this rule depends on the last bits of the
			// standardization (mean and sd are summed in another order
			// here), so give it the tolerance it is meant to be used with
			o.TieRule = TieRMatching
			o.TieTolerance = math.Max(o.TieTolerance, 1e-12)
		}
		if rng.IntN(4) == 0 {
			o.Trim = true
		}
		if rng.IntN(3) == 0 {
			o.TreatedStrata = make([]int32, nt)
			o.ControlStrata = make([]int32, nc)
			for i := range tr {
				o.TreatedStrata[i] = int32(rng.IntN(3))
			}
			for j := range co {
				o.ControlStrata[j] = int32(rng.IntN(3))
			}
		}
		want, wantStatus := bruteForce(tr, co, o)
		m, err := Match(tr, co, &o)
		if err != nil {
			// only data-dependent errors are allowed, and they must agree
			// with the brute force
			matched := 0
			for _, s := range wantStatus {
				if s == StatusMatched {
					matched++
				}
			}
			var tot float64
			for j := range co {
				if o.ControlWeights == nil {
					tot++
				} else {
					tot += o.ControlWeights[j]
				}
			}
			if errors.Is(err, ErrTooFewControls) {
				require.Less(t, tot, float64(o.K), "rep %d", rep)
				continue
			}
			require.True(t, errors.Is(err, ErrNoMatch) || errors.Is(err, ErrNoCommonSupport), "rep %d: %v", rep, err)
			require.Zero(t, matched, "rep %d: %v", rep, err)
			continue
		}
		for i := range tr {
			require.Equal(t, wantStatus[i], m.Status[i], "rep %d treated %d (%v)", rep, i, o)
			if want[i] != nil {
				if len(want[i]) != m.Start[i+1]-m.Start[i] {
					t.Logf("rep %d treated %d score %v opts %+v\ncontrols %v", rep, i, tr[i], o, co)
				}
				assertSet(t, want[i], setOf(m, i), "brute force")
			}
		}
	}
}

// Weights are copies: a control (or treated) with weight 2 gives the same
// matching, ATT and standard errors as the data with that row twice.
func TestMatchWeightsAreCopies(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 2))
	nt, nc := 30, 200
	tr := make([]float64, nt)
	co := make([]float64, nc)
	yt := make([]float64, nt)
	yc := make([]float64, nc)
	tw := make([]float64, nt)
	cw := make([]float64, nc)
	for i := range tr {
		tr[i] = float64(rng.IntN(20)) / 20
		yt[i] = rng.NormFloat64() + tr[i]
		tw[i] = float64(rng.IntN(3))
	}
	for j := range co {
		co[j] = float64(rng.IntN(25)) / 25
		yc[j] = rng.NormFloat64() + co[j]
		cw[j] = float64(rng.IntN(4))
	}
	var tr2, yt2, co2, yc2 []float64
	var orig []int
	for i := range tr {
		for k := 0; k < int(tw[i]); k++ {
			tr2 = append(tr2, tr[i])
			yt2 = append(yt2, yt[i])
		}
	}
	for j := range co {
		for k := 0; k < int(cw[j]); k++ {
			co2 = append(co2, co[j])
			yc2 = append(yc2, yc[j])
			orig = append(orig, j)
		}
	}
	for _, o := range []MatchOptions{{}, {K: 2}, {Caliper: 0.05}, {TieRule: TieRMatching, TieTolerance: 1e-3}} {
		ow := o
		ow.TreatedWeights, ow.ControlWeights = tw, cw
		mw, err := Match(tr, co, &ow)
		require.NoError(t, err)
		mc, err := Match(tr2, co2, &o)
		require.NoError(t, err)
		agg := make([]float64, nc)
		for k, w := range mc.ControlWeight {
			agg[orig[k]] += w
		}
		assert.InDeltaSlice(t, agg, mw.ControlWeight, 1e-12)
		assert.InDelta(t, mc.WeightedControls, mw.WeightedControls, 1e-9)
		rw, err := ATT(yt, yc, mw, nil)
		require.NoError(t, err)
		rc, err := ATT(yt2, yc2, mc, nil)
		require.NoError(t, err)
		assert.InDelta(t, rc.ATT, rw.ATT, 1e-12)
		assert.InDelta(t, rc.SE, rw.SE, 1e-12)
		assert.InDelta(t, rc.SEStandard, rw.SEStandard, 1e-12)
	}
}

// MatchInto on a reused destination with new weights gives the same as a
// fresh match (the bootstrap path).
func TestIndexReuse(t *testing.T) {
	for _, eager := range []int{1 << 16, 0} {
		t.Run(fmt.Sprintf("eagerBlocks=%d", eager), func(t *testing.T) {
			old := eagerBlocks
			eagerBlocks = eager
			defer func() { eagerBlocks = old }()
			testIndexReuse(t)
		})
	}
}

func testIndexReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	co := make([]float64, 500)
	for j := range co {
		co[j] = float64(rng.IntN(40)) / 40
	}
	tr := make([]float64, 60)
	for i := range tr {
		tr[i] = rng.Float64()
	}
	ix, err := NewIndex(co, nil)
	require.NoError(t, err)
	var dst Matching
	for rep := 0; rep < 5; rep++ {
		cw := make([]float64, len(co))
		for j := range cw {
			cw[j] = float64(rng.IntN(3))
		}
		o := &MatchOptions{ControlWeights: cw, K: 1 + rep%2}
		require.NoError(t, ix.MatchInto(&dst, tr, o))
		fresh, err := Match(tr, co, o)
		require.NoError(t, err)
		assert.Equal(t, fresh.ControlWeight, dst.ControlWeight)
		assert.Equal(t, fresh.Start, dst.Start)
		assert.Equal(t, fresh.Control, dst.Control)
		assert.Equal(t, fresh.Weight, dst.Weight)
		assert.Equal(t, fresh.NDistinctControls, dst.NDistinctControls)
		assert.Equal(t, fresh.MatchedControls, dst.MatchedControls)
		// MatchedControls lists exactly the positive weights
		n := 0
		for j, w := range dst.ControlWeight {
			if w > 0 {
				require.Less(t, n, len(dst.MatchedControls))
				assert.Equal(t, int32(j), dst.MatchedControls[n])
				n++
			}
		}
		assert.Equal(t, n, len(dst.MatchedControls))
	}
	assert.Equal(t, len(co), ix.Len())
	assert.LessOrEqual(t, ix.NumBlocks(), 40)
	for b := 0; b < ix.NumBlocks(); b++ {
		for _, j := range ix.Block(b) {
			assert.Equal(t, ix.BlockScore(b), co[j])
			assert.Equal(t, b, ix.BlockOf(int(j)))
		}
	}
}

// One index, several goroutines, each with its own destination; and one
// destination reused across with/without replacement and SkipSets.
func TestIndexConcurrentAndModeSwitch(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 9))
	co := make([]float64, 3000)
	for j := range co {
		co[j] = float64(rng.IntN(100)) / 100
	}
	tr := make([]float64, 200)
	for i := range tr {
		tr[i] = rng.Float64()
	}
	ix, err := NewIndex(co, nil)
	require.NoError(t, err)
	opts := []*MatchOptions{
		{},
		{K: 3, SkipSets: true},
		{NoReplacement: true},
		{Caliper: 0.01, TieTolerance: 0.005},
	}
	want := make([]*Matching, len(opts))
	for k, o := range opts {
		want[k], err = ix.Match(tr, o)
		require.NoError(t, err)
	}
	done := make(chan error)
	for g := 0; g < 4; g++ {
		go func() {
			var dst Matching
			for r := 0; r < 8; r++ {
				k := (g + r) % len(opts)
				if err := ix.MatchInto(&dst, tr, opts[k]); err != nil {
					done <- err
					return
				}
				for j := range co {
					if dst.ControlWeight[j] != want[k].ControlWeight[j] {
						done <- fmt.Errorf("goroutine %d round %d: control %d weight %v, want %v", g, r, j, dst.ControlWeight[j], want[k].ControlWeight[j])
						return
					}
				}
				if len(dst.MatchedControls) != len(want[k].MatchedControls) {
					done <- fmt.Errorf("goroutine %d round %d: %d matched controls, want %d", g, r, len(dst.MatchedControls), len(want[k].MatchedControls))
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 4; g++ {
		assert.NoError(t, <-done)
	}
}

// Without replacement, against a direct simulation of the documented
// rule: treated in input order each take the K available controls first in
// the order (distance, score, input index), if K are available in the
// stratum within the caliper.
func TestMatchNoReplacementBruteForce(t *testing.T) {
	for _, eager := range []int{1 << 16, 0} {
		old := eagerBlocks
		eagerBlocks = eager
		rng := rand.New(rand.NewPCG(13, 1))
		for rep := 0; rep < 200; rep++ {
			nt, nc := 1+rng.IntN(12), 1+rng.IntN(30)
			tr := make([]float64, nt)
			co := make([]float64, nc)
			for i := range tr {
				tr[i] = float64(rng.IntN(8)) / 8
			}
			for j := range co {
				co[j] = float64(rng.IntN(8)) / 8
			}
			o := MatchOptions{NoReplacement: true, K: 1 + rng.IntN(2)}
			if rng.IntN(2) == 0 {
				o.Caliper = 0.1 + rng.Float64()
			}
			if rng.IntN(2) == 0 {
				o.TreatedStrata = make([]int32, nt)
				o.ControlStrata = make([]int32, nc)
				for i := range tr {
					o.TreatedStrata[i] = int32(rng.IntN(2))
				}
				for j := range co {
					o.ControlStrata[j] = int32(rng.IntN(2))
				}
			}
			// the caliper width, as documented
			var mean, ss float64
			all := append(append([]float64{}, tr...), co...)
			for _, v := range all {
				mean += v / float64(len(all))
			}
			for _, v := range all {
				ss += (v - mean) * (v - mean) / float64(len(all))
			}
			width := o.Caliper * math.Sqrt(ss)
			used := make([]bool, nc)
			want := make([]map[int32]float64, nt)
			for i, t := range tr {
				var cand []int
				for j, x := range co {
					if used[j] || (o.TreatedStrata != nil && o.TreatedStrata[i] != o.ControlStrata[j]) {
						continue
					}
					if o.Caliper > 0 && math.Abs(t-x) > width {
						continue
					}
					cand = append(cand, j)
				}
				if len(cand) < o.K {
					continue
				}
				sort.Slice(cand, func(a, b int) bool {
					da, db := math.Abs(co[cand[a]]-t), math.Abs(co[cand[b]]-t)
					if da != db {
						return da < db
					}
					if co[cand[a]] != co[cand[b]] {
						return co[cand[a]] < co[cand[b]]
					}
					return cand[a] < cand[b]
				})
				want[i] = map[int32]float64{}
				for _, j := range cand[:o.K] {
					used[j] = true
					want[i][int32(j)] = 1 / float64(o.K)
				}
			}
			m, err := Match(tr, co, &o)
			if err != nil && nc < o.K {
				require.ErrorIs(t, err, ErrTooFewControls, "rep %d", rep)
				continue
			}
			if err != nil {
				require.ErrorIs(t, err, ErrNoMatch, "rep %d", rep)
				for _, w := range want {
					require.Nil(t, w, "rep %d", rep)
				}
				continue
			}
			for i := range tr {
				if want[i] == nil {
					assert.False(t, m.Matched[i], "rep %d treated %d", rep, i)
					continue
				}
				assertSet(t, want[i], setOf(m, i), fmt.Sprintf("rep %d treated %d", rep, i))
			}
		}
		eagerBlocks = old
	}
}
