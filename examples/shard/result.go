package main

import (
	"encoding/json"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/atomicfile"
	"github.com/psmeval/psmeval/internal/memguard"
	"github.com/psmeval/psmeval/psm"
)

// number is a float64 in JSON that keeps its bits: shortest round-trip
// decimal, null for NaN, "+Inf" and "-Inf" for infinities.
type number float64

func (x number) MarshalJSON() ([]byte, error) {
	f := float64(x)
	switch {
	case math.IsNaN(f):
		return []byte("null"), nil
	case math.IsInf(f, 1):
		return []byte(`"+Inf"`), nil
	case math.IsInf(f, -1):
		return []byte(`"-Inf"`), nil
	}
	return strconv.AppendFloat(nil, f, 'g', -1, 64), nil
}

func (x *number) UnmarshalJSON(b []byte) error {
	switch string(b) {
	case "null":
		*x = number(math.NaN())
		return nil
	case `"+Inf"`:
		*x = number(math.Inf(1))
		return nil
	case `"-Inf"`:
		*x = number(math.Inf(-1))
		return nil
	}
	f, err := strconv.ParseFloat(string(b), 64)
	*x = number(f)
	return err
}

func numbers(v []float64) []number {
	out := make([]number, len(v))
	for i, f := range v {
		out[i] = number(f)
	}
	return out
}

// result is result.json.
type result struct {
	// Mode is "memory" (every process builds the whole panel) or "data"
	// (every part reads its own persons, -data).
	Mode    string `json:"mode"`
	Parts   int    `json:"parts"`
	Persons int    `json:"persons"`
	Units   int    `json:"units"`
	Treated int    `json:"treated"`
	Bounds  []int  `json:"bounds"` // part i holds units bounds[i] to bounds[i+1]-1
	// Aligned: every part starts at a multiple of 4096 units, and the
	// logit is psm.FitLogit's bit for bit.
	Aligned bool `json:"aligned"`
	// StartDays is the number of distinct start days of the merged start
	// counts (data mode).
	StartDays    int      `json:"start_days,omitempty"`
	Names        []string `json:"names"`
	Coefficients []number `json:"coefficients"` // null: aliased
	Iterations   int      `json:"iterations"`
	Converged    bool     `json:"converged"`
	Deviance     number   `json:"deviance"`
	Matched      int      `json:"matched"`          // treated units matched
	Controls     int      `json:"matched_controls"` // distinct controls matched
	Effects      []effect `json:"effects"`
	// Rounds lists every round with the bytes it moved; BytesMoved is
	// their total (a broadcast counted once).
	Rounds     []roundStats `json:"rounds"`
	BytesMoved int          `json:"bytes_moved"`
	// PartStats are the parts' timings and peak memory (nil for a part
	// whose stats file is missing).
	PartStats []*partStats `json:"part_stats"`
	// PeakRSSMB is the coordinator's peak resident memory in MB (0 when
	// unknown).
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// partStats is a part's stats file: its sizes, the wall seconds of each
// stage and its peak memory. Memory mode: Generate is the generation of
// the whole population and panel; data mode: Read (the part's register),
// Starts (pass 0) and Build (its panel, pass 1). Logit, Match and Sums
// are the time spent answering those rounds (not waiting).
type partStats struct {
	Part     int     `json:"part"`
	Persons  int     `json:"persons"`
	Units    int     `json:"units"`
	Treated  int     `json:"treated"`
	Generate float64 `json:"generate_s,omitempty"`
	Read     float64 `json:"read_s,omitempty"`
	Starts   float64 `json:"starts_s,omitempty"`
	Build    float64 `json:"build_s,omitempty"`
	Logit    float64 `json:"logit_s"`
	Match    float64 `json:"match_s"`
	Sums     float64 `json:"sums_s"`
	// PeakRSSMB is the process's peak resident memory (VmHWM) in MB when
	// the stats were written, 0 when unknown. Workers run as goroutines
	// of one process (the tests) share it.
	PeakRSSMB float64 `json:"peak_rss_mb"`
}

// readStats reads part k's stats file (nil when missing or bad).
func readStats(dir string, k int) *partStats {
	b, err := os.ReadFile(statsFile(dir, k))
	if err != nil {
		return nil
	}
	var s partStats
	if json.Unmarshal(b, &s) != nil {
		return nil
	}
	return &s
}

// peakRSS returns the process's peak resident memory in MB.
func peakRSS() (float64, bool) {
	b, ok := memguard.PeakRSS()
	return float64(b) / (1 << 20), ok
}

// newResult collects result.json.
func newResult(in *inputs, fit *psm.Logit, m *psm.UnitMatching, eff *estimate.Result, rounds []roundStats) *result {
	r := &result{Mode: "memory", Parts: len(in.bounds) - 1, Persons: in.persons, Units: len(in.treated), Treated: in.ts.Len(),
		Bounds: in.bounds, Aligned: in.aligned,
		Names: fit.Names, Coefficients: numbers(fit.Coef), Iterations: fit.Iterations, Converged: fit.Converged,
		Deviance: number(fit.Deviance), Matched: m.NMatched, Controls: m.NDistinctControls, Rounds: rounds}
	if in.dataMode {
		r.Mode = "data"
		days, _ := in.starts.Histogram()
		r.StartDays = len(days)
	}
	r.Effects = effectsOf(eff)
	for _, s := range rounds {
		r.BytesMoved += s.Broadcast + s.Parts
	}
	if v, ok := peakRSS(); ok {
		r.PeakRSSMB = v
	}
	return r
}

// effect is one outcome and event month of the effects.
type effect struct {
	Outcome     string `json:"outcome"`
	Month       int    `json:"month"`
	TreatedMean number `json:"treated_mean"`
	ControlMean number `json:"control_mean"`
	ATT         number `json:"att"`
	Accumulated number `json:"accumulated"`
}

// effectsOf lists the effects of every outcome and month of the whole
// sample.
func effectsOf(eff *estimate.Result) []effect {
	var out []effect
	for _, se := range eff.Series {
		if se.Subgroup != "" {
			continue
		}
		for _, e := range se.Effects {
			out = append(out, effect{se.Outcome, e.Month, number(e.TreatedMean), number(e.ControlMean), number(e.ATT), number(e.Accumulated)})
		}
	}
	return out
}

// writeJSON writes v as indented JSON to path atomically.
func writeJSON(path string, v any) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		e := json.NewEncoder(w)
		e.SetIndent("", "  ")
		return e.Encode(v)
	})
}
