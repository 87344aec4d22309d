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

// The replicate matcher of this package (psm.Searcher, lazily read counts)
// and psm.Match (weight vectors, eager block sums) agree: the same point
// estimates at unit weights, and the same weighted ATT with a replicate's
// frequency weights, for every rule a bootstrap derives from a
// psm.UnitMatching.
func TestAgreesWithPSMMatch(t *testing.T) {
	s, x := synthSample(80, 400, 3, 17)
	xr := make([]float64, len(x))
	for u, v := range x {
		xr[u] = math.Round(v*50)/50*0.98 + 0.01 // coarse: ties; inside (0,1)
	}
	tr, co := s.split()
	ts := make([]int32, len(tr))
	cs := make([]int32, len(co))
	for k, u := range tr {
		ts[k] = u % 3
	}
	for k, u := range co {
		cs[k] = u % 3
	}
	st := make([]int32, s.Len())
	for u := range st {
		st[u] = int32(u % 3)
	}
	opts := map[string]*psm.UnitOptions{
		"default": nil,
		"k3":      {Match: psm.MatchOptions{K: 3}},
		"caliper": {Match: psm.MatchOptions{Caliper: 0.02}},
		"trim":    {Match: psm.MatchOptions{Trim: true, K: 2}},
		"tol":     {Match: psm.MatchOptions{TieTolerance: 0.015}},
		"logit":   {Match: psm.MatchOptions{Distance: psm.LogitDistance, K: 2}},
		"strata":  {Strata: st},
	}
	for _, scores := range [][]float64{x, xr} {
		for name, o := range opts {
			pm, err := psm.MatchUnits(scores, s.Treated, o)
			require.NoError(t, err, name)
			m1, err := setsFromUnits(s, pm, "test")
			require.NoError(t, err)
			rule, sx, err := ruleFromUnits(s, pm)
			require.NoError(t, err, name)
			m2, err := matchUnits(s, sx, &rule)
			require.NoError(t, err)
			r1, err := effects(s, m1, nil)
			require.NoError(t, err)
			r2, err := effects(s, m2, nil)
			require.NoError(t, err)
			for i := range r1.Series {
				assert.Equal(t, r1.Series[i].NTreated, r2.Series[i].NTreated, name)
				assert.Equal(t, r1.Series[i].NControls, r2.Series[i].NControls, name)
				for m := range r1.Series[i].Effects {
					assert.InDelta(t, r1.Series[i].Effects[m].ATT, r2.Series[i].Effects[m].ATT, 1e-12, "%s series %d month %d", name, i, m)
				}
			}
			// a Poisson replicate: psm with frequency weights
			key := rng.ReplicateKey(3, 1)
			tw := make([]float64, len(tr))
			cw := make([]float64, len(co))
			for k, u := range tr {
				tw[k] = poissonCount(key, s.person(int(u)))
			}
			for k, u := range co {
				cw[k] = poissonCount(key, s.person(int(u)))
			}
			var ow psm.MatchOptions
			if o != nil {
				ow = o.Match
				if o.Strata != nil {
					ow.TreatedStrata, ow.ControlStrata = ts, cs
				}
			}
			ow.TreatedWeights, ow.ControlWeights = tw, cw
			tsc, csc, err := pm.Split(scores)
			require.NoError(t, err)
			pw, err := psm.Match(tsc, csc, &ow)
			require.NoError(t, err, name)
			H1 := s.Outcomes[0].H + 1
			want := make([]float64, H1)
			W := 0.0
			for k, u := range tr {
				if !pw.Matched[k] {
					continue
				}
				wt := pw.MatchedWeight[k]
				W += wt
				for m := 0; m < H1; m++ {
					c := 0.0
					for p := pw.Start[k]; p < pw.Start[k+1]; p++ {
						c += pw.Weight[p] * s.Outcomes[0].Y[int(co[pw.Control[p]])*H1+m]
					}
					want[m] += wt * (s.Outcomes[0].Y[int(u)*H1+m] - c)
				}
			}
			pr := newPersons(s)
			ix := &index{}
			rule.setWidth(sx) // as Bootstrap's prepare does
			require.NoError(t, buildIndex(ix, s, pr, sx, rule.Strata, nil))
			l := s.layout()
			gi := s.groups()
			w := newWorker(s, pr, ix, &l, &gi, &BootstrapOptions{Scheme: Poisson, Seed: 3, rule: rule})
			out := make([]float64, len(gi.names)*l.cols)
			require.NoError(t, w.replicate(context.Background(), 1, out))
			for m := range want {
				assert.InDelta(t, want[m]/W, out[m], 1e-12, "%s replicate month %d", name, m)
			}
		}
	}
}
