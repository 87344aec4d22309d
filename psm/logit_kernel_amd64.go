package psm

// lgRank4FMA is lgRank4Go with AVX2 fused multiply-adds: for each j the
// packed row g[j, j:m] += s0*u0[j:m] + s1*u1[j:m] + s2*u2[j:m] + s3*u3[j:m]
// with s_r = w_r*u_r[j] (rounded as in lgRank4Go), each element as ((g + s0 u0) + s1 u1) + s2 u2) + s3 u3
// with one rounding per fused step, whether it falls in a vector or in the
// scalar tail, so the result does not depend on alignment or on how rows
// are split into blocks.
//
//go:noescape
func lgRank4FMA(dst *float64, m, m4 int, w *[4]float64, u0, u1, u2, u3 *float64)

//go:noescape
func lgCPUID(eaxArg, ecxArg uint32) (eax, ebx, ecx, edx uint32)

//go:noescape
func lgXGETBV() (eax, edx uint32)

// lgHaveFMA reports AVX2 and FMA support by the CPU and the OS.
func lgHaveFMA() bool {
	maxID, _, _, _ := lgCPUID(0, 0)
	if maxID < 7 {
		return false
	}
	_, _, ecx1, _ := lgCPUID(1, 0)
	const fma, osxsave, avx = 1 << 12, 1 << 27, 1 << 28
	if ecx1&fma == 0 || ecx1&osxsave == 0 || ecx1&avx == 0 {
		return false
	}
	if xcr0, _ := lgXGETBV(); xcr0&6 != 6 { // XMM and YMM state enabled
		return false
	}
	_, ebx7, _, _ := lgCPUID(7, 0)
	return ebx7&(1<<5) != 0 // AVX2
}

var lgUseFMA = lgHaveFMA()

// lgRank4 adds sum_r w[r] u[r] u[r]' to the upper triangle of the
// m×lgStride(m) matrix g (see lgRank4Go).
func lgRank4(g []float64, m int, w *[4]float64, u *[4][]float64) {
	if !lgUseFMA {
		lgRank4Go(g, m, w, u)
		return
	}
	m4 := lgStride(m)
	if m < 1 || len(g) < m*m4 {
		panic("psm: lgRank4: short g")
	}
	for r := range u {
		if len(u[r]) < m4 {
			panic("psm: lgRank4: short row")
		}
	}
	lgRank4FMA(&g[0], m, m4, w, &u[0][0], &u[1][0], &u[2][0], &u[3][0])
}
