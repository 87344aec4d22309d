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
#   git --git-dir=<mirror> archive 473e391 R | tar -x -C /tmp/rbounds
#   Rscript make_reference.R /tmp/rbounds/R 473e391... .
#
# Usage: Rscript make_reference.R <rbounds R dir> <rbounds commit> <out dir>
#
# rbounds rounds what it returns (binarysens to 5 digits, psens to 4,
# hlsens to 5 significant digits). The unrounded values are taken by
# running the unmodified rbounds functions in an environment where round()
# and signif() return their argument.

args <- commandArgs(trailingOnly = TRUE)
stopifnot(length(args) == 3)
rdir <- args[1]; commit <- args[2]; out <- args[3]
for (f in c("binarysens.R", "psens.R", "hlsens.R")) source(file.path(rdir, f))
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

desc <- read.dcf(file.path(rdir, "..", "DESCRIPTION"))
writeLines(c(R.version.string,
             paste("Matching", as.character(packageVersion("Matching"))),
             paste("rbounds", desc[1, "Version"], "from cran/rbounds commit", commit)),
           file.path(out, "versions.txt"))
