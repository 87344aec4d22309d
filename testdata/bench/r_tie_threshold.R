# Where does R Matching::Match(ties = TRUE) stop tying? One treated unit at
# 0.3, one control exactly at 0.3 (distance 0) and one at 0.3 - d, plus
# 2,000 uniform controls away from 0.3; bisect on d for the largest d at
# which both controls are matched, for several distance.tolerance values,
# and report it as the squared standardized distance z2 = (d / sd)^2 (sd as
# Matching computes it). Result: Match ties a control when
#   z2 <= d_K^2 + distance.tolerance + 1e-10
# (d_K = 0 here), i.e. 1e-10 more than its documentation says.
#   Rscript testdata/bench/r_tie_threshold.R > testdata/bench/r_tie_threshold.txt
suppressMessages(library(Matching))
cat(R.version.string, " Matching", as.character(packageVersion("Matching")), "\n")
set.seed(1)
co <- runif(2000)
co <- co[abs(co - 0.3) > 0.01]
threshold <- function(cdd) {
  lo <- 1e-8; hi <- 1e-3
  for (it in 1:60) {
    d <- sqrt(lo * hi)
    x <- c(0.3, 0.3, 0.3 - d, co)
    tr <- c(1, rep(0, length(x) - 1))
    m <- Match(Tr = tr, X = x, estimand = "ATT", M = 1, ties = TRUE, replace = TRUE,
               distance.tolerance = cdd)
    if (length(m$index.control) == 2) lo <- d else hi <- d
  }
  x <- c(0.3, 0.3, 0.3 - lo, co)
  n <- length(x)
  s <- sqrt(sum(x^2) / n - mean(x)^2) * sqrt(n / (n - 1))
  (lo / s)^2
}
for (cdd in c(0, 1e-12, 1e-11, 1e-10, 1e-9)) {
  z2 <- threshold(cdd)
  cat(sprintf("distance.tolerance=%-6g largest tied z2=%.6g  z2 - distance.tolerance=%.6g\n",
              cdd, z2, z2 - cdd))
}
