// Package synthdesign is a small evaluation design for the synthetic
// registers of panel/synth, registered with psmbeam as "synth", and a
// helper that splits a register into person shards. The tests and the
// psmbeam command use it.
package synthdesign

import (
	"fmt"
	"time"

	"github.com/psmeval/psmeval/beam/psmbeam"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/synth"
)

// Name is the name Design is registered under (psmbeam.RegisterDesign).
const Name = "synth"

func init() { psmbeam.RegisterDesign(Name, Design) }

// The SFI treatment window (docs/method.md §1): first starts from 1
// February to 31 July 2012.
var (
	windowStart = panel.DayFromDate(2012, time.February, 1)
	windowEnd   = panel.DayFromDate(2012, time.July, 31)
	jan1        = panel.DayFromDate(2012, time.January, 1)
	jan31       = panel.DayFromDate(2012, time.January, 31)
)

// levels are the dummies of the categorical attributes: one 0/1 column
// per level named here (panel.LevelIn), so that every shard has the same
// columns whatever levels it holds; the other levels are the reference.
var levels = []struct{ attr, level string }{
	{"sex", "male"},
	{"origin", "descendant"}, {"origin", "non_western_immigrant"}, {"origin", "western_immigrant"},
	{"education", "primary"}, {"education", "vocational"}, {"education", "short_tertiary"},
	{"education", "medium_tertiary"}, {"education", "long_tertiary"},
	{"match_group", "group_1"}, {"match_group", "group_2"}, {"match_group", "group_3"},
	{"cohabitation", "single"}, {"cohabitation", "cohabiting"},
}

// benefits are the benefit types whose weeks in the 13, 52 and 156 weeks
// before the start, and whose status in the start week, are covariates.
var benefits = []string{synth.CashBenefit, synth.UnemploymentInsurance, synth.Sickness, synth.SU}

// Outcomes are the outcomes of the design.
var Outcomes = []string{"employed", "education"}

// Design is the design of a synthetic register: the SFI window, persons
// aged 16–64 on 1 January 2012 without a spell in January 2012, 33
// covariates (age; the dummies of levels; children and
// unemployment_rate; weeks on each of benefits in the 13, 52 and 156
// weeks before the start; the benefit type in the start week) and the
// outcomes employed and education. It does not depend on the register,
// so every shard gets the same design. Seed 1.
func Design(r *panel.Register) (*panel.Design, error) {
	covs := []panel.Covariate{panel.AgeAtStart("age")}
	for _, l := range levels {
		covs = append(covs, panel.LevelIn(l.attr+"="+l.level, l.attr, l.level))
	}
	covs = append(covs, panel.Numeric("children"), panel.Numeric("unemployment_rate"))
	groups := make([]panel.LevelGroup, len(benefits))
	for i, b := range benefits {
		groups[i] = panel.LevelGroup{Name: b, Levels: synth.BenefitLevels(b)}
	}
	covs = append(covs, panel.WeeksIn("weeks_", groups, 13, 52, 156), panel.StatusAtStart("start", groups...))
	return &panel.Design{
		WindowStart: windowStart,
		WindowEnd:   windowEnd,
		Eligibility: []panel.Rule{panel.AgeBetween(16, 64, jan1), panel.NoSpellActive(jan1, jan31)},
		Covariates:  covs,
		Outcomes:    Outcomes,
		Seed:        1,
	}, nil
}

// Split returns the persons lo..hi−1 of r as a register of their own
// (copies): the same attributes, levels, status grid weeks and outcome
// months, and their spells.
func Split(r *panel.Register, lo, hi int) (*panel.Register, error) {
	if lo < 0 || hi < lo || hi > r.Len() {
		return nil, fmt.Errorf("synthdesign.Split: persons %d to %d of %d", lo, hi, r.Len())
	}
	n := hi - lo
	s := &panel.Register{IDs: append([]int64(nil), r.IDs[lo:hi]...)}
	if r.Birth != nil {
		s.Birth = append([]panel.Day(nil), r.Birth[lo:hi]...)
	}
	for _, a := range r.Attrs {
		b := panel.Attribute{Name: a.Name, Levels: a.Levels}
		if a.Values != nil {
			b.Values = append([]float64(nil), a.Values[lo:hi]...)
		}
		if a.Codes != nil {
			b.Codes = append([]uint16(nil), a.Codes[lo:hi]...)
		}
		s.Attrs = append(s.Attrs, b)
	}
	g := r.Status
	s.Status = panel.NewStatusGrid(n, g.FirstWeek, g.Weeks, g.Levels)
	copy(s.Status.Codes, g.Codes[lo*g.Weeks:hi*g.Weeks])
	for _, o := range r.Outcomes {
		c := panel.NewOutcome(o.Name, n, o.FirstMonth, o.Months)
		w := o.Words()
		copy(c.Bits, o.Bits[lo*w:hi*w])
		s.Outcomes = append(s.Outcomes, c)
	}
	for _, sp := range r.Spells {
		if int(sp.Person) >= lo && int(sp.Person) < hi {
			sp.Person -= int32(lo)
			s.Spells = append(s.Spells, sp)
		}
	}
	return s, s.Validate()
}

// Population returns the synth options of a population of about persons
// persons of whom about treated start in the SFI window: Scale
// treated/6,487 with every window starter kept (WindowFraction 1) and
// the other persons thinned to persons − treated (ControlFraction). The
// counts drawn are random around these means.
func Population(persons, treated int, seed uint64) (synth.Options, error) {
	if treated < 1 || persons <= treated {
		return synth.Options{}, fmt.Errorf("a population of %d persons with %d treated: want 1 <= treated < persons", persons, treated)
	}
	scale := float64(treated) / 6487
	others := (synth.SFIPersons - 6487) * scale
	f := float64(persons-treated) / others
	if f > 1 {
		return synth.Options{}, fmt.Errorf("%d persons with %d treated: at most %d persons (the SFI's share of starters)", persons, treated, int(float64(treated)+others))
	}
	return synth.Options{Scale: scale, WindowFraction: 1, ControlFraction: f, Seed: seed}, nil
}
