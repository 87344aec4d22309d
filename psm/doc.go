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
// covariates, spread over Workers goroutines. FitLogitShards runs the same
// fit with the rows split over shards (processes or machines, LogitShard):
// each IRLS iteration is one round in which every shard returns its
// partial sums (LogitPartial, with a binary encoding) and the coordinator
// adds them, bit-identical to FitLogit when the shards are whole blocks
// of 4096 rows.
//
// # Matching
//
// Match finds for each treated unit the nearest control(s) on the score
// or its logit: K neighbours, every control tied with the K-th sharing
// the weight equally (the SFI rule for K = 1), with or without
// replacement, caliper, exact strata, common-support trimming and
// frequency weights. NewIndex prepares the controls once (sorted, equal
// scores collapsed into blocks) so that repeated matching, as in the
// bootstrap, costs O(log N) per treated unit whatever the size of the tie
// blocks (Index.MatchInto). MatchUnitsShards matches with replacement with
// the control units split over shards (MatchShard): every shard returns
// its candidates for the broadcast treated units (MatchCandidates, with a
// binary encoding), which merge in any order; the coordinator (MatchRun)
// builds from them MatchUnits' matching, bit for bit with whole-number
// weights. ATT estimates the effect on the treated with
// the Abadie–Imbens (2006) and naive standard errors of R
// Matching::Match, BiasAdjustedATT the bias-corrected estimator of
// Abadie and Imbens (2011) (Match(..., BiasAdjust = TRUE)); Balance
// compares treated and matched controls (SFI Table 5.1, with MatchIt's
// standardized differences, variance ratios and eCDF statistics).
package psm
