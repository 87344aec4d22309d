# Reference values for the Rosenbaum bounds of package estimate
# (estimate/rosenbaum_test.go reads the CSV files this script writes; the
# tests never run R).
#
# Written with R 4.2.2 (Debian r-base-core 4.2.2), Matching 4.10.8 (Debian
# r-cran-matching) and rbounds 2.2 (CRAN, 2022-04-29; GPL >= 2), whose R
# files are NOT in Debian and are not committed here: the script sources
# binarysens.R, psens.R and hlsens.R from the directory given as the first
# argument, e.g. the R/ folder of the CRAN mirror repository cran/rbounds at
# commit 473e39125cb08eeff286ddae0e4013e2c7360ab5 ("version 2.2"):
#
# The matched-set (mean-difference) bounds are compared with
# sensitivitymv::senmv(method = "t") (sensitivitymv 1.4.3, CRAN, GPL-2,
# not in Debian either): its mscorev.R, separable1v.R and senmv.R are
# sourced from the directory given as the fourth argument (the R/ folder
# of the CRAN mirror repository cran/sensitivitymv, commit
# a4d59d3dbb41fe3512ded234262c2a5a4d02e2d3, "version 1.4.3"), recorded
# as the fifth.
#
# Usage: Rscript make_reference.R <rbounds R dir> <rbounds commit> <out dir>
#          <sensitivitymv R dir> <sensitivitymv commit>
# e.g., with the two mirrors as bare git directories:
#   git --git-dir=<rbounds mirror> archive 473e391 R DESCRIPTION | tar -x -C /tmp/rbounds
#   git --git-dir=<sensitivitymv mirror> archive a4d59d3 R DESCRIPTION | tar -x -C /tmp/senmv
#   Rscript make_reference.R /tmp/rbounds/R 473e39125cb08eeff286ddae0e4013e2c7360ab5 . \
#     /tmp/senmv/R a4d59d3dbb41fe3512ded234262c2a5a4d02e2d3
# (it takes about 30 s).
#
# rbounds rounds what it returns (binarysens to 5 digits, psens to 4,
# hlsens to 5 significant digits). The unrounded values are taken by
# running the unmodified rbounds functions in an environment where round()
# and signif() return their argument.

args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 5)
rdir <- args[1]; commit <- args[2]; out <- args[3]; mvdir <- args[4]; mvcommit <- args[5]
for (f in c("binarysens.R", "psens.R", "hlsens.R")) source(file.path(rdir, f))
for (f in c("mscorev.R", "separable1v.R", "senmv.R")) source(file.path(mvdir, f))
noround <- function(f) {
  e <- new.env(parent = environment(f))
  e$round <- function(x, digits = 0) x
  e$signif <- function(x, digits = 6) x
  environment(f) <- e
  f
}
binarysens_u <- noround(binarysens)
psens_u <- noround(psens)
hlsens_u <- noround(hlsens)
suppressPackageStartupMessages(library(Matching))

g17 <- function(x) sprintf("%.17g", x)
G <- 3; GInc <- 0.1

## Data sets: 1:1 pairs without ties in the matching --------------------
pairs <- list()
# Lalonde (Matching's data(lalonde), 185 treated of the NSW experiment and
# 260 controls), 1:1 nearest neighbour without replacement on the logit
# propensity score, ties = FALSE.
data(lalonde)
ps <- glm(treat ~ age + educ + black + hisp + married + nodegr + re74 + re75 +
            u74 + u75, family = binomial, data = lalonde)$fitted
set.seed(15)
mt <- Match(Tr = lalonde$treat, X = ps, M = 1, replace = FALSE, ties = FALSE,
            estimand = "ATT")
pairs$lalonde_re78 <- list(t = lalonde$re78[mt$index.treated],
                           c = lalonde$re78[mt$index.control], pr = 1)
pairs$lalonde_emp78 <- list(t = as.numeric(lalonde$re78[mt$index.treated] > 0),
                            c = as.numeric(lalonde$re78[mt$index.control] > 0))
set.seed(2024)
pairs$norm50 <- list(t = rnorm(50, 0.5), c = rnorm(50), pr = 0.01)
pairs$norm12 <- list(t = rnorm(12, 1), c = rnorm(12), pr = 0.01)
# months employed over 24 months: counts with many ties
pairs$months200 <- list(t = rbinom(200, 24, 0.45), c = rbinom(200, 24, 0.40), pr = 0.01)
pairs$months_neg150 <- list(t = rbinom(150, 24, 0.33), c = rbinom(150, 24, 0.42), pr = 0.01)
pairs$bin300 <- list(t = rbinom(300, 1, 0.50), c = rbinom(300, 1, 0.40))
pairs$bin_neg120 <- list(t = rbinom(120, 1, 0.30), c = rbinom(120, 1, 0.45))
# binarysens on given discordant counts: x pairs (1, 0), y pairs (0, 1),
# plus 4 concordant (1, 1) and 3 (0, 0) pairs
for (xy in list(c(12, 5), c(3, 10), c(0, 7), c(25, 25), c(40, 18))) {
  nm <- sprintf("counts_%d_%d", xy[1], xy[2])
  pairs[[nm]] <- list(t = c(rep(1, xy[1]), rep(0, xy[2]), rep(1, 4), rep(0, 3)),
                      c = c(rep(0, xy[1]), rep(1, xy[2]), rep(1, 4), rep(0, 3)))
}

pf <- do.call(rbind, lapply(names(pairs), function(n)
  data.frame(dataset = n, i = seq_along(pairs[[n]]$t),
             treated = g17(pairs[[n]]$t), control = g17(pairs[[n]]$c))))
write.csv(pf, file.path(out, "pairs.csv"), row.names = FALSE, quote = FALSE)

## binarysens ------------------------------------------------------------
bs <- NULL
for (n in names(pairs)) {
  p <- pairs[[n]]
  if (!all(c(p$t, p$c) %in% c(0, 1))) next
  x <- sum(p$t == 1 & p$c == 0); y <- sum(p$t == 0 & p$c == 1)
  b <- binarysens_u(x, y, Gamma = G, GammaInc = GInc)$bounds
  D <- max(x, y); mx <- x + y
  # Rosenbaum's definition: P(B >= D), not rbounds' P(B > D)
  def_up <- pbinom(D - 1, mx, b$Gamma / (1 + b$Gamma), lower.tail = FALSE)
  def_lo <- pbinom(D - 1, mx, 1 / (1 + b$Gamma), lower.tail = FALSE)
  bs <- rbind(bs, data.frame(dataset = n, x = x, y = y, gamma = g17(b$Gamma),
                             rb_upper = g17(b[["Upper bound"]]), rb_lower = g17(b[["Lower bound"]]),
                             def_upper = g17(def_up), def_lower = g17(def_lo)))
}
write.csv(bs, file.path(out, "binarysens.csv"), row.names = FALSE, quote = FALSE)

## psens and hlsens --------------------------------------------------------
walsh <- function(d) { o <- outer(d, d, "+") / 2; sort(o[upper.tri(o, diag = TRUE)]) }
# sup{tau: T(tau) > cc} and inf{tau: T(tau) < cc}, T(tau) the number of
# Walsh averages above tau
# (cc within a relative 1e-12 of an integer is taken as that integer:
# N/(1+Gamma) is 20 for N = 78 and Gamma = 2.9 in exact arithmetic)
hl_def <- function(w, cc) {
  if (abs(cc - round(cc)) <= 1e-12 * cc) cc <- round(cc)
  N <- length(w); c(w[N - floor(cc)], w[N - ceiling(cc) + 1])
}
ps_rows <- NULL; hl_rows <- NULL
for (n in names(pairs)) {
  p <- pairs[[n]]
  if (all(c(p$t, p$c) %in% c(0, 1))) next
  for (alt in c("greater", "less")) {
    b <- if (alt == "greater") psens_u(p$t, p$c, Gamma = G, GammaInc = GInc)$bounds
         else psens_u(p$c, p$t, Gamma = G, GammaInc = GInc)$bounds
    ps_rows <- rbind(ps_rows, data.frame(dataset = n, alt = alt, gamma = g17(b$Gamma),
                                         upper = g17(b[["Upper bound"]]), lower = g17(b[["Lower bound"]])))
  }
  h <- hlsens_u(p$t, p$c, pr = p$pr, Gamma = G, GammaInc = GInc)$bounds
  # hlsens swaps the groups when mean(t) < mean(c): its bounds are then on
  # control - treated; flip them back to treated - control
  flip <- mean(p$t) - mean(p$c) <= 0
  rb_lo <- if (flip) -h[["Upper bound"]] else h[["Lower bound"]]
  rb_hi <- if (flip) -h[["Lower bound"]] else h[["Upper bound"]]
  w <- walsh(p$t - p$c); N <- length(w)
  for (k in seq_along(h$Gamma)) {
    g <- h$Gamma[k]
    lo <- hl_def(w, N * g / (1 + g)); hi <- hl_def(w, N / (1 + g))
    hl_rows <- rbind(hl_rows, data.frame(dataset = n, gamma = g17(g), pr = g17(p$pr),
                                         rb_low = g17(rb_lo[k]), rb_high = g17(rb_hi[k]),
                                         def_low = g17((lo[1] + lo[2]) / 2), def_high = g17((hi[1] + hi[2]) / 2),
                                         low_sup = g17(lo[1]), low_inf = g17(lo[2]),
                                         high_sup = g17(hi[1]), high_inf = g17(hi[2])))
  }
}
write.csv(ps_rows, file.path(out, "psens.csv"), row.names = FALSE, quote = FALSE)
write.csv(hl_rows, file.path(out, "hlsens.csv"), row.names = FALSE, quote = FALSE)

## matched sets: sensitivitymv::senmv(method = "t") -------------------------
# y: one row per set, the treated outcome first, controls after, NA-padded
sets <- list()
mk_sets <- function(yt, yc_list) {
  k <- max(lengths(yc_list))
  y <- matrix(NA, length(yt), k + 1)
  for (i in seq_along(yt)) y[i, 1:(1 + length(yc_list[[i]]))] <- c(yt[i], yc_list[[i]])
  y
}
set.seed(77)
k <- sample(1:4, 80, replace = TRUE)
sets$sets_norm80 <- mk_sets(rnorm(80, 0.6), lapply(k, rnorm))
k <- sample(1:3, 150, replace = TRUE)
sets$sets_months150 <- mk_sets(rbinom(150, 24, 0.47), lapply(k, function(kk) rbinom(kk, 24, 0.4)))
# Lalonde, 2 nearest neighbours with replacement, ties kept: sets of 2 or
# more controls, controls reused across sets
mt2 <- Match(Tr = lalonde$treat, X = ps, M = 2, replace = TRUE, ties = TRUE, estimand = "ATT")
tr_ids <- unique(mt2$index.treated)
sets$sets_lalonde_re78 <- mk_sets(lalonde$re78[tr_ids],
                                  lapply(tr_ids, function(i) lalonde$re78[mt2$index.control[mt2$index.treated == i]]))
# separable1v's loop with ties in the expectation taken within a relative
# 1e-12 (estimate's rule) instead of by exact floating-point equality: in
# exact arithmetic several a can attain the largest expectation (integer
# outcomes, Gamma = 2), and the bound takes the largest variance among
# them; senmv's == can miss such a tie by a rounding error.
separable_def <- function(ymat, gamma) {
  mu <- 0; v <- 0; ts <- 0
  for (i in seq_len(nrow(ymat))) {
    rk <- sort(ymat[i, !is.na(ymat[i, ])]); mi <- length(rk)
    tol <- 1e-12 * max(abs(rk)); mum <- -Inf; vm <- -Inf
    for (ai in 1:(mi - 1)) {
      den <- ai + gamma * (mi - ai)
      mua <- (sum(rk[1:ai]) + gamma * sum(rk[(ai + 1):mi])) / den
      va <- (sum(rk[1:ai]^2) + gamma * sum(rk[(ai + 1):mi]^2)) / den - mua^2
      if (mua > mum + tol) { mum <- mua; vm <- va }
      else if (mua >= mum - tol) { mum <- max(mum, mua); vm <- max(vm, va) }
    }
    mu <- mu + mum; v <- v + vm; ts <- ts + ymat[i, 1]
  }
  1 - pnorm((ts - mu) / sqrt(v))
}
sf <- NULL; sv <- NULL
gammas <- seq(1, G, by = GInc)
for (n in names(sets)) {
  y <- sets[[n]]
  for (i in seq_len(nrow(y))) {
    v <- y[i, !is.na(y[i, ])]
    sf <- rbind(sf, data.frame(dataset = n, set = i, role = c("t", rep("c", length(v) - 1)), y = g17(v)))
  }
  d <- unlist(lapply(seq_len(nrow(y)), function(i) y[i, 1] - y[i, -1]))
  lo <- min(d, na.rm = TRUE) - 1; hi <- max(d, na.rm = TRUE) + 1
  for (g in gammas) {
    r <- senmv(y, gamma = g, method = "t")
    pdef <- separable_def(mscorev(y, inner = 0, trim = Inf, qu = 1/2, TonT = TRUE), g)
    # the point estimate under the largest expectation: deviate(tau) = 0
    est <- uniroot(function(tau) senmv(y, gamma = g, method = "t", tau = tau)$deviate,
                   c(lo, hi), tol = 1e-12 * max(1, abs(hi), abs(lo)))$root
    sv <- rbind(sv, data.frame(dataset = n, gamma = g17(g), pval = g17(r$pval), pval_def = g17(pdef), deviate = g17(r$deviate),
                               est_low = g17(est)))
  }
}
write.csv(sf, file.path(out, "sets.csv"), row.names = FALSE, quote = FALSE)
write.csv(sv, file.path(out, "senmv.csv"), row.names = FALSE, quote = FALSE)

desc <- read.dcf(file.path(rdir, "..", "DESCRIPTION"))
mvdesc <- read.dcf(file.path(mvdir, "..", "DESCRIPTION"))
writeLines(c(R.version.string,
             paste("Matching", as.character(packageVersion("Matching"))),
             paste("rbounds", desc[1, "Version"], "from cran/rbounds commit", commit),
             paste("sensitivitymv", mvdesc[1, "Version"], "from cran/sensitivitymv commit", mvcommit)),
           file.path(out, "versions.txt"))
