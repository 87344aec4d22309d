package psm

import (
	"context"
	"encoding/binary"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// lgPlainPlan returns the plan of the dense pass with the weighted means
// of x as centres, computed by plain loops, and, with sparse, the plan of
// the sparse pass with the columns whose nonzero values carry at most
// half the weight summed uncentred.
func lgPlainPlan(x *mat.Dense, w []float64, sparse bool) *LogitPlan {
	n, p := x.Dims()
	plan := &LogitPlan{Intercept: true, Center: make([]float64, p)}
	sw := 0.0
	nz := make([]float64, p)
	for i := range n {
		sw += w[i]
		for j := range p {
			plan.Center[j] += w[i] * x.At(i, j)
			if x.At(i, j) != 0 {
				nz[j] += w[i]
			}
		}
	}
	for j := range p {
		plan.Center[j] /= sw
	}
	if sparse {
		plan.Sparse = make([]bool, p)
		for j := range p {
			plan.Sparse[j] = 2*nz[j] <= sw
		}
	}
	return plan
}

// lgKahan is a compensated sum (Neumaier): error about eps times the
// sum of magnitudes, independent of the number of terms.
type lgKahan struct{ s, c float64 }

func (k *lgKahan) add(v float64) {
	t := k.s + v
	if math.Abs(k.s) >= math.Abs(v) {
		k.c += (k.s - t) + v
	} else {
		k.c += (v - t) + k.s
	}
	k.s = t
}

func (k *lgKahan) sum() float64 { return k.s + k.c }

// lgPlainGram returns, by plain loops over rows lo..hi-1 and compensated
// sums, the upper triangle of sum W v v' (v = (u, z), (q+1)×(q+1)
// row-major), the deviance and the largest |eta - eta0| at beta in the
// coordinates of plan.
func lgPlainGram(x *mat.Dense, y, w []float64, lo, hi int, plan *LogitPlan, beta, eta0 []float64) (g []float64, dev, maxd float64) {
	_, p := x.Dims()
	q := p + 1
	m := q + 1
	gk := make([]lgKahan, m*m)
	var dk lgKahan
	v := make([]float64, m)
	for i := lo; i < hi; i++ {
		if w[i] == 0 {
			continue
		}
		v[0] = 1
		for j := range p {
			v[1+j] = x.At(i, j) - plan.Center[j]
		}
		eta := 0.0
		for j := range q {
			eta += beta[j] * v[j]
		}
		maxd = math.Max(maxd, math.Abs(eta-eta0[i]))
		eta0[i] = eta
		mu := 1 / (1 + math.Exp(-eta))
		W := w[i] * mu * (1 - mu)
		v[q] = eta + (y[i]-mu)/(mu*(1-mu))
		dk.add(-2 * w[i] * (y[i]*math.Log(mu) + (1-y[i])*math.Log(1-mu)))
		for a := range m {
			for b := a; b < m; b++ {
				gk[a*m+b].add(W * v[a] * v[b])
			}
		}
	}
	g = make([]float64, m*m)
	for j := range g {
		g[j] = gk[j].sum()
	}
	return g, dk.sum(), maxd
}

// lgShardPartials scans and passes the shards of x cut at cuts, at beta
// in the coordinates of plan, and returns their partials.
func lgShardPartials(t *testing.T, x *mat.Dense, y, w []float64, cuts []int, plan *LogitPlan, betas ...[]float64) [][]*LogitPartial {
	t.Helper()
	ctx := context.Background()
	shards := lgShardsAt(t, x, y, w, cuts, true)
	out := make([][]*LogitPartial, len(betas))
	for _, s := range shards {
		_, err := s.Scan(ctx, false)
		require.NoError(t, err)
		for r, beta := range betas {
			part, err := s.Pass(ctx, plan, beta)
			require.NoError(t, err)
			out[r] = append(out[r], part)
		}
	}
	return out
}

func TestLogitPartialGram(t *testing.T) {
	// The merged partials of uneven shards give U'WU, U'Wz, the deviance
	// and the largest change of eta of plain loops over the rows (in the
	// plan's coordinates, at R's weights and working response, with
	// compensated sums), to 1e-11 relative (Gram entries relative to
	// sqrt(G_aa G_bb)): the error bound n*eps = 3.7e-12 of the library's
	// plain sums of n = 33268 rows; two passes in a row, the second's
	// change of eta measured from the first. Dense and sparse pass (the
	// sparse Gram centred after adding).
	x, y, w := lgShardData(5)
	xs, ys, _ := lgSparseDesign(11, lgShardN)
	_, ps := xs.Dims()
	for _, c := range []struct {
		name   string
		x      *mat.Dense
		y      []float64
		sparse bool
	}{{"dense", x, y, false}, {"sparse", xs, ys, true}} {
		n, p := c.x.Dims()
		q := p + 1
		plan := lgPlainPlan(c.x, w, c.sparse)
		// Coefficients of size 0.3/max|x_j - c_j| (|eta| < 0.3 p, far
		// from R's clamping at 30).
		beta1, beta2 := make([]float64, q), make([]float64, q)
		for j := 1; j < q; j++ {
			s := 0.0
			for i := range n {
				s = math.Max(s, math.Abs(c.x.At(i, j-1)-plan.Center[j-1]))
			}
			beta1[j] = 0.15 * float64(j%5-2) / s
			beta2[j] = beta1[j] + 0.1*float64(j%3-1)/s
		}
		beta1[0], beta2[0] = -1, -1.2
		parts := lgShardPartials(t, c.x, c.y, w, []int{3000, 3000, 20000, 20001}, plan, beta1, beta2)
		var sp *lgSparse
		if c.sparse {
			require.Equal(t, ps, len(plan.Sparse))
			sp = lgNewSparse(p, q, true, plan.Center, plan.Sparse, make([]bool, p))
			require.GreaterOrEqual(t, sp.ns, 4, "sparse columns")
		}
		eta0 := make([]float64, n)
		for r, beta := range []([]float64){beta1, beta2} {
			var all LogitPartial
			for k := len(parts[r]) - 1; k >= 0; k-- { // merged in reverse
				require.NoError(t, all.Merge(parts[r][k]))
			}
			assert.Equal(t, n, all.Rows())
			g := make([]float64, lgGramLen(q+1))
			res, err := lgFoldPass([]*LogitPartial{&all}, 0, n, sp, q, g)
			require.NoError(t, err)
			want, dev, maxd := lgPlainGram(c.x, c.y, w, 0, n, plan, beta, eta0)
			m, m4 := q+1, lgStride(q+1)
			for a := range m {
				for b := a; b < m; b++ {
					scale := math.Sqrt(want[a*m+a] * want[b*m+b])
					assert.InDelta(t, want[a*m+b], g[a*m4+b], 1e-11*scale, "%s pass %d: G[%d][%d]", c.name, r, a, b)
				}
			}
			assert.InDelta(t, dev, res.dev, 1e-11*dev, "%s pass %d: deviance", c.name, r)
			assert.InDelta(t, maxd, res.maxDelta, 1e-12*maxd, "%s pass %d: change of eta", c.name, r)
			assert.Zero(t, res.boundary)
		}
	}
}

func TestLogitScanPartialSums(t *testing.T) {
	// Merged scan partials of uneven shards against plain loops: counts
	// and ranges exactly, sums (compensated) to 1e-11 relative (the bound
	// n*eps of plain sums of n = 33268 rows), the start deviance
	// 2 w (y log(1/mu0) + (1-y) log(1/(1-mu0))) with mu0 = (w y + 1/2)/(w + 1).
	ctx := context.Background()
	x, y, w := lgShardData(6)
	n, p := x.Dims()
	var all LogitScanPartial
	for _, s := range lgShardsAt(t, x, y, w, []int{5, 4096, 10000}, true) {
		part, err := s.Scan(ctx, true)
		require.NoError(t, err)
		require.NoError(t, all.Merge(part))
	}
	sc, rows, err := lgFoldScan([]*LogitScanPartial{&all})
	require.NoError(t, err)
	assert.Equal(t, n, rows)
	assert.Equal(t, p, all.Covariates())
	var nPos, n1 int
	var sw, swy float64 // (exact: whole-number weights)
	var dev lgKahan
	swx, absx, nzw := make([]lgKahan, p), make([]float64, p), make([]float64, p)
	mn, mx := [2][]float64{make([]float64, p), make([]float64, p)}, [2][]float64{make([]float64, p), make([]float64, p)}
	for g := range 2 {
		for j := range p {
			mn[g][j], mx[g][j] = math.Inf(1), math.Inf(-1)
		}
	}
	for i := range n {
		if w[i] == 0 {
			continue
		}
		nPos++
		g := int(y[i])
		n1 += g
		sw += w[i]
		swy += w[i] * y[i]
		mu0 := (w[i]*y[i] + 0.5) / (w[i] + 1)
		dev.add(2 * w[i] * (y[i]*math.Log(1/mu0) + (1-y[i])*math.Log(1/(1-mu0))))
		for j := range p {
			v := x.At(i, j)
			swx[j].add(w[i] * v)
			absx[j] += math.Abs(w[i] * v)
			if v != 0 {
				nzw[j] += w[i]
			}
			mn[g][j], mx[g][j] = math.Min(mn[g][j], v), math.Max(mx[g][j], v)
		}
	}
	assert.Equal(t, nPos, sc.nPos)
	assert.Equal(t, n1, sc.n1)
	assert.Equal(t, [][]float64{mn[0], mx[0], mn[1], mx[1]}, [][]float64{sc.min0, sc.max0, sc.min1, sc.max1})
	assert.Equal(t, sw, sc.sumW)
	assert.Equal(t, swy, sc.sumWY)
	assert.InDelta(t, dev.sum(), sc.dev, 1e-11*dev.sum())
	for j := range p {
		assert.InDelta(t, swx[j].sum(), sc.sumWX[j], 1e-11*absx[j], "sum w x_%d", j)
		assert.Equal(t, nzw[j], sc.nzW[j], "nonzero weight %d", j)
	}
}

func TestLogitPartialMerge(t *testing.T) {
	// Partials of block-aligned shards, merged in any order or tree,
	// hold exactly the terms of the one-shard partial over all rows (the
	// same encoding, bit for bit); overlapping rows and other layouts are
	// errors that leave the receiver unchanged; the zero value takes the
	// layout of the first merge; Compact needs contiguous rows.
	ctx := context.Background()
	x, y, w := lgShardData(7)
	n, p := x.Dims()
	B := lgBlock
	plan := lgPlainPlan(x, w, false)
	beta := make([]float64, p+1)
	beta[0] = -1
	enc := func(m lgMarshaler) []byte {
		b, err := m.MarshalBinary()
		require.NoError(t, err)
		return b
	}
	whole := lgShardPartials(t, x, y, w, nil, plan, beta)[0][0]
	parts := lgShardPartials(t, x, y, w, []int{B, 2 * B, 5 * B}, plan, beta)[0]
	require.Len(t, parts, 4)
	merge := func(order ...int) *LogitPartial {
		var m LogitPartial
		for _, k := range order {
			require.NoError(t, m.Merge(parts[k]))
		}
		return &m
	}
	want := enc(whole)
	assert.Equal(t, want, enc(merge(0, 1, 2, 3)))
	assert.Equal(t, want, enc(merge(3, 1, 0, 2)))
	left, right := merge(2, 0), merge(3, 1) // a tree: (2 0) (3 1)
	require.NoError(t, right.Merge(left))
	assert.Equal(t, want, enc(right))
	assert.Equal(t, whole.Blocks(), right.Blocks())
	assert.Equal(t, n, right.Rows())

	// Errors leave p unchanged.
	m := merge(0, 1)
	before := enc(m)
	err := m.Merge(parts[1])
	assert.ErrorIs(t, err, ErrBadOption)
	assert.ErrorContains(t, err, "overlap")
	other := lgShardPartials(t, lgCols(x, []int{0, 1, 2}), y, w, []int{2 * B}, lgPlainPlan(lgCols(x, []int{0, 1, 2}), w, false), beta[:4])[0][1]
	assert.ErrorContains(t, m.Merge(other), "layout")
	sparse := lgShardPartials(t, x, y, w, []int{2 * B}, lgPlainPlan(x, w, true), beta)[0][1]
	assert.ErrorContains(t, m.Merge(sparse), "sparse pass")
	assert.Equal(t, before, enc(m))
	require.NoError(t, m.Merge(&LogitPartial{}))
	assert.Equal(t, before, enc(m))
	_, err = (&LogitPartial{}).MarshalBinary()
	assert.ErrorIs(t, err, ErrBadOption)

	// Compact: one term over the rows, sums to rounding.
	c := merge(0, 1, 2, 3)
	require.NoError(t, c.Compact())
	assert.Equal(t, 1, c.Blocks())
	assert.Equal(t, n, c.Rows())
	g1, g2 := make([]float64, lgGramLen(p+2)), make([]float64, lgGramLen(p+2))
	r1, err := lgFoldPass([]*LogitPartial{whole}, 0, n, nil, p+1, g1)
	require.NoError(t, err)
	r2, err := lgFoldPass([]*LogitPartial{c}, 0, n, nil, p+1, g2)
	require.NoError(t, err)
	assert.InDelta(t, r1.dev, r2.dev, 1e-13*r1.dev)
	for j := range g1 {
		assert.InDelta(t, g1[j], g2[j], 1e-12*(1+math.Abs(g1[j])), "Gram %d", j)
	}
	gap := merge(0, 2)
	assert.ErrorContains(t, gap.Compact(), "missing")
	assert.Equal(t, 4, gap.Blocks())

	// Scan partials: merged shards equal the whole.
	var sall LogitScanPartial
	var swhole *LogitScanPartial
	for _, cuts := range [][]int{nil, {B, 2 * B, 5 * B}} {
		for k, s := range lgShardsAt(t, x, y, w, cuts, true) {
			part, err := s.Scan(ctx, true)
			require.NoError(t, err)
			if cuts == nil {
				swhole = part
				continue
			}
			if k == 0 {
				assert.ErrorContains(t, part.Merge(part), "overlap")
			}
			require.NoError(t, sall.Merge(part))
		}
	}
	assert.Equal(t, enc(swhole), enc(&sall))
	narrow, err := NewLogitRows(lgCols(x, []int{0}), y, w, 0, 10, nil)
	require.NoError(t, err)
	np, err := narrow.Scan(ctx, true)
	require.NoError(t, err)
	assert.ErrorContains(t, sall.Merge(np), "1 covariates")
}

// lgMarshaler is a value with a binary encoding.
type lgMarshaler interface{ MarshalBinary() ([]byte, error) }

// lgEncodables returns values of every kind: scan partials (with and
// without start values, with a bad value), dense and sparse pass partials
// of two blocks (rows 4090..4109, numbered by Offset), and plans.
func lgEncodables(t testing.TB) map[string]lgMarshaler {
	ctx := context.Background()
	x, y, w := lgShardData(8)
	x, y, w = mat.DenseCopyOf(x.Slice(0, 20, 0, 7)), y[:20], w[:20]
	w[3] = 0.5
	out := map[string]lgMarshaler{}
	s, err := NewLogitRows(x, y, w, 0, 20, &LogitRowsOptions{Offset: 4090})
	require.NoError(t, err)
	out["scan"], err = s.Scan(ctx, false)
	require.NoError(t, err)
	out["scan start"], err = s.Scan(ctx, true)
	require.NoError(t, err)
	dense := &LogitPlan{Intercept: true, Center: []float64{0.1, -0.2, 0.3, 0, 0, 0.5, 0.25}}
	part, err := s.Pass(ctx, dense, nil)
	require.NoError(t, err)
	require.Equal(t, 2, part.Blocks())
	out["dense"] = part
	sparse := &LogitPlan{Intercept: true, Center: dense.Center, Sparse: []bool{false, false, true, false, true, false, true},
		Constant: []bool{false, false, false, true, false, false, false}}
	out["sparse"], err = s.Pass(ctx, sparse, []float64{-1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7})
	require.NoError(t, err)
	out["plan dense"] = dense
	out["plan sparse"] = sparse
	out["plan no intercept"] = &LogitPlan{Center: make([]float64, 3)}
	xb := mat.DenseCopyOf(x)
	xb.Set(7, 2, math.NaN())
	s, err = NewLogitRows(xb, y, w, 0, 20, nil)
	require.NoError(t, err)
	out["scan bad"], err = s.Scan(ctx, true)
	require.NoError(t, err)
	return out
}

// lgEncodings returns the encodings of lgEncodables.
func lgEncodings(t testing.TB) map[string][]byte {
	out := map[string][]byte{}
	for name, m := range lgEncodables(t) {
		b, err := m.MarshalBinary()
		require.NoError(t, err)
		out[name] = b
	}
	return out
}

func lgKindOf(b []byte) byte { return b[3] }

func TestLogitPartialBinary(t *testing.T) {
	// Round trips are exact (decoding and encoding again gives the same
	// bytes; a decoded pass partial gives the same Gram, bit for bit);
	// every truncation, another magic, type or version, a reserved field,
	// trailing bytes, overlapping terms, impossible layouts and counts are
	// errors (*InputError, ErrBadEncoding) that name the problem.
	encs := lgEncodings(t)
	for name, b := range encs {
		got, err := decodeAny(lgKindOf(b), b)
		require.NoError(t, err, name)
		assert.Equal(t, b, got, name)
		for cut := range len(b) {
			_, err := decodeAny(lgKindOf(b), b[:cut])
			require.ErrorIs(t, err, ErrBadEncoding, "%s cut at %d", name, cut)
			var ie *InputError
			require.ErrorAs(t, err, &ie)
		}
		_, err = decodeAny(lgKindOf(b), append(slices.Clone(b), 0))
		assert.ErrorContains(t, err, "1 trailing bytes", name)
	}
	// The sizes of the documentation: two blocks, p = 7, q = 8.
	assert.Len(t, encs["scan"], 58+32*7+2*(40+16*7))
	assert.Len(t, encs["dense"], 44+2*(24+4*9*10))
	assert.Len(t, encs["plan dense"], 13+8*7)
	assert.Len(t, encs["plan sparse"], 13+9*7)
	mod := func(name string, f func(b []byte)) error {
		b := slices.Clone(encs[name])
		f(b)
		_, err := decodeAny(lgKindOf(encs[name]), b)
		assert.ErrorIs(t, err, ErrBadEncoding, name)
		return err
	}
	le := binary.LittleEndian
	assert.ErrorContains(t, mod("dense", func(b []byte) { b[0] = 'X' }), "magic")
	assert.ErrorContains(t, mod("dense", func(b []byte) { b[3] = 'S' }), `type 'S', want 'P'`)
	assert.ErrorContains(t, mod("scan", func(b []byte) { le.PutUint16(b[4:], 2) }), "version 2, want 1")
	assert.ErrorContains(t, mod("plan dense", func(b []byte) { le.PutUint16(b[6:], 1) }), "reserved")
	// Pass partial: q at 8, md 12, ns 16, boundary 20, maxDelta 28, B 36,
	// term 0 at 44 (lo, hi, deviance, K values), term 1 after.
	assert.ErrorContains(t, mod("dense", func(b []byte) { le.PutUint32(b[8:], 0) }), "q = 0")
	assert.ErrorContains(t, mod("dense", func(b []byte) { le.PutUint32(b[16:], 1) }), "dense pass (md = 0) with ns = 1")
	assert.ErrorContains(t, mod("sparse", func(b []byte) { le.PutUint32(b[12:], 9) }), "sparse pass with md = 9")
	assert.ErrorContains(t, mod("dense", func(b []byte) { le.PutUint64(b[20:], 1000) }), "boundary count 1000")
	assert.ErrorContains(t, mod("dense", func(b []byte) { le.PutUint64(b[28:], math.Float64bits(-1)) }), "change of eta -1")
	assert.ErrorContains(t, mod("dense", func(b []byte) { le.PutUint64(b[36:], 1<<40) }), "the terms")
	k := (24 + 8*lgPackedLen(8, 0, 0))
	assert.ErrorContains(t, mod("dense", func(b []byte) { le.PutUint64(b[44+k:], 4095) }), "before the end")
	assert.ErrorContains(t, mod("dense", func(b []byte) { le.PutUint64(b[44:], 4096) }), "want lo < hi")
	// Scan partial: p at 8, flags 12, nPos 13, n1 21, bad code 29.
	assert.ErrorContains(t, mod("scan", func(b []byte) { b[12] = 4 }), "flags")
	assert.ErrorContains(t, mod("scan", func(b []byte) { le.PutUint64(b[21:], 1000) }), "treated among")
	assert.ErrorContains(t, mod("scan", func(b []byte) { b[29] = 9 }), "bad value code 9")
	assert.ErrorContains(t, mod("scan", func(b []byte) { b[29] = 1 }), "not a row of the partial")
	assert.ErrorContains(t, mod("scan bad", func(b []byte) { b[29] = 0 }), "without its code")
	// Plan: p at 8, flags 12, centres from 13, then the classes.
	assert.ErrorContains(t, mod("plan sparse", func(b []byte) { b[len(b)-1] = 3 }), "class 3")
	assert.ErrorContains(t, mod("plan dense", func(b []byte) { b[12] = 4 }), "flags")
	assert.ErrorContains(t, mod("plan dense", func(b []byte) { le.PutUint64(b[13:], math.Float64bits(math.NaN())) }), "Center[0] = NaN")
	assert.ErrorContains(t, mod("plan no intercept", func(b []byte) { le.PutUint64(b[13:], math.Float64bits(1)) }), "without an intercept")
	assert.ErrorContains(t, mod("plan dense", func(b []byte) { le.PutUint32(b[8:], 1<<30) }), "truncated")

	// A decoded partial gives the coordinator the same Gram bit for bit.
	objs := lgEncodables(t)
	for _, name := range []string{"dense", "sparse"} {
		var dec LogitPartial
		require.NoError(t, dec.UnmarshalBinary(encs[name]))
		orig := objs[name].(*LogitPartial)
		pl := objs["plan "+name].(*LogitPlan)
		var sp *lgSparse
		if pl.Sparse != nil {
			sp = lgNewSparse(7, 8, true, pl.Center, pl.Sparse, pl.Constant)
		}
		g1, g2 := make([]float64, lgGramLen(9)), make([]float64, lgGramLen(9))
		r1, err := lgFoldPass([]*LogitPartial{orig}, 4090, 4110, sp, 8, g1)
		require.NoError(t, err)
		r2, err := lgFoldPass([]*LogitPartial{&dec}, 4090, 4110, sp, 8, g2)
		require.NoError(t, err)
		assert.Equal(t, r1, r2, name)
		m4 := lgStride(9)
		for a := range 9 {
			for c := a; c < 9; c++ {
				assert.Equal(t, math.Float64bits(g1[a*m4+c]), math.Float64bits(g2[a*m4+c]), "%s G[%d][%d]", name, a, c)
			}
		}
		assert.NotZero(t, g1[1*m4+2], name)
	}
	for q := 1; q < 9; q++ {
		assert.Len(t, lgPacked(q, 0, 0), lgPackedLen(q, 0, 0))
		for md := 1; md <= q+1; md++ {
			assert.Len(t, lgPacked(q, md, q+1-md), lgPackedLen(q, md, q+1-md))
		}
	}
}

// FuzzLogitPartial decodes arbitrary bytes as a scan partial, a pass
// partial and a plan: decoding never panics; what decodes encodes to the
// same bytes; what does not is an *InputError with ErrBadEncoding.
//
//	go test ./psm -run '^$' -fuzz '^FuzzLogitPartial$' -fuzztime 30s
func FuzzLogitPartial(f *testing.F) {
	for _, b := range lgEncodings(f) {
		f.Add(b)
	}
	f.Add([]byte("PSMP\x01\x00\x00\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, kind := range []byte{'S', 'P', 'L'} {
			if !decodesExactly(t, kind, b) {
				continue
			}
			if kind == 'P' {
				var p LogitPartial
				if err := p.UnmarshalBinary(b); err != nil {
					t.Fatal(err)
				}
				rows, blocks := p.Rows(), p.Blocks()
				var m LogitPartial
				if err := m.Merge(&p); err != nil {
					t.Fatal(err)
				}
				if blocks > 0 && m.Merge(&p) == nil {
					t.Fatal("merging a partial with itself: no overlap error")
				}
				if err := p.Compact(); err == nil && (p.Rows() != rows || min(blocks, 1) != p.Blocks()) {
					t.Fatalf("Compact: %d rows in %d blocks, want %d in 1", p.Rows(), p.Blocks(), rows)
				}
			}
		}
	})
}
