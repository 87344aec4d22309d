package psm

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"testing"
)

// naiveSet is the Searcher's rule written out directly (the reference):
// sort the stratum's controls with positive weight within width by
// distance, add weights until K, then take everything within d_K + tol.
func naiveSet(x []float64, strata []int32, c []float64, t float64, s int32, o SearchOptions) (set []int, total, dK float64, ok bool) {
	type cand struct {
		j int
		d float64
	}
	var cs []cand
	for j, v := range x {
		if c[j] <= 0 || (strata != nil && strata[j] != s) {
			continue
		}
		d := math.Abs(v - t)
		if o.Width > 0 && d > o.Width {
			continue
		}
		cs = append(cs, cand{j, d})
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return cmp.Compare(a.d, b.d) })
	k := float64(max(o.K, 1))
	got := 0.0
	for _, e := range cs {
		if got >= k {
			break
		}
		got += c[e.j]
		dK = e.d
	}
	if got == 0 || (got < k && !o.Partial) {
		return nil, 0, 0, false
	}
	for _, e := range cs {
		if e.d <= dK+o.TieTolerance {
			set = append(set, e.j)
			total += c[e.j]
		}
	}
	slices.Sort(set)
	return set, total, dK, true
}

// TestSearcherMatchesNaive checks Searcher.Find against naiveSet on scores
// with many ties, integer weights with zeros, strata, widths, tolerances
// and Partial. The totals are sums of integers: exact.
func TestSearcherMatchesNaive(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := 0; trial < 200; trial++ {
		n := 1 + r.IntN(60)
		if trial%3 == 0 {
			n = 1 + r.IntN(6) // strata lighter than K
		}
		x := make([]float64, n)
		c := make([]float64, n)
		var strata []int32
		if trial%2 == 1 {
			strata = make([]int32, n)
		}
		for j := range x {
			x[j] = float64(r.IntN(12)) / 8 // ties
			c[j] = float64(r.IntN(4))      // 0..3
			if strata != nil {
				strata[j] = int32(r.IntN(3)) - 1
			}
		}
		ix, err := NewIndex(x, &MatchOptions{ControlStrata: strata})
		if err != nil {
			t.Fatal(err)
		}
		o := SearchOptions{K: r.IntN(4), Partial: r.IntN(2) == 1}
		if r.IntN(2) == 0 {
			o.Width = float64(r.IntN(4)) / 8
		}
		if r.IntN(2) == 0 {
			o.TieTolerance = 0.125
		}
		sr, err := ix.NewSearcher(func(p int) float64 { return c[ix.Control(p)] }, &o)
		if err != nil {
			t.Fatal(err)
		}
		for q := 0; q < 20; q++ {
			tv := float64(r.IntN(14)-1) / 8
			s := int32(r.IntN(4)) - 1
			want, wtot, dK, wok := naiveSet(x, strata, c, tv, s, o)
			lo, hi, tot, ok := sr.Find(tv, s)
			var got []int
			for p := lo; p < hi; p++ {
				// every position of the range, weighted or not, is a tie
				if j := ix.Control(p); math.Abs(x[j]-tv) > dK+o.TieTolerance {
					t.Fatalf("trial %d (%+v) t=%v: control %d at distance %v beyond %v+%v in [lo, hi)", trial, o, tv, j, math.Abs(x[j]-tv), dK, o.TieTolerance)
				}
				if j := ix.Control(p); c[j] > 0 {
					if strata != nil && strata[j] != s {
						t.Fatalf("trial %d: control %d of stratum %d in a set for stratum %d", trial, j, strata[j], s)
					}
					got = append(got, j)
				}
			}
			slices.Sort(got)
			if ok != wok || tot != wtot || !slices.Equal(got, want) {
				t.Fatalf("trial %d (%+v) t=%v s=%d: got %v %v %v, want %v %v %v", trial, o, tv, s, ok, tot, got, wok, wtot, want)
			}
		}
		lo, hi, ok := sr.Support()
		wlo, whi := math.Inf(1), math.Inf(-1)
		for j, v := range x {
			if c[j] > 0 {
				wlo, whi = min(wlo, v), max(whi, v)
			}
		}
		if ok != (wlo <= whi) || (ok && (lo != wlo || hi != whi)) {
			t.Fatalf("trial %d: Support %v %v %v, want %v %v", trial, lo, hi, ok, wlo, whi)
		}
	}
}

// TestSearcherEqualsMatchInto checks that the Searcher forms the sets
// MatchInto forms with the same weights as a vector (K, TieTolerance,
// strata; no caliper, whose MatchOptions unit differs).
func TestSearcherEqualsMatchInto(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	n, T := 500, 80
	x := make([]float64, n)
	c := make([]float64, n)
	strata := make([]int32, n)
	for j := range x {
		x[j] = math.Round(r.Float64()*200) / 200
		c[j] = float64(r.IntN(3))
		strata[j] = int32(r.IntN(2))
	}
	tx := make([]float64, T)
	ts := make([]int32, T)
	for i := range tx {
		tx[i] = math.Round(r.Float64()*200) / 200
		ts[i] = int32(r.IntN(2))
	}
	ix, err := NewIndex(x, &MatchOptions{ControlStrata: strata})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []int{1, 3} {
		m, err := ix.Match(tx, &MatchOptions{K: k, TieTolerance: 1e-3, TreatedStrata: ts, ControlWeights: c})
		if err != nil {
			t.Fatal(err)
		}
		sr, err := ix.NewSearcher(func(p int) float64 { return c[ix.Control(p)] }, &SearchOptions{K: k, TieTolerance: 1e-3})
		if err != nil {
			t.Fatal(err)
		}
		for i, tv := range tx {
			lo, hi, tot, ok := sr.Find(tv, ts[i])
			if ok != m.Matched[i] {
				t.Fatalf("K=%d treated %d: ok %v, Match says %v", k, i, ok, m.Matched[i])
			}
			if !ok {
				continue
			}
			var got []int32
			var gw []float64
			for p := lo; p < hi; p++ {
				if j := ix.Control(p); c[j] > 0 {
					got = append(got, int32(j))
					gw = append(gw, c[j]/tot)
				}
			}
			if !slices.Equal(got, m.Control[m.Start[i]:m.Start[i+1]]) || !slices.Equal(gw, m.Weight[m.Start[i]:m.Start[i+1]]) {
				t.Fatalf("K=%d treated %d: set %v %v, Match %v %v", k, i, got, gw,
					m.Control[m.Start[i]:m.Start[i+1]], m.Weight[m.Start[i]:m.Start[i+1]])
			}
		}
	}
}

func TestNewSearcherOptions(t *testing.T) {
	ix, err := NewIndex([]float64{0.1, 0.2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []SearchOptions{{K: -1}, {Width: -1}, {Width: math.NaN()}, {TieTolerance: math.Inf(1)}} {
		if _, err := ix.NewSearcher(nil, &o); err == nil {
			t.Errorf("%+v: no error", o)
		}
	}
	s, err := ix.NewSearcher(nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if lo, hi, tot, ok := s.Find(0.19, 0); !ok || hi-lo != 1 || tot != 1 || ix.Control(lo) != 1 {
		t.Fatalf("Find(0.19) = %d %d %v %v", lo, hi, tot, ok)
	}
	// Partial with a stratum lighter than K: the set is the positive
	// control, not the weightless ones passed on the way to the ends.
	ix, err = NewIndex([]float64{0, 0.5, 1}, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := []float64{0, 1, 0}
	s, err = ix.NewSearcher(func(p int) float64 { return c[ix.Control(p)] }, &SearchOptions{K: 3, Partial: true})
	if err != nil {
		t.Fatal(err)
	}
	if lo, hi, tot, ok := s.Find(0.5, 0); !ok || lo != 1 || hi != 2 || tot != 1 {
		t.Fatalf("partial Find(0.5) = %d %d %v %v, want 1 2 1 true", lo, hi, tot, ok)
	}
}

// TestGallop checks gallopDown and gallopUp against the boundary they
// search for, for every boundary in ranges of every length up to 40.
func TestGallop(t *testing.T) {
	for lo := int32(0); lo < 3; lo++ {
		for hi := lo; hi < lo+40; hi++ {
			for x := lo; x <= hi; x++ {
				ok := func(b int32) bool {
					if b < lo || b >= hi {
						t.Fatalf("[%d, %d) probed %d", lo, hi, b)
					}
					return b >= x
				}
				if got := gallopDown(lo, hi, ok); got != x {
					t.Fatalf("gallopDown [%d, %d) x=%d: %d", lo, hi, x, got)
				}
				if got := gallopUp(lo, hi, ok); got != x {
					t.Fatalf("gallopUp [%d, %d) x=%d: %d", lo, hi, x, got)
				}
			}
		}
	}
}

func TestLowerBound(t *testing.T) {
	x := []float64{-1, 0, 0, 0.5, 2, 2, 7}
	for _, v := range []float64{-2, -1, -0.5, 0, 0.25, 0.5, 1, 2, 3, 7, 8} {
		if got, want := lowerBound(x, v), sort.SearchFloat64s(x, v); got != want {
			t.Errorf("lowerBound(%v) = %d, want %d", v, got, want)
		}
	}
}

// lowerBoundNear finds what lowerBound finds from any guess, on sorted
// arrays with runs of equal values, for targets below, between, on and
// above the values.
func TestLowerBoundNear(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for trial := 0; trial < 2000; trial++ {
		n := r.IntN(70)
		x := make([]float64, n)
		v := 0.0
		for i := range x {
			if r.IntN(3) > 0 {
				v += float64(r.IntN(3))
			}
			x[i] = v
		}
		for range 20 {
			tv := float64(r.IntN(int(v)+4)) - 1.5 + float64(r.IntN(2))*0.5
			want := lowerBound(x, tv)
			for g := 0; g <= n; g++ {
				if got := lowerBoundNear(x, tv, g); got != want {
					t.Fatalf("x %v t %v guess %d: %d, lowerBound %d", x, tv, g, got, want)
				}
			}
		}
	}
}

// FindNear returns Find's set for any hint (exact, off, out of range,
// another stratum's), and LowerBlock is the first block of the stratum
// with score ≥ t.
func TestFindNear(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for trial := 0; trial < 300; trial++ {
		n := 1 + r.IntN(80)
		x := make([]float64, n)
		c := make([]float64, n)
		var strata []int32
		if trial%2 == 1 {
			strata = make([]int32, n)
		}
		for j := range x {
			x[j] = float64(r.IntN(16)) / 8
			c[j] = float64(r.IntN(3))
			if strata != nil {
				strata[j] = int32(r.IntN(3))
			}
		}
		ix, err := NewIndex(x, &MatchOptions{ControlStrata: strata})
		if err != nil {
			t.Fatal(err)
		}
		B := ix.NumBlocks()
		o := &SearchOptions{K: 1 + r.IntN(3), Partial: r.IntN(2) == 1}
		a, _ := ix.NewSearcher(func(p int) float64 { return c[ix.Control(p)] }, o)
		b, _ := ix.NewSearcher(func(p int) float64 { return c[ix.Control(p)] }, o)
		for q := 0; q < 30; q++ {
			tv := float64(r.IntN(20)-2) / 8
			s := int32(r.IntN(4)) - 1
			lb := ix.LowerBlock(tv, s)
			// LowerBlock: the stratum's first block with score ≥ t
			for k := 0; k < B; k++ {
				j := ix.Block(k)[0]
				if strata != nil && strata[j] != s {
					continue
				}
				if (k < lb) != (ix.BlockScore(k) < tv) {
					t.Fatalf("trial %d t=%v s=%d: LowerBlock %d, but block %d has score %v", trial, tv, s, lb, k, ix.BlockScore(k))
				}
			}
			lo, hi, tot, ok := a.Find(tv, s)
			for _, h := range []int{lb, lb + 1, lb - 1, 0, B, B + 1, -1, r.IntN(B + 1)} {
				lo2, hi2, tot2, ok2 := b.FindNear(tv, s, h)
				if lo2 != lo || hi2 != hi || tot2 != tot || ok2 != ok {
					t.Fatalf("trial %d t=%v s=%d hint %d: %d %d %v %v, Find %d %d %v %v", trial, tv, s, h, lo2, hi2, tot2, ok2, lo, hi, tot, ok)
				}
			}
		}
	}
}
