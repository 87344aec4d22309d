package estimate

import (
	"context"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// knnMean is a brute-force mean of column m over the J nearest controls
// of t (ties at the J-th distance included), leaving out unit excl.
func knnMean(s *Sample, x []float64, t float64, J, excl, m int) float64 {
	type c struct {
		d float64
		v int
	}
	var cs []c
	for v := range s.Treated {
		if !s.Treated[v] && v != excl {
			cs = append(cs, c{math.Abs(x[v] - t), v})
		}
	}
	slices.SortFunc(cs, func(a, b c) int {
		switch {
		case a.d < b.d:
			return -1
		case a.d > b.d:
			return 1
		}
		return 0
	})
	dJ := cs[J-1].d
	sum, n := 0.0, 0.0
	H1 := s.Outcomes[0].H + 1
	for _, e := range cs {
		if e.d <= dJ {
			sum += s.Outcomes[0].Y[e.v*H1+m]
			n++
		}
	}
	return sum / n
}

// The Otsu–Rai bootstrap SE equals the closed form of its multinomial
// weights, sqrt(Σ_p T_p² − (Σ_p T_p)²/N)/n₁, with the linear terms T
// computed here by brute force (J-nearest-neighbour means by full sort).
// Tolerance: with R = 3000 replicates the relative SE of a bootstrap SD
// is 1/sqrt(2R) ≈ 1.3%; we allow 5%.
func TestOtsuRaiMatchesClosedForm(t *testing.T) {
	s, x := synthSample(120, 500, 3, 31)
	const J = 4
	res, err := OtsuRai(context.Background(), s, unitsFor(t, s, x, nil), &OtsuRaiOptions{Replicates: 3000, Neighbours: J, Seed: 9})
	require.NoError(t, err)
	m, err := matchUnits(s, x, nil)
	require.NoError(t, err)
	K := map[int32]float64{}
	for k := range m.Treated {
		for p := m.Start[k]; p < m.Start[k+1]; p++ {
			K[m.Control[p]] += m.Weight[p]
		}
	}
	se := res.Find("y", "", "")
	H1 := s.Outcomes[0].H + 1
	N := float64(s.Len())
	n1 := 120.0
	shrink := math.Sqrt(J / (J + 1.0))
	accT := make([]float64, s.Len()) // accumulated terms (from month 1)
	for mo := 0; mo < H1; mo++ {
		T := make([]float64, s.Len())
		for u := range s.Treated {
			y := s.Outcomes[0].Y[u*H1+mo]
			if s.Treated[u] {
				T[u] = y - knnMean(s, x, x[u], J, -1, mo)
			} else if k := K[int32(u)]; k > 0 {
				T[u] = -k * shrink * (y - knnMean(s, x, x[u], J, u, mo))
			}
			if mo > 0 {
				accT[u] += T[u]
			}
		}
		closed := func(T []float64) float64 {
			s1, s2 := 0.0, 0.0
			for _, v := range T {
				s1 += v
				s2 += v * v
			}
			return math.Sqrt(s2-s1*s1/N) / n1
		}
		want := closed(T)
		assert.InEpsilon(t, want, se.Monthly[mo].SE, 0.05, "month %d", mo)
		if mo > 0 {
			assert.InEpsilon(t, closed(accT), se.Accumulated[mo].SE, 0.05, "accumulated month %d", mo)
		}
		// the point estimate is the matching estimator
		assert.InDelta(t, res.Series[0].Effects[mo].ATT, se.Effects[mo].ATT, 0)
	}
}

func TestOtsuRaiIdenticalAcrossWorkers(t *testing.T) {
	s, x := synthSample(100, 400, 4, 5)
	for _, scheme := range []Scheme{Multinomial, Poisson} {
		var ref *Result
		for _, w := range []int{1, 2, 16} {
			res, err := OtsuRai(context.Background(), s, unitsFor(t, s, x, nil), &OtsuRaiOptions{Replicates: 50, Workers: w, Scheme: scheme, KeepDraws: true, Seed: 4})
			require.NoError(t, err)
			if ref == nil {
				ref = res
				continue
			}
			for i := range res.Series {
				assert.Equal(t, ref.Series[i].Draws, res.Series[i].Draws)
			}
		}
	}
}

func TestOtsuRaiCoversTruth(t *testing.T) {
	s, x := synthSample(1500, 6000, 6, 2024)
	res, err := OtsuRai(context.Background(), s, unitsFor(t, s, x, nil), &OtsuRaiOptions{Replicates: 499, Seed: 1})
	require.NoError(t, err)
	assert.Equal(t, "otsu-rai", res.Method)
	se := res.Find("y", "", "")
	acc := 0.0
	for m := range se.Effects {
		if m > 0 {
			acc += trueTau(m)
		}
		assert.True(t, se.Monthly[m].Band.Contains(trueTau(m)), "month %d", m)
		assert.True(t, se.Accumulated[m].Band.Contains(acc), "acc month %d", m)
	}
	// subgroups get their own intervals
	lo := res.Find("y", "half", "low")
	require.NotNil(t, lo)
	assert.Greater(t, lo.Monthly[1].SE, se.Monthly[1].SE)
}
