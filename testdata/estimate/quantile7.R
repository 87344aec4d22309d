# Reference values for estimate.Quantile7: R's quantile(type = 7).
# Run: Rscript quantile7.R > quantile7.csv
x <- c(0.31, -1.2, 4.5, 0.31, 2.25, -0.07, 9.1, 3.3, 0.5, -2.75, 1.0)
p <- c(0, 0.005, 0.025, 0.05, 0.1, 0.25, 0.333, 0.5, 0.75, 0.9, 0.95, 0.975, 0.995, 1)
q <- quantile(x, p, type = 7, names = FALSE)
cat("# ", R.version.string, "\n", sep = "")
cat("p,q\n")
for (i in seq_along(p)) cat(sprintf("%.17g,%.17g\n", p[i], q[i]))
