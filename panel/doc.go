// Package panel turns register data into an event-time panel for
// propensity-score matching: one row per person and (actual or simulated)
// programme start, with covariates measured at the start and outcomes per
// event month.
//
// The flow is Register (register data: persons, weekly status grid,
// monthly outcomes, treatment spells) -> Design (window, spell merging,
// eligibility, covariates, outcomes) -> Build -> Panel.
//
// A Register is plain data: fill it in memory, or read it from files with
// package registerio (CSV, Parquet, Arrow), which holds the file schema.
// Errors name the table, column and row, or the design option, in a
// *Error; errors.Is(err, ErrInvalid) holds for every data error and
// errors.Is(err, ErrDesign) for every design error.
package panel
