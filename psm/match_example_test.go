package psm_test

import (
	"fmt"

	"github.com/psmeval/psmeval/psm"
)

// One nearest neighbour with replacement; the two controls tied at the
// same distance from the first treated unit share its weight.
func ExampleMatch() {
	treated := []float64{0.5, 0.2}
	control := []float64{0.25, 0.75, 0.25, 0.9}
	m, err := psm.Match(treated, control, nil)
	if err != nil {
		panic(err)
	}
	for i := range treated {
		fmt.Printf("treated %d:", i)
		for k := m.Start[i]; k < m.Start[i+1]; k++ {
			fmt.Printf(" control %d (%.3f)", m.Control[k], m.Weight[k])
		}
		fmt.Println()
	}
	fmt.Printf("control weights: %.4f\n", m.ControlWeight)
	fmt.Printf("distinct controls: %d, weighted: %.4f\n", m.NDistinctControls, m.WeightedControls)
	// Output:
	// treated 0: control 0 (0.333) control 2 (0.333) control 1 (0.333)
	// treated 1: control 0 (0.500) control 2 (0.500)
	// control weights: [0.8333 0.3333 0.8333 0.0000]
	// distinct controls: 3, weighted: 2.0000
}

// The ATT with Abadie–Imbens and naive standard errors, as R
// Matching::Match(Y, Tr, X, ties = TRUE, distance.tolerance = 1e-12).
func ExampleATT() {
	m, err := psm.Match([]float64{0.5, 0.2}, []float64{0.25, 0.75, 0.25}, nil)
	if err != nil {
		panic(err)
	}
	r, err := psm.ATT([]float64{3, 1}, []float64{0, 2, 1}, m, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("ATT %.4f  se %.4f  se.standard %.4f\n", r.ATT, r.SE, r.SEStandard)
	// Output:
	// ATT 1.2500  se 0.6052  se.standard 0.7144
}

// A prepared index matched again with bootstrap-style frequency weights.
func ExampleIndex_MatchInto() {
	ix, err := psm.NewIndex([]float64{0.1, 0.3, 0.3, 0.6}, nil)
	if err != nil {
		panic(err)
	}
	var m psm.Matching
	for _, cw := range [][]float64{{1, 1, 1, 1}, {1, 0, 2, 1}, {1, 0, 0, 1}} {
		opts := &psm.MatchOptions{ControlWeights: cw}
		if err := ix.MatchInto(&m, []float64{0.32}, opts); err != nil {
			panic(err)
		}
		fmt.Println(m.MatchedControls, m.ControlWeight)
	}
	// Output:
	// [1 2] [0 0.5 0.5 0]
	// [2] [0 0 1 0]
	// [0] [1 0 0 0]
}
