package main

import (
	"context"
	"fmt"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
)

// data is the synthetic panel and analysis sample of examples/bench and
// the parts' unit ranges: part i holds units bounds[i] to bounds[i+1]-1.
type data struct {
	pan     *panel.Panel
	sample  *estimate.Sample
	bounds  []int
	aligned bool // every part starts at a multiple of 4096 units
}

// buildData generates the population of c (deterministic in the seed),
// builds the panel and the sample as examples/bench does (outcomes cut
// at -horizon) and splits the units into parts contiguous ranges
// (benchdata.ShardBounds). Cost: the bench's generate and panel stages.
func buildData(ctx context.Context, c *config, parts int) (*data, error) {
	o, err := benchdata.PopulationOptions(c.n, c.treated)
	if err != nil {
		return nil, err
	}
	if err := benchdata.CheckOutcomes(c.outcomes, c.horizon); err != nil {
		return nil, err
	}
	o.Seed, o.Workers = c.seed, c.workers
	pop, err := synth.Generate(ctx, &o)
	if err != nil {
		return nil, err
	}
	d, _, err := benchdata.Design(&pop.Register, c.covariates, synth.OutcomeNames[:c.outcomes], c.seed, c.workers, nil)
	if err != nil {
		return nil, err
	}
	pan, err := panel.Build(ctx, &pop.Register, d)
	if err != nil {
		return nil, err
	}
	if pan.NTreated() == 0 || pan.NTreated() == pan.Len() {
		return nil, fmt.Errorf("panel has %d treated and %d control units: need both (raise -n or -treated)", pan.NTreated(), pan.Len()-pan.NTreated())
	}
	s, err := estimate.FromPanel(pan)
	if err != nil {
		return nil, err
	}
	for i := range s.Outcomes {
		o := &s.Outcomes[i]
		if o.Stride == 0 {
			o.Stride = o.H + 1
		}
		o.H = min(o.H, c.horizon)
	}
	bounds, _ := benchdata.ShardBounds(pan.Len(), parts)
	aligned := true
	for _, b := range bounds[:parts] {
		aligned = aligned && b%benchdata.LogitBlock == 0
	}
	return &data{pan: pan, sample: s, bounds: bounds, aligned: aligned}, nil
}
