package synth

// ipf returns base weights b (normalized to sum 1) such that drawing a
// group g with probability w[g] and then a category k with probability
// proportional to b[k]·tilt[g][k] gives the marginal target (normalized).
// It is iterative proportional fitting on the margin, run to a fixed
// tolerance. Infeasible targets (a category with positive target but no
// group that can reach it) leave that category at 0.
func ipf(w []float64, tilt [][]float64, target []float64) []float64 {
	K := len(target)
	t := normalize(append([]float64(nil), target...))
	b := make([]float64, K)
	for k := range b {
		b[k] = t[k] + 1e-12
	}
	cur := make([]float64, K)
	for it := 0; it < 5000; it++ {
		for k := range cur {
			cur[k] = 0
		}
		for g, wg := range w {
			s := 0.0
			for k := 0; k < K; k++ {
				s += b[k] * tilt[g][k]
			}
			if s == 0 {
				continue
			}
			for k := 0; k < K; k++ {
				cur[k] += wg * b[k] * tilt[g][k] / s
			}
		}
		maxd := 0.0
		for k := 0; k < K; k++ {
			if cur[k] > 0 {
				d := t[k] / cur[k]
				b[k] *= d
				if d-1 > maxd {
					maxd = d - 1
				} else if 1-d > maxd {
					maxd = 1 - d
				}
			}
		}
		normalize(b)
		if maxd < 1e-10 {
			break
		}
	}
	return b
}

// conditional returns the cumulative conditional distributions
// cum[g][k] of b[k]·tilt[g][k], normalized per group.
func conditional(b []float64, tilt [][]float64) [][]float64 {
	out := make([][]float64, len(tilt))
	for g := range tilt {
		p := make([]float64, len(b))
		for k := range b {
			p[k] = b[k] * tilt[g][k]
		}
		out[g] = cumulative(p)
	}
	return out
}

// normalize scales p to sum 1 in place and returns it.
func normalize(p []float64) []float64 {
	s := 0.0
	for _, v := range p {
		s += v
	}
	if s > 0 {
		for i := range p {
			p[i] /= s
		}
	}
	return p
}

// cumulative returns the normalized cumulative sums of p.
func cumulative(p []float64) []float64 {
	c := make([]float64, len(p))
	s := 0.0
	for i, v := range p {
		s += v
		c[i] = s
	}
	if s > 0 {
		for i := range c {
			c[i] /= s
		}
	}
	c[len(c)-1] = 1
	return c
}

// pick returns the index of u (in [0,1)) in the cumulative distribution c.
func pick(c []float64, u float64) int {
	for i, v := range c {
		if u < v {
			return i
		}
	}
	return len(c) - 1
}

// mixProbs returns w[g]·P(k|g) summed over g: the joint group weights of
// a variable drawn from cumulative conditionals cum given groups weighted w.
func jointWeights(w []float64, cum [][]float64) [][]float64 {
	out := make([][]float64, len(w))
	for g := range w {
		out[g] = make([]float64, len(cum[g]))
		prev := 0.0
		for k, c := range cum[g] {
			out[g][k] = w[g] * (c - prev)
			prev = c
		}
	}
	return out
}
