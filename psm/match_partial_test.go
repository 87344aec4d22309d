package psm

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// msRound returns the query of a run on d by mo and the answers of the
// shards cs to it.
func msRound(t testing.TB, d msData, mo MatchOptions, cs []*MatchControls) (*MatchRun, *MatchQuery, []*MatchCandidates) {
	t.Helper()
	ctx := context.Background()
	r, err := NewMatchRun(d.treatedScores(), d.treated, d.unitOptions(mo))
	require.NoError(t, err)
	var mm MatchMoments
	for _, s := range cs {
		m, err := s.Moments(ctx, mo.Distance)
		require.NoError(t, err)
		require.NoError(t, mm.Merge(m))
	}
	q, err := r.Query(&mm)
	require.NoError(t, err)
	parts := make([]*MatchCandidates, len(cs))
	for k, s := range cs {
		parts[k], err = s.Candidates(ctx, q)
		require.NoError(t, err)
	}
	return r, q, parts
}

func msEncode(t testing.TB, v interface{ MarshalBinary() ([]byte, error) }) []byte {
	t.Helper()
	b, err := v.MarshalBinary()
	require.NoError(t, err)
	return b
}

// msMergeTree merges parts pairwise, neighbours first.
func msMergeTree(t testing.TB, parts []*MatchCandidates) *MatchCandidates {
	t.Helper()
	if len(parts) == 1 {
		var c MatchCandidates
		require.NoError(t, c.Merge(parts[0]))
		return &c
	}
	h := len(parts) / 2
	a, b := msMergeTree(t, parts[:h]), msMergeTree(t, parts[h:])
	require.NoError(t, a.Merge(b))
	return a
}

// The candidates of shards merged in any order or tree are, byte for
// byte, the candidates of one shard holding all controls, and so are the
// moments; each shard's candidates are the K nearest of its own
// controls and their ties.
func TestMatchCandidatesMerge(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 5))
	for ci, c := range msCases() {
		if ci%3 != 0 {
			continue
		}
		d := msGen(uint64(ci), 300, c.kind, c.weights, c.strata, c.frac, c.zeroW)
		one := msSplit(t, d, 1, 1)
		_, q1, whole := msRound(t, d, c.mo, one)
		want := msEncode(t, whole[0])
		for _, k := range []int{2, 3, 5} {
			cs := msSplit(t, d, k, uint64(ci+k))
			_, q, parts := msRound(t, d, c.mo, cs)
			require.Equal(t, msEncode(t, q1), msEncode(t, q), "the query does not depend on the split")
			for range 4 {
				rng.Shuffle(len(parts), func(a, b int) { parts[a], parts[b] = parts[b], parts[a] })
				var seq MatchCandidates
				for _, p := range parts {
					require.NoError(t, seq.Merge(p))
				}
				require.Equal(t, want, msEncode(t, &seq), "%s: %d shards, in sequence", c.name, k)
				require.Equal(t, want, msEncode(t, msMergeTree(t, parts)), "%s: %d shards, as a tree", c.name, k)
			}
			var ma, mb MatchMoments
			for j := range cs {
				m, err := cs[j].Moments(context.Background(), c.mo.Distance)
				require.NoError(t, err)
				require.NoError(t, ma.Merge(m))
				m, err = cs[len(cs)-1-j].Moments(context.Background(), c.mo.Distance)
				require.NoError(t, err)
				require.NoError(t, mb.Merge(m))
			}
			m1, err := one[0].Moments(context.Background(), c.mo.Distance)
			require.NoError(t, err)
			require.Equal(t, msEncode(t, m1), msEncode(t, &ma))
			require.Equal(t, msEncode(t, m1), msEncode(t, &mb))
		}
	}
}

// A shard's candidates by brute force: for each treated unit of q, the
// positive-weight controls of its stratum within the width, sorted by
// distance; d_K the distance at which their weights reach K (the
// farthest when they weigh less); the candidates all within d_K + tol.
func TestMatchCandidatesBrute(t *testing.T) {
	for ci, c := range msCases() {
		if ci%4 != 1 || c.mo.Trim {
			continue
		}
		d := msGen(uint64(ci), 200, c.kind, c.weights, c.strata, false, c.zeroW)
		cs := msSplit(t, d, 3, 3)
		_, q, parts := msRound(t, d, c.mo, cs)
		for k, s := range cs {
			for qi, i := range q.Treated {
				tx := q.Scores[qi]
				type cand struct {
					u    int
					dist float64
					w    float64
				}
				var all []cand
				for p, u := range s.units {
					x := s.scores[p]
					if c.mo.Distance == LogitDistance {
						x = math.Log(x / (1 - x))
					}
					w := 1.0
					if s.w != nil {
						w = s.w[p]
					}
					dist := math.Abs(tx - x)
					if w == 0 || (q.Strata != nil && s.strata[p] != q.Strata[qi]) || (q.Width > 0 && dist > q.Width) {
						continue
					}
					all = append(all, cand{u, dist, w})
				}
				var want []int
				if len(all) > 0 {
					sortBy(all, func(a, b cand) bool { return a.dist < b.dist })
					cum, dk := 0.0, all[len(all)-1].dist
					for _, a := range all {
						if cum += a.w; cum >= float64(q.K) {
							dk = a.dist
							break
						}
					}
					for _, a := range all {
						if a.dist <= dk+q.TieTolerance {
							want = append(want, a.u)
						}
					}
					sortBy(want, func(a, b int) bool { return a < b })
				}
				require.Equal(t, want, parts[k].Units(i), "%s: shard %d, treated %d", c.name, k, i)
			}
		}
	}
}

func sortBy[T any](s []T, less func(a, b T) bool) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && less(s[j], s[j-1]); j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// msEncodings returns encodings of every kind: queries and candidates
// with and without strata and caliper, moments, empty ones.
func msEncodings(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for _, c := range []msCase{
		{kind: msGrid, weights: true, strata: true, zeroW: true, mo: MatchOptions{K: 2, Caliper: 0.2}},
		{kind: msInt, mo: MatchOptions{K: 1, TieTolerance: 1}},
	} {
		d := msGen(3, 60, c.kind, c.weights, c.strata, false, c.zeroW)
		cs := msSplit(t, d, 3, 3)
		_, q, parts := msRound(t, d, c.mo, cs)
		name := map[bool]string{true: "strata", false: "plain"}[c.strata]
		out["query/"+name] = msEncode(t, q)
		out["candidates/"+name] = msEncode(t, parts[0])
		out["candidates/empty/"+name] = msEncode(t, parts[2])
		m, err := cs[0].Moments(context.Background(), c.mo.Distance)
		require.NoError(t, err)
		out["moments/"+name] = msEncode(t, m)
		m, err = cs[2].Moments(context.Background(), c.mo.Distance)
		require.NoError(t, err)
		out["moments/empty/"+name] = msEncode(t, m)
	}
	return out
}

func requireEncodingError(t testing.TB, err error, what string) {
	t.Helper()
	var ie *InputError
	require.True(t, errors.As(err, &ie), "%s: %v", what, err)
	require.ErrorIs(t, err, ErrBadEncoding, what)
}

// Encodings round-trip byte for byte, have the documented sizes, and
// every truncation or corruption is an *InputError with ErrBadEncoding.
func TestMatchPartialBinary(t *testing.T) {
	for name, b := range msEncodings(t) {
		kind := b[3]
		got, err := decodeAny(kind, b)
		require.NoError(t, err, name)
		require.Equal(t, b, got, name)
		for n := range len(b) {
			_, err := decodeAny(kind, b[:n])
			requireEncodingError(t, err, name)
		}
		_, err = decodeAny(kind, append(append([]byte(nil), b...), 0))
		requireEncodingError(t, err, name+" trailing")
		for _, k := range []byte{'Q', 'M', 'C'} {
			if k != kind {
				_, err := decodeAny(k, b)
				requireEncodingError(t, err, name+" other type")
			}
		}
		bad := append([]byte(nil), b...)
		bad[4] = 2 // version
		_, err = decodeAny(kind, bad)
		requireEncodingError(t, err, name+" version")
	}

	// sizes
	d := msGen(4, 80, msGrid, true, true, false, false)
	cs := msSplit(t, d, 2, 4)
	_, q, parts := msRound(t, d, MatchOptions{K: 2}, cs)
	require.Len(t, msEncode(t, q), 42+16*len(q.Treated))
	c := parts[0]
	require.Len(t, msEncode(t, c), 58+28*c.Candidates()+20*c.Treated()+4*len(c.refs))
	m, err := cs[0].Moments(context.Background(), ProbabilityDistance)
	require.NoError(t, err)
	require.Len(t, msEncode(t, m), 49+8*(len(m.s0.w)+len(m.s1p.w)+len(m.s1n.w)+len(m.s2.w)))

	// corruptions of candidates with strata: [8] distance, [9] flags,
	// [34] controls covered, [42] U, controls from byte 50 (unit, x, w,
	// stratum), the queries' count after them
	b := msEncode(t, c)
	ctrl := 50
	qs := ctrl + 28*c.Candidates() + 8
	set := func(off int, f func(b []byte)) []byte {
		x := append([]byte(nil), b...)
		f(x[off:])
		return x
	}
	for name, x := range map[string][]byte{
		"distance":       set(8, func(b []byte) { b[0] = 7 }),
		"flags":          set(9, func(b []byte) { b[0] = 3 }),
		"K 0":            set(10, func(b []byte) { binary.LittleEndian.PutUint32(b, 0) }),
		"tolerance":      set(14, func(b []byte) { binary.LittleEndian.PutUint64(b, math.Float64bits(-1)) }),
		"width NaN":      set(22, func(b []byte) { binary.LittleEndian.PutUint64(b, math.Float64bits(math.NaN())) }),
		"exp no width":   set(30, func(b []byte) { binary.LittleEndian.PutUint32(b, 3) }),
		"units order":    set(ctrl+28, func(b []byte) { binary.LittleEndian.PutUint64(b, 0) }),
		"score Inf":      set(ctrl+8, func(b []byte) { binary.LittleEndian.PutUint64(b, math.Float64bits(math.Inf(1))) }),
		"weight 0":       set(ctrl+16, func(b []byte) { binary.LittleEndian.PutUint64(b, 0) }),
		"stratum":        set(ctrl+24, func(b []byte) { b[0]++ }),
		"treated order":  set(qs+20+4*int(c.queries[0].hi-c.queries[0].lo), func(b []byte) { binary.LittleEndian.PutUint32(b, 0) }),
		"no candidates":  set(qs+16, func(b []byte) { binary.LittleEndian.PutUint32(b, 0) }),
		"ref range":      set(qs+20, func(b []byte) { binary.LittleEndian.PutUint32(b, 1<<30) }),
		"many controls":  set(42, func(b []byte) { binary.LittleEndian.PutUint64(b, 1<<40) }),
		"covers too few": set(34, func(b []byte) { binary.LittleEndian.PutUint64(b, 1) }),
	} {
		_, err := decodeAny('C', x)
		requireEncodingError(t, err, name)
	}
	// a control nobody lists: drop the first treated unit's candidates
	// where it has one only
	var one MatchCandidates
	one.p, one.set, one.n = c.p, true, 10
	one.ctrl = []candControl{{unit: 1, x: 0.5, w: 1}, {unit: 2, x: 0.6, w: 1}}
	one.queries = []candQuery{{treated: 0, x: 0.5, lo: 0, hi: 1}}
	one.refs = []int32{0}
	_, err = decodeAny('C', msEncode(t, &one))
	requireEncodingError(t, err, "unreferenced control")

	// the zero values do not encode
	_, err = (&MatchCandidates{}).MarshalBinary()
	require.ErrorIs(t, err, ErrBadOption)
	_, err = (&MatchMoments{}).MarshalBinary()
	require.ErrorIs(t, err, ErrBadOption)
	_, err = (&MatchQuery{}).MarshalBinary()
	require.ErrorIs(t, err, ErrBadOption)
}

// Merge errors: the same candidates twice (overlapping controls),
// another query, a treated unit with another score; moments on another
// scale. The receiver is left unchanged.
func TestMatchPartialMergeErrors(t *testing.T) {
	d := msGen(6, 100, msGrid, true, true, false, false)
	cs := msSplit(t, d, 2, 6)
	_, q, parts := msRound(t, d, MatchOptions{K: 2}, cs)
	var c MatchCandidates
	require.NoError(t, c.Merge(parts[0]))
	before := msEncode(t, &c)
	require.ErrorIs(t, c.Merge(parts[0]), ErrBadOption)
	q2 := *q
	q2.K = 3
	other, err := cs[1].Candidates(context.Background(), &q2)
	require.NoError(t, err)
	require.ErrorIs(t, c.Merge(other), ErrBadOption)
	q3 := *q
	q3.Scores = append([]float64(nil), q.Scores...)
	for k := range q3.Scores {
		q3.Scores[k] += 1e-9
	}
	moved, err := cs[1].Candidates(context.Background(), &q3)
	require.NoError(t, err)
	require.ErrorIs(t, c.Merge(moved), ErrBadOption)
	require.Equal(t, before, msEncode(t, &c))
	require.NoError(t, c.Merge(&MatchCandidates{}))
	require.Equal(t, before, msEncode(t, &c))

	m0, err := cs[0].Moments(context.Background(), ProbabilityDistance)
	require.NoError(t, err)
	m1, err := cs[1].Moments(context.Background(), LogitDistance)
	require.NoError(t, err)
	mb := msEncode(t, m0)
	require.ErrorIs(t, m0.Merge(m1), ErrBadOption)
	require.Equal(t, mb, msEncode(t, m0))
}

func FuzzMatchCandidates(f *testing.F) {
	for _, b := range msEncodings(f) {
		f.Add(b)
	}
	f.Add([]byte("PSMC\x01\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, kind := range []byte{'Q', 'M', 'C'} {
			if !decodesExactly(t, kind, b) {
				continue
			}
			switch kind {
			case 'C':
				var c MatchCandidates
				if err := c.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
				var m MatchCandidates
				if err := m.Merge(&c); err != nil {
					t.Fatal(err)
				}
				if c.Candidates() > 0 && m.Merge(&c) == nil {
					t.Fatal("merging candidates with themselves: no overlap error")
				}
			case 'M':
				var m, o MatchMoments
				if err := m.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
				if err := o.Merge(&m); err != nil {
					t.Fatal(err)
				}
				if err := o.Merge(&m); err != nil {
					t.Fatal(err)
				}
				_ = xsSD(o.s0, o.s1p, o.s1n, o.s2, 0)
			}
		}
	})
}

// The exact sums equal big.Float's exact sums of the same products, for
// weights and scores from subnormal to huge, in any order.
func TestExactSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	val := func() float64 {
		switch rng.IntN(6) {
		case 0:
			return math.Ldexp(rng.Float64(), -1074+rng.IntN(60)) // subnormal
		case 1:
			return math.Ldexp(1+rng.Float64(), 900+rng.IntN(123)) // huge
		case 2:
			return float64(rng.IntN(5))
		default:
			return math.Ldexp(rng.Float64(), rng.IntN(200)-100)
		}
	}
	for range 50 {
		var a, b xacc
		ref := [3]*big.Float{new(big.Float), new(big.Float), new(big.Float)}
		for _, r := range ref {
			r.SetPrec(0).SetMode(big.ToNearestEven)
		}
		var terms [][3]float64
		for range 200 {
			terms = append(terms, [3]float64{val(), val(), val()})
		}
		exact := func(x ...float64) *big.Float {
			p := new(big.Float).SetPrec(4000).SetFloat64(x[0])
			for _, y := range x[1:] {
				p.Mul(p, new(big.Float).SetPrec(4000).SetFloat64(y))
			}
			return p
		}
		sum := [3]*big.Float{new(big.Float).SetPrec(8000), new(big.Float).SetPrec(8000), new(big.Float).SetPrec(8000)}
		for _, tm := range terms {
			a.add1(tm[0])
			sum[0].Add(sum[0], exact(tm[0]))
			sum[1].Add(sum[1], exact(tm[0], tm[1]))
			sum[2].Add(sum[2], exact(tm[0], tm[1], tm[2]))
		}
		var a2, a3 xacc
		for k := len(terms) - 1; k >= 0; k-- {
			tm := terms[k]
			b.add1(tm[0])
			a2.add2(tm[0], tm[1])
			a3.add3(tm[0], tm[1], tm[2])
		}
		require.Equal(t, a.sum(), b.sum())
		for k, s := range []xsum{a.sum(), a2.sum(), a3.sum()} {
			want, _ := sum[k].Float64()
			require.Equal(t, want, s.float(), "sum %d", k)
			got := new(big.Float).SetInt(s.bigInt())
			got.SetMantExp(got, -xsBias)
			require.Zero(t, got.Cmp(sum[k]), "sum %d exact", k)
		}
		// compact sums add as the accumulators
		h := len(terms) / 2
		var p, q xacc
		for _, tm := range terms[:h] {
			p.add3(tm[0], tm[1], tm[2])
		}
		for _, tm := range terms[h:] {
			q.add3(tm[0], tm[1], tm[2])
		}
		require.Equal(t, a3.sum(), p.sum().plus(q.sum()))
	}
}
