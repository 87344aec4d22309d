// Package panel turns register data into an event-time panel for
// propensity-score matching: one row per person and (actual or simulated)
// programme start, with covariates measured at the start and outcomes per
// event month.
//
// The flow is Register (register data: persons, weekly status grid,
// monthly outcomes, treatment spells) -> Design (window, spell merging,
// eligibility, covariates, outcomes) -> Build -> Panel.
//
// # Schema of the register data
//
// Persons: id (int64, unique), birth (date, optional), any static
// attributes (numeric or categorical). Status: a code per person and week
// (DREAM style), long (id, week, code) or wide (id, one column per week).
// Outcomes: 0/1 per person and month. Spells: id, start, end, hours.
// Dates are ISO "YYYY-MM-DD"; months "YYYY-MM".
package panel
