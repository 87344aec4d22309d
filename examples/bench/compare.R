# The psmeval bench analysis in R, on the flat file written by
#   go run ./examples/bench -write FILE            (FILE .csv or .csv.gz)
# Usage:
#   Rscript examples/bench/compare.R FILE [--json] [--no-matchit] [--no-match]
#                                        [--exact-ties] [--exclude=col1,col2]
# Stages, each timed (wall, CPU = user + system of this process from
# proc.time, peak resident set VmHWM after resetting it through
# /proc/self/clear_refs, and R's own peak heap from gc()'s "max used"):
#   read      data.table::fread (read.csv when data.table is absent)
#   glm       glm(treatment ~ covariates, family = binomial()); score =
#             plogis(linear predictor), as psmeval's Logit.Predict
#   match     Matching::Match(Tr, X = score, estimand = "ATT", M = 1,
#             ties = TRUE, replace = TRUE, distance.tolerance = 1e-12):
#             one match for all outcomes. Match ties every control whose
#             squared standardized distance (z_j - z_i)^2 is at most
#             d_K^2 + distance.tolerance + 1e-10 (the 1e-10 is measured, see
#             testdata/bench/r_tie_threshold.R; Matching's C code adds
#             TOL = 1e-10 to every comparison); psmeval's default ties
#             only exactly equal distances, its TieRMatching rule with
#             TieTolerance 1e-12 is Match's rule here
#   exact_ties  (--exact-ties) the effects under psmeval's default rule,
#             computed in R without Match (sorted control scores and
#             findInterval): one nearest control, exact-distance ties
#   effects   for every outcome column <outcome>_m<month>: treated mean,
#             matched-control mean and ATT from index.treated,
#             index.control and weights (sum w (y_t - y_c) / sum w), and
#             the accumulated effect from month 1 (psmeval's default)
#   matchit   MatchIt::matchit(method = "nearest", replace = TRUE,
#             distance = the glm score) (ties broken, not averaged)
#   matchit_effects  the ATT from matchit's weights (treated mean minus the
#             weighted mean of the controls)
# Covariates are every column but id, treatment and <name>_m<digits>.
# The default output is a table like the Go bench's; --json prints one
# object: config, machine, stages [{stage, wall_s, cpu_s, peak_rss_mb,
# gc_max_mb}], sizes, effects [{outcome, month, treated_mean,
# control_mean, att, accumulated}] (Match), matchit_effects,
# exact_ties_effects (null when not computed).
suppressMessages({
  library(Matching, quietly = TRUE)
})

args <- commandArgs(trailingOnly = TRUE)
flags <- args[startsWith(args, "--")]
files <- args[!startsWith(args, "--")]
if (length(files) != 1) stop("usage: Rscript compare.R FILE [--json] [--no-matchit] [--no-match] [--exact-ties] [--exclude=a,b]")
file <- files[1]
as_json <- "--json" %in% flags
do_match <- !("--no-match" %in% flags)
do_matchit <- !("--no-matchit" %in% flags)
do_exact <- "--exact-ties" %in% flags
exclude <- character(0)
for (f in flags[startsWith(flags, "--exclude=")]) {
  exclude <- c(exclude, strsplit(sub("^--exclude=", "", f), ",")[[1]])
}
known <- c("--json", "--no-match", "--no-matchit", "--exact-ties")
bad <- flags[!(flags %in% known) & !startsWith(flags, "--exclude=")]
if (length(bad)) stop("unknown option ", paste(bad, collapse = " "))

# ---- measurement ----------------------------------------------------------
status_mb <- function(field) {
  s <- tryCatch(readLines("/proc/self/status"), error = function(e) character(0))
  l <- s[startsWith(s, paste0(field, ":"))]
  if (!length(l)) return(NA_real_)
  as.numeric(strsplit(trimws(sub(".*:", "", l)), " +")[[1]][1]) / 1024
}
reset_peak <- function() {
  ok <- tryCatch({ cat("5", file = "/proc/self/clear_refs"); TRUE }, error = function(e) FALSE)
  ok && isTRUE(status_mb("VmHWM") <= status_mb("VmRSS") + 1)
}
stages <- list()
peak_reset <- NA
stage <- function(name, expr) {
  invisible(gc(reset = TRUE))
  reset <- reset_peak()
  if (is.na(peak_reset)) peak_reset <<- reset
  t0 <- proc.time()
  value <- eval.parent(substitute(expr))
  t1 <- proc.time()
  g <- gc()
  d <- t1 - t0
  stages[[length(stages) + 1]] <<- list(
    stage = name, wall_s = unname(d[["elapsed"]]),
    cpu_s = unname(d[["user.self"]] + d[["sys.self"]]),
    peak_rss_mb = status_mb("VmHWM"), gc_max_mb = sum(g[, 6]),
    peak_is_process = !reset)
  if (!as_json) message(sprintf("%s: %.2fs wall", name, d[["elapsed"]]))
  invisible(value)
}

# ---- stages -----------------------------------------------------------------
has_dt <- requireNamespace("data.table", quietly = TRUE)
d <- stage("read", {
  if (has_dt) {
    x <- data.table::fread(file, showProgress = FALSE, data.table = FALSE)
  } else {
    con <- if (grepl("\\.gz$", file)) gzfile(file) else file
    x <- read.csv(con, check.names = FALSE)
  }
  x
})
nm <- names(d)
for (col in c("id", "treatment")) if (!(col %in% nm)) stop("no column ", col, " in ", file)
is_outcome <- grepl("_m[0-9]+$", nm)
bad_ex <- setdiff(exclude, nm)
if (length(bad_ex)) stop("--exclude: no column ", paste(bad_ex, collapse = ", "))
covs <- nm[!is_outcome & !(nm %in% c("id", "treatment", exclude))]
ycols <- nm[is_outcome]
tr <- d$treatment
if (!all(tr %in% c(0, 1))) stop("column treatment: values must be 0 or 1")

score <- NULL
fit <- stage("glm", {
  X <- d[covs]
  names(X) <- paste0("x", seq_along(covs))  # syntactic names for the formula
  X$treatment <- tr
  f <- glm(treatment ~ ., data = X, family = binomial())
  score <- plogis(f$linear.predictors)
  f
})
coef_na <- covs[is.na(coef(fit))[-1]]

m <- NULL
effects <- NULL
if (do_match) {
  m <- stage("match", Match(Tr = tr, X = score, estimand = "ATT", M = 1, ties = TRUE,
                            replace = TRUE, distance.tolerance = 1e-12))
  effects <- stage("effects", {
    Y <- as.matrix(d[ycols])
    it <- m$index.treated; ic <- m$index.control; w <- m$weights
    W <- sum(w)
    tm <- colSums(w * Y[it, , drop = FALSE]) / W
    cm <- colSums(w * Y[ic, , drop = FALSE]) / W
    att <- colSums(w * (Y[it, , drop = FALSE] - Y[ic, , drop = FALSE])) / W
    data.frame(column = ycols, treated_mean = tm, control_mean = cm, att = att,
               row.names = NULL)
  })
}
exact_effects <- NULL
if (do_exact) {
  # One nearest control on the score with ties at exactly equal distance
  # |s_j - s_i| averaged: psmeval's default rule (psm.Match, TieDistance,
  # tolerance 0), by sorting the distinct control scores and looking at the
  # two neighbours of each treated score (findInterval).
  exact_effects <- stage("exact_ties", {
    Y <- as.matrix(d[ycols])
    c0 <- which(tr == 0); t1 <- which(tr == 1)
    u <- sort(unique(score[c0]))
    blk <- match(score[c0], u)
    cnt <- tabulate(blk, length(u))
    ysum <- rowsum(Y[c0, , drop = FALSE], blk, reorder = TRUE)
    st <- score[t1]
    k <- findInterval(st, u)                     # u[k] <= st < u[k + 1]
    dl <- ifelse(k >= 1, st - u[pmax(k, 1)], Inf)
    dr <- ifelse(k < length(u), u[pmin(k + 1, length(u))] - st, Inf)
    dmin <- pmin(dl, dr)
    useL <- dl == dmin; useR <- dr == dmin
    n <- ifelse(useL, cnt[pmax(k, 1)], 0) + ifelse(useR, cnt[pmin(k + 1, length(u))], 0)
    cm_i <- (ysum[pmax(k, 1), , drop = FALSE] * useL +
             ysum[pmin(k + 1, length(u)), , drop = FALSE] * useR) / n
    tm <- colMeans(Y[t1, , drop = FALSE]); cm <- colMeans(cm_i)
    data.frame(column = ycols, treated_mean = tm, control_mean = cm,
               att = colMeans(Y[t1, , drop = FALSE] - cm_i), row.names = NULL)
  })
}
mi_effects <- NULL
mi <- NULL
if (do_matchit) {
  suppressMessages(library(MatchIt, quietly = TRUE))
  mi <- stage("matchit", {
    X <- d[covs]
    names(X) <- paste0("x", seq_along(covs))
    X$treatment <- tr
    matchit(treatment ~ ., data = X, method = "nearest", replace = TRUE,
            distance = score, estimand = "ATT")
  })
  mi_effects <- stage("matchit_effects", {
    Y <- as.matrix(d[ycols])
    w <- mi$weights
    t1 <- tr == 1 & w > 0; c0 <- tr == 0 & w > 0
    tm <- colSums(w[t1] * Y[t1, , drop = FALSE]) / sum(w[t1])
    cm <- colSums(w[c0] * Y[c0, , drop = FALSE]) / sum(w[c0])
    data.frame(column = ycols, treated_mean = tm, control_mean = cm, att = tm - cm,
               row.names = NULL)
  })
}

# ---- output -----------------------------------------------------------------
# outcome name and month of each column, accumulated effects from month 1
tidy <- function(e) {
  if (is.null(e)) return(NULL)
  e$outcome <- sub("_m[0-9]+$", "", e$column)
  e$month <- as.integer(sub(".*_m", "", e$column))
  e$accumulated <- ave(ifelse(e$month >= 1, e$att, 0), e$outcome, FUN = cumsum)
  e[c("outcome", "month", "treated_mean", "control_mean", "att", "accumulated")]
}
effects <- tidy(effects)
mi_effects <- tidy(mi_effects)
exact_effects <- tidy(exact_effects)
pkg <- function(p) if (requireNamespace(p, quietly = TRUE)) as.character(packageVersion(p)) else NA
sizes <- list(rows = nrow(d), treated = sum(tr == 1), controls = sum(tr == 0),
              covariates = covs, aliased_covariates = coef_na,
              glm_iterations = fit$iter, outcome_columns = length(ycols))
if (!is.null(m)) {
  sizes$matched_treated <- length(unique(m$index.treated))
  sizes$distinct_controls <- length(unique(m$index.control))
  sizes$match_pairs <- length(m$weights)
}
budget <- Filter(function(s) s$stage %in% c("glm", "match", "effects"), stages)
out <- list(
  config = list(file = normalizePath(file), md5 = unname(tools::md5sum(file)),
                distance_tolerance = 1e-12),
  machine = list(cores = parallel::detectCores(), r_version = R.version.string,
                 matching = pkg("Matching"), matchit = pkg("MatchIt"),
                 data_table = pkg("data.table"), peak_reset = peak_reset),
  stages = stages,
  budget = list(stage = "glm+match+effects",
                wall_s = sum(sapply(budget, `[[`, "wall_s")),
                cpu_s = sum(sapply(budget, `[[`, "cpu_s")),
                peak_rss_mb = max(c(0, sapply(budget, `[[`, "peak_rss_mb")))),
  sizes = sizes, effects = effects, matchit_effects = mi_effects,
  exact_ties_effects = exact_effects)

if (as_json) {
  cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, dataframe = "rows"), "\n")
} else {
  cat(sprintf("R bench on %s: %d rows (%d treated, %d controls), %d covariates, %d outcome columns\n",
              file, nrow(d), sum(tr == 1), sum(tr == 0), length(covs), length(ycols)))
  cat(sprintf("machine: %d cores, %s, Matching %s, MatchIt %s\n", parallel::detectCores(),
              R.version.string, pkg("Matching"), pkg("MatchIt")))
  cat(sprintf("%-27s %9s %9s %9s %12s %10s\n", "stage", "wall s", "CPU s", "CPU/wall", "peak RSS MB", "gc max MB"))
  line <- function(s, gcmax = NA) {
    cat(sprintf("%-27s %9.2f %9.2f %9.2f %12s %10s\n", s$stage, s$wall_s, s$cpu_s,
                s$cpu_s / s$wall_s,
                paste0(sprintf("%.0f", s$peak_rss_mb), if (isTRUE(s$peak_is_process)) "*" else ""),
                if (is.null(s$gc_max_mb)) "" else sprintf("%.0f", s$gc_max_mb)))
  }
  for (s in stages) line(s)
  line(out$budget)
  if (!isTRUE(peak_reset)) cat("* peak of the process so far (/proc/self/clear_refs could not reset it)\n")
  cat(sprintf("glm: %d covariates, %d iterations%s\n", length(covs), fit$iter,
              if (length(coef_na)) paste0(", aliased: ", paste(coef_na, collapse = ", ")) else ""))
  if (!is.null(m)) cat(sprintf("Match: %d treated matched to %d distinct controls (%d pairs with ties)\n",
                               sizes$matched_treated, sizes$distinct_controls, sizes$match_pairs))
}
