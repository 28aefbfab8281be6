# Independent R estimates for tests/estimation/test_cross_implementations.py.
#
# Usage: Rscript cross_check.R <panel.csv> <out.csv>
# Reads a metro-year panel (columns cbsa_code, year, log_exports, exports_usd and the five
# regressors) and writes one row per (block, term) with the estimate and standard error,
# printed with 17 significant digits. Blocks and their covariance conventions:
#   plm_hc0      plm within, effect = "twoways"; vcovHC(method = "arellano", type = "HC0",
#                cluster = "group"): the raw cluster sandwich, no small-sample factor
#   plm_sss      same, type = "sss": G/(G-1) * (N-1)/(N-K), K = the 5 slopes only
#   estimatr     lm_robust(fixed_effects = ~ cbsa_code + year, clusters = cbsa_code,
#                se_type = "stata"): G/(G-1) * (N-1)/(N-K), K = the slopes plus the rank of
#                the fixed effects (reported as the row with term "K": N - df.residual)
#   glm_hc0      glm(poisson) with metro and year dummies; sandwich::vcovCL(type = "HC0",
#                cadjust = TRUE): G/(G-1) times the raw sandwich
#   between_hc1  lm on metro means; sandwich::vcovHC(type = "HC1"): N/(N-K)
# Rows with term "nobs" carry the sample size of a block in the estimate column.
suppressPackageStartupMessages({
  library(plm)
  library(sandwich)
  library(estimatr)
})

args <- commandArgs(trailingOnly = TRUE)
panel <- read.csv(args[1], colClasses = c(cbsa_code = "character"))
xs <- c("sister_active", "consular_posts", "networks_dated", "log_population", "log_per_capita_income")
rhs <- paste(xs, collapse = " + ")
rows <- list()
add <- function(block, est, se) {
  rows[[length(rows) + 1]] <<- data.frame(block = block, term = names(est),
                                          estimate = sprintf("%.17g", unname(est)),
                                          std_error = sprintf("%.17g", unname(se)))
}
add_scalar <- function(block, term, value) {
  rows[[length(rows) + 1]] <<- data.frame(block = block, term = term, estimate = sprintf("%.17g", value),
                                          std_error = "NA")
}

# -- two-way fixed effects OLS, cluster by metro -----------------------------------------------------
ols <- panel[complete.cases(panel[, c("log_exports", xs)]), ]
pdat <- pdata.frame(ols, index = c("cbsa_code", "year"))
within <- plm(as.formula(paste("log_exports ~", rhs)), data = pdat, model = "within", effect = "twoways")
add("plm_hc0", coef(within)[xs],
    sqrt(diag(vcovHC(within, method = "arellano", type = "HC0", cluster = "group")))[xs])
add("plm_sss", coef(within)[xs],
    sqrt(diag(vcovHC(within, method = "arellano", type = "sss", cluster = "group")))[xs])
add_scalar("plm_hc0", "nobs", nobs(within))

robust <- lm_robust(as.formula(paste("log_exports ~", rhs)), data = ols,
                    fixed_effects = ~ cbsa_code + year, clusters = cbsa_code, se_type = "stata")
add("estimatr", coef(robust)[xs], robust$std.error[xs])
add_scalar("estimatr", "nobs", robust$nobs)
# estimatr's K in (N-1)/(N-K)
add_scalar("estimatr", "K", robust$nobs - robust$df.residual)

# -- PPML with metro and year dummies, cluster by metro ----------------------------------------------
pois <- panel[complete.cases(panel[, c("exports_usd", xs)]), ]
glm_fit <- glm(as.formula(paste("exports_usd ~", rhs, "+ factor(cbsa_code) + factor(year)")),
               family = poisson(), data = pois, control = glm.control(epsilon = 1e-14, maxit = 200))
if (!glm_fit$converged) stop("glm did not converge")
add("glm_hc0", coef(glm_fit)[xs],
    sqrt(diag(vcovCL(glm_fit, cluster = ~ cbsa_code, type = "HC0", cadjust = TRUE)))[xs])
add_scalar("glm_hc0", "nobs", nobs(glm_fit))

# -- between regression on metro means, HC1 ----------------------------------------------------------
means <- aggregate(ols[, c("log_exports", xs)], by = list(cbsa_code = ols$cbsa_code), FUN = mean)
between <- lm(as.formula(paste("log_exports ~", rhs)), data = means)
add("between_hc1", coef(between), sqrt(diag(vcovHC(between, type = "HC1"))))
add_scalar("between_hc1", "nobs", nobs(between))

write.csv(do.call(rbind, rows), args[2], row.names = FALSE, quote = TRUE)
