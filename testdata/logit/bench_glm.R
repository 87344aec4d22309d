# Times R's glm(family = binomial) on the benchmark data of
# psm.BenchmarkFitLogit (3.3 million rows, 40 covariates, ~0.2% treated),
# written by
#   PSM_LOGIT_BENCH_CSV=/tmp/logit_bench.csv go test ./psm -run TestWriteLogitBenchData -v
# Run:
#   Rscript testdata/logit/bench_glm.R /tmp/logit_bench.csv > testdata/logit/bench_glm.Rout 2>&1
args <- commandArgs(trailingOnly = TRUE)
path <- if (length(args)) args[1] else "/tmp/logit_bench.csv"
library(data.table)
setDTthreads(1)
t_read <- system.time(d <- as.data.frame(fread(path)))
cat("read:", t_read[["elapsed"]], "s;", nrow(d), "rows,", ncol(d) - 1, "covariates,", sum(d$y), "treated\n")
gc()
t_glm <- system.time(m <- glm(y ~ ., family = binomial, data = d))
print(t_glm)
cat("glm iterations:", m$iter, " converged:", m$converged, "\n")
cat(sprintf("glm elapsed per IRLS iteration: %.3f s\n", t_glm[["elapsed"]] / m$iter))
s <- coef(summary(m))
print(head(s, 8), digits = 15)
cat("\nnproc:", parallel::detectCores(), "\n")
print(sessionInfo())
