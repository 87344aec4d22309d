package plot

import (
	"math"

	"github.com/psmeval/psmeval/estimate"
)

// Interval picks the interval a figure shows from an estimate's Bounds,
// e.g. func(b estimate.Bounds) estimate.Interval { return b.Normal }.
type Interval func(b estimate.Bounds) estimate.Interval

// SeriesCurve adapts one series of an estimate.Result to Monthly: event
// months −Pre..H, the treated and control means, the effects, the
// interval iv picks from the series' Monthly bounds (nil iv, or a series
// without intervals: none), the simultaneous band when the method has one
// (else none), the truth when set, and level (the Result's Level).
func SeriesCurve(se *estimate.Series, level float64, iv Interval) Curve {
	n := len(se.Effects)
	c := Curve{Level: level, Months: make([]int, n), Treated: make([]float64, n), Control: make([]float64, n), Effect: make([]float64, n)}
	for i, e := range se.Effects {
		c.Months[i], c.Treated[i], c.Control[i], c.Effect[i] = e.Month, e.TreatedMean, e.ControlMean, e.ATT
	}
	if se.Monthly != nil {
		band := false
		for _, b := range se.Monthly {
			band = band || !math.IsNaN(b.Band.Lo)
		}
		if iv != nil {
			c.Low, c.High = make([]float64, n), make([]float64, n)
		}
		if band {
			c.BandLow, c.BandHigh = make([]float64, n), make([]float64, n)
		}
		for i, b := range se.Monthly {
			if iv != nil {
				v := iv(b)
				c.Low[i], c.High[i] = v.Lo, v.Hi
			}
			if band {
				c.BandLow[i], c.BandHigh[i] = b.Band.Lo, b.Band.Hi
			}
		}
	}
	if se.Truth != nil {
		c.Truth = append([]float64(nil), se.Truth...)
	}
	return c
}

// SeriesAccumulated adapts one series to Accumulated: the event months
// from the start (0..H; the months before it have no accumulated
// effect), the accumulated effects, the interval iv picks from the
// Accumulated bounds (nil when iv is nil or the series has none) and the
// true accumulated effect (nil when not set).
func SeriesAccumulated(se *estimate.Series, iv Interval) (months []int, effect, low, high, truth []float64) {
	p := se.Pre
	for _, e := range se.Effects[p:] {
		months, effect = append(months, e.Month), append(effect, e.Accumulated)
	}
	if se.Accumulated != nil && iv != nil {
		for _, b := range se.Accumulated[p:] {
			v := iv(b)
			low, high = append(low, v.Lo), append(high, v.Hi)
		}
	}
	if se.TruthAccumulated != nil {
		truth = append([]float64(nil), se.TruthAccumulated[p:]...)
	}
	return months, effect, low, high, truth
}
