package psm

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// msData is a data set in unit space: scores of all units, treated
// flags, weights and strata (nil: none), an outcome.
type msData struct {
	scores  []float64
	treated []bool
	w       []float64
	strata  []int32
	y       []float64
}

// msKind selects the scores of msGen: whole numbers 0..24 (many ties;
// treated units up to 27),
// a grid of 41 values in (0, 1) (ties; for LogitDistance) or continuous
// values in (0, 1).
type msKind int

const (
	msInt msKind = iota
	msGrid
	msCont
)

// msGen returns n units: 30% treated; strata 0..2 for all units and 3
// for treated units only (a stratum without controls); weights 0..3
// (a fifth 0) or, with fractional, 0.1·(1..30); zeroWeights false: none 0.
func msGen(seed uint64, n int, kind msKind, weights, strata, fractional, zeroWeights bool) msData {
	rng := rand.New(rand.NewPCG(seed, 17))
	d := msData{scores: make([]float64, n), treated: make([]bool, n), y: make([]float64, n)}
	if weights {
		d.w = make([]float64, n)
	}
	if strata {
		d.strata = make([]int32, n)
	}
	for u := range n {
		d.treated[u] = rng.Float64() < 0.3
		switch kind {
		case msInt: // the treated reach beyond the controls (trimming)
			d.scores[u] = float64(rng.IntN(25))
			if d.treated[u] {
				d.scores[u] = float64(rng.IntN(28))
			}
		case msGrid:
			d.scores[u] = 0.05 + float64(rng.IntN(41))/41*0.9
		default:
			d.scores[u] = 0.01 + 0.98*rng.Float64()
		}
		if weights {
			switch {
			case fractional:
				d.w[u] = 0.1 * float64(1+rng.IntN(30))
			case zeroWeights && rng.IntN(5) == 0:
				d.w[u] = 0
			default:
				d.w[u] = float64(1 + rng.IntN(3))
			}
		}
		if strata {
			d.strata[u] = int32(rng.IntN(3))
			if d.treated[u] && rng.IntN(20) == 0 {
				d.strata[u] = 3
			}
		}
		d.y[u] = rng.NormFloat64() + d.scores[u]
	}
	return d
}

// msSplit splits the control units of d over k shards: unevenly (shard s
// draws controls in proportion to s+1), shard 1 (if any) without controls
// of stratum 0, and with k >= 3 shard k-1 empty.
func msSplit(t testing.TB, d msData, k int, seed uint64) []*MatchControls {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 23))
	units := make([][]int, k)
	live := k
	if k >= 3 {
		live = k - 1
	}
	tot := live * (live + 1) / 2
	for u, tr := range d.treated {
		if tr {
			continue
		}
		r := rng.IntN(tot)
		s := 0
		for r >= s+1 {
			r -= s + 1
			s++
		}
		if s == 1 && d.strata != nil && d.strata[u] == 0 {
			s = 0
		}
		units[s] = append(units[s], u)
	}
	shards := make([]*MatchControls, k)
	for s, us := range units {
		// in an order other than the units'
		rng.Shuffle(len(us), func(a, b int) { us[a], us[b] = us[b], us[a] })
		sc := make([]float64, len(us))
		var o MatchControlsOptions
		if d.w != nil {
			o.Weights = make([]float64, len(us))
		}
		if d.strata != nil {
			o.Strata = make([]int32, len(us))
		}
		for p, u := range us {
			sc[p] = d.scores[u]
			if d.w != nil {
				o.Weights[p] = d.w[u]
			}
			if d.strata != nil {
				o.Strata[p] = d.strata[u]
			}
		}
		var err error
		shards[s], err = NewMatchControls(us, sc, &o)
		require.NoError(t, err)
	}
	return shards
}

// treatedScores returns the scores of d's treated units in unit order.
func (d msData) treatedScores() []float64 {
	var s []float64
	for u, tr := range d.treated {
		if tr {
			s = append(s, d.scores[u])
		}
	}
	return s
}

func (d msData) unitOptions(mo MatchOptions) *UnitOptions {
	return &UnitOptions{Match: mo, Weights: d.w, Strata: d.strata}
}

func msShards(cs []*MatchControls) []MatchShard {
	out := make([]MatchShard, len(cs))
	for k, c := range cs {
		out[k] = c
	}
	return out
}

func bitsEq(a, b []float64) bool {
	return slices.EqualFunc(a, b, func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) })
}

// msSame requires the sharded matching got to equal MatchUnits' want bit
// for bit (block ranges excepted: they index different indexes).
func msSame(t *testing.T, want, got *UnitMatching, sets bool) {
	t.Helper()
	require.Equal(t, want.TreatedUnits, got.TreatedUnits)
	require.Equal(t, want.ControlUnits, got.ControlUnits)
	w, g := want.Matching, got.Matching
	require.Equal(t, w.Status, g.Status)
	require.Equal(t, w.Matched, g.Matched)
	require.True(t, bitsEq(w.MatchedWeight, g.MatchedWeight), "MatchedWeight")
	require.True(t, bitsEq(w.KthDistance, g.KthDistance), "KthDistance\n%v\n%v", w.KthDistance, g.KthDistance)
	for i, ok := range w.Matched {
		if ok {
			require.Equal(t, math.Float64bits(w.SetWeight[i]), math.Float64bits(g.SetWeight[i]), "SetWeight[%d] %v %v", i, w.SetWeight[i], g.SetWeight[i])
		}
	}
	if sets {
		require.Equal(t, w.Start, g.Start)
		require.Equal(t, w.Control, g.Control)
		require.True(t, bitsEq(w.Weight, g.Weight), "Weight")
	} else {
		require.Nil(t, g.Start)
	}
	require.True(t, bitsEq(w.ControlWeight, g.ControlWeight), "ControlWeight")
	require.Equal(t, w.MatchedControls, g.MatchedControls)
	require.Equal(t, w.NMatched, g.NMatched)
	require.Equal(t, w.NDistinctControls, g.NDistinctControls)
	require.Equal(t, math.Float64bits(w.WeightedControls), math.Float64bits(g.WeightedControls))
	require.Equal(t, w.Index().Len(), g.Index().Len())
}

// msATT requires ATT on the sharded matching to equal ATT on MatchUnits'
// bit for bit, the SE to 1e-12 relative when some control weighs 0.
func msATT(t *testing.T, d msData, want, got *UnitMatching) {
	t.Helper()
	a, err := want.ATT(d.y, nil)
	require.NoError(t, err)
	b, err := got.ATT(d.y, nil)
	require.NoError(t, err)
	if !slices.Contains(d.w, 0) {
		require.Equal(t, a, b)
		return
	}
	require.InEpsilon(t, a.SE, b.SE, 1e-12)
	a.SE = b.SE
	require.Equal(t, a, b)
}

type msCase struct {
	name                         string
	kind                         msKind
	weights, strata, frac, zeroW bool
	mo                           MatchOptions
}

func msCases() []msCase {
	var cs []msCase
	for _, kind := range []msKind{msInt, msGrid, msCont} {
		for _, k := range []int{1, 3} {
			for _, cal := range []float64{0, 0.05, 0.3} {
				for _, ws := range []struct{ w, s, z bool }{{false, false, false}, {true, true, true}, {true, false, false}, {false, true, false}} {
					mo := MatchOptions{K: k, Caliper: cal}
					if kind == msGrid && k == 3 {
						mo.Distance = LogitDistance
					}
					if kind == msCont && cal == 0.05 {
						mo.TieTolerance = 0.01
					}
					if kind == msInt && k == 1 && cal > 0 {
						mo.Trim = true
					}
					cs = append(cs, msCase{name: fmt.Sprintf("kind%d/K%d/cal%v/w%v-s%v-z%v/%v", kind, k, cal, ws.w, ws.s, ws.z, mo.Distance),
						kind: kind, weights: ws.w, strata: ws.s, zeroW: ws.z, mo: mo})
				}
			}
		}
	}
	return cs
}

// The sharded matching is MatchUnits' bit for bit (whole-number weights,
// including zeros; ties; strata, one without controls; K 1 and 3; with
// and without caliper, tolerance and trimming; both scales), for 1, 2, 3
// and 5 uneven shards (an empty one, one without controls of a stratum),
// and ATT on it is ATT on MatchUnits' (bit for bit; the SE to 1e-12 with
// zero weights).
func TestMatchUnitsShardsEqual(t *testing.T) {
	for ci, c := range msCases() {
		t.Run(c.name, func(t *testing.T) {
			d := msGen(uint64(ci), 300, c.kind, c.weights, c.strata, c.frac, c.zeroW)
			want, werr := MatchUnits(d.scores, d.treated, d.unitOptions(c.mo))
			for _, k := range []int{1, 2, 3, 5} {
				shards := msShards(msSplit(t, d, k, uint64(ci*10+k)))
				got, err := MatchUnitsShards(context.Background(), shards, d.treatedScores(), d.treated, d.unitOptions(c.mo))
				if werr != nil {
					require.Error(t, err)
					require.Equal(t, werr.Error(), err.Error())
					continue
				}
				require.NoError(t, err, "%d shards", k)
				msSame(t, want, got, true)
				msATT(t, d, want, got)
			}
		})
	}
}

// The lazy block weights (more blocks than eagerBlocks), SkipSets, and
// larger data: still MatchUnits' matching.
func TestMatchUnitsShardsLazy(t *testing.T) {
	old := eagerBlocks
	defer func() { eagerBlocks = old }()
	for _, eager := range []int{4, 1 << 16} {
		eagerBlocks = eager
		for ci, c := range []msCase{
			{kind: msCont, weights: true, strata: true, zeroW: true, mo: MatchOptions{K: 3, Caliper: 0.1}},
			{kind: msInt, weights: true, mo: MatchOptions{K: 2, SkipSets: true}},
			{kind: msGrid, strata: true, mo: MatchOptions{K: 1, TieTolerance: 0.02, Distance: LogitDistance}},
		} {
			t.Run(fmt.Sprintf("eager%d/%d", eager, ci), func(t *testing.T) {
				d := msGen(uint64(100+ci), 3000, c.kind, c.weights, c.strata, false, c.zeroW)
				want, err := MatchUnits(d.scores, d.treated, d.unitOptions(c.mo))
				require.NoError(t, err)
				got, err := MatchUnitsShards(context.Background(), msShards(msSplit(t, d, 4, 7)), d.treatedScores(), d.treated, d.unitOptions(c.mo))
				require.NoError(t, err)
				msSame(t, want, got, !c.mo.SkipSets)
				msATT(t, d, want, got)
			})
		}
	}
}

// With fractional weights the engine rounds its weight sums in the order
// of all controls: on these data the sets are still the same, and the
// set weights agree to rounding.
func TestMatchUnitsShardsFractional(t *testing.T) {
	for ci, mo := range []MatchOptions{{K: 1}, {K: 3, Caliper: 0.2}} {
		d := msGen(uint64(200+ci), 600, msCont, true, true, true, false)
		want, err := MatchUnits(d.scores, d.treated, d.unitOptions(mo))
		require.NoError(t, err)
		got, err := MatchUnitsShards(context.Background(), msShards(msSplit(t, d, 3, 9)), d.treatedScores(), d.treated, d.unitOptions(mo))
		require.NoError(t, err)
		require.Equal(t, want.Status, got.Status)
		require.Equal(t, want.Start, got.Start)
		require.Equal(t, want.Control, got.Control)
		require.InDeltaSlice(t, want.Weight, got.Weight, 1e-14)
		require.InDeltaSlice(t, want.ControlWeight, got.ControlWeight, 1e-12)
		a, err := want.ATT(d.y, nil)
		require.NoError(t, err)
		b, err := got.ATT(d.y, nil)
		require.NoError(t, err)
		require.InEpsilon(t, a.ATT, b.ATT, 1e-12)
		require.InEpsilon(t, a.SE, b.SE, 1e-12)
	}
}

// msWire is a shard across the wire: the query and the answers travel
// encoded.
type msWire struct{ s MatchShard }

func (w msWire) Moments(ctx context.Context, d Distance) (*MatchMoments, error) {
	m, err := w.s.Moments(ctx, d)
	if err != nil {
		return nil, err
	}
	return overWire[MatchMoments](m)
}

func (w msWire) Candidates(ctx context.Context, q *MatchQuery) (*MatchCandidates, error) {
	q2, err := overWire[MatchQuery](q)
	if err != nil {
		return nil, err
	}
	c, err := w.s.Candidates(ctx, q2)
	if err != nil {
		return nil, err
	}
	return overWire[MatchCandidates](c)
}

// Across the wire the matching is the same; the trimmed and caliper
// cases are exercised (statuses other than matched occur).
func TestMatchUnitsShardsWire(t *testing.T) {
	seen := map[MatchStatus]bool{}
	for ci, c := range []msCase{
		{kind: msInt, weights: true, strata: true, zeroW: true, mo: MatchOptions{K: 1, Caliper: 0.1, Trim: true}},
		{kind: msGrid, strata: true, mo: MatchOptions{K: 3, Caliper: 0.02, Distance: LogitDistance}},
	} {
		d := msGen(uint64(300+ci), 500, c.kind, c.weights, c.strata, false, c.zeroW)
		want, err := MatchUnits(d.scores, d.treated, d.unitOptions(c.mo))
		require.NoError(t, err)
		var shards []MatchShard
		for _, s := range msSplit(t, d, 5, 11) {
			shards = append(shards, msWire{s})
		}
		got, err := MatchUnitsShards(context.Background(), shards, d.treatedScores(), d.treated, d.unitOptions(c.mo))
		require.NoError(t, err)
		msSame(t, want, got, true)
		for _, st := range got.Status {
			seen[st] = true
		}
	}
	require.Len(t, seen, 5, "%v", seen)
}

// The width of the query is the engine's caliper width bit for bit, for
// any split of the controls (both are rounded once from the exact sums).
func TestMatchRunWidth(t *testing.T) {
	for ci, c := range msCases() {
		if c.mo.Caliper == 0 {
			continue
		}
		d := msGen(uint64(ci), 300, c.kind, c.weights, c.strata, false, c.zeroW)
		um, err := MatchUnits(d.scores, d.treated, d.unitOptions(c.mo))
		require.NoError(t, err)
		// the engine's width, as MatchInto computes it
		m := um.Matching
		ix := m.Index()
		var sr searcher
		var bw blockWeights
		bw.prepare(ix, m.cw)
		xt, err := transformInto(nil, "treated", d.treatedScores(), c.mo.Distance)
		require.NoError(t, err)
		torder := make([]int32, len(xt))
		for i := range torder {
			torder[i] = int32(i)
		}
		cmin, cmax := math.Inf(1), math.Inf(-1)
		for j, x := range ix.x {
			if m.controlWeight(j) > 0 {
				cmin, cmax = min(cmin, x), max(cmax, x)
			}
		}
		o := c.mo
		require.NoError(t, ix.scaleStats(&sr, &bw, &o, xt, m.tw, torder, cmin, cmax))
		for _, k := range []int{1, 3} {
			_, q, _ := msRound(t, d, c.mo, msSplit(t, d, k, 1))
			require.Equal(t, sr.calScale, q.WidthExp != 0)
			require.Equal(t, math.Float64bits(sr.cal), math.Float64bits(q.Width), "%s: %v %v", c.name, sr.cal, q.Width)
		}
	}
}

// The index of a sharded matching cannot match; it holds the candidate
// controls only.
func TestMatchUnitsShardsIndex(t *testing.T) {
	d := msGen(9, 200, msGrid, false, false, false, false)
	got, err := MatchUnitsShards(context.Background(), msShards(msSplit(t, d, 2, 2)), d.treatedScores(), d.treated, d.unitOptions(MatchOptions{}))
	require.NoError(t, err)
	ix := got.Index()
	require.Equal(t, len(got.ControlUnits), ix.Len())
	_, err = ix.Match([]float64{0.5}, nil)
	require.ErrorIs(t, err, ErrBadOption)
	_, err = ix.NewSearcher(nil, nil)
	require.ErrorIs(t, err, ErrBadOption)
	held := 0
	for j := range ix.Len() {
		if b := ix.BlockOf(j); b >= 0 {
			held++
			require.Contains(t, ix.Block(b), int32(j))
		}
	}
	require.Less(t, held, ix.Len())
	require.Equal(t, got.NDistinctControls, len(got.MatchedControls))
	for _, j := range got.MatchedControls {
		require.GreaterOrEqual(t, ix.BlockOf(int(j)), 0)
	}
}

// msFail is a shard that fails.
type msFail struct {
	MatchShard
	err error
}

func (f msFail) Candidates(context.Context, *MatchQuery) (*MatchCandidates, error) { return nil, f.err }

type msNil struct{ MatchShard }

func (msNil) Candidates(context.Context, *MatchQuery) (*MatchCandidates, error) { return nil, nil }

func TestMatchUnitsShardsErrors(t *testing.T) {
	ctx := context.Background()
	d := msGen(10, 200, msGrid, true, true, false, false)
	cs := msSplit(t, d, 3, 3)
	shards := msShards(cs)
	ts := d.treatedScores()
	run := func(mo MatchOptions, shards []MatchShard) error {
		_, err := MatchUnitsShards(ctx, shards, ts, d.treated, d.unitOptions(mo))
		return err
	}
	field := func(err error, name string, index int, sentinel error) {
		t.Helper()
		var ie *InputError
		require.True(t, errors.As(err, &ie), "%v", err)
		require.Equal(t, name, ie.Field, "%v", err)
		require.Equal(t, index, ie.Index, "%v", err)
		require.ErrorIs(t, err, sentinel)
	}
	field(run(MatchOptions{NoReplacement: true}, shards), "NoReplacement", -1, ErrBadOption)
	field(run(MatchOptions{TieRule: TieRMatching}, shards), "TieRule", -1, ErrBadOption)
	field(run(MatchOptions{K: -1}, shards), "K", -1, ErrBadOption)
	field(run(MatchOptions{Caliper: math.Inf(1)}, shards), "Caliper", -1, ErrBadOption)
	field(run(MatchOptions{}, nil), "shards", -1, ErrBadOption)
	field(run(MatchOptions{}, []MatchShard{cs[0], nil}), "shards", -1, ErrBadOption)
	// a shard missing, shards overlapping (with and without moments)
	field(run(MatchOptions{}, shards[1:]), "MatchCandidates", -1, ErrBadOption)
	field(run(MatchOptions{Caliper: 0.1}, shards[1:]), "moments", -1, ErrBadOption)
	field(run(MatchOptions{}, append(shards, cs[0])), "MatchCandidates", -1, ErrBadOption)
	// a shard's own error, the lowest-numbered; a nil answer
	e1, e2 := errors.New("shard 1"), errors.New("shard 2")
	require.Equal(t, e1, run(MatchOptions{}, []MatchShard{cs[0], msFail{cs[1], e1}, msFail{cs[2], e2}}))
	field(run(MatchOptions{}, []MatchShard{cs[0], cs[1], msNil{cs[2]}}), "shards", -1, ErrBadOption)
	// weights or strata of a shard that are not the run's
	var tu, cu []int
	for u, tr := range d.treated {
		if tr {
			tu = append(tu, u)
		} else {
			cu = append(cu, u)
		}
	}
	w2 := append([]float64(nil), d.w...)
	for _, u := range cu {
		w2[u]++
	}
	_, err := MatchUnitsShards(ctx, shards, ts, d.treated, &UnitOptions{Weights: w2, Strata: d.strata})
	field(err, "MatchCandidates", -1, ErrBadOption)
	// unit errors name the unit
	bad := append([]float64(nil), ts...)
	bad[4] = math.NaN()
	_, err = MatchUnitsShards(ctx, shards, bad, d.treated, d.unitOptions(MatchOptions{}))
	field(err, "scores", tu[4], ErrBadScore)
	bw := append([]float64(nil), d.w...)
	bw[cu[7]] = -1
	_, err = MatchUnitsShards(ctx, shards, ts, d.treated, &UnitOptions{Weights: bw, Strata: d.strata})
	field(err, "Weights", cu[7], ErrBadWeight)
	_, err = NewMatchControls([]int{3, 5}, []float64{0.1, 0.2}, &MatchControlsOptions{Weights: []float64{1, math.NaN()}})
	field(err, "Weights", 5, ErrBadWeight)
	_, err = NewMatchControls([]int{3, 3}, []float64{0.1, 0.2}, nil)
	field(err, "units", 1, ErrBadOption)
	sh, err := NewMatchControls([]int{cu[0], cu[1]}, []float64{0.1, 1.5}, nil)
	require.NoError(t, err)
	_, err = sh.Candidates(ctx, &MatchQuery{Distance: LogitDistance, K: 1})
	field(err, "scores", cu[1], ErrBadScore)
	_, err = sh.Candidates(ctx, &MatchQuery{K: 1, Strata: []int32{}})
	field(err, "Strata", -1, ErrBadOption)
	// MatchUnits' errors for the same input
	for _, mo := range []MatchOptions{{Caliper: 5e-324}, {K: 10000}} {
		_, werr := MatchUnits(d.scores, d.treated, d.unitOptions(mo))
		require.Error(t, werr)
		require.Equal(t, werr.Error(), run(mo, shards).Error())
	}
	dc := msGen(10, 200, msCont, false, false, false, false)
	_, werr := MatchUnits(dc.scores, dc.treated, dc.unitOptions(MatchOptions{Caliper: 1e-12}))
	require.ErrorIs(t, werr, ErrNoMatch)
	_, err = MatchUnitsShards(ctx, msShards(msSplit(t, dc, 2, 2)), dc.treatedScores(), dc.treated, dc.unitOptions(MatchOptions{Caliper: 1e-12}))
	require.Equal(t, werr, err)
	allZero := make([]float64, len(d.treated))
	for _, u := range tu {
		allZero[u] = 1
	}
	_, werr = MatchUnits(d.scores, d.treated, &UnitOptions{Weights: allZero})
	_, err = MatchUnitsShards(ctx, shards, ts, d.treated, &UnitOptions{Weights: allZero})
	require.Equal(t, werr, err)
	// Finish before Query, candidates of another query
	r, err := NewMatchRun(ts, d.treated, d.unitOptions(MatchOptions{}))
	require.NoError(t, err)
	_, err = r.Finish(&MatchCandidates{})
	field(err, "MatchRun", -1, ErrBadOption)
	_, err = r.Query(nil)
	require.NoError(t, err)
	c, err := cs[0].Candidates(ctx, &MatchQuery{K: 2, Strata: []int32{}})
	require.NoError(t, err)
	_, err = r.Finish(c)
	field(err, "MatchCandidates", -1, ErrBadOption)
	_, err = r.Query(nil)
	require.NoError(t, err)
	r2, err := NewMatchRun(ts, d.treated, d.unitOptions(MatchOptions{Trim: true}))
	require.NoError(t, err)
	_, err = r2.Query(nil)
	field(err, "moments", -1, ErrBadOption)
}

// Shards answer at once (and one MatchControls serves two runs at once):
// for the race detector.
func TestMatchUnitsShardsRace(t *testing.T) {
	d := msGen(12, 400, msCont, true, true, false, true)
	cs := msShards(msSplit(t, d, 5, 5))
	mo := MatchOptions{K: 2, Caliper: 0.2}
	want, err := MatchUnits(d.scores, d.treated, d.unitOptions(mo))
	require.NoError(t, err)
	var wg sync.WaitGroup
	got := make([]*UnitMatching, 4)
	errs := make([]error, 4)
	for k := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[k], errs[k] = MatchUnitsShards(context.Background(), cs, d.treatedScores(), d.treated, d.unitOptions(mo))
		}()
	}
	wg.Wait()
	for k := range got {
		require.NoError(t, errs[k])
		msSame(t, want, got[k], true)
	}
}

// Random small data sets (few score levels: ties everywhere; zero
// weights; up to three strata; K up to 4; caliper, tolerance, trimming,
// both scales, SkipSets), over 1 to 6 shards, a quarter with the lazy
// block weights: the sharded matching is MatchUnits' bit for bit, or
// fails with its error; ATT agrees (the SE to 1e-12).
func TestMatchUnitsShardsRandom(t *testing.T) {
	old := eagerBlocks
	defer func() { eagerBlocks = old }()
	for seed := range 2000 {
		eagerBlocks = old
		if seed%4 == 0 {
			eagerBlocks = 2
		}
		rng := rand.New(rand.NewPCG(uint64(seed), 77))
		n := 2 + rng.IntN(60)
		d := msData{scores: make([]float64, n), treated: make([]bool, n), y: make([]float64, n)}
		levels := 1 + rng.IntN(8)
		if rng.IntN(2) == 0 {
			d.w = make([]float64, n)
		}
		if rng.IntN(2) == 0 {
			d.strata = make([]int32, n)
		}
		ns := 1 + rng.IntN(3)
		hasC := false
		for u := range n {
			d.treated[u] = rng.IntN(3) == 0
			hasC = hasC || !d.treated[u]
			d.scores[u] = 0.05 + 0.9*float64(rng.IntN(levels))/float64(levels)
			if rng.IntN(4) == 0 {
				d.scores[u] = 0.01 + 0.98*rng.Float64()
			}
			if d.w != nil {
				d.w[u] = float64(rng.IntN(4))
			}
			if d.strata != nil {
				d.strata[u] = int32(rng.IntN(ns))
			}
			d.y[u] = rng.NormFloat64()
		}
		mo := MatchOptions{K: 1 + rng.IntN(4)}
		if rng.IntN(2) == 0 {
			mo.Caliper = []float64{0.01, 0.1, 0.5, 2}[rng.IntN(4)]
		}
		if rng.IntN(3) == 0 {
			mo.TieTolerance = []float64{1e-9, 0.05, 0.3}[rng.IntN(3)]
		}
		mo.Trim = rng.IntN(4) == 0
		if rng.IntN(3) == 0 {
			mo.Distance = LogitDistance
		}
		mo.SkipSets = rng.IntN(5) == 0
		k := 1 + rng.IntN(6)
		if !hasC {
			continue
		}
		want, werr := MatchUnits(d.scores, d.treated, d.unitOptions(mo))
		got, err := MatchUnitsShards(context.Background(), msShards(msSplit(t, d, k, uint64(seed))), d.treatedScores(), d.treated, d.unitOptions(mo))
		if werr != nil {
			require.Error(t, err, "seed %d: want %v", seed, werr)
			require.Equal(t, werr.Error(), err.Error(), "seed %d", seed)
			continue
		}
		require.NoError(t, err, "seed %d", seed)
		msSame(t, want, got, !mo.SkipSets)
		if mo.SkipSets {
			continue
		}
		a, e1 := want.ATT(d.y, nil)
		b, e2 := got.ATT(d.y, nil)
		require.Equal(t, e1, e2)
		if a.SE > 0 {
			require.InEpsilon(t, a.SE, b.SE, 1e-12, "seed %d", seed)
			a.SE, b.SE = 0, 0
		}
		require.Equal(t, fmt.Sprintf("%#v", a), fmt.Sprintf("%#v", b), "seed %d", seed)
	}
}
