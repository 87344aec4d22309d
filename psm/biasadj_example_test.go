package psm_test

import (
	"fmt"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// The bias-corrected ATT removes the part of the plain estimate due to
// the covariate difference between each treated unit and its matches:
// here the outcome is 2z for everyone (no effect), the matches differ in
// z, and the plain ATT is not 0 but the adjusted one is.
func ExampleBiasAdjustedATT() {
	treated := []float64{0.30, 0.52, 0.71}
	control := []float64{0.28, 0.33, 0.50, 0.55, 0.70, 0.90}
	zt := mat.NewDense(3, 1, []float64{1, 2.5, 4})
	zc := mat.NewDense(6, 1, []float64{0.5, 1.7, 2.2, 2.9, 3.1, 5})
	yt := []float64{2, 5, 8}
	yc := []float64{1, 3.4, 4.4, 5.8, 6.2, 10}
	m, err := psm.Match(treated, control, &psm.MatchOptions{K: 2, TieRule: psm.TieRMatching, TieTolerance: 1e-12})
	if err != nil {
		panic(err)
	}
	r, err := psm.BiasAdjustedATT(yt, yc, zt, zc, m, nil)
	if err != nil {
		panic(err)
	}
	fmt.Printf("plain ATT %.4f, bias-corrected %.4f (se %.4f), slope %.4f\n", r.Unadjusted, r.ATT, r.SE, r.Coef[0])
	// Output:
	// plain ATT 0.5667, bias-corrected 0.0000 (se 0.0000), slope 2.0000
}
