package psm

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/psmeval/psmeval/internal/rng"
)

// bootData is a small sample with tied scores (rounded to 0.02), two
// strata, whole-number weights and two outcomes.
func bootData(seed uint64, nt, nc int) (ts, cs []float64, tw, cw []float64, tst, cst []int32, yt, yc [][]float64) {
	r := rand.New(rand.NewPCG(seed, 7))
	gen := func(n int, shift float64) (s, w []float64, st []int32, y [][]float64) {
		y = make([][]float64, 2)
		for i := 0; i < n; i++ {
			p := math.Round((0.15+0.6*r.Float64()+shift)*50) / 50
			s = append(s, p)
			w = append(w, float64(1+r.IntN(3)))
			st = append(st, int32(r.IntN(2)))
			y[0] = append(y[0], 2*p+r.NormFloat64())
			y[1] = append(y[1], float64(r.IntN(2)))
		}
		return
	}
	ts, tw, tst, yt = gen(nt, 0.1)
	cs, cw, cst, yc = gen(nc, 0)
	return
}

// expand returns the rows of s repeated count[i] times in input order.
func expand(s, count []float64) []float64 {
	var out []float64
	for i, v := range s {
		for range int(count[i]) {
			out = append(out, v)
		}
	}
	return out
}

func expandStrata(s []int32, count []float64) []int32 {
	var out []int32
	for i, v := range s {
		for range int(count[i]) {
			out = append(out, v)
		}
	}
	return out
}

// drawCounts re-implements the documented replicate draw of one group:
// W copies drawn uniformly (rng.Uint64N on the PCG keyed by
// rng.ReplicateKey(seed, b) and the group's stream id) from the copies of
// the units in (stratum, score, weight, outcomes) order (st nil: no
// strata).
func drawCounts(seed uint64, b int, stream uint64, s, w []float64, st []int32, y [][]float64) []float64 {
	type unit struct {
		i    int
		keys []float64
	}
	us := make([]unit, len(s))
	for i := range s {
		k := []float64{0, s[i], w[i]}
		if st != nil {
			k[0] = float64(st[i])
		}
		for _, yk := range y {
			k = append(k, yk[i])
		}
		us[i] = unit{i, k}
	}
	slices.SortStableFunc(us, func(a, b unit) int { return slices.Compare(a.keys, b.keys) })
	var copies []int
	for _, u := range us {
		for range int(w[u.i]) {
			copies = append(copies, u.i)
		}
	}
	g := rand.NewPCG(rng.ReplicateKey(seed, b), stream)
	cnt := make([]float64, len(s))
	for range copies {
		cnt[copies[rng.Uint64N(g, uint64(len(copies)))]]++
	}
	return cnt
}

// Each replicate equals psm.Match and ATT on the resampled data with
// duplicated rows and no weights (the definition of the bootstrap, an
// independent path through the matcher), for every matching option.
func TestBootstrapReplicateIsResampledData(t *testing.T) {
	ts, cs, tw, cw, tst, cst, yt, yc := bootData(1, 40, 150)
	cases := map[string]MatchOptions{
		"sfi":            {},
		"k2 caliper":     {K: 2, Caliper: 0.25},
		"strata trim":    {Trim: true},
		"logit R ties":   {Distance: LogitDistance, TieRule: TieRMatching, TieTolerance: 1e-7},
		"no replacement": {NoReplacement: true},
	}
	for name, mo := range cases {
		t.Run(name, func(t *testing.T) {
			mo.TreatedWeights, mo.ControlWeights = tw, cw
			if name == "strata trim" {
				mo.TreatedStrata, mo.ControlStrata = tst, cst
			}
			const seed, R = 11, 12
			res, err := Bootstrap(context.Background(), ts, cs, yt, yc, &BootstrapOptions{Replicates: R, Seed: seed, Match: mo})
			if err != nil {
				t.Fatal(err)
			}
			// the point estimate is psm.Match and ATT with the weights
			m, err := Match(ts, cs, &mo)
			if err != nil {
				t.Fatal(err)
			}
			for k := range yt {
				r, err := ATT(yt[k], yc[k], m, nil)
				if err != nil {
					t.Fatal(err)
				}
				if res.ATT[k] != r.ATT {
					t.Errorf("outcome %d: point estimate %v, Match+ATT %v", k, res.ATT[k], r.ATT)
				}
			}
			for b := 0; b < R; b++ {
				tc := drawCounts(seed, b, bootStreamTreated, ts, tw, mo.TreatedStrata, yt)
				cc := drawCounts(seed, b, bootStreamControl, cs, cw, mo.ControlStrata, yc)
				eo := mo
				eo.TreatedWeights, eo.ControlWeights = nil, nil
				if mo.TreatedStrata != nil {
					eo.TreatedStrata, eo.ControlStrata = expandStrata(tst, tc), expandStrata(cst, cc)
				}
				em, err := Match(expand(ts, tc), expand(cs, cc), &eo)
				for k := range yt {
					got := res.Draws[k][b]
					if errors.Is(err, ErrNoMatch) {
						if !math.IsNaN(got) {
							t.Errorf("replicate %d: %v, resampled data match no treated unit", b, got)
						}
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					r, err := ATT(expand(yt[k], tc), expand(yc[k], cc), em, nil)
					if err != nil {
						t.Fatal(err)
					}
					// tolerance: the sums run over weighted units or over
					// their copies, which differ only in rounding.
					if math.Abs(got-r.ATT) > 1e-12 {
						t.Errorf("replicate %d outcome %d: %v, resampled data %v", b, k, got, r.ATT)
					}
				}
			}
		})
	}
}

// The intervals are R's type-7 quantiles of the draws, the same bits for
// any worker count, and the same up to rounding for shuffled rows.
func TestBootstrapIntervalsWorkersRowOrder(t *testing.T) {
	ts, cs, tw, cw, _, _, yt, yc := bootData(2, 50, 200)
	opts := &BootstrapOptions{Replicates: 199, Seed: 5, Workers: 1, Match: MatchOptions{K: 2, TreatedWeights: tw, ControlWeights: cw}}
	r1, err := Bootstrap(context.Background(), ts, cs, yt, yc, opts)
	if err != nil {
		t.Fatal(err)
	}
	opts.Workers = 2
	r2, err := Bootstrap(context.Background(), ts, cs, yt, yc, opts)
	if err != nil {
		t.Fatal(err)
	}
	for k := range yt {
		if !slices.Equal(r1.Draws[k], r2.Draws[k]) || r1.Low[k] != r2.Low[k] || r1.High[k] != r2.High[k] {
			t.Errorf("outcome %d: 1 and 2 workers differ", k)
		}
		d := slices.Clone(r1.Draws[k])
		slices.Sort(d)
		// quantile(d, 0.025, type = 7): h = 0.025 * 198 = 4.95
		if want := d[4] + 0.95*(d[5]-d[4]); math.Abs(r1.Low[k]-want) > 1e-15 {
			t.Errorf("outcome %d: Low %v, type-7 quantile %v", k, r1.Low[k], want)
		}
		if want := d[193] + 0.05*(d[194]-d[193]); math.Abs(r1.High[k]-want) > 1e-15 {
			t.Errorf("outcome %d: High %v, type-7 quantile %v", k, r1.High[k], want)
		}
		if !(r1.Low[k] < r1.ATT[k] && r1.ATT[k] < r1.High[k]) {
			t.Errorf("outcome %d: ATT %v outside [%v, %v]", k, r1.ATT[k], r1.Low[k], r1.High[k])
		}
	}
	// shuffled rows
	perm := func(n int, seed uint64) []int { return rand.New(rand.NewPCG(seed, 1)).Perm(n) }
	pt, pc := perm(len(ts), 1), perm(len(cs), 2)
	shuf := func(x []float64, p []int) []float64 {
		out := make([]float64, len(x))
		for i, j := range p {
			out[i] = x[j]
		}
		return out
	}
	yts := [][]float64{shuf(yt[0], pt), shuf(yt[1], pt)}
	ycs := [][]float64{shuf(yc[0], pc), shuf(yc[1], pc)}
	opts.Match.TreatedWeights, opts.Match.ControlWeights = shuf(tw, pt), shuf(cw, pc)
	r3, err := Bootstrap(context.Background(), shuf(ts, pt), shuf(cs, pc), yts, ycs, opts)
	if err != nil {
		t.Fatal(err)
	}
	for k := range yt {
		for b, v := range r1.Draws[k] {
			if math.Abs(v-r3.Draws[k][b]) > 1e-12 {
				t.Fatalf("outcome %d replicate %d: %v, shuffled rows %v", k, b, v, r3.Draws[k][b])
			}
		}
	}
	// another seed gives other draws
	opts.Seed = 6
	r4, err := Bootstrap(context.Background(), shuf(ts, pt), shuf(cs, pc), yts, ycs, opts)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(r3.Draws[0], r4.Draws[0]) {
		t.Error("seeds 5 and 6 gave the same draws")
	}
}

// A replicate without a matched treated unit is NaN and left out.
func TestBootstrapCaliperLeavesReplicatesOut(t *testing.T) {
	// one treated unit far from all controls but one
	ts := []float64{0.9, 0.3}
	cs := []float64{0.88, 0.1, 0.12, 0.11, 0.13}
	y := [][]float64{{1, 1}}
	yc := [][]float64{{0, 0, 0, 0, 0}}
	res, err := Bootstrap(context.Background(), ts, cs, y, yc, &BootstrapOptions{Replicates: 200, Match: MatchOptions{Caliper: 0.1}})
	if err != nil {
		t.Fatal(err)
	}
	nan := 0
	for _, v := range res.Draws[0] {
		if math.IsNaN(v) {
			nan++
		} else if v != 1 {
			t.Fatalf("replicate estimate %v, want 1", v)
		}
	}
	// P(no draw on the control at 0.88 or no draw on the treated at 0.9)
	if nan == 0 || res.Valid != 200-nan {
		t.Errorf("%d NaN replicates, Valid %d", nan, res.Valid)
	}
}

func TestBootstrapBadInput(t *testing.T) {
	ts, cs, _, _, _, _, yt, yc := bootData(3, 10, 30)
	ctx := context.Background()
	cases := []struct {
		name  string
		opts  *BootstrapOptions
		yt    [][]float64
		field string
		err   error
	}{
		{"one replicate", &BootstrapOptions{Replicates: 1}, yt, "Replicates", ErrBadOption},
		{"negative replicates", &BootstrapOptions{Replicates: -5}, yt, "Replicates", ErrBadOption},
		{"level", &BootstrapOptions{Level: 1}, yt, "Level", ErrBadOption},
		{"workers", &BootstrapOptions{Workers: -1}, yt, "Workers", ErrBadOption},
		{"fractional weight", &BootstrapOptions{Match: MatchOptions{TreatedWeights: slices.Repeat([]float64{1.5}, len(ts))}}, yt, "TreatedWeights", ErrBadWeight},
		{"negative weight", &BootstrapOptions{Match: MatchOptions{ControlWeights: slices.Repeat([]float64{-1}, len(cs))}}, yt, "ControlWeights", ErrBadWeight},
		{"outcome length", nil, [][]float64{yt[0][:3], yt[1]}, "yTreated", ErrBadOption},
		{"outcome NaN", nil, [][]float64{append(slices.Clone(yt[0][:9]), math.NaN()), yt[1]}, "yTreated", ErrBadValue},
		{"outcome count", nil, yt[:1], "yControl", ErrBadOption},
	}
	for _, c := range cases {
		_, err := Bootstrap(ctx, ts, cs, c.yt, yc, c.opts)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != c.field || !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want an InputError on %s wrapping %v", c.name, err, c.field, c.err)
		}
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := Bootstrap(cctx, ts, cs, yt, yc, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}
