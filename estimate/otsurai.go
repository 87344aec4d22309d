package estimate

import (
	"cmp"
	"context"
	"math"
	"math/rand/v2"
	"runtime"
	"slices"

	"gonum.org/v1/gonum/floats"
	"gonum.org/v1/gonum/stat/distuv"

	"github.com/psmeval/psmeval/internal/pool"
	"github.com/psmeval/psmeval/internal/rng"
	"github.com/psmeval/psmeval/psm"
)

// OtsuRaiOptions configures OtsuRai. The zero value is the default.
type OtsuRaiOptions struct {
	// Level is the confidence level; 0 means 0.95.
	Level float64
	// Replicates is the number of bootstrap replicates; 0 means 999.
	Replicates int
	// Seed seeds the replicates (stream (Seed, b) per replicate).
	Seed uint64
	// Workers bounds the replicates run at once; 0 means GOMAXPROCS.
	Workers int
	// Scheme: Multinomial (the zero value) resamples N persons from all N
	// persons of the sample, treated and controls pooled, as Otsu and Rai
	// do; Poisson draws independent Poisson(1) weights per person.
	Scheme Scheme
	// rule is the matching rule, that of the matched sample (set by
	// OtsuRai)
	rule matchRule
	// Neighbours is J, the number of nearest controls (on the score, same
	// stratum, ties included) whose mean estimates μ₀(x); 0 means 10.
	Neighbours int
	// IncludeMonth0: see EffectOptions.
	IncludeMonth0 bool
	// KeepDraws keeps the replicate estimates in Series.Draws.
	KeepDraws bool
	// Progress, when set, is called after every replicate (serialized).
	Progress func(done, total int)
}

// OtsuRai computes the effects of the matched sample um (psm.MatchUnits
// on one score per unit of s with s.Treated as the treated flags, with
// replacement, since the linear form below is that of matching with
// replacement; any tie rule, the point estimate being um's sets) and
// intervals from the weighted bootstrap of Otsu and Rai (2017, "Bootstrap
// inference of matching estimators for average treatment effects", JASA
// 112:1720–1732), which resamples the terms of the linear form of the
// matching estimator instead of re-matching, and so remains valid for
// nearest-neighbour matching with a fixed number of neighbours.
//
// The ATT matching estimator is linear in the outcomes:
//
//	τ̂ = (1/n₁) Σ_i [D_i − (1−D_i) K(i)] Y_i,  K(j) = Σ_{i treated} ω_ij
//
// (K(j) is K_M(j)/M of Abadie and Imbens). Its terms, centred by an
// estimate μ̂₀ of the control regression E[Y|x, D=0], are
//
//	T_i = Y_i − μ̂₀(x_i)                          for matched treated i
//	T_j = −K(j) √(J/(J+1)) (Y_j − μ̂₀⁽⁻ʲ⁾(x_j))     for controls j
//
// where μ̂₀(x) is the mean outcome of the J controls nearest to x on the
// score (same stratum, ties at the J-th distance included) and μ̂₀⁽⁻ʲ⁾
// leaves control j out; √(J/(J+1)) removes the extra variance of the
// leave-one-out residual (as in the Abadie–Imbens σ² estimator). Terms are
// summed per person. A replicate draws weights W*_p and sets
//
//	τ* = τ̂ + (1/n₁) Σ_p (W*_p − 1) T_p
//
// for every outcome-month, accumulated effect (the cumulative sums of the
// terms) and subgroup (terms from the subgroup's treated and K computed
// from their match sets). With the Multinomial scheme W* are the counts
// of N draws from all N persons (Otsu and Rai's resampling of all N
// terms), drawn as a Binomial count for the persons with non-zero terms
// followed by uniform draws among them. Percentile, normal and sup-t band
// intervals follow as in Bootstrap. The scores are treated as fixed: the
// adjustment for an estimated propensity score (Abadie and Imbens 2016) is
// not applied. Cost: one match of the treated plus J-nearest-neighbour
// means for the treated and the used controls, then O(terms·Σ(H+1)) per
// replicate, independent of the number of unused controls.
func OtsuRai(ctx context.Context, s *Sample, um *psm.UnitMatching, opts *OtsuRaiOptions) (*Result, error) {
	if opts == nil {
		opts = &OtsuRaiOptions{}
	}
	bo := BootstrapOptions{Level: opts.Level, Replicates: opts.Replicates, Workers: opts.Workers, Scheme: opts.Scheme}
	level, R, workers, err := bo.defaults("OtsuRaiOptions")
	if err != nil {
		return nil, err
	}
	J := opts.Neighbours
	if J < 0 {
		return nil, invalid("OtsuRaiOptions.Neighbours", "%d, want >= 0", J)
	}
	if J == 0 {
		J = 10
	}
	o := *opts // the rule and its caliper width are set in the copy
	opts = &o
	scores, err := prepareUnits(s, um, &opts.rule)
	if err != nil {
		return nil, err
	}
	pr := newPersons(s)
	if opts.rule.noReplacement {
		return nil, invalid("psm.MatchOptions.NoReplacement", "the Otsu-Rai linear form is that of matching with replacement")
	}
	ix, ms, series, err := pointEstimate(s, pr, scores, &opts.rule, opts.IncludeMonth0, um)
	if err != nil {
		return nil, err
	}
	l := s.layout()
	gi := s.groups()
	G := len(gi.names)

	// K^g(j) for the used controls, per group.
	type kkey struct {
		u int32
		g int32
	}
	K := map[kkey]float64{}
	var gs []int32
	n1 := make([]float64, G)
	for k, u := range ms.Treated {
		if ms.Start[k] == ms.Start[k+1] {
			continue
		}
		gs = s.unitGroups(gs, int(u), &gi)
		for _, g := range gs {
			n1[g]++
			for p := ms.Start[k]; p < ms.Start[k+1]; p++ {
				K[kkey{ms.Control[p], g}] += ms.Weight[p]
			}
		}
	}
	// positions of the used controls in the index
	pos := map[int32]int{}
	for kk := range K {
		pos[kk.u] = -1
	}
	for p, u := range ix.unit {
		if _, ok := pos[u]; ok {
			pos[u] = p
		}
	}
	// μ̂₀ by the J nearest controls of the same stratum, all when fewer,
	// leaving out the control at position excl (−1: none)
	excl := -1
	jrule := matchRule{K: J, TieTolerance: opts.rule.TieTolerance}
	sr := ix.searcher(&jrule, leaveOut{&excl}, true)
	mu := func(dst []float64, t float64, stratum int32) {
		clear(dst)
		lo, hi, C, ok := sr.find(t, stratum)
		if !ok {
			for i := range dst {
				dst[i] = math.NaN()
			}
			return
		}
		for p := lo; p < hi; p++ {
			if p != excl {
				s.addRow(dst, int(ix.unit[p]), 1/C, &l)
			}
		}
	}
	// terms: per (person, group) a row of cols values.
	type tkey struct {
		p int64
		g int32
	}
	terms := map[tkey][]float64{}
	row := make([]float64, l.cols)
	add := func(p int64, g int32, a float64) {
		t := terms[tkey{p, g}]
		if t == nil {
			t = make([]float64, l.cols)
			terms[tkey{p, g}] = t
		}
		for j, v := range row {
			t[j] += a * v
		}
	}
	for i, u := range ix.tunit { // ms is in index order
		if ms.Start[i] == ms.Start[i+1] {
			continue
		}
		mu(row, ix.tx[i], ix.tstr[i])
		for j := range row {
			row[j] = -row[j]
		}
		s.addRow(row, int(u), 1, &l)
		gs = s.unitGroups(gs, int(u), &gi)
		for _, g := range gs {
			add(s.person(int(u)), g, 1)
		}
	}
	shrink := math.Sqrt(float64(J) / float64(J+1))
	used := make([]int32, 0, len(pos))
	for u := range pos {
		used = append(used, u)
	}
	slices.Sort(used)
	for _, u := range used {
		excl = pos[u]
		var stratum int32
		if opts.rule.Strata != nil {
			stratum = opts.rule.Strata[u]
		}
		mu(row, scores[u], stratum)
		excl = -1
		if math.IsNaN(row[0]) { // the only control of its stratum
			clear(row)
		}
		for j := range row {
			row[j] = -row[j]
		}
		s.addRow(row, int(u), 1, &l)
		for g := int32(0); g < int32(G); g++ {
			if kv := K[kkey{u, g}]; kv > 0 {
				add(s.person(int(u)), g, -kv*shrink)
			}
		}
	}
	// Dense layout: persons with terms, sorted by id; per group the rows.
	var ids []int64
	seen := map[int64]bool{}
	for k := range terms {
		if !seen[k.p] {
			seen[k.p] = true
			ids = append(ids, k.p)
		}
	}
	slices.Sort(ids)
	type grow struct {
		sidx int
		t    []float64
	}
	byGroup := make([][]grow, G)
	for k, t := range terms {
		si, _ := slices.BinarySearch(ids, k.p)
		byGroup[k.g] = append(byGroup[k.g], grow{si, t})
	}
	for g := range byGroup {
		slices.SortFunc(byGroup[g], func(a, b grow) int { return cmp.Compare(a.sidx, b.sidx) })
	}
	for _, t := range terms {
		for _, v := range t {
			if math.IsNaN(v) {
				if err := s.checkAll(); err != nil {
					return nil, err
				}
				return nil, invalid("", "NaN term in the Otsu–Rai linear form")
			}
		}
	}
	nPersons := pr.nT + pr.nC
	if pr.hasOverlap {
		all := map[int64]bool{}
		for u := range s.Treated {
			all[s.person(u)] = true
		}
		nPersons = len(all)
	}

	out := make([]float64, R*G*l.cols)
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	err = pool.Run(ctx, workers, R, func() []float64 { return make([]float64, len(ids)) }, func(W []float64, b int) error {
		key := rng.ReplicateKey(opts.Seed^streamOR, b)
		switch opts.Scheme {
		case Multinomial:
			clear(W)
			src := rand.NewPCG(key, streamOR)
			m := distuv.Binomial{N: float64(nPersons), P: float64(len(ids)) / float64(nPersons), Src: src}.Rand()
			r := rand.New(src)
			for range int(m) * min(len(ids), 1) {
				W[r.IntN(len(ids))]++
			}
		case Poisson:
			for k, id := range ids {
				W[k] = poissonCount(key, id)
			}
		}
		o := out[b*G*l.cols : (b+1)*G*l.cols]
		for g := 0; g < G; g++ {
			dst := o[g*l.cols : (g+1)*l.cols]
			if n1[g] == 0 {
				for j := range dst {
					dst[j] = math.NaN()
				}
				continue
			}
			clear(dst)
			for _, gr := range byGroup[g] {
				a := W[gr.sidx] - 1
				if a == 0 {
					continue
				}
				// dst += a·t (gonum's AXPY: a multiply, then an add,
				// each rounded, as the plain loop; no fused multiply-add)
				floats.AddScaled(dst[:len(gr.t)], a, gr.t)
			}
			for j := range dst {
				dst[j] /= n1[g]
			}
		}
		return nil
	}, opts.Progress)
	if err != nil {
		return nil, err
	}
	// add the point estimates: replicate = τ̂ + deviation
	for k := range s.Outcomes {
		for g := 0; g < G; g++ {
			se := &series[k*G+g]
			for b := 0; b < R; b++ {
				d := out[b*G*l.cols+g*l.cols+l.off[k]:]
				for m, e := range se.Effects {
					d[m] += e.ATT
				}
			}
		}
	}
	res := &Result{Method: "otsu-rai", Level: level, Replicates: R, IncludeMonth0: opts.IncludeMonth0, Series: series}
	fillFromReplicates(res, s, out, R, G, &l, opts.KeepDraws)
	return res, nil
}

// leaveOut counts every control once except the one at position *excl.
type leaveOut struct{ excl *int }

func (c leaveOut) at(pos int) float64 {
	if pos == *c.excl {
		return 0
	}
	return 1
}

func (c leaveOut) fn() func(int) float64 { return c.at }
