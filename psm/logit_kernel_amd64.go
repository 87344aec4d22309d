package psm

// lgRank4FMA is lgRank4Go with AVX2 fused multiply-adds: for each j the
// packed row g[j, j:m] += s0*u0[j:m] + s1*u1[j:m] + s2*u2[j:m] + s3*u3[j:m]
// with s_r = a_r[j], each element as ((g + s0 u0) + s1 u1) + s2 u2) + s3 u3
// with one rounding per fused step, whether it falls in a vector or in the
// scalar tail, so the result does not depend on alignment or on how rows
// are split into blocks.
//
//go:noescape
func lgRank4FMA(dst *float64, m int, a0, a1, a2, a3, u0, u1, u2, u3 *float64)

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

// lgRank4 adds sum_r a[r] u[r]' to the packed upper triangle g of order
// m (see lgRank4Go).
func lgRank4(g []float64, m int, a, u *[4][]float64) {
	if !lgUseFMA {
		lgRank4Go(g, m, a, u)
		return
	}
	if len(g) < lgPackedLen(m) {
		panic("psm: lgRank4: short g")
	}
	for r := range a {
		if len(a[r]) < m || len(u[r]) < m {
			panic("psm: lgRank4: short row")
		}
	}
	lgRank4FMA(&g[0], m, &a[0][0], &a[1][0], &a[2][0], &a[3][0], &u[0][0], &u[1][0], &u[2][0], &u[3][0])
}
