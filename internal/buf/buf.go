// Package buf holds the one buffer helper the packages share.
package buf

// Resize returns s with length n, reusing its backing array when its
// capacity suffices and allocating exactly n elements otherwise. The
// contents are unspecified (callers overwrite them): it is for scratch
// buffers reused across calls, where slices.Grow would copy the old
// elements and round the capacity up.
func Resize[T any](s []T, n int) []T {
	if cap(s) >= n {
		return s[:n]
	}
	return make([]T, n)
}
