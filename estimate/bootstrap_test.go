package estimate

import (
	"context"
	"errors"
	"math"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/internal/rng"
	"github.com/psmeval/psmeval/psm"
)

// bruteReplicate is an independent O(n₁·n₀) reference for one replicate:
// per-unit weights tw (treated) and cw (controls), copies semantics of
// matchRule, returns the ATT per event month for the whole sample.
func bruteReplicate(s *Sample, x []float64, rule *matchRule, tw, cw []float64) []float64 {
	o := &s.Outcomes[0]
	H1 := o.H + 1
	acc := make([]float64, H1)
	W := 0.0
	K := 1.0
	if rule.K > 0 {
		K = float64(rule.K)
	}
	type cand struct {
		d, c float64
		v    int
	}
	// the caliper width of the resampled rows: Caliper × the population
	// sd of the scores weighted by the counts (R Matching::Match on the
	// duplicated rows)
	width := 0.0
	if rule.Caliper > 0 {
		var sw, swx, ss float64
		cnt := func(u int) float64 {
			if s.Treated[u] {
				return tw[u]
			}
			return cw[u]
		}
		for u := range s.Treated {
			sw += cnt(u)
			swx += cnt(u) * x[u]
		}
		mean := swx / sw
		for u := range s.Treated {
			ss += cnt(u) * (x[u] - mean) * (x[u] - mean)
		}
		width = rule.Caliper * math.Sqrt(ss/sw)
	}
	smin, smax := math.Inf(1), math.Inf(-1)
	for v := range s.Treated {
		if !s.Treated[v] && cw[v] > 0 {
			smin, smax = min(smin, x[v]), max(smax, x[v])
		}
	}
	for u := range s.Treated {
		if !s.Treated[u] || tw[u] == 0 {
			continue
		}
		if rule.Trim && (x[u] < smin || x[u] > smax) {
			continue
		}
		var cs []cand
		for v := range s.Treated {
			if s.Treated[v] || cw[v] == 0 {
				continue
			}
			if rule.Strata != nil && rule.Strata[v] != rule.Strata[u] {
				continue
			}
			d := math.Abs(x[v] - x[u])
			if rule.Caliper > 0 && d > width {
				continue
			}
			cs = append(cs, cand{d, cw[v], v})
		}
		if len(cs) == 0 {
			continue
		}
		slices.SortFunc(cs, func(a, b cand) int {
			if a.d < b.d {
				return -1
			}
			if a.d > b.d {
				return 1
			}
			return 0
		})
		cum, dK := 0.0, math.NaN()
		for _, c := range cs {
			cum += c.c
			if cum >= K {
				dK = c.d
				break
			}
		}
		if cum < K { // fewer than K controls (by weight) within reach
			continue
		}
		m := make([]float64, H1)
		C := 0.0
		for _, c := range cs {
			if c.d <= dK+rule.TieTolerance {
				C += c.c
				for k := 0; k < H1; k++ {
					m[k] += c.c * o.Y[c.v*H1+k]
				}
			}
		}
		for k := 0; k < H1; k++ {
			acc[k] += tw[u] * (o.Y[u*H1+k] - m[k]/C)
		}
		W += tw[u]
	}
	for k := range acc {
		acc[k] /= W
	}
	return acc
}

// The lazy replicate (search reading counts only where it looks, range
// cache) equals the brute-force replicate on materialized counts.
func TestReplicateEqualsBruteForce(t *testing.T) {
	s, x := synthSample(60, 300, 3, 11)
	// coarse scores create ties; strata by parity of the unit
	xr := make([]float64, len(x))
	strata := make([]int32, len(x))
	for u, v := range x {
		xr[u] = math.Round(v*40) / 40
		strata[u] = int32(u % 2)
	}
	rules := map[string]matchRule{
		"k1":        {},
		"k3":        {K: 3},
		"caliper":   {Caliper: 0.04}, // standard deviations of the scores
		"caliperK3": {K: 3, Caliper: 0.016},
		"trim":      {Trim: true},
		"tolerance": {K: 2, TieTolerance: 0.02},
		"strata":    {K: 2, Strata: strata},
	}
	for _, scores := range [][]float64{x, xr} {
		for name, rule := range rules {
			rule.setWidth(scores) // as Bootstrap's prepare does
			for _, scheme := range []Scheme{Multinomial, Poisson} {
				opts := &BootstrapOptions{Scheme: scheme, rule: rule, Seed: 5}
				pr := newPersons(s)
				ix := &index{}
				require.NoError(t, buildIndex(ix, s, pr, scores, rule.Strata, nil))
				l := s.layout()
				gi := s.groups()
				w := newWorker(s, pr, ix, &l, &gi, opts)
				out := make([]float64, len(gi.names)*l.cols)
				for b := 0; b < 4; b++ {
					require.NoError(t, w.replicate(context.Background(), b, out))
					// materialize the same counts
					key := rng.ReplicateKey(opts.Seed, b)
					tw := make([]float64, s.Len())
					cw := make([]float64, s.Len())
					for u := range s.Treated {
						var c float64
						if scheme == Poisson {
							c = poissonCount(key, s.person(u))
						} else if s.Treated[u] {
							c = w.tcnt.get(pr.rank[u])
						} else {
							c = w.ccnt.get(pr.rank[u])
						}
						if s.Treated[u] {
							tw[u] = c
						} else {
							cw[u] = c
						}
					}
					want := bruteReplicate(s, scores, &rule, tw, cw)
					for m, v := range want {
						assert.InDelta(t, v, out[m], 1e-12, "%s %v b=%d m=%d", name, scheme, b, m)
					}
				}
			}
		}
	}
}

// A replicate with every count 1 reproduces the point estimate.
func TestReplicateUnitCountsIsPointEstimate(t *testing.T) {
	s, x := synthSample(200, 900, 4, 3)
	rule := matchRule{K: 2}
	pr := newPersons(s)
	ix := &index{}
	require.NoError(t, buildIndex(ix, s, pr, x, nil, nil))
	l := s.layout()
	gi := s.groups()
	w := newWorker(s, pr, ix, &l, &gi, &BootstrapOptions{rule: rule})
	out := make([]float64, len(gi.names)*l.cols)
	w.run(ix, unitCount{}, func(int) float64 { return 1 }, out)
	m, err := matchUnits(s, x, &rule)
	require.NoError(t, err)
	res, err := effects(s, m, nil)
	require.NoError(t, err)
	for g := range gi.names {
		se := res.Series[g]
		for mo, e := range se.Effects {
			assert.InDelta(t, e.ATT, out[g*l.cols+mo], 1e-12)
		}
	}
}

func refitShift(ctx context.Context, x []float64) func(context.Context, []float64) ([]float64, error) {
	return func(_ context.Context, w []float64) ([]float64, error) {
		// a deterministic "model": scores shifted by the weighted share
		// of weight on units with x > 0.5
		num, den := 0.0, 0.0
		for u, v := range w {
			den += v
			if x[u] > 0.5 {
				num += v
			}
		}
		out := make([]float64, len(x))
		for u := range x {
			out[u] = x[u] * (0.5 + num/den)
		}
		return out, nil
	}
}

func TestBootstrapIdenticalAcrossWorkers(t *testing.T) {
	s, x := synthSample(150, 700, 5, 21)
	for _, scheme := range []Scheme{Multinomial, Poisson} {
		for _, refit := range []bool{false, true} {
			var ref *Result
			for _, workers := range []int{1, 2, 16} {
				opts := &BootstrapOptions{Replicates: 40, Seed: 77, Workers: workers, Scheme: scheme, KeepDraws: true}
				if refit {
					opts.Refit = refitShift(context.Background(), x)
				}
				res, err := Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), opts)
				require.NoError(t, err)
				if ref == nil {
					ref = res
					require.Len(t, res.Series, 3)
					assert.Equal(t, 40, res.Series[0].Valid)
					continue
				}
				for i := range res.Series {
					assert.Equal(t, ref.Series[i].Draws, res.Series[i].Draws, "scheme %v refit %v workers %d", scheme, refit, workers)
					assert.Equal(t, ref.Series[i].Monthly, res.Series[i].Monthly)
					assert.Equal(t, ref.Series[i].Accumulated, res.Series[i].Accumulated)
				}
			}
			// a different seed gives different draws
			opts := &BootstrapOptions{Replicates: 40, Seed: 78, Scheme: scheme, KeepDraws: true}
			if refit {
				opts.Refit = refitShift(context.Background(), x)
			}
			res, err := Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), opts)
			require.NoError(t, err)
			assert.NotEqual(t, ref.Series[0].Draws, res.Series[0].Draws)
		}
	}
}

// Row order of the units does not change the replicates (persons are
// ranked by id, units sorted by score and person).
func TestBootstrapRowOrderInvariant(t *testing.T) {
	s, x := synthSample(100, 400, 3, 8)
	n := s.Len()
	perm := make([]int, n)
	for i := range perm {
		perm[i] = (i*7919 + 13) % n // a permutation: 7919 is prime, n = 500
	}
	s2 := &Sample{Treated: make([]bool, n), Person: make([]int64, n)}
	x2 := make([]float64, n)
	y2 := make([]float64, len(s.Outcomes[0].Y))
	H1 := s.Outcomes[0].H + 1
	for i, u := range perm {
		s2.Treated[i], s2.Person[i], x2[i] = s.Treated[u], s.Person[u], x[u]
		copy(y2[i*H1:(i+1)*H1], s.Outcomes[0].Y[u*H1:(u+1)*H1])
	}
	s2.Outcomes = []EventOutcome{{Name: "y", H: H1 - 1, Y: y2}}
	for _, scheme := range []Scheme{Multinomial, Poisson} {
		opts := &BootstrapOptions{Replicates: 20, Seed: 3, Scheme: scheme, KeepDraws: true}
		a, err := Bootstrap(context.Background(), &Sample{Treated: s.Treated, Person: s.Person, Outcomes: s.Outcomes}, unitsFor(t, s, x, nil), opts)
		require.NoError(t, err)
		b, err := Bootstrap(context.Background(), s2, unitsFor(t, s2, x2, nil), opts)
		require.NoError(t, err)
		assert.Equal(t, a.Series[0].Draws, b.Series[0].Draws, "%v", scheme)
	}
}

func TestBootstrapCancel(t *testing.T) {
	n1, n0 := 300, 20000
	if testing.Short() {
		n0 = 5000
	}
	s, x := synthSample(n1, n0, 10, 4)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var calls atomic.Int64
	opts := &BootstrapOptions{Replicates: 1_000_000, Workers: 2, Progress: func(done, total int) {
		calls.Add(1)
		if done == 3 {
			cancel()
		}
	}}
	start := time.Now()
	_, err := Bootstrap(ctx, s, unitsFor(t, s, x, nil), opts)
	elapsed := time.Since(start)
	require.Error(t, err)
	assert.True(t, errors.Is(err, context.Canceled), "err = %v", err)
	assert.Less(t, calls.Load(), int64(1000), "workers stopped soon after the cancel")
	t.Logf("cancelled after %d replicates in %v", calls.Load(), elapsed)

	// cancelled before the start
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = OtsuRai(ctx2, s, unitsFor(t, s, x, nil), &OtsuRaiOptions{Replicates: 100})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestBootstrapRefitErrors(t *testing.T) {
	s, x := synthSample(50, 200, 2, 1)
	boom := errors.New("boom")
	_, err := Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 5, Refit: func(context.Context, []float64) ([]float64, error) { return nil, boom }})
	assert.ErrorIs(t, err, boom)
	_, err = Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 5, Refit: func(context.Context, []float64) ([]float64, error) { return x[:3], nil }})
	assert.ErrorIs(t, err, ErrInvalid)
	// weights handed to Refit are the person counts: multinomial counts
	// sum to the group sizes
	_, err = Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 5, Workers: 1, Refit: func(_ context.Context, w []float64) ([]float64, error) {
		t1, t0 := 0.0, 0.0
		for u, v := range w {
			if s.Treated[u] {
				t1 += v
			} else {
				t0 += v
			}
		}
		if t1 != 50 || t0 != 200 {
			return nil, errors.New("counts do not sum to the group sizes")
		}
		return x, nil
	}})
	assert.NoError(t, err)
}

func TestBootstrapOptionErrors(t *testing.T) {
	s, x := synthSample(20, 50, 1, 1)
	for name, o := range map[string]*BootstrapOptions{
		"level":  {Level: 1.5},
		"reps":   {Replicates: 1},
		"scheme": {Scheme: 7},
	} {
		_, err := Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), o)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
	// a rule changed after matching (the options of the UnitMatching)
	for name, set := range map[string]func(o *psm.UnitOptions){
		"k":         func(o *psm.UnitOptions) { o.Match.K = -1 },
		"caliper":   func(o *psm.UnitOptions) { o.Match.Caliper = -1 },
		"strata":    func(o *psm.UnitOptions) { o.Strata = []int32{1} },
		"tolerance": func(o *psm.UnitOptions) { o.Match.TieTolerance = math.NaN() },
	} {
		um := unitsFor(t, s, x, nil)
		set(&um.Options)
		_, err := Bootstrap(context.Background(), s, um, nil)
		assert.ErrorIs(t, err, ErrInvalid, name)
	}
	bad := append([]float64(nil), x...)
	bad[3] = math.Inf(1)
	um := unitsFor(t, s, x, nil)
	um.Scores = bad
	_, err := Bootstrap(context.Background(), s, um, nil)
	assert.ErrorIs(t, err, ErrInvalid)
	// a person with treated and control units cannot be resampled within groups
	s.Person[30] = s.Person[0]
	_, err = Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 3})
	assert.ErrorIs(t, err, ErrInvalid)
	_, err = Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 3, Scheme: Poisson})
	assert.NoError(t, err)
}

func TestPoissonCounts(t *testing.T) {
	// Poisson(1): mean 1, variance 1, P(0) = e^-1. 200,000 draws: the SE of
	// the mean is 0.0022, of P(0) 0.0011; tolerances are ~4.5 SE.
	const n = 200_000
	key := rng.ReplicateKey(1, 2)
	sum, ss, zeros := 0.0, 0.0, 0.0
	for id := int64(0); id < n; id++ {
		c := poissonCount(key, id)
		sum += c
		ss += c * c
		if c == 0 {
			zeros++
		}
	}
	mean := sum / n
	assert.InDelta(t, 1, mean, 0.01)
	assert.InDelta(t, 1, ss/n-mean*mean, 0.02)
	assert.InDelta(t, math.Exp(-1), zeros/n, 0.005)
	// counts of the same person differ between replicates but not calls
	assert.Equal(t, poissonCount(key, 42), poissonCount(key, 42))
}

func TestMultinomialCounts(t *testing.T) {
	k := newCounts(5000)
	k.draw(rng.ReplicateKey(3, 4), streamControl)
	sum, zeros := 0, 0
	for i := range k.c {
		c := k.get(int32(i))
		sum += int(c)
		if c == 0 {
			zeros++
		}
	}
	// counts beyond 255 continue in the overflow map
	small := newCounts(2)
	small.draw(1, 2)
	b0, b1 := small.get(0), small.get(1)
	assert.Equal(t, 2.0, b0+b1)
	for range 600 {
		small.inc(0)
	}
	small.inc(1)
	assert.Equal(t, b0+600, small.get(0))
	assert.Equal(t, b1+1, small.get(1))

	// lazily filled blocks do not depend on the reading order
	k2 := newCounts(5000)
	k2.draw(rng.ReplicateKey(3, 4), streamControl)
	for i := len(k2.c) - 1; i >= 0; i -= 7 {
		assert.Equal(t, k.get(int32(i)), k2.get(int32(i)))
	}
	// and the block totals are multinomial: the count of the first 100
	// persons is Binomial(5000, 100/5000) over replicates, mean 100, var 98
	var sum1, ss1 float64
	const reps = 2000
	for b := range reps {
		k2.draw(rng.ReplicateKey(9, b), streamControl)
		c := 0.0
		for i := int32(0); i < 100; i++ {
			c += k2.get(i)
		}
		sum1 += c
		ss1 += c * c
	}
	mean := sum1 / reps
	// SE of the mean sqrt(98/2000) = 0.22; of the variance ~ 98·sqrt(2/2000) = 3.1
	assert.InDelta(t, 100, mean, 1)
	assert.InDelta(t, 98, ss1/reps-mean*mean, 14)
	assert.Equal(t, 5000, sum)
	// P(count = 0) = (1 − 1/n)^n ≈ e^-1; SE with n = 5000 is 0.0068
	assert.InDelta(t, math.Exp(-1), float64(zeros)/5000, 0.03)
}

// Selection on observables with a planted effect: the bootstrap
// intervals of the fixed-seed run cover the truth.
func TestBootstrapCoversTruth(t *testing.T) {
	s, x := synthSample(1500, 6000, 6, 2024)
	res, err := Bootstrap(context.Background(), s, unitsFor(t, s, x, nil), &BootstrapOptions{Replicates: 199, Seed: 1})
	require.NoError(t, err)
	se := res.Find("y", "", "")
	acc := 0.0
	for m, e := range se.Effects {
		if m > 0 {
			acc += trueTau(m)
		}
		assert.True(t, se.Monthly[m].Band.Contains(trueTau(m)), "month %d: band %v, truth %v, estimate %v", m, se.Monthly[m].Band, trueTau(m), e.ATT)
		assert.True(t, se.Accumulated[m].Band.Contains(acc), "acc month %d", m)
		assert.Less(t, se.Monthly[m].Percentile.Lo, e.ATT)
		assert.Greater(t, se.Monthly[m].Percentile.Hi, e.ATT)
		// normal and percentile intervals agree roughly for a mean
		assert.InDelta(t, se.Monthly[m].Normal.Hi-se.Monthly[m].Normal.Lo, se.Monthly[m].Percentile.Hi-se.Monthly[m].Percentile.Lo, 0.4*(se.Monthly[m].Normal.Hi-se.Monthly[m].Normal.Lo))
		assert.GreaterOrEqual(t, se.Monthly[m].Band.Hi, se.Monthly[m].Normal.Hi, "band wider than pointwise")
	}
	assert.Equal(t, 0.0, se.Accumulated[0].SE, "accumulated effect at month 0 is the empty sum")
}
