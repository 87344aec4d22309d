# Timing of R Matching::Match for comparison with BenchmarkMatch
# (psm/index_bench_test.go). Not used by tests.
#   Rscript testdata/match/bench_r.R > testdata/match/bench_r.out
#   Rscript testdata/match/bench_r.R 1000000 0 >> testdata/match/bench_r.out
# 6,487 treated; continuous scores or 60 distinct score values; one
# neighbour, ties = TRUE, replace = TRUE, distance.tolerance = 1e-12, with
# an outcome so that the AI standard error is computed (version "standard").
suppressMessages(library(Matching))
cat(R.version.string, " Matching", as.character(packageVersion("Matching")),
    " nproc", parallel::detectCores(), "\n")
scores <- function(nt, nc, distinct) {
  set.seed(2015 + distinct)
  levels <- plogis(-8 + 5 * (0:(distinct - 1)) / distinct)
  draw <- function(n, shift) {
    z <- rnorm(n) + shift
    if (distinct > 0) {
      k <- floor(distinct * (0.5 + 0.5 * tanh(z / 2)))
      levels[pmin(pmax(k, 0), distinct - 1) + 1]
    } else plogis(-7.5 + z)
  }
  list(tr = draw(nt, 1), co = draw(nc, 0))
}
run <- function(nc, distinct, nt = 6487) {
  s <- scores(nt, nc, distinct)
  X <- c(s$tr, s$co); Tr <- c(rep(1, nt), rep(0, nc)); Y <- rnorm(nt + nc)
  t <- system.time(m <- Match(Y = Y, Tr = Tr, X = X, estimand = "ATT", M = 1,
                              ties = TRUE, replace = TRUE, distance.tolerance = 1e-12))
  cat(sprintf("distinct=%d treated=%d controls=%d elapsed=%.1fs pairs=%d se=%.6g\n",
              distinct, nt, nc, t[["elapsed"]], length(m$weights), m$se))
}
args <- commandArgs(trailingOnly = TRUE)
if (length(args) == 2) {          # one size: Rscript bench_r.R controls distinct
  run(as.numeric(args[1]), as.integer(args[2]))
} else {
  for (nc in c(25000, 50000, 100000)) run(nc, 0)
  for (nc in c(2500, 5000, 10000)) run(nc, 60)
}
