// Package synth generates a synthetic population like the one behind the
// SFI evaluation of Danish mentor support (see docs/method.md): register
// data in the shape of panel.Register whose true treatment effect is
// known, for examples, tests and benchmarks.
//
// # What is generated
//
// round(3.3e6·Scale) persons aged 16–64 on 1 January 2012 (Birth), with
// the attributes sex, origin, education, match_group, cohabitation
// (categorical, levels sorted byte-wise as registerio.ReadDir sorts them),
// children (number at home), municipality (categorical) and
// unemployment_rate (numeric: the commuting area's rate in percent);
// a weekly status grid of GridWeeks weeks from Monday 1 January 2007 to
// 22 June 2014 with the levels of StatusLevels (code 0 self_supporting;
// benefits × activation instrument); monthly outcomes from January 2007:
// employed (any wage income) and employed_no_benefit (wage income and
// every week of the month self_supporting or su) and su to April 2014,
// education to September 2013; and mentor spells from January 2012 to
// June 2014 (some split into directly consecutive sub-spells with other
// weekly hours; merged durations lognormal with median 91 days).
//
// # The model
//
// Everyone is drawn from one population law. Attributes follow
// Statistics Denmark's age structure and the report's population
// margins (fitted by iterative proportional fitting with age and origin
// tilts). A latent class (ordered logit on education, origin, age, sex
// and the local unemployment rate) gives each person a long-run share pi
// of weeks on benefit; the status path alternates self-supporting and
// benefit spells with geometric durations (benefit spells of mean
// 20 + 220·pi² weeks; the type of each drawn from a person-specific
// mix), activated benefits alternate passive and activation sub-spells
// (instrument mixes by benefit), flex jobs and disability pension start
// by age-band hazards proportional to 0.1 + 2·pi, and overlays add SU
// periods, parental leave, small schemes, early retirement and the state
// pension. Wage income in a month has probability max over its weeks of
// (rate of the week's status) × employability e, with e drawn given pi
// (0 with probability 0.10 + 0.36·pi). Each outcome in each month is
// Y(0) = 1{V < p0} with a person-month uniform V.
//
// About 1.2 percent of persons start a mentor spell, on a day drawn from
// the report's monthly volumes (6,487·Scale first starts expected in
// Feb–Jul 2012, about 16,000·Scale in 2012). A starter is selected on
// observables: candidates are drawn until one is accepted with a
// probability that is a log-linear function of its features on the
// start day (benefit and activation at start, age band, sex, origin,
// education, match group, years on support in the previous five years,
// months with wage income in the previous 48, wage income in the start
// month). A candidate is a person of the population law or, for a start
// in Feb–Jul 2012 and with probability the later starters' share of the
// persons not starting in Jan–Jul 2012 (about 1 percent), a later
// starter: a person first starting from August 2012, itself drawn and
// selected at its own start day, so that window starters come from the
// same pool as the SFI's controls. The weights are fitted by raking so
// that the window starters match the report's figures for the 2012
// starters (see selection_weights.go and TestFitSelection, which draws
// its candidates from the same mixture). So, given those features,
// window starters and everyone not starting in the window have the same
// law of all latent traits and of their future: selection is on
// observables, and matching on them recovers the truth, except for the
// unobserved factor U ~ N(0,1): among starters U has mean
// Options.Confounding, and U lowers the odds of wage income and of
// education after the SFI window (Options.UnobservedEffect,
// Options.UnobservedShape); it does not act on the status grid. With
// Confounding > 0, an estimator that conditions on observables is biased
// downwards (the SFI authors' explanation of their negative estimate).
// With Options.UnobservedPersistent, U is a stable trait instead: it
// lowers those odds by the same amount in every month from January 2007,
// before the start as after it, so a pre-programme placebo test sees the
// difference and conditional difference-in-differences removes it (see
// the option for what it moves besides the outcomes).
//
// # The truth
//
// A starter's observed outcomes are Y(1) for a first start in its actual
// month: Y(1) = 1{V < clamp(p0 + effect[m])} at event month m with the
// same V as Y(0), so the individual effect is known; Population.Untreated
// holds Y(0) for everyone. Population.TrueATT re-simulates persons to
// give the exact mean effect for any persons and start months; it is
// exactly zero when Options.Effect is zero. The status grid is the
// untreated path (treatment acts on the outcomes only).
//
// # Determinism and cost
//
// Person k's draws come from PCG streams seeded with (Seed, a hash of k
// and the stream's part), persons are generated in fixed blocks, so the
// output is the same for any Workers. Scale 1 takes about 24 s of CPU:
// 11–12 s on 2 idle cores, and a peak resident memory of 1.9 GB (the
// status grid is 1.29 GB; observed and untreated outcomes 0.4 GB).
//
// # Calibration
//
// Population.Profiles prints the treated-at-start and the population
// profiles next to the report's figures; at Scale 1 every row is within
// 2 percentage points (1 year for ages); see TestProfileScale1.
package synth
