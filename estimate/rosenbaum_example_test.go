package estimate_test

import (
	"fmt"

	"github.com/psmeval/psmeval/estimate"
)

// McNemar's test under hidden bias: 30 matched pairs, in 12 of which only
// the treated unit is employed and in 3 only the control (rbounds
// binarysens(12, 3) gives P(B > 12), one count stricter). The values agree
// with R: pbinom(11, 15, c(1, 1.5, 2, 3)/(1 + c(1, 1.5, 2, 3)),
// lower.tail = FALSE), and uniroot for Gamma*.
func ExampleRosenbaumBinary() {
	var sets []estimate.MatchedSet
	add := func(n int, t, c float64) {
		for range n {
			sets = append(sets, estimate.MatchedSet{Treated: t, Controls: []float64{c}})
		}
	}
	add(12, 1, 0)
	add(3, 0, 1)
	add(10, 1, 1)
	add(5, 0, 0)
	r, err := estimate.RosenbaumBinary(sets, &estimate.RosenbaumOptions{Gammas: []float64{1, 1.5, 2, 3}})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%s, %d discordant pairs\n", r.Method, r.Informative)
	for _, b := range r.Bounds {
		fmt.Printf("Gamma %.1f: p between %.4f and %.4f\n", b.Gamma, b.PLower, b.PUpper)
	}
	fmt.Printf("Gamma* = %.3f\n", r.GammaStar)
	// Output:
	// mantel-haenszel, 15 discordant pairs
	// Gamma 1.0: p between 0.0176 and 0.0176
	// Gamma 1.5: p between 0.0019 and 0.0905
	// Gamma 2.0: p between 0.0003 and 0.2092
	// Gamma 3.0: p between 0.0000 and 0.4613
	// Gamma* = 1.274
}
