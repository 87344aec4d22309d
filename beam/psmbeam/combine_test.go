package psmbeam

import (
	"bytes"
	"context"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// shardPartials returns, for a random data set of n units split into 4
// shards at uneven places, every shard's encoded partial of kind k (the
// logit's scan and first pass, the matching's moments and candidates,
// and the by-shard records), as the shards' ParDo emits them.
func shardPartials(t *testing.T, k kind) [][]byte {
	t.Helper()
	ctx := context.Background()
	const n, p = 3000, 3
	rng := rand.New(rand.NewPCG(1, 2))
	x := mat.NewDense(n, p, nil)
	y := make([]float64, n)
	treated := make([]bool, n)
	scores := make([]float64, n)
	for i := range n {
		for j := range p {
			x.Set(i, j, rng.NormFloat64())
		}
		if rng.Float64() < 0.2 {
			y[i], treated[i] = 1, true
		}
		scores[i] = float64(rng.IntN(200)) / 200 // ties across shards
	}
	cuts := []int{0, 700, 1900, 2000, n}
	var out [][]byte
	var ts []float64
	for i := range n {
		if treated[i] {
			ts = append(ts, scores[i])
		}
	}
	run, err := psm.NewMatchRun(ts, treated, &psm.UnitOptions{Match: psm.MatchOptions{K: 2}})
	if err != nil {
		t.Fatal(err)
	}
	q, err := run.Query(nil)
	if err != nil {
		t.Fatal(err)
	}
	for s := range len(cuts) - 1 {
		lo, hi := cuts[s], cuts[s+1]
		var b []byte
		switch k {
		case kindScan, kindPass:
			r, err := psm.NewLogitRows(x, y, nil, lo, hi, nil)
			if err != nil {
				t.Fatal(err)
			}
			sp, err := r.Scan(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			if k == kindScan {
				b, err = sp.MarshalBinary()
			} else {
				plan := &psm.LogitPlan{Intercept: true, Center: make([]float64, p)}
				var pp *psm.LogitPartial
				if pp, err = r.Pass(ctx, plan, []float64{-1, 0.5, 0.25, -0.125}); err == nil {
					b, err = pp.MarshalBinary()
				}
			}
			if err != nil {
				t.Fatal(err)
			}
		case kindMoments, kindCandidates:
			var units []int
			var sc []float64
			for i := lo; i < hi; i++ {
				if !treated[i] {
					units, sc = append(units, i), append(sc, scores[i])
				}
			}
			c, err := psm.NewMatchControls(units, sc, nil)
			if err != nil {
				t.Fatal(err)
			}
			if k == kindMoments {
				m, err := c.Moments(ctx, psm.ProbabilityDistance)
				if err != nil {
					t.Fatal(err)
				}
				b, _ = m.MarshalBinary()
			} else {
				c, err := c.Candidates(ctx, q)
				if err != nil {
					t.Fatal(err)
				}
				b, _ = c.MarshalBinary()
			}
		case kindLayout, kindScores:
			b, _ = (&byShard{recs: []shardRec{{shard: s, data: []byte{byte(s), byte(hi)}}}}).MarshalBinary()
		}
		out = append(out, b)
	}
	return out
}

// mergeFn gives the same merged encoding whether it adds the shards'
// partials one by one in order or in reverse, or as a tree of two
// accumulators of two inputs each that travel through the accumulator's
// Beam coder (encodePartial, decodePartial) before they are merged, as a
// runner that combines per bundle and then across workers does: the
// library's merges are associative and commutative, and these kinds keep
// their terms apart (the logit's blocks by row, the candidates by unit)
// or exact (the moments).
func TestMergeFnTree(t *testing.T) {
	for _, k := range []kind{kindLayout, kindScan, kindPass, kindScores, kindMoments, kindCandidates} {
		t.Run(k.String(), func(t *testing.T) {
			parts := shardPartials(t, k)
			f := &mergeFn{Kind: k}
			add := func(a partial, in []byte) partial {
				t.Helper()
				a, err := f.AddInput(a, in)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			out := func(a partial) []byte {
				t.Helper()
				b, err := f.ExtractOutput(a)
				if err != nil {
					t.Fatal(err)
				}
				return b
			}
			through := func(a partial) partial {
				t.Helper()
				b, err := encodePartial(a)
				if err != nil {
					t.Fatal(err)
				}
				a, err = decodePartial(b)
				if err != nil {
					t.Fatal(err)
				}
				return a
			}
			a := f.CreateAccumulator()
			for _, p := range parts {
				a = add(a, p)
			}
			want := out(a)
			r := f.CreateAccumulator()
			for i := len(parts) - 1; i >= 0; i-- {
				r = add(r, parts[i])
			}
			if !bytes.Equal(out(r), want) {
				t.Error("reverse order: another merged result")
			}
			left := through(add(add(f.CreateAccumulator(), parts[2]), parts[0]))
			right := through(add(add(through(f.CreateAccumulator()), parts[3]), parts[1]))
			tree, err := f.MergeAccumulators(right, left)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(out(tree), want) {
				t.Error("tree: another merged result")
			}
			if _, err := f.MergeAccumulators(a, through(add(f.CreateAccumulator(), parts[1]))); err == nil && k != kindMoments {
				t.Error("merging a shard twice: no error")
			}
			if b, err := f.ExtractOutput(f.CreateAccumulator()); err != nil || b != nil {
				t.Errorf("empty accumulator: %v, %v; want nil, nil", b, err)
			}
		})
	}
}
