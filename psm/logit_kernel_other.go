//go:build !amd64

package psm

var lgUseFMA = false

// lgRank4 adds sum_r a[r] u[r]' to the packed upper triangle g of order
// m (see lgRank4Go).
func lgRank4(g []float64, m int, a, u *[4][]float64) { lgRank4Go(g, m, a, u) }
