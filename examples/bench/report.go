package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"slices"

	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/internal/manifest"
)

// report is the -json output (one object); writeTable prints the same.
type report struct {
	Config  reportConfig  `json:"config"`
	Machine reportMachine `json:"machine"`
	Stages  []stageResult `json:"stages"`
	// Budget sums the budget (docs/design.md §4) stages (panel, logit, match,
	// effects): wall and CPU seconds, and the largest of their peaks.
	Budget  stageResult `json:"budget"`
	Sizes   reportSizes `json:"sizes"`
	Effects []effectRow `json:"effects"`
	// Floor relates each stage to the time it takes to stream the bytes
	// it must touch once (floor.go); nil with -floor=false.
	Floor *reportFloor `json:"floor,omitempty"`
	// Sharded compares the logit, matching and effects run over -shards
	// in-process shards with the single-process results; nil without
	// -shards.
	Sharded *shardedReport `json:"sharded,omitempty"`
	// Manifest records the build (module version, VCS revision: "unknown"
	// under go run), the flags, the seed, the cores and the wall time of
	// each stage. bench reads no input file (Inputs is empty).
	Manifest *manifest.Manifest `json:"manifest"`
}

type reportConfig struct {
	N               int     `json:"n"`
	Treated         int     `json:"treated"` // requested (proportional when the flag is 0)
	Covariates      int     `json:"covariates"`
	Outcomes        int     `json:"outcomes"`
	Horizon         int     `json:"horizon"`
	Replicates      int     `json:"replicates"`
	Workers         int     `json:"workers"` // 0 = GOMAXPROCS
	Seed            uint64  `json:"seed"`
	Write           string  `json:"write,omitempty"`
	Scale           float64 `json:"synth_scale"`
	ControlFraction float64 `json:"synth_control_fraction"`
	WindowFraction  float64 `json:"synth_window_fraction"`
}

type reportMachine struct {
	Cores      int    `json:"cores"`
	GOMAXPROCS int    `json:"gomaxprocs"`
	GoVersion  string `json:"go_version"`
	GOOS       string `json:"goos"`
	GOARCH     string `json:"goarch"`
	Hostname   string `json:"hostname,omitempty"`
	// PeakReset is false when /proc/self/clear_refs could not reset the
	// peak resident set: then every stage's peak is the process's so far.
	PeakReset bool `json:"peak_reset"`
}

type reportSizes struct {
	Persons           int            `json:"persons"`
	Spells            int            `json:"spells"`
	Units             int            `json:"units"`
	TreatedUnits      int            `json:"treated_units"`
	ControlUnits      int            `json:"control_units"`
	Covariates        []string       `json:"covariates"` // the logit's, in order
	Dropped           []string       `json:"dropped_covariates"`
	Aliased           []string       `json:"aliased_covariates"`
	LogitIterations   int            `json:"logit_iterations"`
	MatchedTreated    int            `json:"matched_treated"`
	DistinctControls  int            `json:"distinct_controls"`
	MatchPairs        int            `json:"match_pairs"` // entries of all match sets (ties included)
	OutcomeMonths     []outcomeMonth `json:"outcomes"`
	BootstrapReplicas int            `json:"replicates"`
}

type outcomeMonth struct {
	Name string `json:"name"`
	H    int    `json:"h"` // event months 0..h
}

// effectRow is one monthly effect of the whole sample.
type effectRow struct {
	Outcome     string  `json:"outcome"`
	Month       int     `json:"month"`
	TreatedMean float64 `json:"treated_mean"`
	ControlMean float64 `json:"control_mean"`
	ATT         float64 `json:"att"`
	Accumulated float64 `json:"accumulated"`
}

func newReport(p *pipeline, m *meter) *report {
	c := p.cfg
	treated := c.treated
	if treated == 0 {
		treated = benchdata.ProportionalTreated(c.n)
	}
	host, _ := os.Hostname()
	r := &report{
		Config: reportConfig{
			N: c.n, Treated: treated, Covariates: c.covariates, Outcomes: c.outcomes, Horizon: c.horizon,
			Replicates: c.replicates, Workers: c.workers, Seed: c.seed, Write: c.write,
			Scale: p.pop.Options.Scale, ControlFraction: p.pop.Options.ControlFraction, WindowFraction: p.pop.Options.WindowFraction,
		},
		Machine: reportMachine{
			Cores: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version(),
			GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, Hostname: host, PeakReset: m.canReset,
		},
		Stages: m.stages,
		Budget: stageResult{Stage: "panel+logit+match+effects"},
	}
	for _, s := range m.stages {
		if slices.Contains(budgetStages, s.Stage) {
			r.Budget.Wall += s.Wall
			r.Budget.CPU += s.CPU
			r.Budget.PeakRSS = math.Max(r.Budget.PeakRSS, s.PeakRSS)
			r.Budget.PeakIsProcess = r.Budget.PeakIsProcess || s.PeakIsProcess
		}
	}
	pan := p.panel
	sz := reportSizes{
		Persons: p.reg.Len(), Spells: len(p.reg.Spells),
		Units: pan.Len(), TreatedUnits: pan.NTreated(), ControlUnits: pan.Len() - pan.NTreated(),
		Covariates: p.xNames, Dropped: p.dropped, Aliased: p.logit.Aliased, LogitIterations: p.logit.Iterations,
		MatchedTreated: p.matching.NMatched, DistinctControls: p.matching.NDistinctControls,
		MatchPairs: len(p.matching.Control), BootstrapReplicas: c.replicates,
	}
	if sz.Dropped == nil {
		sz.Dropped = []string{}
	}
	if sz.Aliased == nil {
		sz.Aliased = []string{}
	}
	for _, o := range p.sample.Outcomes {
		sz.OutcomeMonths = append(sz.OutcomeMonths, outcomeMonth{o.Name, o.H})
	}
	r.Sizes = sz
	r.Effects = effectRows(p.effects)
	return r
}

func (r *report) writeJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeTable prints the stage table and the sizes.
func (r *report) writeTable(w io.Writer) {
	c, mc, sz := r.Config, r.Machine, r.Sizes
	fmt.Fprintf(w, "psmeval bench: n=%d treated=%d (units: %d treated, %d controls) K=%d M=%d H=%d replicates=%d\n",
		c.N, c.Treated, sz.TreatedUnits, sz.ControlUnits, c.Covariates, c.Outcomes, c.Horizon, c.Replicates)
	fmt.Fprintf(w, "machine: %d cores, GOMAXPROCS %d, %s %s/%s\n", mc.Cores, mc.GOMAXPROCS, mc.GoVersion, mc.GOOS, mc.GOARCH)
	fmt.Fprintf(w, "%-27s %9s %9s %9s %12s\n", "stage", "wall s", "CPU s", "CPU/wall", "peak RSS MB")
	line := func(s stageResult) {
		ratio := math.NaN()
		if s.Wall > 0 {
			ratio = s.CPU / s.Wall
		}
		mark := ""
		if s.PeakIsProcess {
			mark = "*"
		}
		fmt.Fprintf(w, "%-27s %9.2f %9.2f %9.2f %12s\n", s.Stage, s.Wall, s.CPU, ratio, fmt.Sprintf("%.0f%s", s.PeakRSS, mark))
	}
	for _, s := range r.Stages {
		line(s)
	}
	line(r.Budget)
	if !mc.PeakReset {
		fmt.Fprintln(w, "* peak of the process so far (/proc/self/clear_refs could not reset it)")
	}
	fmt.Fprintf(w, "logit: %d covariates, %d iterations", len(sz.Covariates), sz.LogitIterations)
	if len(sz.Dropped) > 0 {
		fmt.Fprintf(w, ", dropped for separation: %v", sz.Dropped)
	}
	if len(sz.Aliased) > 0 {
		fmt.Fprintf(w, ", aliased: %v", sz.Aliased)
	}
	fmt.Fprintf(w, "\nmatching: %d treated matched to %d distinct controls (%d pairs with ties)\n",
		sz.MatchedTreated, sz.DistinctControls, sz.MatchPairs)
	if sr := r.Sharded; sr != nil {
		al := "aligned to 4096-unit blocks"
		if !sr.Aligned {
			al = "not aligned to 4096-unit blocks"
		}
		fmt.Fprintf(w, "sharded: %d shards (%s), %.2fs wall; max abs diff %.3g (coefficients %.3g, scores %.3g, control weights %.3g, effects %.3g), bit-identical %v\n",
			sr.Shards, al, sr.Wall, sr.MaxAbsDiff, sr.Parts.Coefficients, sr.Parts.Scores, sr.Parts.ControlWeights, sr.Parts.Effects, sr.BitIdentical)
	}
	if f := r.Floor; f != nil {
		fmt.Fprintf(w, "floor: streaming bandwidth %.1f GB/s; each stage's bytes touched once, that time, and the stage's multiple of it\n", f.BandwidthGBs)
		for _, s := range f.Stages {
			fmt.Fprintf(w, "  %-12s %10.0f MB %9.3f s %8.1f×\n", s.Stage, s.Bytes/1e6, s.Seconds, s.Multiple)
		}
	}
}
