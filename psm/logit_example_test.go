package psm_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/psmeval/psmeval/psm"
	"gonum.org/v1/gonum/mat"
)

func ExampleFitLogit() {
	// 20,000 units, treatment more likely with age and less with income;
	// true coefficients -2 (intercept), 0.5 (age), -0.8 (income).
	rng := rand.New(rand.NewPCG(1, 2))
	n := 20000
	x := mat.NewDense(n, 2, nil)
	y := make([]float64, n)
	for i := 0; i < n; i++ {
		age, income := rng.NormFloat64(), rng.NormFloat64()
		x.Set(i, 0, age)
		x.Set(i, 1, income)
		if rng.Float64() < 1/(1+math.Exp(2-0.5*age+0.8*income)) {
			y[i] = 1
		}
	}
	fit, err := psm.FitLogit(context.Background(), x, y, nil, []string{"age", "income"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("converged %v after %d iterations\n", fit.Converged, fit.Iterations)
	for j, name := range fit.Names {
		fmt.Printf("%-12s %6.3f (%.3f)\n", name, fit.Coef[j], fit.SE[j])
	}
	score := fit.Predict(x.Slice(0, 3, 0, 2).(*mat.Dense), nil)
	fmt.Printf("first scores: %.3f\n", score)
	// Output:
	// converged true after 5 iterations
	// (Intercept)  -2.028 (0.025)
	// age           0.499 (0.022)
	// income       -0.791 (0.023)
	// first scores: [0.130 0.093 0.081]
}
