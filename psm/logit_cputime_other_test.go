//go:build !unix

package psm

import "time"

// lgCPUTime is not measured on this platform.
func lgCPUTime() time.Duration { return 0 }
