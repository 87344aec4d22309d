package main

import (
	"fmt"
	"io"
	"slices"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// diagnostics are the checks of the matched sample that summary.json and
// the report give, each with the threshold that flags a problem (psm's
// MaxUnmatchedShare, MinESSShare, MaxControlShare, MinEquipoise,
// MaxCohortSMD).
type diagnostics struct {
	Attrition  []attritionStep    `json:"attrition"`
	Matching   psm.Diagnostics    `json:"matching"`
	Preference *psm.Preference    `json:"preference_score"`
	Cohorts    cohortDiagnostic   `json:"balance_by_start_cohort"`
	Thresholds map[string]float64 `json:"thresholds"`
	// Flags collects every flag of the checks above (empty: none).
	Flags []string `json:"flags"`
}

// attritionStep is one row of the attrition table: how many treated and
// control units are left after a step.
type attritionStep struct {
	Step     string  `json:"step"`
	Treated  int     `json:"treated"`
	Controls float64 `json:"controls"`
}

// cohortDiagnostic is the worst covariate balance within a start cohort.
type cohortDiagnostic struct {
	Cohorts   int     `json:"cohorts"`
	WorstSMD  float64 `json:"worst_abs_smd"`
	Cohort    string  `json:"worst_cohort"`
	Covariate string  `json:"worst_covariate"`
	Flagged   bool    `json:"flagged"`
}

// diagnose computes a.diag from the panel, the logit and the matching.
func (a *analysis) diagnose() error {
	p, m := a.panel, a.matching.Matching
	nt, n := p.NTreated(), p.Len()
	c := p.Counts
	d := &diagnostics{Thresholds: map[string]float64{
		"max_unmatched_share": psm.MaxUnmatchedShare, "min_ess_share": psm.MinESSShare,
		"max_control_share": psm.MaxControlShare, "min_equipoise": psm.MinEquipoise, "max_cohort_smd": psm.MaxCohortSMD,
	}}
	excludedT := 0
	for _, u := range a.excluded {
		if u < nt {
			excludedT++
		}
	}
	outsideT, outsideC := 0, 0
	for u, w := range a.fitW {
		if w == 0 {
			if u < nt {
				outsideT++
			} else {
				outsideC++
			}
		}
	}
	d.Attrition = []attritionStep{
		{"starters in the window; potential controls × draws", c.Starters, float64(c.Draws)},
		{"eligible (the design's rules)", c.Treated, float64(c.Controls)},
		{"in a stratum with both groups (the logit's units)", c.Treated - outsideT, float64(c.Controls - outsideC)},
		{"not predicted perfectly by the logit", c.Treated - outsideT - excludedT, float64(c.Controls - outsideC - (len(a.excluded) - excludedT))},
		{"matched (treated; distinct controls)", m.NMatched, float64(m.NDistinctControls)},
		{"matched (weighted controls)", m.NMatched, m.WeightedControls},
	}
	d.Matching = psm.Diagnose(m)
	d.Flags = append(d.Flags, d.Matching.Flags...)
	ts, cs := make([]float64, 0, nt), make([]float64, 0, n-nt)
	for u := 0; u < n; u++ {
		if a.fitW != nil && a.fitW[u] == 0 {
			continue // outside the strata the logit was fitted on
		}
		if u < nt {
			ts = append(ts, a.scores[u])
		} else {
			cs = append(cs, a.scores[u])
		}
	}
	pr, err := psm.PreferenceScores(ts, cs)
	if err != nil {
		return err
	}
	d.Preference = pr
	if !pr.Equipoise {
		d.Flags = append(d.Flags, fmt.Sprintf("preference score: %.0f %% of the treated and %.0f %% of the controls in [0.3, 0.7] (threshold %.0f %% of each)",
			100*pr.EquipoiseTreated, 100*pr.EquipoiseControl, 100*psm.MinEquipoise))
	}
	coh := make([]int32, nt)
	for u := range coh {
		coh[u] = int32(p.Cohort[u])
	}
	xt, xc := covSlices(p)
	cb, err := psm.BalanceByCohort(p.CovNames, xt, xc, coh[:nt], m)
	if err != nil {
		return err
	}
	d.Cohorts = cohortDiagnostic{Cohorts: len(cb.Cohorts), WorstSMD: cb.Worst, Flagged: cb.Flagged}
	if cb.WorstVar >= 0 {
		d.Cohorts.Cohort, d.Cohorts.Covariate = panel.Month(cb.WorstCohort).String(), p.CovNames[cb.WorstVar]
	}
	if cb.Flagged {
		d.Flags = append(d.Flags, fmt.Sprintf("balance within start cohorts: |SMD| %.3f for %s in the %s cohort (threshold max(%.2f, %d·sqrt(2/n)) = %.3f for its %.0f matched treated)",
			cb.FlagSMD, p.CovNames[cb.FlagVar], panel.Month(cb.FlagCohort), psm.MaxCohortSMD, psm.CohortSMDNoise, cb.FlagLimit, cb.N[slices.Index(cb.Cohorts, cb.FlagCohort)]))
	}
	if d.Flags == nil {
		d.Flags = []string{}
	}
	a.diag = d
	return nil
}

// write prints the attrition table and the checks.
func (d *diagnostics) write(w io.Writer) {
	fmt.Fprintln(w, "Attrition (treated; controls)")
	for _, s := range d.Attrition {
		fmt.Fprintf(w, "  %-80s %7d %11.0f\n", s.Step, s.Treated, s.Controls)
	}
	md := d.Matching
	fmt.Fprintf(w, "Diagnostics: unmatched treated %.1f %% (threshold %.0f %%); matched controls' effective sample size %.0f = %.2f of the matched treated (threshold %.2f); largest control share %.2f %% (threshold %.0f %%)\n",
		100*md.UnmatchedShare, 100*psm.MaxUnmatchedShare, md.ESS, md.ESSShare, psm.MinESSShare, 100*md.MaxShare, 100*psm.MaxControlShare)
	pr := d.Preference
	fmt.Fprintf(w, "  preference score in [0.3, 0.7]: treated %.0f %%, controls %.0f %% (threshold %.0f %% of each); median treated %.2f, controls %.2f\n",
		100*pr.EquipoiseTreated, 100*pr.EquipoiseControl, 100*psm.MinEquipoise, pr.Treated[5], pr.Control[5])
	fmt.Fprintf(w, "  worst |SMD| within a start cohort (%d cohorts): %.3f, %s in %s (threshold max(%.2f, %d·sqrt(2/n)), n the cohort's matched treated)\n",
		d.Cohorts.Cohorts, d.Cohorts.WorstSMD, d.Cohorts.Covariate, d.Cohorts.Cohort, psm.MaxCohortSMD, psm.CohortSMDNoise)
	if len(d.Flags) == 0 {
		fmt.Fprintln(w, "  no check flagged")
	}
	for _, f := range d.Flags {
		fmt.Fprintf(w, "  FLAG: %s\n", f)
	}
	fmt.Fprintln(w)
}
