package panel

import (
	"encoding/binary"
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
	h       int // months 0..h
	hCommon int
	pre     int // months −pre..−1 before them
}

// bindOutcomes resolves the design's outcomes and their horizons.
func bindOutcomes(r *Register, d *Design) ([]eventOutcome, error) {
	out := make([]eventOutcome, len(d.Outcomes))
	for k, name := range d.Outcomes {
		o := &r.Outcomes[regOutcome(r, name)]
		hc, err := Horizon(o, d.WindowEnd)
		if err != nil {
			return nil, &Error{Row: -1, Option: "Outcomes", Msg: err.Error(), Err: ErrHorizon}
		}
		if first := MonthOf(d.WindowStart); o.FirstMonth > first {
			return nil, &Error{Row: -1, Option: "Outcomes", Err: ErrHorizon,
				Msg: fmt.Sprintf("outcome %q is observed from %v, after the first start month %v", name, o.FirstMonth, first)}
		}
		if first := MonthOf(d.WindowStart) - Month(d.PreMonths); d.PreMonths > 0 && o.FirstMonth > first {
			return nil, &Error{Row: -1, Option: "PreMonths", Err: ErrHorizon,
				Msg: fmt.Sprintf("outcome %q is observed from %v, after %v, %d months before the first start month %v",
					name, o.FirstMonth, first, d.PreMonths, MonthOf(d.WindowStart))}
		}
		h := hc
		if d.FullHorizon {
			h = int(o.LastMonth() - MonthOf(d.WindowStart))
		}
		out[k] = eventOutcome{o: o, h: h, hCommon: hc, pre: d.PreMonths}
	}
	return out, nil
}

// fillEvent writes unit (person i, cohort c) event row y (len pre+h+1):
// y[pre+m] = indicator in month c+m, m = −pre..h, Missing after the
// cut-off. bindOutcomes has checked that month c−pre is observed.
//
// Cost: eight months at a time while they are all observed (one or two
// words read, a table look-up that spreads 8 bits to 8 bytes, one 8-byte
// store), then one month at a time.
func fillEvent(o *Outcome, i int, c Month, pre int, y []uint8) {
	nw := o.Words()
	words := o.Bits[i*nw : (i+1)*nw]
	k0 := int(c-o.FirstMonth) - pre
	m := 0
	for ; m+8 <= len(y) && k0+m+8 <= o.Months; m += 8 {
		k := k0 + m
		w, sh := k>>6, uint(k)&63
		x := words[w] >> sh
		if sh > 56 { // the 8 months run into the next word, which exists as k+8 <= Months
			x |= words[w+1] << (64 - sh)
		}
		binary.LittleEndian.PutUint64(y[m:], spreadBits[uint8(x)])
	}
	for ; m < len(y); m++ {
		k := k0 + m
		if k >= o.Months {
			y[m] = Missing
			continue
		}
		y[m] = uint8(words[k>>6] >> (uint(k) & 63) & 1)
	}
}

// spreadBits[b] has byte i (little-endian) equal to bit i of b.
var spreadBits = func() (t [256]uint64) {
	for b := range t {
		for i := range 8 {
			t[b] |= uint64(b>>i&1) << (8 * i)
		}
	}
	return t
}()
