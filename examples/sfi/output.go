package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/atomicfile"
	"github.com/psmeval/psmeval/internal/manifest"
)

// write writes every output file to the output directory; each file is
// written to a temporary file and renamed, so an interrupted run never
// leaves a truncated table or a temporary file: when ctx is done it
// stops before the next file (or inside the current one, removing its
// temporary file), and the directory holds complete files only.
func (a *analysis) write(ctx context.Context) error {
	dir := a.cfg.out
	done := a.watch.start("write tables and figures to " + dir)
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct {
		name string
		fn   func(io.Writer) error
	}{
		{"table51.csv", a.writeTable51},
		{"effects.csv", a.writeEffects},
		{"accumulated.csv", a.writeAccumulated},
	}
	for _, f := range files {
		if err := atomicfile.WriteContext(ctx, filepath.Join(dir, f.name), f.fn); err != nil {
			return fmt.Errorf("writing %s: %w", f.name, err)
		}
	}
	if !a.cfg.noFigures {
		if err := a.figures(ctx, dir); err != nil {
			return err
		}
	}
	done()
	return atomicfile.WriteContext(ctx, filepath.Join(dir, "summary.json"), a.writeSummary)
}

func num(v float64) string {
	if math.IsNaN(v) {
		return "NA"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func writeCSV(w io.Writer, header []string, rows [][]string) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.WriteAll(rows); err != nil {
		return err
	}
	return cw.Error()
}

func (a *analysis) writeTable51(w io.Writer) error {
	var rows [][]string
	for _, r := range a.table51() {
		rows = append(rows, []string{r.label, num(r.treated), num(r.control), num(r.smd),
			num(r.treatedPre), num(r.controlPre), num(r.smdPre), num(r.reportT), num(r.reportC)})
	}
	return writeCSV(w, []string{"characteristic", "treated", "controls", "smd",
		"treated_before", "controls_before", "smd_before", "report_treated", "report_controls"}, rows)
}

func truthAt(v []float64, m int) float64 {
	if v == nil || m >= len(v) {
		return math.NaN()
	}
	return v[m]
}

// monthRows makes one CSV row per reported outcome and event month of
// the whole-sample series.
func (a *analysis) monthRows(row func(name string, se *estimate.Series, m int) []string) [][]string {
	var rows [][]string
	for _, oi := range outcomeInfo {
		se := a.effects.Find(oi.name, "", "")
		if se == nil {
			continue
		}
		for m := range se.Effects {
			rows = append(rows, row(oi.name, se, m))
		}
	}
	return rows
}

func (a *analysis) writeEffects(w io.Writer) error {
	rows := a.monthRows(func(name string, se *estimate.Series, m int) []string {
		e := se.Effects[m]
		lo, hi, sd := a.interval(se, m, false)
		return []string{name, strconv.Itoa(m), num(e.TreatedMean), num(e.ControlMean), num(e.ATT),
			num(lo), num(hi), num(sd), num(truthAt(se.Truth, m)), num(truthAt(a.truthNever[name].monthly, m))}
	})
	return writeCSV(w, []string{"outcome", "month", "treated_mean", "control_mean", "effect", "ci_low", "ci_high", "se",
		"true_effect", "true_effect_never_start"}, rows)
}

func (a *analysis) writeAccumulated(w io.Writer) error {
	rows := a.monthRows(func(name string, se *estimate.Series, m int) []string {
		lo, hi, _ := a.interval(se, m, true)
		return []string{name, strconv.Itoa(m), num(se.Effects[m].Accumulated), num(lo), num(hi),
			num(truthAt(se.TruthAccumulated, m)), num(truthAt(a.truthNever[name].accumulated, m))}
	})
	return writeCSV(w, []string{"outcome", "month", "effect", "ci_low", "ci_high", "true_effect", "true_effect_never_start"}, rows)
}

// summary is the content of summary.json.
type summary struct {
	Source   string         `json:"source"`
	Options  map[string]any `json:"options"`
	Sizes    map[string]any `json:"sizes"`
	Horizons map[string]int `json:"horizons"`
	Logit    map[string]any `json:"logit"`
	Interval string         `json:"interval"`
	Notes    []string       `json:"notes,omitempty"` // panel.Panel.Notes
	// Diagnostics are the checks of the matched sample with their
	// thresholds and flags (diagnostics.go).
	Diagnostics *diagnostics `json:"diagnostics"`
	// Credibility is the "effect or selection?" section (credibility.go):
	// per outcome the placebo test's p-values, the accumulated and monthly
	// difference-in-differences effects with the reported interval and
	// the truth, and Gamma* of the Rosenbaum bounds.
	Credibility map[string]any `json:"credibility,omitempty"`
	// Manifest records how the run was made: build (module version, VCS
	// revision), flags, seed, the size and SHA-256 of every -data file
	// when the run started, cores, and the wall time of each step.
	Manifest *manifest.Manifest `json:"manifest"`
}

func (a *analysis) writeSummary(w io.Writer) error {
	c := a.cfg
	p := a.panel
	sizes := map[string]any{
		"persons":                   p.Counts.Persons,
		"spells":                    p.Counts.Spells,
		"merged_spells":             p.Counts.MergedSpells,
		"starters_in_window":        p.Counts.Starters,
		"treated":                   p.Counts.Treated,
		"potential_controls":        p.Counts.PotentialControls,
		"control_draws":             p.Counts.Draws,
		"eligible_controls":         p.Counts.Controls,
		"dropped_by_rule":           p.Counts.Dropped,
		"matched_treated":           a.matching.NMatched,
		"distinct_matched_controls": a.matching.NDistinctControls,
		"weighted_matched_controls": a.matching.WeightedControls,
	}
	confounding := c.confounding // -1 = the scenario's value: record what was used
	if a.pop != nil {
		confounding = a.pop.Options.Confounding
	}
	hz := map[string]int{}
	for _, o := range p.Outcomes {
		hz[o.Name] = o.HCommon
	}
	s := summary{
		Source: a.source(),
		Options: map[string]any{
			"scale": c.scale, "seed": c.seed, "bootstrap": c.bootstrap, "refit": c.refit, "workers": c.workers,
			"scenario": c.scenario, "confounding": confounding, "effect": c.effect, "data": c.data,
			"window":                 []string{windowStart.String(), windowEnd.String()},
			"matching":               "1 nearest neighbour on the probability within benefit group x match group x bin of months with wage in the last 48, with replacement, ties averaged",
			"interval":               a.method(),
			"accumulated_from_month": map[bool]int{true: 0, false: 1}[a.effects.IncludeMonth0],
		},
		Sizes:    sizes,
		Horizons: hz,
		Logit: map[string]any{
			"converged": a.logit.Converged, "iterations": a.logit.Iterations, "coefficients": len(a.logit.Coef),
			"aliased": a.logit.Aliased, "separated": a.separated, "deviance": a.logit.Deviance,
			"units_predicted_perfectly": len(a.excluded), "units_outside_common_strata": a.outsideStrata(),
		},
		Interval:    a.intervalKind(),
		Notes:       p.Notes,
		Diagnostics: a.diag,
		Credibility: a.credibilityJSON(),
		Manifest:    c.man.Finish(),
	}
	e := json.NewEncoder(w)
	e.SetIndent("", "  ")
	return e.Encode(s)
}

// outsideStrata counts the units the logit was not fitted on because
// their stratum lacks treated or controls.
func (a *analysis) outsideStrata() int {
	n := 0
	for _, w := range a.fitW {
		if w == 0 {
			n++
		}
	}
	return n
}
