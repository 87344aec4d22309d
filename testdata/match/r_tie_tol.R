# R Matching::Match's tie rule near its hidden TOL (matching.h: TOL 1e-10,
# LessEqualTestScalar keeps Dist <= (Distmax + cdd) + TOL). One treated
# unit at 0.3, one control at 0.3 (distance 0), one at 0.3 - d with
# squared standardized distance z2 = (d / sd)^2 set to the values below,
# and 200 controls on seq(0.5, 0.99): how many controls does Match use?
#   Rscript testdata/match/r_tie_tol.R > testdata/match/r_tie_tol.txt
# Read by psm/match_rtol_test.go.
suppressMessages(library(Matching))
cat("#", R.version.string, " Matching", as.character(packageVersion("Matching")), "\n")
co <- seq(0.5, 0.99, length.out = 200)
sdm <- function(x) { n <- length(x); sqrt(sum(x^2) / n - mean(x)^2) * sqrt(n / (n - 1)) }
cat("tolerance z2 d matched\n")
for (cdd in c(0, 1e-12, 1e-10)) {
  for (z2 in c(0.5e-10, 0.9e-10, 0.99e-10, 1.01e-10, 1.5e-10, 1.9e-10, 2.1e-10)) {
    # fixed point: sd depends (negligibly) on d
    d <- 0
    for (it in 1:5) d <- sqrt(z2) * sdm(c(0.3, 0.3, 0.3 - d, co))
    x <- c(0.3, 0.3, 0.3 - d, co)
    tr <- c(1, rep(0, length(x) - 1))
    m <- Match(Tr = tr, X = x, estimand = "ATT", M = 1, ties = TRUE, replace = TRUE,
               distance.tolerance = cdd)
    cat(sprintf("%g %g %.17g %d\n", cdd, z2, d, length(m$index.control)))
  }
}
