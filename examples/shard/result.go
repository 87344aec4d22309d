package main

import (
	"encoding/json"
	"io"
	"math"
	"strconv"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/atomicfile"
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
	Parts   int   `json:"parts"`
	Units   int   `json:"units"`
	Treated int   `json:"treated"`
	Bounds  []int `json:"bounds"` // part i holds units bounds[i] to bounds[i+1]-1
	// Aligned: every part starts at a multiple of 4096 units, and the
	// logit is psm.FitLogit's bit for bit.
	Aligned      bool     `json:"aligned"`
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

// newResult collects result.json.
func newResult(d *data, fit *psm.Logit, m *psm.UnitMatching, eff *estimate.Result, rounds []roundStats) *result {
	r := &result{Parts: len(d.bounds) - 1, Units: d.pan.Len(), Treated: d.pan.NTreated(), Bounds: d.bounds, Aligned: d.aligned,
		Names: fit.Names, Coefficients: numbers(fit.Coef), Iterations: fit.Iterations, Converged: fit.Converged,
		Deviance: number(fit.Deviance), Matched: m.NMatched, Controls: m.NDistinctControls, Rounds: rounds}
	r.Effects = effectsOf(eff)
	for _, s := range rounds {
		r.BytesMoved += s.Broadcast + s.Parts
	}
	return r
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
