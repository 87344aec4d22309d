package panel

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

// fillEventSimple is fillEvent one month at a time.
func fillEventSimple(o *Outcome, i int, c Month, pre int, y []uint8) {
	words := o.Bits[i*o.Words() : (i+1)*o.Words()]
	k0 := int(c-o.FirstMonth) - pre
	for m := range y {
		k := k0 + m
		if k >= o.Months {
			y[m] = Missing
			continue
		}
		y[m] = uint8(words[k>>6] >> (uint(k) & 63) & 1)
	}
}

// TestFillEventMatchesSimple compares fillEvent with the month-by-month
// loop for every start month and row length, across word boundaries and
// the cut-off.
func TestFillEventMatchesSimple(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	for _, months := range []int{1, 7, 8, 9, 63, 64, 65, 100, 128, 130} {
		o := NewOutcome("y", 3, 0, months)
		for k := range o.Bits {
			o.Bits[k] = rng.Uint64()
		}
		for i := range 3 {
			if rem := months % 64; rem != 0 {
				o.Bits[(i+1)*o.Words()-1] &= 1<<uint(rem) - 1
			}
		}
		for i := range 3 {
			for pre := range 3 {
				for c := pre; c < months; c++ {
					for n := 1; n <= 40; n++ {
						got, want := make([]uint8, n), make([]uint8, n)
						fillEvent(&o, i, Month(c), pre, got)
						fillEventSimple(&o, i, Month(c), pre, want)
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("months %d person %d cohort %d pre %d len %d: %v, want %v", months, i, c, pre, n, got, want)
						}
					}
				}
			}
		}
	}
}
