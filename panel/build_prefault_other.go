//go:build !linux

package panel

// prefault is a no-op outside Linux.
func prefault(s []float64) {}
