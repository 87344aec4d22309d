// Package estimate computes monthly and accumulated effects of starting a
// programme from a matched sample, and their intervals (docs/design.md steps 8
// and 9).
//
// The package knows nothing about calendars or logit models: a Sample is
// plain slices (which units are treated, the person each unit belongs to,
// event-time outcome matrices, optional subgroup codes), and the
// propensity scores enter as one number per unit on the scale the units
// were matched on. Re-fitting the propensity model in a bootstrap
// replicate is the caller's business, passed in as a callback
// (BootstrapOptions.Refit).
//
// # Effects
//
// For outcome y, event month m and the matched treated units i (weight
// w_i, 1 unless bootstrapped) with match sets M(i) and set weights ω_ij
// (Σ_j ω_ij = 1):
//
//	treated mean  T_m = Σ_i w_i y_im / Σ_i w_i
//	control mean  C_m = Σ_i w_i Σ_j ω_ij y_jm / Σ_i w_i
//	ATT_m         = T_m − C_m
//	Accumulated_m = Σ_{k=f..m} ATT_k, f = 1 by default (month 0 excluded;
//	                EffectOptions.IncludeMonth0 makes f = 0)
//
// read as months in the state gained or lost by month m. Subgroup effects
// use the treated units of the subgroup and their match sets from the one
// matching of the whole sample.
//
// # Intervals
//
// Bootstrap resamples persons by replicate weights (multinomial within the
// treated and within the controls, or Poisson(1)) and re-matches every
// replicate, either on re-fitted scores (Refit) or on the fixed scores.
// Percentile intervals use R's quantile type 7 (linear interpolation
// between order statistics, implemented here; gonum's stat.Quantile has
// only types 1 and 4). Normal intervals are estimate ± z·SD of the
// replicates. The simultaneous band over event months uses the sup-t
// critical value of the replicates. AbadieImbens gives the analytic
// standard errors of Abadie and Imbens (2006), OtsuRai the weighted
// bootstrap of the linearised matching estimator of Otsu and Rai (2017),
// which stays valid for nearest-neighbour matching with a fixed number of
// neighbours where the plain bootstrap is not (Abadie and Imbens 2008).
// BiasAdjusted gives the bias-corrected estimates of Abadie and Imbens
// (2011), each match adjusted by a regression on covariates among the
// matched controls, with their Abadie–Imbens standard errors.
//
// # Sensitivity to hidden bias
//
// Rosenbaum bounds (Rosenbaum 2002) on a grid of Gamma, the largest odds
// ratio of treatment between two units of a matched set: Mantel–Haenszel
// bounds for 0/1 outcomes (RosenbaumBinary), Wilcoxon signed-rank and
// Hodges–Lehmann bounds for 1:1 pairs (RosenbaumSignedRank), and the
// mean-difference bounds for matched sets with several controls
// (RosenbaumMeanDiff); Rosenbaum picks one for an outcome window of a
// Sample and reports Gamma*, the Gamma at which significance is lost
// (docs/rosenbaum.md).
//
// # Before the start: placebo tests and difference-in-differences
//
// An outcome with Pre > 0 (panel.Design.PreMonths) carries event months
// −Pre..−1 before the start; every method estimates them with the same
// match sets and replicates as months 0..H (their accumulated effects are
// 0, and their sup-t band is a band of its own, Series.PreBandCrit), so
// adding them changes no number after the start. PlaceboTest tests that
// the effects in a pre-programme window are jointly zero (Wald with the
// replicates' covariance, and sup-t); DiD subtracts the mean effect over
// a reference window from every month (conditional difference-in-
// differences matching, Heckman, Ichimura and Todd 1997), with intervals
// from the same replicates; DiDSample gives the differenced outcomes for
// the analytic methods. Both windows default to months −60..−49,
// before the history windows of the SFI design's covariates.
//
// # Typical use
//
//	s, _ := estimate.FromPanel(p, "sex", "match_group")   // or build a Sample
//	m, _ := psm.MatchUnits(scores, s.Treated, nil)         // the matched sample: one NN, ties averaged
//	eff, _ := estimate.Effects(s, m, nil)                  // point estimates
//	ai, _ := estimate.AbadieImbens(s, m, nil)              // analytic SEs
//	bs, _ := estimate.Bootstrap(ctx, s, m, &estimate.BootstrapOptions{Refit: refit}) // re-matched by m's rule
//	or, _ := estimate.OtsuRai(ctx, s, m, nil)
//
// # Monte Carlo coverage
//
// examples/coverage reports the empirical coverage of each method; in
// its simulation (selection on observables, one neighbour) the
// Abadie–Imbens and Otsu–Rai intervals are close to nominal and both
// bootstraps over-cover (see examples/coverage/README.md).
package estimate
