package estimate

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/internal/rng"
	"github.com/psmeval/psmeval/psm"
)

// A replicate of a rule that the lazy search does not cover (without
// replacement, R Matching's tie rule, with a caliper) equals psm.Match on
// the resampled data with duplicated rows (each unit repeated as often as
// its person was drawn, in unit order) and the mean over the treated
// copies of y minus the weighted mean of their controls' y: R's
// Matching::Match on those rows (psm.Match equals it, package psm's R
// tests). Tolerance 1e-12: the same sums in another order.
func TestReplicateUnitsEqualsDuplicatedRows(t *testing.T) {
	s, x := synthSample(40, 160, 3, 8)
	for u := range x {
		x[u] = math.Round(x[u]*40) / 40 * 0.98 // ties, inside (0,1)
		if x[u] == 0 {
			x[u] = 0.01
		}
	}
	H1 := s.Outcomes[0].H + 1
	for name, o := range map[string]psm.MatchOptions{
		"without replacement":            {NoReplacement: true},
		"without replacement, caliper":   {NoReplacement: true, Caliper: 0.1},
		"R tie rule":                     {TieRule: psm.TieRMatching},
		"R tie rule, K 2, caliper, trim": {TieRule: psm.TieRMatching, K: 2, Caliper: 0.05, Trim: true},
	} {
		um, err := psm.MatchUnits(x, s.Treated, &psm.UnitOptions{Match: o})
		require.NoError(t, err, name)
		res, err := Bootstrap(context.Background(), s, um, &BootstrapOptions{Scheme: Poisson, Replicates: 6, Seed: 4, KeepDraws: true})
		require.NoError(t, err, name)
		se := res.Find("y", "", "")
		require.Equal(t, 6, se.Valid, name)
		for b := 0; b < 6; b++ {
			key := rng.ReplicateKey(4, b)
			// the duplicated rows
			var ts, cs []float64
			var tu, cu []int
			for u := range s.Treated {
				for range int(poissonCount(key, s.person(u))) {
					if s.Treated[u] {
						ts, tu = append(ts, x[u]), append(tu, u)
					} else {
						cs, cu = append(cs, x[u]), append(cu, u)
					}
				}
			}
			m, err := psm.Match(ts, cs, &o)
			require.NoError(t, err, "%s b=%d", name, b)
			want := make([]float64, H1)
			n := 0.0
			for i, u := range tu {
				if !m.Matched[i] {
					continue
				}
				n++
				for mo := 0; mo < H1; mo++ {
					c := 0.0
					for p := m.Start[i]; p < m.Start[i+1]; p++ {
						c += m.Weight[p] * s.Outcomes[0].Y[cu[m.Control[p]]*H1+mo]
					}
					want[mo] += s.Outcomes[0].Y[u*H1+mo] - c
				}
			}
			for mo := 0; mo < H1; mo++ {
				assert.InDelta(t, want[mo]/n, se.Draws[b*2*H1+mo], 1e-12, "%s b=%d month %d", name, b, mo)
			}
		}
	}
}

// Otsu-Rai takes R's tie rule (its point estimate is the matched
// sample's sets) and refuses matching without replacement. The scores
// are near-ties (a 0.02 grid plus ±1e-9): R's rule (distances within
// 1e-5 of the K-th are ties) forms other sets than exact ties, so a
// point estimate by the default rule would not pass.
func TestOtsuRaiUnitsRules(t *testing.T) {
	s, x := synthSample(40, 160, 3, 9)
	for u := range x {
		x[u] = math.Round(x[u]*50)/50*0.98 + 0.01 + 1e-9*float64(u%3-1)
	}
	um, err := psm.MatchUnits(x, s.Treated, &psm.UnitOptions{Match: psm.MatchOptions{TieRule: psm.TieRMatching}})
	require.NoError(t, err)
	exact, err := psm.MatchUnits(x, s.Treated, nil)
	require.NoError(t, err)
	require.NotEqual(t, exact.Control, um.Control, "the two tie rules form the same sets: the test proves nothing")
	res, err := OtsuRai(context.Background(), s, um, &OtsuRaiOptions{Replicates: 20, Seed: 1})
	require.NoError(t, err)
	eff, err := Effects(s, um, nil)
	require.NoError(t, err)
	for m, e := range res.Find("y", "", "").Effects {
		assert.Equal(t, eff.Series[0].Effects[m].ATT, e.ATT, "month %d: the point estimate is the matched sample's", m)
	}
	um, err = psm.MatchUnits(x, s.Treated, &psm.UnitOptions{Match: psm.MatchOptions{NoReplacement: true}})
	require.NoError(t, err)
	_, err = OtsuRai(context.Background(), s, um, nil)
	require.ErrorIs(t, err, ErrInvalid)
}

// With Refit returning the scores unchanged, the re-fitted replicates of
// a MatchInto rule equal the fixed-score ones.
func TestReplicateUnitsRefitIdentity(t *testing.T) {
	s, x := synthSample(40, 160, 3, 10)
	for _, o := range []psm.MatchOptions{{NoReplacement: true}, {TieRule: psm.TieRMatching, Caliper: 0.2}} {
		um, err := psm.MatchUnits(x, s.Treated, &psm.UnitOptions{Match: o})
		require.NoError(t, err)
		opts := &BootstrapOptions{Replicates: 8, Seed: 3, KeepDraws: true}
		fixed, err := Bootstrap(context.Background(), s, um, opts)
		require.NoError(t, err)
		opts.Refit = func(context.Context, []float64) ([]float64, error) { return x, nil }
		refit, err := Bootstrap(context.Background(), s, um, opts)
		require.NoError(t, err)
		require.Equal(t, fixed.Series[0].Draws, refit.Series[0].Draws, "%+v", o)
		require.NotEmpty(t, fixed.Series[0].Draws)
	}
}
