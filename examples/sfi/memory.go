package main

import (
	"fmt"
	"math"

	"github.com/psmeval/psmeval/internal/memguard"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
)

// sfiCovariates is about the number of covariate columns of the SFI
// design (74 on the synthetic register), for the memory estimate.
const sfiCovariates = 80

// sfiEventMonths is the event months of the three reported outcomes
// (0..21, 0..21, 0..14).
const sfiEventMonths = 22 + 22 + 15

// sfiPerPerson is the program's own memory per person beyond what
// panel.MemoryEstimate counts: the descriptive columns, strata, scores
// and Otsu-Rai terms of its analysis and, on synthetic data, the
// population it keeps for the true effects. At -scale 1 (3.3 million
// persons, 999 replicates) the peak resident memory was 5.0 GB against
// 4.2 GB for MemoryEstimate alone, about 250 bytes per person.
const sfiPerPerson = 256

// checkMemory refuses a run whose memory estimate (panel.MemoryEstimate,
// one control draw per person) exceeds what the process may use, unless
// -no-memory-check: before generation from -scale when reg is nil, and
// after reading from the register's size.
func checkMemory(c *config, reg *panel.Register) error {
	if c.noMemoryCheck {
		return nil
	}
	s := panel.Size{
		Persons:       int(math.Round(synth.SFIPersons * c.scale)),
		Weeks:         synth.GridWeeks,
		OutcomeMonths: 88 * 4,
		Covariates:    sfiCovariates,
		EventMonths:   sfiEventMonths,
	}
	if reg != nil {
		s.Persons, s.Weeks, s.OutcomeMonths = reg.Len(), reg.Status.Weeks, 0
		for _, o := range reg.Outcomes {
			s.OutcomeMonths += o.Months
		}
	}
	s.Units = s.Persons
	need, detail := panel.MemoryEstimate(s)
	own := int64(s.Persons) * sfiPerPerson
	need += own
	detail += fmt.Sprintf(", the analysis's own %.1f GB", float64(own)/1e9)
	return memguard.Check(need, detail,
		"use a smaller -scale, or split the register into shards (regions or birth cohorts) and combine their effects; -no-memory-check runs anyway")
}
