// Package psm estimates propensity scores and matches treated units to
// controls on them.
//
// # Propensity model
//
// FitLogit fits the logit model P(treated=1 | x) = 1/(1+exp(-(b0 + x'b)))
// by iteratively reweighted least squares (Newton's method) with a
// Cholesky solve of X'WX. It follows R's glm(family = binomial) step for
// step (same starting values, same convergence rule, same aliasing rule),
// so coefficients and standard errors equal R's to rounding, and it adds
// what population-scale evaluations need: frequency weights (the bootstrap
// re-fits with them), warm starts, parallel and bit-reproducible X'WX
// accumulation, and typed errors for non-finite input, a treatment without
// variation, and complete or quasi-complete separation. Aliased
// (collinear or constant) covariates are dropped and reported as R does.
//
// Its cost per IRLS iteration is O(n p²/2) multiply-adds for n units and p
// covariates, spread over Workers goroutines.
package psm
