package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/psm"
)

// studyMonths are the event months whose coverage the study reports.
var studyMonths = [4]int{0, 3, 6, 12}

// studyMethods are the interval methods a study compares: the -interval
// methods and two analytic ones only the study computes. With -refit the
// bootstrap rows are those of the re-fitted bootstrap.
var studyMethods = append(append([]string{}, intervalOrder...), "abadie-imbens-2016-c", "bias-corrected")

// studyMethod returns the result holding a study method's intervals and
// which interval of its bounds.
func studyMethod(key string) (func(a *analysis) *estimate.Result, func(estimate.Bounds) estimate.Interval) {
	switch key {
	case "abadie-imbens-2016-c":
		return func(a *analysis) *estimate.Result { return a.ai2016c }, normal
	case "bias-corrected":
		return func(a *analysis) *estimate.Result { return a.biasAdj }, normal
	}
	m := intervalMethods[key]
	return m.result, m.interval
}

// studyAnalytic computes the analytic methods only a study compares:
// the Abadie-Imbens (2016) variance for the estimated score without its
// derivative term and the bias-corrected estimator (Abadie-Imbens 2011,
// regression on the logit's covariates).
func (a *analysis) studyAnalytic() error {
	var err error
	a.ai2016c, err = a.abadieImbens2016(a.sample, true)
	if err != nil {
		return fmt.Errorf("abadie-imbens-2016-c: %w", err)
	}
	a.biasAdj, err = estimate.BiasAdjusted(a.sample, a.matching, a.x, nil)
	if err != nil {
		return fmt.Errorf("bias-corrected: %w", err)
	}
	return nil
}

// abadieImbens2016 returns the effects of s (the sample or the
// differenced credibility sample, on the same units) with the
// Abadie-Imbens (2016) standard errors for the estimated logit score
// (psm's ScoreAdjuster on the logit's covariates, noise-corrected; the
// matching's strata; without the derivative term when noD). The units
// the logit left out (perfectly predicted, score 0 or 1) are never
// matched, so the formula is an approximation there.
func (a *analysis) abadieImbens2016(s *estimate.Sample, noD bool) (*estimate.Result, error) {
	return estimate.AbadieImbens(s, a.matching, &estimate.AbadieImbensOptions{
		EstimatedScore: &estimate.EstimatedScore{X: a.x, Fit: a.logit, NoDerivativeTerm: noD}})
}

func percentile(b estimate.Bounds) estimate.Interval { return b.Percentile }
func normal(b estimate.Bounds) estimate.Interval     { return b.Normal }

// coverage counts intervals covering the truth (an interval a method
// could not compute, NaN, does not cover).
type coverage struct {
	acc, accN int     // accumulated effect at the horizon
	mon, monN int     // monthly, months 0..H pooled
	at        [4]int  // at studyMonths (n = replications)
	width     float64 // summed over the widthN months with a finite interval
	widthN    int
	// band counts the replications whose simultaneous band covers the
	// truth in every month 0..H at once; bandN those with a band.
	band, bandN int
	// accErr sums the method's accumulated estimate minus the truth (the
	// bias-corrected estimator has its own estimate).
	accErr float64
	// month 0: the summed standard errors (se0N finite ones) and the sums
	// of the estimate's error and its square, for the ratio of the mean
	// reported SE to the Monte Carlo SD of the estimate
	se0      float64
	se0N     int
	e0, e0Sq float64
}

// se0Ratio is the mean reported standard error at month 0 over the Monte
// Carlo standard deviation of the month-0 estimate's error (NaN with
// fewer than two replications or no finite SE).
func (c *coverage) se0Ratio() float64 {
	n := float64(c.accN)
	if c.accN < 2 || c.se0N == 0 {
		return math.NaN()
	}
	mean := c.e0 / n
	sd := math.Sqrt((c.e0Sq/n - mean*mean) * n / (n - 1))
	return c.se0 / float64(c.se0N) / sd
}

// truthStats accumulates, for one outcome over the replications of a
// study, how the estimates of the whole sample compare with the
// synthetic truth of the design's estimand.
type truthStats struct {
	n         int     // replications
	h         int     // horizon (the last replication's)
	err, err2 float64 // sum and sum of squares of the accumulated error at H
	errNever  float64 // sum of the accumulated error against the never-start truth
	truth     float64 // sum of the accumulated truth at H
	cover     []coverage
	// the credibility section (unless -pre-window off): replications
	// with a placebo test, those whose Wald and sup-t tests reject at
	// 5 %; the DiD accumulated effect's replications, intervals covering
	// the truth and summed errors
	placeboN, waldRej, supRej int
	didN, didCov              int
	didErr, didErr2           float64
}

func (t *truthStats) add(a *analysis, outcome string) error {
	se := a.effects.Find(outcome, "", "")
	if se == nil || se.TruthAccumulated == nil {
		return fmt.Errorf("no estimate with truth for %s", outcome)
	}
	H := len(se.Effects) - 1
	t.n++
	t.h = H
	e := se.Effects[H].Accumulated - se.TruthAccumulated[H]
	t.err += e
	t.err2 += e * e
	t.errNever += se.Effects[H].Accumulated - a.truthNever[outcome].accumulated[H]
	t.truth += se.TruthAccumulated[H]
	if a.cred != nil {
		if pl := a.cred.placebo[outcome]; pl != nil {
			t.placeboN++
			if pl.WaldP < 0.05 {
				t.waldRej++
			}
			if pl.SupTP < 0.05 {
				t.supRej++
			}
		}
		if did, lo, hi, truth, ok := a.didAccumulated(outcome); ok {
			t.didN++
			if lo <= truth && truth <= hi {
				t.didCov++
			}
			t.didErr += did - truth
			t.didErr2 += (did - truth) * (did - truth)
		}
	}
	if t.cover == nil {
		t.cover = make([]coverage, len(studyMethods))
	}
	for k, key := range studyMethods {
		result, interval := studyMethod(key)
		res := result(a)
		if res == nil {
			continue
		}
		ms := res.Find(outcome, "", "")
		if ms == nil || ms.Monthly == nil {
			continue
		}
		c := &t.cover[k]
		if se := ms.Monthly[0].SE; !math.IsNaN(se) {
			c.se0 += se
			c.se0N++
		}
		e0 := ms.Effects[0].ATT - se.Truth[0]
		c.e0 += e0
		c.e0Sq += e0 * e0
		iv := interval(ms.Accumulated[H])
		c.accN++
		c.accErr += ms.Effects[H].Accumulated - se.TruthAccumulated[H]
		if iv.Contains(se.TruthAccumulated[H]) {
			c.acc++
		}
		if b := ms.Monthly[0].Band; !math.IsNaN(b.Lo) {
			c.bandN++
			in := true
			for m := 0; m <= H; m++ {
				in = in && ms.Monthly[m].Band.Contains(se.Truth[m])
			}
			if in {
				c.band++
			}
		}
		for m := 0; m <= H; m++ {
			iv := interval(ms.Monthly[m])
			in := iv.Contains(se.Truth[m])
			c.monN++
			if w := iv.Hi - iv.Lo; !math.IsNaN(w) {
				c.width += w
				c.widthN++
			}
			if in {
				c.mon++
			}
			for j, sm := range studyMonths {
				if m == sm && in {
					c.at[j]++
				}
			}
		}
	}
	return nil
}

// mcSE is the Monte Carlo standard error of the mean accumulated error.
func (t *truthStats) mcSE() float64 {
	n := float64(t.n)
	if t.n < 2 {
		return math.NaN()
	}
	mean := t.err / n
	return math.Sqrt((t.err2/n - mean*mean) * n / (n - 1) / n)
}

// widthCell is the mean width of the finite monthly intervals in
// percentage points, with the share of months whose interval could not be
// computed (NaN) when there are any.
func widthCell(cv coverage) string {
	s := fmt.Sprintf("%.2f", 100*cv.width/float64(max(cv.widthN, 1)))
	if cv.widthN < cv.monN {
		s += fmt.Sprintf(" (%.0f %% NaN)", pct(cv.monN-cv.widthN, cv.monN))
	}
	return s
}

func pct(k, n int) float64 { return 100 * float64(k) / float64(max(n, 1)) }

// study runs the whole analysis (generation, panel, logit, matching,
// effects, truth) for c.study seeds c.seed, c.seed+1, ... with every
// interval method of -interval (-bootstrap replicates each), and
// prints, per outcome, the mean error of the accumulated effect at the
// horizon against the true effect of the design's estimand with its Monte
// Carlo standard error, and the coverage of each method's intervals. It
// writes no files. Seeds run in parallel on c.workers goroutines; the
// tables do not depend on it. Progress goes to logw, one line per
// replication. A
// seed whose analysis fails is reported and left out; the study then
// returns an error naming the failures after printing its tables.
func study(ctx context.Context, c *config, stdout, logw io.Writer) ([]*truthStats, error) {
	if err := c.check(); err != nil {
		return nil, err
	}
	if c.data != "" {
		return nil, fmt.Errorf("-study needs the synthetic population (its truth); it cannot be used with -data")
	}
	if c.bootstrap == 0 {
		return nil, fmt.Errorf("-study compares bootstrap intervals: -bootstrap must be at least 2")
	}
	stats := make([]*truthStats, len(outcomeInfo))
	for k := range stats {
		stats[k] = &truthStats{}
	}
	// Seeds run on c.workers goroutines, one analysis each (with one
	// worker inside), and are added to the statistics in seed order, so
	// the tables are the same for any -workers. A worker starts a seed
	// only while fewer than c.workers results wait to be added, which
	// bounds the memory to c.workers populations.
	par := max(c.workers, 1)
	type result struct {
		a    *analysis
		err  error
		done chan struct{}
	}
	results := make([]result, c.study)
	for i := range results {
		results[i].done = make(chan struct{})
	}
	slots := make(chan struct{}, par)
	var next atomic.Int64
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := 0; w < par; w++ {
		go func() {
			for {
				select {
				case slots <- struct{}{}:
				case <-ctx.Done():
					return
				}
				i := int(next.Add(1)) - 1
				if i >= c.study {
					return
				}
				cr := *c
				cr.seed = c.seed + uint64(i)
				if par > 1 {
					cr.workers = 1
				}
				results[i].a, results[i].err = analyseSeed(ctx, &cr)
				close(results[i].done)
			}
		}()
	}
	var failed []string
	for i := range results {
		select {
		case <-results[i].done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		a, err := results[i].a, results[i].err
		results[i].a = nil
		<-slots
		seed := c.seed + uint64(i)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if err != nil {
			// A seed the program cannot analyse is a result of the
			// study: counted and reported, not a reason to stop.
			failed = append(failed, fmt.Sprintf("seed %d: %v", seed, err))
			fmt.Fprintf(logw, "study: replication %d of %d (seed %d) failed: %v\n", i+1, c.study, seed, err)
			continue
		}
		for k, oi := range outcomeInfo {
			if err := stats[k].add(a, oi.name); err != nil {
				return nil, fmt.Errorf("seed %d: %w", seed, err)
			}
		}
		fmt.Fprintf(logw, "study: replication %d of %d (seed %d) done\n", i+1, c.study, seed)
		if n := i + 1; n%25 == 0 && n < c.study {
			part := *c
			part.study = n
			fmt.Fprintf(stdout, "(after %d of %d replications)\n", n, c.study)
			printStudy(stdout, &part, stats, failed)
			fmt.Fprintln(stdout)
		}
	}
	printStudy(stdout, c, stats, failed)
	if len(failed) > 0 {
		return stats, fmt.Errorf("%d of %d seeds failed, first %s", len(failed), c.study, failed[0])
	}
	return stats, nil
}

func printStudy(w io.Writer, c *config, stats []*truthStats, failed []string) {
	fmt.Fprintf(w, "Truth recovery over %d seeds (%d..%d): scale %g, scenario %s, effect %g, %d replicates per interval method\n\n",
		c.study, c.seed, c.seed+uint64(c.study)-1, c.scale, c.scenario, c.effect, c.bootstrap)
	switch c.studyScore {
	case "independent":
		fmt.Fprintf(w, "Matching scores from the logit of an independent population (seed + %d), not from each seed's own fit.\n\n", independentSeedOffset)
	case "true":
		fmt.Fprintf(w, "Matching scores from the generator's selection index (the true propensity score, not estimated), not from each seed's own fit.\n\n")
	}
	if len(failed) > 0 {
		fmt.Fprintf(w, "%d seeds could not be analysed and are left out:\n", len(failed))
		for _, f := range failed {
			fmt.Fprintf(w, "  %s\n", f)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "Accumulated effect at the horizon H: mean truth (the design's estimand), mean error (its Monte Carlo SE), t, and the mean error against the never-start truth\n\n")
	fmt.Fprintf(w, "| outcome | H | mean truth | mean error (MC SE) | t | error vs never-start |\n|---|---:|---:|---:|---:|---:|\n")
	for k, t := range stats {
		n := float64(t.n)
		mean := t.err / n
		fmt.Fprintf(w, "| %s | %d | %+.3f | %+.3f (%.3f) | %+.1f | %+.3f |\n",
			outcomeInfo[k].short, t.h, t.truth/n, mean, t.mcSE(), mean/t.mcSE(), t.errNever/n)
	}
	fmt.Fprintf(w, "\nCoverage of nominal 95 %% intervals (percent; monthly pooled over months 0..H; Monte Carlo SE about %.1f points at 95 %% for one month)\n\n",
		100*math.Sqrt(0.95*0.05/float64(max(c.study, 1))))
	fmt.Fprintf(w, "| outcome | method | accumulated | monthly | month 0 | 3 | 6 | 12 | sup-t band | mean monthly width (pp; share not computed) | mean accumulated error | month 0: SE / SD |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	for k, t := range stats {
		for j, key := range studyMethods {
			cv := t.cover[j]
			if cv.accN == 0 {
				continue // not computed in this study (-interval with a short study)
			}
			if c.refit && strings.HasPrefix(key, "bootstrap") {
				key = strings.Replace(key, "bootstrap", "bootstrap-refit", 1)
			}
			band := "-"
			if cv.bandN > 0 {
				band = fmt.Sprintf("%.0f", pct(cv.band, cv.bandN))
			}
			fmt.Fprintf(w, "| %s | %s | %.0f | %.1f | %.0f | %.0f | %.0f | %.0f | %s | %s | %+.3f | %.2f |\n", outcomeInfo[k].short, key,
				pct(cv.acc, cv.accN), pct(cv.mon, cv.monN),
				pct(cv.at[0], cv.accN), pct(cv.at[1], cv.accN), pct(cv.at[2], cv.accN), pct(cv.at[3], cv.accN),
				band, widthCell(cv), cv.accErr/float64(cv.accN), cv.se0Ratio())
		}
	}
	printCredibilityStudy(w, c, stats)
}

// printCredibilityStudy prints how often the placebo tests reject at 5 %
// (their size when the scenario has no unobserved confounding before the
// start) and how the DiD accumulated effect compares with the truth.
func printCredibilityStudy(w io.Writer, c *config, stats []*truthStats) {
	if stats[0].placeboN == 0 && stats[0].didN == 0 {
		return
	}
	fmt.Fprintf(w, "\nCredibility section (pre-programme window %s, %s): placebo tests rejecting at 5 %% (percent, Monte Carlo SE), and the difference-in-differences accumulated effect at H\n\n", c.preWindow, c.interval)
	fmt.Fprintf(w, "| outcome | placebo Wald rejects | placebo sup-t rejects | DiD interval covers the truth | DiD mean error (MC SE) |\n|---|---:|---:|---:|---:|\n")
	mc := func(k, n int) string {
		p := float64(k) / float64(max(n, 1))
		return fmt.Sprintf("%.1f (%.1f)", 100*p, 100*math.Sqrt(p*(1-p)/float64(max(n, 1))))
	}
	for k, t := range stats {
		n := float64(max(t.didN, 1))
		mean := t.didErr / n
		se := math.NaN()
		if t.didN > 1 {
			se = math.Sqrt((t.didErr2/n - mean*mean) / (n - 1))
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %+.3f (%.3f) |\n", outcomeInfo[k].short,
			mc(t.waldRej, t.placeboN), mc(t.supRej, t.placeboN), mc(t.didCov, t.didN), mean, se)
	}
}

// analyseSeed runs the analysis of one study replication (c.seed) without
// writing anything.
func analyseSeed(ctx context.Context, c *config) (*analysis, error) {
	if c.studyScore == "independent" {
		m, err := independentModel(ctx, c)
		if err != nil {
			return nil, fmt.Errorf("independent score: %w", err)
		}
		cc := *c
		cc.scoreModel = m
		c = &cc
	}
	a := &analysis{cfg: c, watch: &stopwatch{log: io.Discard}}
	err := a.load(ctx, io.Discard)
	if err == nil {
		err = a.buildPanel(ctx, io.Discard)
	}
	if err == nil {
		err = a.fitAndMatch(ctx)
	}
	if err == nil {
		err = a.estimate(ctx, io.Discard)
	}
	if err == nil {
		err = a.credibilityChecks(ctx)
	}
	return a, err
}

// independentSeedOffset separates the population whose logit gives the
// scores of a -study-score independent replication from the replication's
// own.
const independentSeedOffset = 1_000_000

// trueScores sets the matching scores of a -study-score true
// replication to the generator's selection index (synth.SelectionIndex,
// the log-odds of the true propensity score up to a constant) at each
// unit's start day, as probabilities: F(index + c), c such that the
// scores of the controls sum to those of a logit with an intercept
// would (log N_1 − log Σ_controls exp(index)). The units the logit
// predicted perfectly stay out.
func (a *analysis) trueScores(ctx context.Context) error {
	p := a.panel
	idx, err := a.pop.SelectionIndex(ctx, p.Person, p.StartDay)
	if err != nil {
		return err
	}
	var sum float64
	for u, v := range idx {
		if !p.Treated[u] {
			sum += math.Exp(v)
		}
	}
	c := math.Log(float64(p.NTreated())) - math.Log(sum)
	excl := map[int]bool{}
	for _, u := range a.excluded {
		excl[u] = true
	}
	for u, v := range idx {
		if !excl[u] {
			a.scores[u] = 1 / (1 + math.Exp(-(v + c)))
		}
	}
	return nil
}

// externalScores sets the matching scores from model m (another
// population's fit) on the panel's covariates, matched by name; the units
// the own fit predicts perfectly keep their limit scores (they are not
// matched).
func (a *analysis) externalScores(m *psm.Logit) error {
	p := a.panel
	n := p.Len()
	eta := make([]float64, n)
	for k, name := range m.Names {
		b := m.Coef[k]
		if math.IsNaN(b) || b == 0 {
			continue // aliased
		}
		if name == psm.InterceptName {
			for u := range eta {
				eta[u] += b
			}
			continue
		}
		j := slices.Index(p.CovNames, name)
		if j < 0 {
			return fmt.Errorf("independent score: covariate %q is not in this panel", name)
		}
		for u := range eta {
			eta[u] += b * p.X.At(u, j)
		}
	}
	excl := map[int]bool{}
	for _, u := range a.excluded {
		excl[u] = true
	}
	for u, e := range eta {
		if !excl[u] {
			a.scores[u] = 1 / (1 + math.Exp(-e))
		}
	}
	return nil
}

// independentModel fits the logit of the population of seed c.seed +
// independentSeedOffset (same scale, scenario and design) for a
// -study-score independent replication.
func independentModel(ctx context.Context, c *config) (*psm.Logit, error) {
	ci := *c
	ci.seed = c.seed + independentSeedOffset
	ci.studyScore = "fitted"
	b := &analysis{cfg: &ci, watch: &stopwatch{log: io.Discard}}
	if err := b.load(ctx, io.Discard); err != nil {
		return nil, err
	}
	if err := b.buildPanel(ctx, io.Discard); err != nil {
		return nil, err
	}
	if err := b.fitAndMatch(ctx); err != nil {
		return nil, err
	}
	return b.logit, nil
}
