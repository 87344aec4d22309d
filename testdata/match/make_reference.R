# Reference values for psm matching, Abadie-Imbens SEs and balance.
#
# Regenerate (from the repository root):
#   Rscript testdata/match/make_reference.R
# Writes testdata/match/{cont,discrete}.csv (data incl. the propensity scores,
# printed with 17 significant digits so Go reads the same doubles) and
# testdata/match/reference.json (Matching::Match and MatchIt::bal1var output).
# The Go tests (psm/match_r_test.go) read these files; they never run R.
suppressMessages({
  library(Matching)
  library(MatchIt)
  library(jsonlite)
})
dir <- "testdata/match"
f17 <- function(x) sprintf("%.17g", x)
write17 <- function(df, file) {
  out <- df
  for (nm in names(out)) if (is.double(out[[nm]])) out[[nm]] <- f17(out[[nm]])
  write.csv(out, file, row.names = FALSE, quote = FALSE)
}

# ---- data set 1: continuous covariates --------------------------------------
set.seed(20240501)
n <- 1500
x1 <- rnorm(n)
x2 <- rbinom(n, 1, 0.4)
x3 <- runif(n)
# a few treated with extreme x1 so that a caliper drops some of them
tr <- rbinom(n, 1, plogis(-1.6 + 0.9 * x1 + 0.5 * x2 - 0.8 * x3))
y1 <- 2 + 0.5 * tr + x1 + 0.3 * x2 - x3 + rnorm(n)
y2 <- rbinom(n, 1, plogis(-0.5 + 0.3 * tr + 0.5 * x1))
w <- sample(0:3, n, replace = TRUE, prob = c(0.15, 0.45, 0.25, 0.15))
fit <- glm(tr ~ x1 + x2 + x3, family = binomial)
ps <- unname(fitted(fit))
# coarsened scores: rounded (ties within the score), and on a grid where
# every treated score lies half-way between two control scores (ties on
# both sides, equal only up to rounding error)
ps_round <- round(ps, 2)
ps_grid <- ifelse(tr == 1, round(ps * 50) / 50 + 0.01, round(ps * 50) / 50)
cont <- data.frame(id = seq_len(n) - 1L, tr = tr, x1 = x1, x2 = x2, x3 = x3,
                   w = w, ps = ps, ps_round = ps_round, ps_grid = ps_grid,
                   y1 = y1, y2 = y2)
write17(cont, file.path(dir, "cont.csv"))
# re-read so that R uses exactly the doubles the Go test reads
cont <- read.csv(file.path(dir, "cont.csv"))

# ---- data set 2: discrete covariates, 60 distinct scores, huge tie blocks ----
set.seed(20240502)
n2 <- 20000
a <- sample(0:4, n2, replace = TRUE, prob = c(0.45, 0.25, 0.15, 0.10, 0.05))
b <- rbinom(n2, 1, 0.3)
cc <- sample(0:5, n2, replace = TRUE, prob = c(0.40, 0.25, 0.15, 0.10, 0.06, 0.04))
tr2 <- rbinom(n2, 1, plogis(-3.2 + 0.35 * a + 0.6 * b + 0.25 * cc))
yd1 <- 1 + 0.2 * tr2 + 0.3 * a - 0.5 * b + 0.1 * cc + rnorm(n2)
yd2 <- rbinom(n2, 1, plogis(-1 + 0.2 * tr2 + 0.2 * a))
fit2 <- glm(tr2 ~ factor(a) + b + factor(cc), family = binomial)
ps2 <- unname(fitted(fit2))
disc <- data.frame(id = seq_len(n2) - 1L, tr = tr2, a = a, b = b, c = cc,
                   ps = ps2, y1 = yd1, y2 = yd2)
write17(disc, file.path(dir, "discrete.csv"))
disc <- read.csv(file.path(dir, "discrete.csv"))

# ---- matching cases ----------------------------------------------------------
# Our "matched-only" AI variance: the Abadie-Imbens formula restricted to the
# matched treated units (Matching::Match also counts treated units dropped by
# the caliper in the denominator, with a zero individual effect).
ai_matched_only <- function(m, y, tr) {
  it <- m$index.treated; ic <- m$index.control; w <- m$weights
  est <- sum(w * (y[it] - y[ic])) / sum(w)
  K <- numeric(length(y)); KK <- numeric(length(y)); yc <- numeric(length(y))
  for (i in unique(it)) {
    s <- it == i; ws <- w[s]
    K[ic[s]] <- K[ic[s]] + ws; KK[ic[s]] <- KK[ic[s]] + ws^2
    yc[i] <- y[i] - sum(ws * y[ic[s]]) / sum(ws)
  }
  sigs <- 0.5 * sum(w * (y[it] - y[ic] - est)^2) / sum(w)
  u <- unique(it); SN <- length(u)
  sqrt((sigs * sum((K^2 - KK)[tr == 0]) + sum((yc[u] - est)^2)) / SN^2)
}

run_case <- function(name, data, score = "ps", logit = FALSE, M = 1,
                     caliper = NULL, expand = NULL) {
  tr <- data$tr
  X <- data[[score]]
  if (logit) X <- qlogis(X)
  out <- list(name = name, score = score, logit = logit, M = M,
              caliper = if (is.null(caliper)) 0 else caliper,
              weights = if (is.null(expand)) "" else "w")
  ids <- data$id
  if (!is.null(expand)) {            # frequency weights as copies
    rep_idx <- rep(seq_len(nrow(data)), expand)
    data <- data[rep_idx, ]; X <- X[rep_idx]; tr <- data$tr; ids <- data$id
  }
  for (yn in c("y1", "y2")) {
    y <- data[[yn]]
    t0 <- proc.time()[["elapsed"]]
    m <- Match(Y = y, Tr = tr, X = X, estimand = "ATT", M = M, ties = TRUE,
               replace = TRUE, distance.tolerance = 1e-12, caliper = caliper)
    out[[yn]] <- list(est = m$est[1, 1], se = m$se, se_standard = m$se.standard,
                      se_matched_only = ai_matched_only(m, y, tr),
                      seconds = proc.time()[["elapsed"]] - t0)
    if (yn == "y1") {
      out$wnobs <- m$wnobs
      out$ndrops <- m$ndrops
      out$ecaliper <- if (is.null(m$ecaliper)) 0 else m$ecaliper
      out$treated_dropped <- if (is.null(m$index.dropped)) integer(0) else ids[m$index.dropped]
      # matched control weights aggregated per data row id
      cw <- tapply(m$weights, ids[m$index.control], sum)
      out$control_id <- as.integer(names(cw))
      out$control_weight <- unname(as.numeric(cw))
      mm <- m
    }
  }
  out$match <- mm
  out
}

cases <- list()
cases$cont_m1 <- run_case("cont_m1", cont)
cases$cont_m2 <- run_case("cont_m2", cont, M = 2)
cases$cont_caliper <- run_case("cont_caliper", cont, caliper = 0.02)
cases$cont_logit <- run_case("cont_logit", cont, logit = TRUE)
cases$cont_logit_m2_caliper <- run_case("cont_logit_m2_caliper", cont, logit = TRUE,
                                        M = 2, caliper = 0.05)
cases$cont_round <- run_case("cont_round", cont, score = "ps_round")
cases$cont_grid <- run_case("cont_grid", cont, score = "ps_grid")
cases$cont_grid_m2 <- run_case("cont_grid_m2", cont, score = "ps_grid", M = 2)
cases$cont_weights <- run_case("cont_weights", cont, expand = cont$w)
cases$discrete_m1 <- run_case("discrete_m1", disc)
cases$discrete_m2 <- run_case("discrete_m2", disc, M = 2)
cases$discrete_logit_caliper <- run_case("discrete_logit_caliper", disc, logit = TRUE,
                                         caliper = 0.01)

# ---- balance (MatchIt::bal1var, standardize = TRUE) on cont_m1 --------------
bal <- list()
m <- cases$cont_m1$match
wt <- numeric(nrow(cont))
agg <- tapply(m$weights, m$index.control, sum)
wt[as.integer(names(agg))] <- agg
wt[cont$tr == 1] <- 1
for (v in c("x1", "x2", "x3")) {
  xx <- cont[[v]]
  for (den in c("treated", "pooled")) {
    before <- MatchIt:::bal1var(xx, cont$tr, ww = NULL, s.weights = rep(1, n),
                                s.d.denom = den, standardize = TRUE,
                                compute.pair.dist = FALSE)
    after <- MatchIt:::bal1var(xx, cont$tr, ww = wt, s.weights = rep(1, n),
                               s.d.denom = den, standardize = TRUE,
                               compute.pair.dist = FALSE)
    bal[[paste(v, den, sep = "_")]] <- list(variable = v, denominator = den,
      before = as.list(before[1:6]), after = as.list(after[1:6]))
  }
}
# caliper case: treated dropped by the caliper leave the matched sample
m <- cases$cont_caliper$match
wt <- numeric(nrow(cont))
agg <- tapply(m$weights, m$index.control, sum)
wt[as.integer(names(agg))] <- agg
wt[unique(m$index.treated)] <- 1
for (v in c("x1", "x2", "x3")) {
  after <- MatchIt:::bal1var(cont[[v]], cont$tr, ww = wt, s.weights = rep(1, n),
                             s.d.denom = "treated", standardize = TRUE,
                             compute.pair.dist = FALSE)
  bal[[paste(v, "caliper", sep = "_")]] <- list(variable = v, denominator = "treated",
    after = as.list(after[1:6]))
}

for (k in names(cases)) cases[[k]]$match <- NULL
# the discrete cases match every control; keep one copy of their weights
for (k in c("discrete_m2", "discrete_logit_caliper")) {
  cases[[k]]$control_id <- NULL; cases[[k]]$control_weight <- NULL
}
ref <- list(
  generated_by = "testdata/match/make_reference.R",
  r_version = R.version.string,
  matching_version = as.character(packageVersion("Matching")),
  matchit_version = as.character(packageVersion("MatchIt")),
  call = "Match(Y, Tr, X, estimand='ATT', M, ties=TRUE, replace=TRUE, distance.tolerance=1e-12, caliper)",
  cases = cases,
  balance = bal)
writeLines(toJSON(ref, auto_unbox = TRUE, digits = I(17), na = "null", pretty = TRUE),
           file.path(dir, "reference.json"))
