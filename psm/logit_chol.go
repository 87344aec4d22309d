package psm

import "math"

// lgFactor is the Cholesky factor of the equilibrated normal matrix
// A = D (U'WU + L2*I) D, D = diag(1/sqrt(diag)), computed with R's
// limited pivoting: columns are taken in order and a column whose
// residual, after regression on the earlier kept columns, is negligible
// is aliased (dropped) and skipped.
type lgFactor struct {
	q     int
	d     []float64 // equilibration D
	r     []float64 // q×q row-major upper factor, R'R = A on kept columns
	alias []bool
	rank  int
}

// lgFactorize factors the leading q×q block of the upper triangle of the
// (q+1)×lgStride(q+1) matrix g (see pass), adding l2 to the diagonal of the
// non-intercept columns first. Column k is aliased when forced[k] is set,
// when its diagonal is not positive, or when its Schur complement d_k
// (its residual sum of squares on the earlier kept columns) is at most
// tol*N_k, where N_k is its sum of squares around the intercept (around
// zero without one): d_k/N_k = 1 - R²_k is the unexplained share of its
// W-weighted variation. R's glm.fit makes the same in-order decision on a
// pivoted QR with tolerance min(1e-7, epsilon/1000) on the residual norm;
// normal equations resolve exact and rounding-level dependence the same
// way but cannot resolve 1 - R² below about 1e-13, hence the default
// tol of 1e-10.
func lgFactorize(f *lgFactor, g []float64, q int, icpt bool, l2, tol float64, forced []bool) {
	m := q + 1
	if f.q != q {
		*f = lgFactor{q: q, d: make([]float64, q), r: make([]float64, q*q), alias: make([]bool, q)}
	}
	a := f.r
	clear(a)
	// Copy the upper triangle of the leading block into a.
	m4 := lgStride(m)
	for j := 0; j < q; j++ {
		copy(a[j*q+j:j*q+q], g[j*m4+j:j*m4+q])
	}
	first := 0
	if icpt {
		first = 1
	}
	for j := first; j < q; j++ {
		a[j*q+j] += l2
	}
	for j := 0; j < q; j++ {
		f.alias[j] = forced != nil && forced[j]
		if djj := a[j*q+j]; djj > 0 && !f.alias[j] {
			f.d[j] = 1 / math.Sqrt(djj)
		} else {
			f.d[j] = 0
			f.alias[j] = true
		}
	}
	for j := 0; j < q; j++ {
		for k := j; k < q; k++ {
			a[j*q+k] *= f.d[j] * f.d[k]
		}
	}
	// Reference norms N_k.
	ref := make([]float64, q)
	for k := 0; k < q; k++ {
		ref[k] = a[k*q+k]
		if icpt && k > 0 && !f.alias[0] {
			ref[k] -= a[k] * a[k] / a[0]
		}
	}
	f.rank = 0
	for k := 0; k < q; k++ {
		if f.alias[k] {
			clear(a[k*q : k*q+q])
			continue
		}
		dk := a[k*q+k]
		if !(ref[k] > 0) || !(dk > tol*ref[k]) {
			f.alias[k] = true
			clear(a[k*q : k*q+q])
			continue
		}
		f.rank++
		rkk := math.Sqrt(dk)
		a[k*q+k] = rkk
		rowk := a[k*q : k*q+q]
		for j := k + 1; j < q; j++ {
			if f.alias[j] {
				rowk[j] = 0
				continue
			}
			rowk[j] /= rkk
		}
		for i := k + 1; i < q; i++ {
			if f.alias[i] || rowk[i] == 0 {
				continue
			}
			rki := rowk[i]
			rowi := a[i*q : i*q+q]
			for j := i; j < q; j++ {
				rowi[j] -= rki * rowk[j]
			}
		}
	}
	for k := 0; k < q; k++ {
		if f.alias[k] {
			for i := 0; i < k; i++ {
				a[i*q+k] = 0
			}
		}
	}
}

// solve returns beta with (U'WU + L2) beta = rhs on the kept columns and
// beta = 0 on the aliased ones. rhs is column q of g.
func (f *lgFactor) solve(g []float64, beta []float64) {
	q := f.q
	m4 := lgStride(q + 1)
	// Column q of g.
	y := make([]float64, q)
	for j := 0; j < q; j++ {
		y[j] = g[j*m4+q] * f.d[j]
	}
	r := f.r
	// Forward: R' t = y.
	for k := 0; k < q; k++ {
		if f.alias[k] {
			y[k] = 0
			continue
		}
		s := y[k]
		for i := 0; i < k; i++ {
			s -= r[i*q+k] * y[i]
		}
		y[k] = s / r[k*q+k]
	}
	// Back: R x = t.
	for k := q - 1; k >= 0; k-- {
		if f.alias[k] {
			beta[k] = 0
			continue
		}
		s := y[k]
		for j := k + 1; j < q; j++ {
			s -= r[k*q+j] * y[j]
		}
		y[k] = s / r[k*q+k]
	}
	for k := 0; k < q; k++ {
		beta[k] = y[k] * f.d[k]
	}
}

// inverse returns the q×q row-major (U'WU + L2)^{-1} on the kept columns
// (R's chol2inv), NaN in the rows and columns of aliased ones.
func (f *lgFactor) inverse() []float64 {
	q := f.q
	r := f.r
	// ri = R^{-1}, upper triangular.
	ri := make([]float64, q*q)
	for k := q - 1; k >= 0; k-- {
		if f.alias[k] {
			continue
		}
		ri[k*q+k] = 1 / r[k*q+k]
		for j := k + 1; j < q; j++ {
			if f.alias[j] {
				continue
			}
			// (R^{-1})_{kj} = -(1/r_kk) sum_{l=k+1..j} r_kl (R^{-1})_{lj}
			s := 0.0
			for l := k + 1; l <= j; l++ {
				s += r[k*q+l] * ri[l*q+j]
			}
			ri[k*q+j] = -s / r[k*q+k]
		}
	}
	inv := make([]float64, q*q)
	for i := 0; i < q; i++ {
		for j := i; j < q; j++ {
			if f.alias[i] || f.alias[j] {
				inv[i*q+j], inv[j*q+i] = math.NaN(), math.NaN()
				continue
			}
			s := 0.0
			for l := j; l < q; l++ {
				s += ri[i*q+l] * ri[j*q+l]
			}
			v := s * f.d[i] * f.d[j]
			inv[i*q+j], inv[j*q+i] = v, v
		}
	}
	return inv
}
