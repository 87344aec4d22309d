package estimate

import (
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"strconv"
)

// SetTruth records the true monthly ATT curve of a synthetic population
// beside the estimates of se: att[m] is the effect in event month m =
// 0, 1, ...; Truth[Index(m)] = att[m] and TruthAccumulated its running sum
// by the rule of includeMonth0 (Result.IncludeMonth0). Months beyond att
// are NaN. Months before the start (se.Pre > 0) get 0: a programme has no
// effect before it starts (no anticipation), which is what a placebo test
// of those months tests.
func (se *Series) SetTruth(att []float64, includeMonth0 bool) {
	H1 := len(se.Effects)
	se.Truth = make([]float64, H1)
	se.TruthAccumulated = make([]float64, H1)
	acc := 0.0
	for j := 0; j < H1; j++ {
		m := j - se.Pre
		if m < 0 {
			continue
		}
		if m >= len(att) {
			se.Truth[j], se.TruthAccumulated[j] = math.NaN(), math.NaN()
			continue
		}
		se.Truth[j] = att[m]
		if accumulates(m, includeMonth0) {
			acc += att[m]
		}
		se.TruthAccumulated[j] = acc
	}
}

// WriteCSV writes r as a tidy table, one row per series, event month
// (−Pre..H) and
// measure ("monthly" or "accumulated"): outcome, subgroup, group, month,
// measure, n_treated, n_controls, treated_mean, control_mean, estimate,
// truth, se, pct_lo, pct_hi, norm_lo, norm_hi, band_lo, band_hi. Missing
// values are empty.
func (r *Result) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write([]string{"outcome", "subgroup", "group", "month", "measure", "n_treated", "n_controls",
		"treated_mean", "control_mean", "estimate", "truth", "se", "pct_lo", "pct_hi", "norm_lo", "norm_hi", "band_lo", "band_hi"}); err != nil {
		return err
	}
	f := func(v float64) string {
		if math.IsNaN(v) {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for _, se := range r.Series {
		for m, e := range se.Effects {
			for _, meas := range []string{"monthly", "accumulated"} {
				est, truth := e.ATT, math.NaN()
				tm, cm := f(e.TreatedMean), f(e.ControlMean)
				var b *Bounds
				if meas == "monthly" {
					if se.Truth != nil {
						truth = se.Truth[m]
					}
					if se.Monthly != nil {
						b = &se.Monthly[m]
					}
				} else {
					est, tm, cm = e.Accumulated, "", ""
					if se.TruthAccumulated != nil {
						truth = se.TruthAccumulated[m]
					}
					if se.Accumulated != nil {
						b = &se.Accumulated[m]
					}
				}
				nan := math.NaN()
				bb := Bounds{SE: nan, Percentile: Interval{nan, nan}, Normal: Interval{nan, nan}, Band: Interval{nan, nan}}
				if b != nil {
					bb = *b
				}
				row := []string{se.Outcome, se.Subgroup, se.Group, strconv.Itoa(e.Month), meas,
					strconv.Itoa(se.NTreated), strconv.Itoa(se.NControls), tm, cm, f(est), f(truth), f(bb.SE),
					f(bb.Percentile.Lo), f(bb.Percentile.Hi), f(bb.Normal.Lo), f(bb.Normal.Hi), f(bb.Band.Lo), f(bb.Band.Hi)}
				if err := cw.Write(row); err != nil {
					return err
				}
			}
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("estimate: writing CSV: %w", err)
	}
	return nil
}
