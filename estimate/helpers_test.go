package estimate

import (
	"math"
	"math/rand/v2"
)

// trueTau is the planted effect of the test DGP in event month m.
func trueTau(m int) float64 { return -0.05 + 0.01*float64(m) }

// synthSample simulates n1 treated and n0 controls with selection on one
// observable x: the treated have density 2x on (0,1), controls are
// uniform, so P(D=1|x) is increasing in x and x is a balancing score.
// Outcomes are monthly 0/1 indicators with P(Y(0)=1|x) = 0.1 + 0.5x and
// P(Y(1)=1|x) = P(Y(0)=1|x) + trueTau(m), so the true ATT in month m is
// trueTau(m). Units are their own persons (ids 1000+3u). A subgroup
// attribute "half" splits by x < 0.5. The scores returned are x.
func synthSample(n1, n0, H int, seed uint64) (*Sample, []float64) {
	r := rand.New(rand.NewPCG(seed, 99))
	n := n1 + n0
	s := &Sample{Treated: make([]bool, n), Person: make([]int64, n)}
	x := make([]float64, n)
	y := make([]float64, n*(H+1))
	half := Subgroups{Name: "half", Levels: []string{"low", "high"}, Code: make([]int32, n)}
	for u := 0; u < n; u++ {
		s.Person[u] = 1000 + 3*int64(u)
		if u < n1 {
			s.Treated[u] = true
			x[u] = math.Sqrt(r.Float64())
		} else {
			x[u] = r.Float64()
		}
		if x[u] >= 0.5 {
			half.Code[u] = 1
		}
		p0 := 0.1 + 0.5*x[u]
		for m := 0; m <= H; m++ {
			p := p0
			if s.Treated[u] {
				p += trueTau(m)
			}
			if r.Float64() < p {
				y[u*(H+1)+m] = 1
			}
		}
	}
	s.Outcomes = []EventOutcome{{Name: "y", H: H, Y: y}}
	s.Subgroups = []Subgroups{half}
	return s, x
}
