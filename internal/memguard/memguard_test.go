package memguard

import (
	"errors"
	"math"
	"runtime"
	"runtime/debug"
	"testing"
)

// TestAvailable: on Linux something bounds the memory; a Go memory limit
// lowers it.
func TestAvailable(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc and /sys")
	}
	v, src, ok := Available()
	if !ok || v <= 0 || src == "" {
		t.Fatalf("Available() = %d, %q, %v", v, src, ok)
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(64 << 20))
	v2, src2, _ := Available()
	if v2 > 64<<20 || src2 != "the Go memory limit (GOMEMLIMIT)" {
		t.Errorf("with GOMEMLIMIT 64 MiB: %d from %q", v2, src2)
	}
}

// TestCheck: a need beyond any machine is refused with the numbers; a
// small one passes.
func TestCheck(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc and /sys")
	}
	if err := Check(1, "one byte", ""); err != nil {
		t.Errorf("1 byte: %v", err)
	}
	err := Check(math.MaxInt64/2, "a lot", "use less")
	var e *Error
	if !errors.As(err, &e) || e.Need != math.MaxInt64/2 || e.Advice != "use less" {
		t.Errorf("err = %v", err)
	}
}

// TestPeakRSS: on Linux the peak is known, and at least what a touched
// allocation of 64 MiB adds.
func TestPeakRSS(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads /proc")
	}
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = 1
	}
	v, ok := PeakRSS()
	if !ok || v < 64<<20 {
		t.Fatalf("PeakRSS() = %d, %v after touching 64 MiB", v, ok)
	}
	runtime.KeepAlive(b)
}
