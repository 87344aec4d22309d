//go:build !amd64

package psm

var lgUseFMA = false

// lgRank4 adds sum_r w[r] u[r] u[r]' to the upper triangle of the
// m×lgStride(m) matrix g (see lgRank4Go).
func lgRank4(g []float64, m int, w *[4]float64, u *[4][]float64) { lgRank4Go(g, m, w, u) }
