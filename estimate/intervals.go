package estimate

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat/distuv"
)

// Quantile7 returns the p-quantile of the sorted values x by R's default
// rule, quantile(type = 7): with h = (n−1)p, x[⌊h⌋] + (h−⌊h⌋)(x[⌊h⌋+1] −
// x[⌊h⌋]) (0-based). It is NaN for empty x. gonum's stat.Quantile
// implements types 1 and 4 only, hence this function.
func Quantile7(p float64, x []float64) float64 {
	n := len(x)
	if n == 0 || math.IsNaN(p) {
		return math.NaN()
	}
	if p <= 0 {
		return x[0]
	}
	if p >= 1 {
		return x[n-1]
	}
	h := float64(n-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= n {
		return x[n-1]
	}
	return x[i] + (h-lo)*(x[i+1]-x[i])
}

// zQuantile is the standard normal quantile.
func zQuantile(p float64) float64 { return distuv.UnitNormal.Quantile(p) }

// summarize fills se.Monthly, se.Accumulated and se.BandCrit from the
// replicate rows (each 2(H+1): monthly effects then accumulated), centred
// at the point estimates in se.Effects.
//
//	SE_m          = SD of the replicates (divisor R−1)
//	Percentile_m  = [Q7(α/2), Q7(1−α/2)] of the replicates
//	Normal_m      = θ̂_m ± z_{1−α/2} SE_m
//	Band_m        = θ̂_m ± c SE_m, c = Q7(level) of max_m |θ*_m − θ̂_m| / SE_m
//
// the maximum over the months with SE_m > 0 of the block (monthly
// effects before the start, monthly effects from month 0 on, accumulated
// effects); months with SE_m = 0 get a degenerate band.
func summarize(se *Series, reps [][]float64, level float64) {
	H1 := len(se.Effects)
	se.Valid = len(reps)
	se.Monthly = make([]Bounds, H1)
	se.Accumulated = make([]Bounds, H1)
	point := make([]float64, 2*H1)
	for m, e := range se.Effects {
		point[m], point[H1+m] = e.ATT, e.Accumulated
	}
	alpha := 1 - level
	z := zQuantile(1 - alpha/2)
	R := len(reps)
	col := make([]float64, R)
	sd := make([]float64, 2*H1)
	bounds := func(c int) *Bounds {
		if c < H1 {
			return &se.Monthly[c]
		}
		return &se.Accumulated[c-H1]
	}
	for c := 0; c < 2*H1; c++ {
		for b, r := range reps {
			col[b] = r[c]
		}
		b := bounds(c)
		nan := Interval{math.NaN(), math.NaN()}
		if R < 2 {
			*b = Bounds{SE: math.NaN(), Percentile: nan, Normal: nan, Band: nan}
			sd[c] = math.NaN()
			continue
		}
		mean := 0.0
		for _, v := range col {
			mean += v
		}
		mean /= float64(R)
		ss := 0.0
		for _, v := range col {
			ss += (v - mean) * (v - mean)
		}
		sd[c] = math.Sqrt(ss / float64(R-1))
		slices.Sort(col)
		b.SE = sd[c]
		b.Percentile = Interval{Quantile7(alpha/2, col), Quantile7(1-alpha/2, col)}
		b.Normal = Interval{point[c] - z*sd[c], point[c] + z*sd[c]}
	}
	t := make([]float64, R)
	pre := se.Pre
	se.PreBandCrit = math.NaN()
	// blocks of columns [lo, hi) with a band of their own
	blocks := [][2]int{{pre, H1}, {H1, 2 * H1}, {0, pre}}
	for blk, bc := range blocks {
		lo, hi := bc[0], bc[1]
		if lo == hi {
			continue
		}
		setCrit := func(c float64) {
			if blk < 2 {
				se.BandCrit[blk] = c
			} else {
				se.PreBandCrit = c
			}
		}
		if R < 2 {
			setCrit(math.NaN())
			for c := lo; c < hi; c++ {
				bounds(c).Band = Interval{math.NaN(), math.NaN()}
			}
			continue
		}
		any := false
		for b, r := range reps {
			mx := 0.0
			for c := lo; c < hi; c++ {
				if sd[c] > 0 {
					any = true
					if v := math.Abs(r[c]-point[c]) / sd[c]; v > mx {
						mx = v
					}
				}
			}
			t[b] = mx
		}
		crit := 0.0
		if any {
			slices.Sort(t)
			crit = Quantile7(level, t)
		}
		setCrit(crit)
		for c := lo; c < hi; c++ {
			bounds(c).Band = Interval{point[c] - crit*sd[c], point[c] + crit*sd[c]}
		}
	}
}

// normalOnly fills intervals from analytic standard errors: Normal only;
// Percentile and Band are NaN.
func normalOnly(se *Series, seM, seA []float64, level float64) {
	H1 := len(se.Effects)
	z := zQuantile(1 - (1-level)/2)
	nan := Interval{math.NaN(), math.NaN()}
	se.Monthly = make([]Bounds, H1)
	se.Accumulated = make([]Bounds, H1)
	se.BandCrit = [2]float64{math.NaN(), math.NaN()}
	se.PreBandCrit = math.NaN()
	for m, e := range se.Effects {
		se.Monthly[m] = Bounds{SE: seM[m], Percentile: nan, Band: nan,
			Normal: Interval{e.ATT - z*seM[m], e.ATT + z*seM[m]}}
		se.Accumulated[m] = Bounds{SE: seA[m], Percentile: nan, Band: nan,
			Normal: Interval{e.Accumulated - z*seA[m], e.Accumulated + z*seA[m]}}
	}
}
