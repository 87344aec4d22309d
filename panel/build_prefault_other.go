//go:build !linux

package panel

// prefault is a no-op outside Linux.
func prefault[T float64 | uint8](s []T) {}
