//go:build !linux

package panel

import "math"

func cpuSeconds() float64 { return math.NaN() }

func maxRSS() int64 { return 0 }
