package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/manifest"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/panel/synth"
	"github.com/psmeval/psmeval/progress"
	"github.com/psmeval/psmeval/psm"
)

// outcomeInfo labels the reported outcomes (SFI figures 5.1-5.3).
var outcomeInfo = []struct{ name, label, short string }{
	{synth.EmployedNoBenefit, "Employment without benefit", "employment without benefit"},
	{synth.Employed, "Employment (with possible benefit)", "employment with possible benefit"},
	{synth.Education, "Ordinary education", "education"},
}

// subgroups are the SFI subgroup attributes (descriptor columns).
var subgroups = []string{sSex, sAgeBand, sSupport, sMatch, sBenefit}

// analysis is everything a run computes.
type analysis struct {
	cfg       *config
	pop       *synth.Population // nil when reading -data
	reg       *panel.Register
	panel     *panel.Panel
	fit       *psm.LogitFit // the propensity model with its data (Refit)
	logit     *psm.Logit
	y         []float64  // the treatment indicator, the logit's response
	x         mat.Matrix // the logit's covariates (p.X less separating columns)
	separated []string   // covariates dropped for perfect prediction
	excluded  []int      // units predicted perfectly, left out of the logit and the matching
	strata    []int32    // exact-matching stratum of each unit (matchStrata)
	fitW      []float64  // the logit's unit weights: 0 outside the strata with treated and controls (nil: all 1)
	scores    []float64
	matching  *psm.UnitMatching
	sample    *estimate.Sample
	effects   *estimate.Result // point estimates (+ intervals when bootstrapped)
	ai        *estimate.Result // Abadie-Imbens standard errors
	boot      *estimate.Result // the bootstrap (nil without -bootstrap)
	otsuRai   *estimate.Result // the Otsu-Rai weighted bootstrap (-interval otsu-rai-*)
	// refitSeparated counts the -refit replicates whose logit had perfect
	// prediction (a covariate dropped, units left out).
	refitSeparated, refitRidge atomic.Int64
	// truthNever is the true effect against never starting, by outcome
	// (synthetic data only; the series' Truth is the design's estimand).
	truthNever map[string]truthCurves
	balance    *psm.BalanceTable
	descBal    *psm.BalanceTable
	diag       *diagnostics // checks of the matched sample (diagnostics.go)
	cred       *credibility // the credibility section (credibility.go)
	// credSample is the sample with the pre-programme window in front
	// (nil when the section is off) and credRes the reported method's
	// estimate on it, replicates kept
	credSample *estimate.Sample
	credRes    *estimate.Result
	// ai2016 is the Abadie-Imbens (2016) result for the estimated score
	// (-interval abadie-imbens-2016, and studies); ai2016c the same
	// without the derivative term and biasAdj the bias-corrected
	// estimator (studies only).
	ai2016, ai2016c, biasAdj *estimate.Result
	watch                    *stopwatch
}

func scenarioOptions(c *config) (synth.Options, error) {
	o := synth.Options{Scale: c.scale, Seed: c.seed, Workers: c.workers}
	switch c.scenario {
	case "sfi":
		o.Confounding = sfiConfounding
	case "observables":
		o.Confounding = 0
	case "persistent":
		// the unobserved factor as a stable trait with a constant effect
		// on the probabilities, before the start as after it, paused in
		// the months of history the covariates summarise
		// (synth.Options.UnobservedPersistent): what a pre-programme
		// placebo test can see and difference-in-differences removes
		o.Confounding = sfiConfounding
		o.UnobservedPersistent = true
		o.UnobservedEffect = 1
		o.UnobservedShare = 0.3
	default:
		return o, fmt.Errorf("-scenario %q: want sfi, observables or persistent", c.scenario)
	}
	if c.confounding >= 0 {
		o.Confounding = c.confounding
	}
	if c.effect != 0 {
		o.Effect = synth.LockIn(c.effect/100, 6, 6)
	}
	return o, nil
}

// sfiConfounding is the unobserved-selection strength of the default
// scenario (starters' unobserved factor 2 SD above non-starters'), set so
// that the estimate tells the SFI story: with no true effect, the
// accumulated estimates are -0.26, -0.50 and -0.07 months at the default
// scale 0.5 and -0.33, -0.52 and -0.03 at scale 1 (employment without
// benefit, employment, education; the report: -0.2, -0.5, -0.2). The
// factor acts on wage income more than on education, whose estimate stays
// near zero. Measured with go run ./examples/sfi [-scale 1].
const sfiConfounding = 2

// check returns an error naming the first bad option; an empty
// -interval becomes the default (bootstrap-percentile with -refit).
func (c *config) check() error {
	if !(c.scale > 0) || math.IsInf(c.scale, 0) {
		return fmt.Errorf("-scale %v: must be positive", c.scale)
	}
	if c.bootstrap < 0 || c.bootstrap == 1 {
		return fmt.Errorf("-bootstrap %d: want 0 or at least 2", c.bootstrap)
	}
	if c.interval == "" {
		c.interval = defaultInterval
		if c.refit {
			c.interval = "bootstrap-percentile"
		}
	}
	if c.refit && !strings.HasPrefix(c.interval, "bootstrap") {
		return fmt.Errorf("-refit re-fits the logit in the replicates of -interval bootstrap-percentile or bootstrap-normal, not %s", c.interval)
	}
	if _, ok := intervalMethods[c.interval]; !ok {
		return fmt.Errorf("-interval %q: want one of %s", c.interval, strings.Join(slices.Sorted(maps.Keys(intervalMethods)), ", "))
	}
	if c.study < 0 {
		return fmt.Errorf("-study %d: want a number of replications >= 0", c.study)
	}
	switch c.studyScore {
	case "", "fitted":
		c.studyScore = "fitted"
	case "independent", "true":
		if c.study == 0 || c.data != "" {
			return fmt.Errorf("-study-score %s is a diagnostic of a study (-study N) on the synthetic population", c.studyScore)
		}
	default:
		return fmt.Errorf("-study-score %q: want fitted, independent or true", c.studyScore)
	}
	if c.preWindow == "" {
		c.preWindow = defaultPreWindow
		if c.scenario == "persistent" && c.data == "" {
			c.preWindow = persistentPreWindow
		}
	}
	if _, _, err := parsePreWindow(c.preWindow); err != nil {
		return err
	}
	if _, err := parseCells(c.sensatt); err != nil {
		return err
	}
	if c.sensatt != "" && c.sensattDraws < 2 {
		return fmt.Errorf("-sensatt-draws %d: want at least 2", c.sensattDraws)
	}
	if c.sensatt != "" && c.preWindow == "off" {
		return fmt.Errorf("-sensatt is part of the credibility section, which -pre-window off turns off")
	}
	return nil
}

func run(ctx context.Context, c *config, stdout, logw io.Writer) error {
	if err := c.check(); err != nil {
		return err
	}
	if c.man == nil {
		c.man = manifest.New("sfi", nil)
		c.man.SetSeed(c.seed)
	}
	a := &analysis{cfg: c, watch: &stopwatch{log: logw, man: c.man}}
	if err := checkMemory(c, nil); c.data == "" && err != nil {
		return err
	}
	if err := a.load(ctx, logw); err != nil {
		return err
	}
	if err := checkMemory(c, a.reg); err != nil {
		return err
	}
	if err := a.buildPanel(ctx, logw); err != nil {
		return err
	}
	if err := a.fitAndMatch(ctx); err != nil {
		return err
	}
	if err := a.estimate(ctx, logw); err != nil {
		return err
	}
	if err := a.credibilityChecks(ctx); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	report(stdout, a)
	return a.write(ctx)
}

func (a *analysis) load(ctx context.Context, logw io.Writer) error {
	c := a.cfg
	if c.data != "" {
		done := a.watch.start("read register " + c.data)
		r, err := registerio.ReadDir(ctx, c.data, nil)
		if err != nil {
			return err
		}
		done()
		a.reg = r
		return nil
	}
	o, err := scenarioOptions(c)
	if err != nil {
		return err
	}
	o.Progress = progress.New(logw, "persons")
	done := a.watch.start(fmt.Sprintf("generate synthetic population (scale %g, scenario %s)", c.scale, c.scenario))
	pop, err := synth.Generate(ctx, &o)
	if err != nil {
		return err
	}
	done()
	// The true effects are simulated again for the matched treated
	// (setTruth: synth.PersonEffects); nothing reads the stored Y(0) of
	// every person: release it (200 MB at scale 1) before the panel is
	// built.
	pop.Untreated = nil
	a.pop, a.reg = pop, &pop.Register
	return nil
}

func (a *analysis) buildPanel(ctx context.Context, logw io.Writer) error {
	done := a.watch.start("build panel (SFI design, simulated start weeks)")
	stage := ""
	var pf func(int, int)
	d, err := sfiDesign(a.reg, a.cfg.seed, a.cfg.workers, func(s string, k, n int) {
		if s != stage {
			stage, pf = s, progress.New(logw, s)
		}
		pf(k, n)
	})
	if err != nil {
		return err
	}
	p, err := panel.Build(ctx, a.reg, d)
	if err != nil {
		return err
	}
	done()
	a.panel = p
	// The analysis reads the panel, the register's attributes and monthly
	// outcomes, never its weekly status grid again: release the grid
	// (1.2 GB at scale 1), and collect now, so that the heap's next goal
	// (twice the live heap) is set without it; otherwise the later steps'
	// garbage grows the heap to twice the live size of the build.
	a.reg.Status.Codes = nil
	runtime.GC()
	return nil
}

func (a *analysis) fitAndMatch(ctx context.Context) error {
	p := a.panel
	a.y = p.TreatedIndicator()
	done := a.watch.start("fit logit propensity model")
	// Exact matching within strata (matchStrata): the model is fitted on
	// the units of the strata that hold both treated and controls (no
	// other unit can be matched). As Stata's logit does, drop a covariate
	// that predicts the treatment perfectly and the units it predicts,
	// say so, and fit again.
	if err := a.matchStrata(); err != nil {
		return err
	}
	lo := &psm.LogitOptions{Workers: a.cfg.workers, DropSeparated: true}
	fit, err := psm.FitLogit(ctx, p.X, a.y, a.fitW, p.CovNames, lo)
	if errors.Is(err, psm.ErrNotConverged) {
		// R's 25 iterations are a default: a fit without perfect
		// prediction converges in 12-14 on this design; give a slow one
		// more room, and say so.
		fmt.Fprintf(a.watch.log, "  the logit did not converge in 25 iterations; continuing up to %d\n", logitMaxIter)
		lo.MaxIter = logitMaxIter
		fit, err = psm.FitLogit(ctx, p.X, a.y, a.fitW, p.CovNames, lo)
	}
	if err != nil {
		return err
	}
	if len(fit.Dropped) > 0 || len(fit.Excluded) > 0 {
		nt := 0
		for _, u := range fit.Excluded {
			if u < p.NTreated() {
				nt++
			}
		}
		fmt.Fprintf(a.watch.log, "  perfect prediction: dropped %s; %d treated and %d controls predicted perfectly, not matched\n",
			strings.Join(fit.Dropped, ", "), nt, len(fit.Excluded)-nt)
	}
	a.fit, a.logit, a.x, a.separated, a.excluded = fit, fit.Logit, fit.X, fit.Dropped, fit.Excluded
	a.scores = fit.Scores(nil)
	if m := a.cfg.scoreModel; m != nil {
		if err := a.externalScores(m); err != nil {
			return err
		}
	}
	if a.cfg.studyScore == "true" {
		if err := a.trueScores(ctx); err != nil {
			return err
		}
	}
	done()

	done = a.watch.start("match (1 nearest neighbour within benefit group x match group x wage history at start, with replacement, ties averaged)")
	sg := subgroups
	if a.cfg.study > 0 {
		sg = nil // a study reports the whole sample only
	}
	s, err := estimate.FromPanel(p, sg...)
	if err != nil {
		return err
	}
	a.sample = s
	for _, u := range a.excluded {
		a.strata[u] = stratumExcludedControl
		if u < p.NTreated() {
			a.strata[u] = stratumExcludedTreated
		}
	}
	// units are treated first (panel order), so a.strata is per unit
	um, err := psm.MatchUnits(a.scores, s.Treated, &psm.UnitOptions{Strata: a.strata})
	if err != nil {
		return err
	}
	a.matching = um
	m := um.Matching
	done()

	done = a.watch.start("balance")
	xt, xc := covSlices(p)
	a.balance, err = psm.Balance(p.CovNames, xt, xc, m, nil)
	if err != nil {
		return err
	}
	// Table 5.1 needs only its own rows, not the subgroup codes
	var rows []string
	for _, r := range table51 {
		rows = append(rows, r.desc)
	}
	dt, dc, err := descSlices(p, rows)
	if err != nil {
		return err
	}
	a.descBal, err = psm.Balance(rows, dt, dc, m, nil)
	if err != nil {
		return err
	}
	if a.cfg.study == 0 { // a study reports no diagnostics
		if err := a.diagnose(); err != nil {
			return err
		}
	}
	done()
	// Nothing after the matching reads the descriptors (the subgroup
	// codes are in a.sample, Table 5.1 in a.descBal): release them
	// (400 MB at scale 1) and collect now, so that the heap's next goal
	// is set without them.
	p.Desc = nil
	runtime.GC()
	return nil
}

func (a *analysis) estimate(ctx context.Context, logw io.Writer) error {
	done := a.watch.start("monthly and accumulated effects")
	eff, err := estimate.Effects(a.sample, a.matching, nil)
	if err != nil {
		return err
	}
	a.effects = eff
	a.ai, err = estimate.AbadieImbens(a.sample, a.matching, nil)
	if err != nil {
		return err
	}
	all := a.cfg.study > 0 && !a.cfg.studyDefaultOnly
	if all || a.cfg.interval == "abadie-imbens-2016" {
		if a.ai2016, err = a.abadieImbens2016(a.sample, false); err != nil {
			return fmt.Errorf("abadie-imbens-2016: %w", err)
		}
	}
	if all { // the analytic methods only a study compares (study.go)
		if err := a.studyAnalytic(); err != nil {
			return err
		}
	}
	done()
	// The replicates of the -interval method (a study runs both kinds),
	// on the credibility sample when the section is on (credibility.go):
	// the months before the start change nothing after it, and its
	// replicates are joint over both.
	if err := a.prepareCredibility(); err != nil {
		return err
	}
	sample := a.sample
	if a.credSample != nil && a.cfg.bootstrap > 0 {
		sample = a.credSample
	}
	keep := sample != a.sample
	boot := a.cfg.bootstrap > 0 && (all || strings.HasPrefix(a.cfg.interval, "bootstrap"))
	otsuRai := a.cfg.bootstrap > 0 && (all || strings.HasPrefix(a.cfg.interval, "otsu-rai"))
	if boot {
		o := &estimate.BootstrapOptions{
			Replicates: a.cfg.bootstrap,
			Seed:       a.cfg.seed,
			Workers:    a.cfg.workers,
			Progress:   progress.New(logw, "replicates"),
			KeepDraws:  keep,
		}
		name := "bootstrap, fixed scores"
		if a.cfg.refit {
			name = "bootstrap, re-fitted logit"
			o.Refit = a.refit
		}
		done := a.watch.start(fmt.Sprintf("%s (%d replicates)", name, a.cfg.bootstrap))
		bs, err := estimate.Bootstrap(ctx, sample, a.matching, o)
		if err != nil {
			return err
		}
		if keep {
			a.credRes, bs = bs, bs.After()
		}
		a.effects, a.boot = bs, bs
		done()
		if n := a.refitSeparated.Load(); n > 0 {
			fmt.Fprintf(a.watch.log, "  perfect prediction in %d of %d re-fitted replicates: covariates dropped and units left out there (their scores 0 or 1)\n", n, a.cfg.bootstrap)
		}
		if n := a.refitRidge.Load(); n > 0 {
			fmt.Fprintf(a.watch.log, "  no maximum likelihood estimate in %d of %d re-fitted replicates: ridge-penalised logit (L2 = 1) there\n", n, a.cfg.bootstrap)
		}
	}
	if otsuRai {
		done := a.watch.start(fmt.Sprintf("Otsu-Rai weighted bootstrap (%d replicates)", a.cfg.bootstrap))
		or, err := estimate.OtsuRai(ctx, sample, a.matching, &estimate.OtsuRaiOptions{
			Replicates: a.cfg.bootstrap, Seed: a.cfg.seed, Workers: a.cfg.workers,
			Progress: progress.New(logw, "replicates"), KeepDraws: keep})
		if err != nil {
			return err
		}
		if keep {
			a.credRes, or = or, or.After()
		}
		a.otsuRai = or
		if a.boot == nil {
			a.effects = or
		}
		done()
	}
	if a.pop != nil {
		a.truthNever = map[string]truthCurves{}
		done := a.watch.start("true effects of the synthetic population")
		if err := a.setTruth(ctx); err != nil {
			return err
		}
		done()
	}
	return nil
}

// Strata of the units that the full-sample logit predicts perfectly
// (set after the fit, replacing their benefit group):
// they are never matched (a control's limit score is 0, a treated unit's
// 1, off the common support), as psmatch2 leaves units without a score.
const (
	stratumExcludedControl = -1
	stratumExcludedTreated = -2
)

// matchStrata sets each unit's exact-matching stratum (a.strata): its
// benefit group at the start week (the subgroup attribute
// benefit_at_start, self-supporting included), its match group (the job
// centre's assessment) and its bin of months with wage income in the 48
// months before the start (none, 1-12, 13-24, 25-36, 37-47, all 48), so
// that every treated unit is compared with controls in the same benefit
// situation, assessment and recent employment, the strongest predictors
// of the outcomes; the score balances the rest within the stratum. The
// logit alone does not balance these: the selection it approximates is
// not log-linear in the covariates (after matching on the score alone the
// treated had 0.36 more months with wage in the last 48 than their
// controls, t = 4.5 over 30 seeds). It sets the logit's weights a.fitW: 1
// for the units of strata with both treated and controls, 0 for the
// others (nil when every stratum has both); no other unit can be matched.
func (a *analysis) matchStrata() error {
	p := a.panel
	cols, err := p.Cols(sBenefit, sMatch)
	if err != nil {
		return err
	}
	nm := int32(len(a.reg.Attr(sMatch).Levels))
	wcols, err := p.Cols(wageBins...)
	if err != nil {
		return err
	}
	a.strata = make([]int32, p.Len())
	nb := int32(len(wcols) + 1)
	var count [][2]int // by stratum code: treated, controls
	for u, b := range cols[0] {
		m := cols[1][u]
		switch {
		case math.IsNaN(b):
			return fmt.Errorf("unit %d (person id %d): status in the start week is in no benefit group", u, a.reg.IDs[p.Person[u]])
		case math.IsNaN(m):
			return fmt.Errorf("unit %d (person id %d): missing %s", u, a.reg.IDs[p.Person[u]], sMatch)
		case b < 0 || m < 0:
			return fmt.Errorf("unit %d (person id %d): negative level code", u, a.reg.IDs[p.Person[u]])
		}
		wb := int32(0) // no month with wage income in the 48 months before
		for k, col := range wcols {
			if col[u] == 1 {
				wb = int32(k + 1)
			}
		}
		// benefit group × match group × wage-history bin
		st := (int32(b)*nm+int32(m))*nb + wb
		a.strata[u] = st
		if int(st) >= len(count) {
			count = append(count, make([][2]int, int(st)+1-len(count))...)
		}
		if u < p.NTreated() {
			count[st][0]++
		} else {
			count[st][1]++
		}
	}
	a.fitW = nil
	for u, st := range a.strata {
		if c := count[st]; c[0] == 0 || c[1] == 0 {
			if a.fitW == nil {
				a.fitW = make([]float64, p.Len())
				for k := range a.fitW {
					a.fitW[k] = 1
				}
			}
			a.fitW[u] = 0
		}
	}
	return nil
}

// logitMaxIter is the iteration limit of a logit that did not converge in
// R's default 25 iterations.
const logitMaxIter = 100

// refit re-fits the logit with replicate frequency weights
// (psm.LogitFit.Refit: warm-started from the full-sample coefficients,
// with the full sample's perfectly predicted units left out, separation
// in the replicate handled as in the full sample, and a ridge fit,
// L2 = 1, for a replicate without a maximum-likelihood estimate);
// refitSeparated and refitRidge count those cases, and the log reports
// them. It is called concurrently.
func (a *analysis) refit(ctx context.Context, w []float64) ([]float64, error) {
	sc, info, err := a.fit.Refit(ctx, w, nil, nil)
	if info.Ridge {
		a.refitRidge.Add(1)
	}
	if info.Separated {
		a.refitSeparated.Add(1)
	}
	return sc, err
}

// setTruth puts the synthetic population's true ATT curve beside every
// series: the mean of Y(1) - Y(0) over the matched treated of the series,
// with Y(0) the outcome had they not started in the window (the design's
// estimand: they may start later, as controls may). For the whole-sample
// series it also keeps the effect against never starting (truthNever).
func (a *analysis) setTruth(ctx context.Context) error {
	p := a.panel
	// Every matched treated person is simulated once per counterfactual
	// (synth.PersonEffects); each series averages its own persons.
	var persons []int32
	var cohorts []panel.Month
	var units []int
	for u := 0; u < p.NTreated(); u++ {
		if a.matching.Matched[u] {
			persons = append(persons, p.Person[u])
			cohorts = append(cohorts, p.Cohort[u])
			units = append(units, u)
		}
	}
	H := 0
	for _, se := range a.effects.Series {
		H = max(H, len(se.Effects)-1)
	}
	if len(persons) == 0 {
		return nil
	}
	win, err := a.pop.PersonEffects(persons, cohorts, H, synth.NotInWindow)
	if err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	never, err := a.pop.PersonEffects(persons, cohorts, H, synth.NeverStart)
	if err != nil {
		return err
	}
	for i := range a.effects.Series {
		if err := ctx.Err(); err != nil {
			return err
		}
		se := &a.effects.Series[i]
		var codes []int32
		var level int32 = -1
		if se.Subgroup != "" {
			for _, sg := range a.sample.Subgroups {
				if sg.Name == se.Subgroup {
					codes = sg.Code
					for l, name := range sg.Levels {
						if name == se.Group {
							level = int32(l)
						}
					}
				}
			}
		}
		var entries []int
		for j, u := range units {
			if codes == nil || codes[u] == level {
				entries = append(entries, j)
			}
		}
		if len(entries) == 0 {
			continue
		}
		att, err := win.ATT(se.Outcome, entries)
		if err != nil {
			return err
		}
		se.SetTruth(att[:len(se.Effects)], a.effects.IncludeMonth0)
		if se.Subgroup == "" {
			nv, err := never.ATT(se.Outcome, entries)
			if err != nil {
				return err
			}
			a.truthNever[se.Outcome] = accumulate(nv[:len(se.Effects)], a.effects.IncludeMonth0)
		}
	}
	return nil
}

// truthCurves is a true monthly effect curve and its accumulated sums.
type truthCurves struct{ monthly, accumulated []float64 }

// accumulate returns the curve v with its accumulated sums over months
// 1..m (0..m with month0), as Series.SetTruth sums them.
func accumulate(v []float64, month0 bool) truthCurves {
	acc := make([]float64, len(v))
	sum := 0.0
	for m, x := range v {
		if m > 0 || month0 {
			sum += x
		}
		acc[m] = sum
	}
	return truthCurves{monthly: v, accumulated: acc}
}

// descSlices returns the descriptor columns names, consecutive columns
// of p.Desc in that order (the design's Table 5.1 rows), of the treated
// units and of the controls as views of p.Desc: Balance reads a
// row-major *mat.Dense in place, without a copy.
func descSlices(p *panel.Panel, names []string) (treated, controls mat.Matrix, err error) {
	j := slices.Index(p.DescNames, names[0])
	if j < 0 || j+len(names) > len(p.DescNames) || !slices.Equal(p.DescNames[j:j+len(names)], names) {
		return nil, nil, fmt.Errorf("the descriptors %s are not consecutive columns of the panel's descriptors %s",
			strings.Join(names, ", "), strings.Join(p.DescNames, ", "))
	}
	n, nt := p.Len(), p.NTreated()
	return p.Desc.Slice(0, nt, j, j+len(names)), p.Desc.Slice(nt, n, j, j+len(names)), nil
}

// covSlices returns the panel's covariates of the treated units and of
// the controls as views of p.X: Balance and BalanceByCohort read them
// block by block through Rows, without a float64 copy.
func covSlices(p *panel.Panel) (treated, controls mat.Matrix) {
	n, k := p.X.Dims()
	nt := p.NTreated()
	return p.X.Slice(0, nt, 0, k), p.X.Slice(nt, n, 0, k)
}
