package panel

import (
	"errors"
	"fmt"
)

// ErrHorizon: an outcome is not observed over the event months the design
// needs (its cut-off is before the last start month, or it starts after
// the first one).
var ErrHorizon = errors.New("outcome horizon beyond the data")

// Horizon returns the last event month H that outcome o is observed for
// every cohort of a treatment window ending on windowEnd:
//
//	H = o.LastMonth() − MonthOf(windowEnd)
//
// (SFI: employment observed until 2014-04, window ending 2012-07: H = 21;
// education until 2013-09: H = 14). It returns an error wrapping
// ErrHorizon when H < 0.
func Horizon(o *Outcome, windowEnd Day) (int, error) {
	h := int(o.LastMonth() - MonthOf(windowEnd))
	if h < 0 {
		return 0, fmt.Errorf("panel: outcome %q ends %v, before the last start month %v: %w",
			o.Name, o.LastMonth(), MonthOf(windowEnd), ErrHorizon)
	}
	return h, nil
}

// eventOutcome describes one outcome of the panel.
type eventOutcome struct {
	o       *Outcome
	h       int // columns 0..h
	hCommon int
}

// bindOutcomes resolves the design's outcomes and their horizons.
func bindOutcomes(r *Register, d *Design) ([]eventOutcome, error) {
	out := make([]eventOutcome, len(d.Outcomes))
	for k, name := range d.Outcomes {
		o := &r.Outcomes[regOutcome(r, name)]
		hc, err := Horizon(o, d.WindowEnd)
		if err != nil {
			return nil, &DesignError{Option: "Outcomes", Msg: err.Error(), Err: ErrHorizon}
		}
		if first := MonthOf(d.WindowStart); o.FirstMonth > first {
			return nil, &DesignError{Option: "Outcomes", Err: ErrHorizon,
				Msg: fmt.Sprintf("outcome %q is observed from %v, after the first start month %v", name, o.FirstMonth, first)}
		}
		h := hc
		if d.FullHorizon {
			h = int(o.LastMonth() - MonthOf(d.WindowStart))
		}
		out[k] = eventOutcome{o: o, h: h, hCommon: hc}
	}
	return out, nil
}

// fillEvent writes unit (person i, cohort c) event row y (len h+1):
// y[m] = indicator in month c+m, NaN after the cut-off.
func fillEvent(o *Outcome, i int, c Month, y []uint8) {
	words := o.Bits[i*o.Words() : (i+1)*o.Words()]
	k0 := int(c - o.FirstMonth)
	for m := range y {
		k := k0 + m
		if k >= o.Months {
			y[m] = Missing
			continue
		}
		y[m] = uint8(words[k>>6] >> (uint(k) & 63) & 1)
	}
}
