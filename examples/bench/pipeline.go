package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
	"github.com/psmeval/psmeval/progress"
	"github.com/psmeval/psmeval/psm"
)

// Stage names, in pipeline order.
const (
	stageGenerate  = "generate"
	stagePanel     = "panel"
	stageLogit     = "logit"
	stageMatch     = "match"
	stageEffects   = "effects"
	stageBootstrap = "bootstrap"
	stageWrite     = "write"
)

// budgetStages are the stages of the budget (docs/design.md §4) "panel build + logit
// + matching + all effects".
var budgetStages = []string{stagePanel, stageLogit, stageMatch, stageEffects}

// stage is one measured step after generation.
type stage struct {
	name string
	run  func(context.Context) error
}

// stages returns the measured stages after generation, in order: panel,
// logit, match, effects, bootstrap (when -replicates > 0), write (with
// -write).
func (p *pipeline) stages() []stage {
	st := []stage{
		{stagePanel, p.buildPanel},
		{stageLogit, p.fitLogit},
		{stageMatch, p.match},
		{stageEffects, p.estimateEffects},
	}
	if p.cfg.replicates > 0 {
		st = append(st, stage{stageBootstrap, p.bootstrap})
	}
	if p.cfg.write != "" {
		st = append(st, stage{stageWrite, func(ctx context.Context) error { return p.writeFlat(ctx, p.cfg.write) }})
	}
	return st
}

// pipeline holds the data of one run; each stage method reads what the
// earlier stages made and may be run again (the benchmarks do).
type pipeline struct {
	cfg  *config
	logw io.Writer // progress; io.Discard when quiet

	opts     synth.Options
	pop      *synth.Population
	reg      *panel.Register
	panel    *panel.Panel
	covNames []string // the design's K covariates

	x        mat.Matrix // the logit's covariates (panel X less separating columns)
	xNames   []string
	dropped  []string // covariates dropped for separation
	excluded []int    // units left out of the logit for separation
	logit    *psm.Logit
	scores   []float64
	sample   *estimate.Sample
	matching *psm.UnitMatching
	effects  *estimate.Result
	boot     *estimate.Result
}

func newPipeline(c *config, logw io.Writer) (*pipeline, error) {
	o, err := benchdata.PopulationOptions(c.n, c.treated)
	if err != nil {
		return nil, err
	}
	if err := benchdata.CheckOutcomes(c.outcomes, c.horizon); err != nil {
		return nil, err
	}
	if c.replicates < 0 || c.replicates == 1 {
		return nil, fmt.Errorf("-replicates %d: want 0 (no bootstrap) or at least 2", c.replicates)
	}
	if c.workers < 0 {
		return nil, fmt.Errorf("-workers %d: must be >= 0", c.workers)
	}
	if c.shards < 0 || c.shards == 1 {
		return nil, fmt.Errorf("-shards %d: want 0 (off) or at least 2", c.shards)
	}
	if c.covariates < 1 {
		return nil, fmt.Errorf("-covariates %d: must be positive", c.covariates)
	}
	o.Seed, o.Workers = c.seed, c.workers
	return &pipeline{cfg: c, logw: logw, opts: o}, nil
}

// generate draws the synthetic population.
func (p *pipeline) generate(ctx context.Context) error {
	o := p.opts
	o.Progress = progress.New(p.logw, "persons")
	pop, err := synth.Generate(ctx, &o)
	if err != nil {
		return err
	}
	// The stored untreated outcomes (Y(0), for the synthetic truth) are
	// not read here: released so that no stage carries them.
	pop.Untreated = nil
	p.pop, p.reg = pop, &pop.Register
	return nil
}

// buildPanel builds the event-time panel with benchdata.Design.
func (p *pipeline) buildPanel(ctx context.Context) error {
	var pf func(string, int, int)
	if p.logw != io.Discard {
		stage := ""
		var f func(int, int)
		pf = func(s string, k, n int) {
			if s != stage {
				stage, f = s, progress.New(p.logw, s)
			}
			f(k, n)
		}
	}
	d, names, err := benchdata.Design(p.reg, p.cfg.covariates, synth.OutcomeNames[:p.cfg.outcomes], p.cfg.seed, p.cfg.workers, pf)
	if err != nil {
		return err
	}
	p.panel, p.covNames = nil, names
	pan, err := panel.Build(ctx, p.reg, d)
	if err != nil {
		return err
	}
	if pan.NTreated() == 0 || pan.NTreated() == pan.Len() {
		return fmt.Errorf("panel has %d treated and %d control units: need both (raise -n or -treated)", pan.NTreated(), pan.Len()-pan.NTreated())
	}
	// No later stage reads the weekly status grid (the bulk of the
	// register): released, as a program that is done with the register
	// would.
	p.reg.Status.Codes = nil
	p.panel = pan
	return nil
}

// fitLogit fits the propensity model on all covariates; a covariate that
// separates the groups is dropped (as Stata's logit does), reported, and
// the model fitted again. The scores are the fitted probabilities.
func (p *pipeline) fitLogit(ctx context.Context) error {
	pan := p.panel
	y := pan.TreatedIndicator()
	opts := &psm.LogitOptions{Workers: p.cfg.workers, DropSeparated: true}
	if p.logw != io.Discard {
		opts.Progress = func(it int, dev float64) { fmt.Fprintf(p.logw, "  logit iteration %d: deviance %.6f\n", it, dev) }
	}
	fit, err := psm.FitLogit(ctx, pan.X, y, nil, pan.CovNames, opts)
	if err != nil {
		return err
	}
	if len(fit.Dropped) > 0 {
		fmt.Fprintf(p.logw, "  perfect prediction: dropped %s\n", strings.Join(fit.Dropped, ", "))
	}
	p.logit, p.x, p.xNames, p.dropped, p.excluded = fit.Logit, fit.X, fit.Covariates, fit.Dropped, fit.Excluded
	p.scores = fit.Scores(p.scores)
	return nil
}

// match makes the analysis sample (outcomes cut at -horizon) and matches
// every treated unit to its nearest control on the score, with
// replacement, ties averaged (psm.Match defaults: the SFI rule).
func (p *pipeline) match(ctx context.Context) error {
	s, err := estimate.FromPanel(p.panel)
	if err != nil {
		return err
	}
	for i := range s.Outcomes {
		o := &s.Outcomes[i]
		if o.Stride == 0 {
			o.Stride = o.H + 1
		}
		o.H = min(o.H, p.cfg.horizon)
	}
	p.sample = s
	m, err := psm.MatchUnits(p.scores, s.Treated, nil)
	if err != nil {
		return err
	}
	p.matching = m
	return ctx.Err()
}

// estimateEffects computes the monthly and accumulated effects of every
// outcome from the match sets.
func (p *pipeline) estimateEffects(ctx context.Context) error {
	eff, err := estimate.Effects(p.sample, p.matching, nil)
	if err != nil {
		return err
	}
	p.effects = eff
	return ctx.Err()
}

// bootstrap runs the fixed-score bootstrap (multinomial person counts,
// re-matching every replicate on the scores of the point estimate).
func (p *pipeline) bootstrap(ctx context.Context) error {
	bs, err := estimate.Bootstrap(ctx, p.sample, p.matching, &estimate.BootstrapOptions{
		Replicates: p.cfg.replicates,
		Seed:       p.cfg.seed,
		Workers:    p.cfg.workers,
		Progress:   progress.New(p.logw, "replicates"),
	})
	if err != nil {
		return err
	}
	p.boot = bs
	return nil
}
