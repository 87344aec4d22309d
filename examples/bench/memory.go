package main

import (
	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/internal/memguard"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
)

// synthOutcomeMonths is the register's outcome months summed over the
// synthetic outcomes (88 months each; education 81).
const synthOutcomeMonths = 88 * 4

// checkMemory refuses a run whose memory estimate (panel.MemoryEstimate
// from -n, -covariates, -outcomes and -horizon, one control draw per
// person) exceeds what the process may use, unless -no-memory-check.
func (p *pipeline) checkMemory() error {
	c := p.cfg
	if c.noMemoryCheck {
		return nil
	}
	need, detail := panel.MemoryEstimate(panel.Size{
		Persons:       c.n,
		Weeks:         synth.GridWeeks - int(benchdata.StatusFrom()-synth.GridFirstWeek)/7,
		OutcomeMonths: synthOutcomeMonths,
		Covariates:    c.covariates,
		Units:         c.n,
		EventMonths:   c.outcomes * (c.horizon + 1),
	})
	return memguard.Check(need, detail,
		"use a smaller -n or fewer -covariates, or split the population into shards (regions or birth cohorts) and combine their effects; -no-memory-check runs anyway")
}
