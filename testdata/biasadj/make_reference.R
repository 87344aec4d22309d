# Reference values for psm.BiasAdjustedATT: R Matching::Match with
# BiasAdjust = TRUE.
#
# Regenerate (from the repository root):
#   Rscript testdata/biasadj/make_reference.R
# Writes testdata/biasadj/<data>.csv (id, tr, the propensity score of a
# logit fitted with glm, the covariates and the outcomes; doubles printed
# with 17 significant digits so Go reads the same doubles) and
# testdata/biasadj/reference.json: for every case the est, se, est.noadj
# and se.standard of
#   Match(Y, Tr, X = score, Z = covariates, estimand = "ATT", M,
#         BiasAdjust = TRUE, ties = TRUE, replace = TRUE,
#         distance.tolerance = 1e-12, caliper)
# with the warnings Match gave, and the R and package versions.
# The Go tests (psm/biasadj_r_test.go, examples/psmatch) read these files;
# they never run R.
suppressMessages({
  library(Matching)
  library(MatchIt)
  library(jsonlite)
})
dir <- "testdata/biasadj"
f17 <- function(x) sprintf("%.17g", x)
write17 <- function(df, file) {
  out <- df
  for (nm in names(out)) if (is.double(out[[nm]])) out[[nm]] <- f17(out[[nm]])
  write.csv(out, file, row.names = FALSE, quote = FALSE)
}
# fit the logit, write the data with its score, re-read it so that R
# uses exactly the doubles the Go test reads
prepare <- function(d, covs, name) {
  f <- reformulate(covs, response = "tr")
  d$score <- unname(fitted(glm(f, family = binomial, data = d)))
  d <- cbind(id = seq_len(nrow(d)) - 1L, d)
  file <- file.path(dir, paste0(name, ".csv"))
  write17(d, file)
  read.csv(file)
}

datasets <- list()

# ---- Matching's lalonde (Dehejia-Wahba NSW sample, 445 units) --------------
data(lalonde, package = "Matching")
d <- lalonde
d$tr <- d$treat
d$employed78 <- as.numeric(d$re78 > 0)
covs <- c("age", "educ", "black", "hisp", "married", "nodegr", "re74", "re75", "u74", "u75")
datasets$lalonde_matching <- list(
  data = prepare(d[, c("tr", covs, "re78", "employed78")], covs, "lalonde_matching"),
  z = covs)

# ---- MatchIt's lalonde (NSW treated + PSID controls, 614 units) --------------
data(lalonde, package = "MatchIt")
d <- lalonde
d$tr <- d$treat
d$black <- as.numeric(d$race == "black")
d$hispan <- as.numeric(d$race == "hispan")
d$employed78 <- as.numeric(d$re78 > 0)
covs <- c("age", "educ", "black", "hispan", "married", "nodegree", "re74", "re75")
datasets$lalonde_matchit <- list(
  data = prepare(d[, c("tr", covs, "re78", "employed78")], covs, "lalonde_matchit"),
  z = covs)

# ---- Matching's GerberGreenImai (10,829 units, binary outcome VOTED98) -----
data(GerberGreenImai, package = "Matching")
d <- GerberGreenImai
d$tr <- d$PHN.C1
d$VOTE96_1 <- d$VOTE96.1
covs <- c("PERSONS", "VOTE96_1", "NEW", "MAJORPTY", "AGE", "AGE2")
# ward dummies (ward 2 the reference) for a Z with many columns
wards <- paste0("WARD", levels(d$WARD)[-1])
for (k in seq_along(wards)) d[[wards[k]]] <- as.numeric(d$WARD == levels(d$WARD)[k + 1])
datasets$gerbergreen <- list(
  data = prepare(d[, c("tr", covs, wards, "VOTED98")], covs, "gerbergreen"),
  z = covs)

# ---- synthetic: continuous and binary outcome, and singular Z ----------------
set.seed(20261206)
n <- 800
x1 <- rnorm(n)
x2 <- rbinom(n, 1, 0.4)
x3 <- runif(n)
tr <- rbinom(n, 1, plogis(-1.2 + 0.8 * x1 + 0.5 * x2 - 0.6 * x3))
# rare: a dummy held by some treated units only (constant 0 over every
# control, so the adjustment regression's Gram matrix is singular)
rare <- ifelse(tr == 1, rbinom(n, 1, 0.1), 0)
x1x2 <- 2 * x1                          # collinear with x1 (exactly, in doubles)
big <- x1 * 1e8                         # huge scale: the ridged system stays singular
x3e5 <- x3 * 1e-5                       # small scale: the ridge is added
y <- 1 + 0.7 * tr + x1 + 0.5 * x2 - x3 + 0.8 * rare + rnorm(n)
yb <- rbinom(n, 1, plogis(-0.3 + 0.4 * tr + 0.6 * x1 - 0.5 * x3))
# adult: 1 for every control, 0 or 1 for the treated (constant over the
# matched controls: collinear with the intercept)
adult <- ifelse(tr == 1, rbinom(n, 1, 0.7), 1)
# frequency weights (0 = absent); R gets each row w times
w <- sample(0:3, n, replace = TRUE, prob = c(0.1, 0.5, 0.25, 0.15))
d <- data.frame(tr = tr, x1 = x1, x2 = x2, x3 = x3, rare = rare, x1x2 = x1x2, big = big, x3e5 = x3e5,
                adult = adult, w = w, y = y, yb = yb)
datasets$synth <- list(data = prepare(d, c("x1", "x2", "x3"), "synth"), z = c("x1", "x2", "x3"))

cases <- list(
  list(name = "lalonde_matching_re78_k1", data = "lalonde_matching", y = "re78", M = 1),
  list(name = "lalonde_matching_re78_k2", data = "lalonde_matching", y = "re78", M = 2),
  list(name = "lalonde_matching_employed_k1", data = "lalonde_matching", y = "employed78", M = 1),
  list(name = "lalonde_matching_re78_k1_caliper", data = "lalonde_matching", y = "re78", M = 1, caliper = 0.05),
  list(name = "lalonde_matchit_re78_k1", data = "lalonde_matchit", y = "re78", M = 1),
  list(name = "lalonde_matchit_re78_k2", data = "lalonde_matchit", y = "re78", M = 2),
  list(name = "lalonde_matchit_employed_k2", data = "lalonde_matchit", y = "employed78", M = 2),
  list(name = "gerbergreen_voted_k1", data = "gerbergreen", y = "VOTED98", M = 1),
  list(name = "gerbergreen_voted_k2", data = "gerbergreen", y = "VOTED98", M = 2),
  list(name = "gerbergreen_voted_k1_wards", data = "gerbergreen", y = "VOTED98", M = 1,
       z = c(covs, wards)),
  list(name = "synth_y_k1", data = "synth", y = "y", M = 1),
  list(name = "synth_y_k2", data = "synth", y = "y", M = 2),
  list(name = "synth_yb_k2", data = "synth", y = "yb", M = 2),
  # singular Z: ridge (a dummy no control has; exactly collinear columns)
  list(name = "synth_ridge_rare_k1", data = "synth", y = "y", M = 1, z = c("x1", "x2", "x3", "rare")),
  list(name = "synth_ridge_rare_k2", data = "synth", y = "yb", M = 2, z = c("x1", "x2", "x3", "rare")),
  list(name = "synth_ridge_collinear_k1", data = "synth", y = "y", M = 1, z = c("x1", "x2", "x1x2")),
  # a column constant (1) over the controls: the ridge fit is the
  # minimum-norm one, not the fit without the column
  list(name = "synth_ridge_constant_k1", data = "synth", y = "y", M = 1, z = c("x1", "x2", "x3", "adult")),
  # not singular but on a small scale: the smallest eigenvalue is below
  # the tolerance, so the ridge is added and shrinks the slope of x3e5
  list(name = "synth_ridge_smallscale_k1", data = "synth", y = "y", M = 1, z = c("x1", "x2", "x3e5")),
  list(name = "synth_ridge_smallscale_k2", data = "synth", y = "y", M = 2, z = c("x1", "x2", "x3e5", "rare")),
  # frequency weights: R gets each row w times
  list(name = "synth_weights_y_k2", data = "synth", y = "y", M = 2, weights = "w"),
  list(name = "synth_weights_ridge_k1", data = "synth", y = "y", M = 1, weights = "w",
       z = c("x1", "x2", "x3", "rare")),
  # singular even with the ridge: generalized inverse
  list(name = "synth_ginv_k1", data = "synth", y = "y", M = 1, z = c("big", "x2", "rare"))
)

out <- list()
for (cs in cases) {
  ds <- datasets[[cs$data]]
  d <- ds$data
  if (!is.null(cs$weights)) d <- d[rep(seq_len(nrow(d)), d[[cs$weights]]), ]
  z <- if (is.null(cs$z)) ds$z else cs$z
  caliper <- if (is.null(cs$caliper)) NULL else cs$caliper
  warns <- character(0)
  t0 <- proc.time()[["elapsed"]]
  r <- withCallingHandlers(
    Match(Y = d[[cs$y]], Tr = d$tr, X = d$score, Z = as.matrix(d[, z]),
          estimand = "ATT", M = cs$M, BiasAdjust = TRUE, ties = TRUE, replace = TRUE,
          distance.tolerance = 1e-12, caliper = caliper),
    warning = function(w) {
      warns <<- c(warns, conditionMessage(w))
      invokeRestart("muffleWarning")
    })
  secs <- proc.time()[["elapsed"]] - t0
  # the ridge RmatchLoop adds to the adjustment regression (its code,
  # with Kcount from the returned matches): 0 when not singular
  Kcount <- tapply(r$weights, factor(r$index.control, levels = seq_len(nrow(d))), sum)
  Kcount[is.na(Kcount)] <- 0
  Kcount <- as.vector(Kcount)
  ZZc <- cbind(1, as.matrix(d[, z]))
  xw <- ZZc * sqrt((1 - d$tr) * Kcount)
  min.eig <- min(eigen(t(xw) %*% xw, only.values = TRUE)$values)
  ridge <- if (min.eig <= sqrt(.Machine$double.eps)) sqrt(.Machine$double.eps) * max(apply(xw, 2, sd)) else 0
  out[[cs$name]] <- list(
    data = cs$data, y = cs$y, z = z, M = cs$M,
    weights = if (is.null(cs$weights)) "" else cs$weights,
    caliper = if (is.null(caliper)) 0 else caliper,
    est = unname(r$est[1, 1]), se = unname(r$se), est_noadj = unname(r$est.noadj),
    se_standard = unname(r$se.standard), wnobs = r$wnobs, ndrops = r$ndrops,
    min_eigen = min.eig, ridge = ridge, warnings = I(warns), seconds = secs)
  cat(sprintf("%-34s est %.10g se %.8g noadj %.10g ridge %.3g %s\n", cs$name, r$est, r$se,
              r$est.noadj, ridge, paste(warns, collapse = "; ")))
}

ref <- list(
  r_version = R.version.string,
  matching_version = as.character(packageVersion("Matching")),
  matchit_version = as.character(packageVersion("MatchIt")),
  match_call = paste("Match(Y, Tr, X = score, Z = covariates, estimand = \"ATT\", M,",
                     "BiasAdjust = TRUE, ties = TRUE, replace = TRUE,",
                     "distance.tolerance = 1e-12, caliper)"),
  cases = out)
writeLines(toJSON(ref, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           file.path(dir, "reference.json"))
