package estimate

import (
	"math"
	"sync"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/psmeval/psmeval/internal/rng"
)

// binomial draws Binomial(n, p) from src: the variate that
// distuv.Binomial{N: n, P: p, Src: src}.Rand() returns, consuming the
// same numbers from src, bit for bit. plog and pclog must be math.Log(p)
// and math.Log1p(-p) (a caller drawing many variates with the same p
// computes them once).
//
// For n ≥ 25, p ≤ 1/2 and np ≥ 1 gonum uses Numerical Recipes' rejection
// from a Cauchy proposal: y = tan(π u₁), m = ⌊√(2np(1−p))·y + np⌋ (drawn
// again until 0 ≤ m ≤ n), accepted when
//
//	u₂ ≤ t = 1.2·√(2np(1−p))·(1+y²)·exp(lnΓ(n+1) − lnΓ(m+1) − lnΓ(n−m+1) + m ln p + (n−m) ln(1−p)).
//
// binomial runs the same loop but decides most tests without the two
// lnΓ of large arguments: lnΓ(m+1) comes from a table of the same
// values, and lnΓ(n+1) − lnΓ(n−m+1) = Σ_{j<m} ln(n−j) is replaced by
// m ln n minus the first four terms of Σ_k S_k/(k n^k) (S_k = Σ_{j<m} j^k,
// a truncation below 1e−9 where it is used). The test is decided from
// this t̃ only when u₂ lies outside t̃·(1 ± binomSqueeze), a band some
// 100 times wider than the rounding error of gonum's t (whose lnΓ terms
// are near n ln n, hence n ≤ binomSqueezeMaxN; t̃'s exponential,
// expSqueeze, adds a relative error below 1e−12); inside it, and in every
// other case, t is computed as gonum computes it. The other cases (small
// n, np < 1, p > 1/2) are gonum's own code. Cost: about one tangent, one
// exponential and two draws per proposal, some 2.1 proposals per
// variate, plus one logarithm per variate.
func binomial(src *rng.PCG, n, p, plog, pclog float64) float64 {
	am := n * p
	if n < 25 || p > 0.5 || am < 1 {
		return distuv.Binomial{N: n, P: p, Src: src}.Rand()
	}
	lgt := lgammaTable()
	squeeze := n <= binomSqueezeMaxN
	var fl fallingLog
	if squeeze {
		fl = newFallingLog(n)
	}
	var g float64
	haveG := false
	sq := math.Sqrt(2 * am * (1 - p))
	for {
		var em, y float64
		for {
			y = math.Tan(math.Pi * src.Float64())
			em = sq*y + am
			if em >= 0 && em < n+1 {
				break
			}
		}
		em = math.Floor(em)
		u := src.Float64()
		var lg1 float64
		if em < lgammaTableLen {
			lg1 = lgt[int(em)]
		} else {
			lg1, _ = math.Lgamma(em + 1)
		}
		if squeeze {
			if d, ok := fl.at(em); ok {
				tt := 1.2 * sq * (1 + y*y) * expSqueeze(d-lg1+em*plog+(n-em)*pclog)
				if u <= tt*(1-binomSqueeze) {
					return em
				}
				if u > tt*(1+binomSqueeze) {
					continue
				}
			}
		}
		if !haveG {
			g, _ = math.Lgamma(n + 1)
			haveG = true
		}
		lg2, _ := math.Lgamma(n - em + 1)
		t := 1.2 * sq * (1 + y*y) * math.Exp(g-lg1-lg2+em*plog+(n-em)*pclog)
		if u <= t {
			return em
		}
	}
}

const (
	// binomSqueeze is the relative half-width of the band around t̃ in
	// which binomial computes gonum's t.
	binomSqueeze = 1.0 / (1 << 13)
	// binomSqueezeMaxN is the largest n for which binomial decides from
	// t̃: gonum's exponent then carries rounding errors below 1e−6.
	binomSqueezeMaxN = 1 << 25
	// lgammaTableLen is the number of tabulated lnΓ(m+1), m = 0, 1, ....
	lgammaTableLen = 2048
)

// lgammaTable returns lnΓ(m+1) for m < lgammaTableLen, as math.Lgamma
// computes them.
var lgammaTable = sync.OnceValue(func() []float64 {
	t := make([]float64, lgammaTableLen)
	for m := range t {
		t[m], _ = math.Lgamma(float64(m) + 1)
	}
	return t
})

// fallingLog evaluates ln(n·(n−1)···(n−m+1)) = m ln n + Σ_{j<m} ln(1 − j/n)
// for whole numbers 0 ≤ m ≤ n from the series −Σ_k S_k/(k n^k),
// S_k = Σ_{j<m} j^k, truncated after k = 4.
type fallingLog struct {
	n, logn, inv float64 // n, ln n, 1/n
	lim          float64 // 1.5e−8·n⁵
}

func newFallingLog(n float64) fallingLog {
	n2 := n * n
	return fallingLog{n: n, logn: math.Log(n), inv: 1 / n, lim: 1.5e-8 * n2 * n2 * n}
}

// at returns the sum for m; ok is false unless m ≤ n/2 and
// m⁶ ≤ 1.5e−8·n⁵, which bound the truncation error,
// Σ_{k≥5} S_k/(k n^k) ≤ m⁶/(30 n⁵ (1 − m/n)), by 1e−9.
func (f *fallingLog) at(m float64) (float64, bool) {
	m2 := m * m
	if m > f.n/2 || m2*m2*m2 > f.lim {
		return 0, false
	}
	// Faulhaber's sums over j = 0..m−1, divided by k
	a := m - 1
	s1 := m * a * 0.5
	s2 := a * m * (2*m - 1) * (1.0 / 12)
	s3 := s1 * s1 * (1.0 / 3)
	s4 := m * a * (2*m - 1) * (3*m2 - 3*m - 1) * (1.0 / 120)
	x := f.inv
	return m*f.logn - x*(s1+x*(s2+x*(s3+x*s4))), true
}

// expSqueeze returns e^x with a relative error below 1e−12 for
// |x| ≤ 700 (math.Exp beyond): 2^k · P(r) for k the integer nearest
// x/ln 2, r = x − k ln 2 (|r| ≤ ln 2 / 2, ln 2 in two parts as math.Exp
// splits it) and P the Taylor polynomial of degree 10 (truncation below
// |r|^11/11! < 3e−13), evaluated by Estrin's scheme: a dependency chain
// of some ten operations where math.Exp's has about twenty-five. For
// binomial's squeeze, whose band is 10^8 times wider than this error.
func expSqueeze(x float64) float64 {
	if !(x >= -700 && x <= 700) {
		return math.Exp(x)
	}
	const (
		shifter = 0x1.8p52 // x/ln 2 + shifter − shifter rounds to an integer
		ln2Hi   = 6.93147180369123816490e-01
		ln2Lo   = 1.90821492927058770002e-10
	)
	k := (x*math.Log2E + shifter) - shifter
	r := (x - k*ln2Hi) - k*ln2Lo
	r2 := r * r
	r4 := r2 * r2
	b0 := (1 + r) + (1.0/2+r*(1.0/6))*r2
	b1 := (1.0/24 + r*(1.0/120)) + (1.0/720+r*(1.0/5040))*r2
	b2 := (1.0/40320 + r*(1.0/362880)) + (1.0/3628800)*r2
	p := (b0 + b1*r4) + b2*(r4*r4)
	return p * math.Float64frombits(uint64(int64(k)+1023)<<52)
}
