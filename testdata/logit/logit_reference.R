# Reference values for psm.FitLogit: generates the logit test datasets
# (seeded), writes them as CSV, re-reads them and fits R's
# glm(family = binomial) on the data exactly as written.
#
# Run from the repository root:
#   Rscript testdata/logit/logit_reference.R > testdata/logit/logit_reference.Rout 2>&1
# Outputs (all under testdata/logit/):
#   continuous.csv dummies.csv weights.csv rare.csv aliased.csv sparse.csv  (data)
#   reference_coef.csv  dataset (fit),term,estimate,std_error,z_value  (NA = aliased)
#   reference_fit.csv   dataset,deviance,null_deviance,aic,loglik,iter,converged,rank,n
#   logit_reference.Rout printed summaries + sessionInfo (R and package versions)
options(digits = 17, warn = 1)
set.seed(20240604, kind = "Mersenne-Twister", normal.kind = "Inversion")
dir <- "testdata/logit"
r4 <- function(x) round(x, 4)
plogis_draw <- function(eta) rbinom(length(eta), 1, plogis(eta))

# 1. continuous covariates, including large-mean ones (age, year)
n <- 2000
x1 <- r4(rnorm(n))
x2 <- r4(runif(n, 0, 10))
x3 <- r4(rlnorm(n, 1, 0.7))
age <- round(rnorm(n, 45, 10))
year <- sample(2008:2016, n, replace = TRUE)
income <- r4(rlnorm(n, 5.5, 0.6))
eta <- -0.5 + 0.8 * x1 - 0.15 * x2 + 0.3 * log(x3) + 0.02 * (age - 45) +
  0.1 * (year - 2012) - 0.002 * (income - 300)
continuous <- data.frame(y = plogis_draw(eta), x1, x2, x3, age, year, income)

# 2. many dummy variables (12-level region, 5-level education, sex)
n <- 3000
region <- sample(1:12, n, replace = TRUE, prob = c(20, 15, 12, 10, 9, 8, 7, 6, 5, 4, 3, 1))
edu <- sample(1:5, n, replace = TRUE, prob = c(30, 25, 20, 15, 10))
sex <- rbinom(n, 1, 0.5)
age <- round(runif(n, 18, 65))
beff <- c(0, 0.2, -0.3, 0.5, 0.1, -0.2, 0.4, 0.0, -0.5, 0.3, 0.6, -0.4)
eeff <- c(0, 0.3, 0.5, -0.2, 0.8)
eta <- -1 + beff[region] + eeff[edu] + 0.3 * sex - 0.01 * (age - 40)
dummies <- data.frame(y = plogis_draw(eta))
for (k in 2:12) dummies[[paste0("region", k)]] <- as.integer(region == k)
for (k in 2:5) dummies[[paste0("edu", k)]] <- as.integer(edu == k)
dummies$sex <- sex
dummies$age <- age

# 3. frequency weights, with zeros (absent units)
n <- 1500
x1 <- r4(rnorm(n))
x2 <- r4(rgamma(n, 2, 1))
d1 <- rbinom(n, 1, 0.4)
w <- sample(0:5, n, replace = TRUE, prob = c(10, 30, 25, 15, 10, 10))
eta <- 0.3 - 0.6 * x1 + 0.25 * x2 - 0.7 * d1
weights <- data.frame(y = plogis_draw(eta), x1, x2, d1, w)

# 4. rare treatment (about 0.2 percent treated) with a strong predictor:
#    fitted probabilities span 1e-7 .. 0.5, close to separation but the
#    MLE exists (every dummy level has treated and controls).
n <- 25000
repeat {
  z1 <- r4(rnorm(n))
  z2 <- r4(rnorm(n))
  z3 <- r4(runif(n))
  z4 <- r4(rexp(n))
  g1 <- rbinom(n, 1, 0.4)
  g2 <- rbinom(n, 1, 0.3)
  eta <- -9.3 + 2.0 * z1 - 0.6 * z2 + 0.8 * z3 + 0.3 * z4 + 0.7 * g1 - 0.5 * g2
  y <- plogis_draw(eta)
  ok <- all(tapply(y, g1, sum) > 0) && all(tapply(y, g2, sum) > 0)
  if (ok && sum(y) >= 40 && sum(y) <= 60) break
}
rare <- data.frame(y, z1, z2, z3, z4, g1, g2)

# 5. aliased and constant columns: const is constant (aliased with the
#    intercept), x3 = x1 + 2*x2, and da+db+dc = 1 (dc aliased). R drops
#    the later column of each linear dependency.
n <- 500
x1 <- r4(rnorm(n))
x2 <- r4(rnorm(n))
lev <- sample(1:3, n, replace = TRUE)
x4 <- r4(runif(n))
eta <- 0.2 + 0.5 * x1 - 0.4 * x2 + 0.3 * (lev == 2) - 0.2 * (lev == 3) + x4
aliased <- data.frame(y = plogis_draw(eta), x1, const = 7, x2, x3 = x1 + 2 * x2,
                      da = as.integer(lev == 1), db = as.integer(lev == 2),
                      dc = as.integer(lev == 3), x4)

# 6. register-like design, mostly zeros (psm's sparse IRLS pass): four
#    dense columns (age, a year 2000..2020, a rate, a dummy with 70% ones),
#    six dummies with prevalence 0.02..0.45, three counts of weeks on a
#    benefit (0 for most, else 1..52), and a year that is 0 for 90%.
n <- 8000
age <- sample(18:64, n, replace = TRUE)
year <- sample(2000:2020, n, replace = TRUE)
rate <- round(runif(n), 3)
dmaj <- rbinom(n, 1, 0.7)
dums <- sapply(c(0.02, 0.05, 0.1, 0.2, 0.3, 0.45), function(q) rbinom(n, 1, q))
colnames(dums) <- paste0("d", 1:6)
wks <- sapply(c(0.03, 0.1, 0.25), function(q) ifelse(runif(n) < q, sample(1:52, n, replace = TRUE), 0))
colnames(wks) <- paste0("weeks", 1:3)
lastyear <- ifelse(runif(n) < 0.1, sample(2000:2020, n, replace = TRUE), 0)
eta <- -2.2 + 0.02 * (age - 40) + 0.05 * (year - 2010) - 0.6 * rate + 0.3 * dmaj +
  as.vector(dums %*% c(-0.4, 0.5, 0, 0.3, -0.2, 0.2)) +
  as.vector(wks %*% c(-0.01, 0.005, 0.01)) + 0.03 * (lastyear > 0) * (lastyear - 2010)
sparse <- data.frame(y = plogis_draw(eta), age, year, rate, dmaj, dums, wks, lastyear)

sets <- list(continuous = continuous, dummies = dummies, weights = weights,
             rare = rare, aliased = aliased, sparse = sparse)
for (nm in names(sets)) write.csv(sets[[nm]], file.path(dir, paste0(nm, ".csv")), row.names = FALSE)
# Fits: name = data set, except aliased_noint = aliased.csv without intercept.
fitsets <- c(names(sets), "aliased_noint")
coefs <- list()
fits <- list()
for (nm in fitsets) {
  src <- if (nm == "aliased_noint") "aliased" else nm
  d <- read.csv(file.path(dir, paste0(src, ".csv")))
  if (nm == "weights") {
    m <- glm(y ~ . - w, family = binomial, data = d, weights = w)
  } else if (nm == "aliased_noint") {
    m <- glm(y ~ 0 + ., family = binomial, data = d)
  } else {
    m <- glm(y ~ ., family = binomial, data = d)
  }
  cat("\n==== fit", nm, "on", src, ": n =", nrow(d), " treated =", sum(d$y), "\n")
  print(summary(m))
  cat("iterations:", m$iter, " converged:", m$converged, "\n")
  s <- coef(summary(m))   # rows only for non-aliased terms
  est <- coef(m)
  se <- rep(NA_real_, length(est)); names(se) <- names(est)
  zv <- se
  se[rownames(s)] <- s[, 2]
  zv[rownames(s)] <- s[, 3]
  coefs[[nm]] <- data.frame(dataset = nm, term = names(est),
                            estimate = sprintf("%.17g", est),
                            std_error = sprintf("%.17g", se),
                            z_value = sprintf("%.17g", zv))
  fits[[nm]] <- data.frame(dataset = nm,
                           deviance = sprintf("%.17g", deviance(m)),
                           null_deviance = sprintf("%.17g", m$null.deviance),
                           aic = sprintf("%.17g", AIC(m)),
                           loglik = sprintf("%.17g", as.numeric(logLik(m))),
                           iter = m$iter, converged = m$converged,
                           rank = m$rank, n = sum(m$prior.weights > 0))
}
out <- do.call(rbind, coefs)
out[out == "NA"] <- "NA"
write.csv(out, file.path(dir, "reference_coef.csv"), row.names = FALSE, quote = FALSE)
write.csv(do.call(rbind, fits), file.path(dir, "reference_fit.csv"), row.names = FALSE, quote = FALSE)
cat("\n")
print(sessionInfo())
