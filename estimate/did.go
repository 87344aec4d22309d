package estimate

import (
	"math"
)

// DiDOptions configures DiD and DiDSample. The zero value is the default.
type DiDOptions struct {
	// Reference is the pre-programme window [a, b] whose mean effect is
	// subtracted, a <= b < 0 and a >= −Pre. The zero value means
	// DefaultPreWindow, −60..−49: months before the history the
	// covariates summarise, where matching has not forced the difference
	// to zero (a reference window inside the matched history would
	// subtract a difference the matching set to about zero and change
	// nothing).
	Reference PreWindow
}

func (o *DiDOptions) window() PreWindow {
	if o == nil || o.Reference == (PreWindow{}) {
		return DefaultPreWindow
	}
	return o.Reference
}

// DiD returns the conditional difference-in-differences matching
// estimates (Heckman, Ichimura and Todd 1997) of res: for every series
// and event month m = −Pre..H,
//
//	DiD_m         = D_m − D̄_ref,  D̄_ref = (1/W) Σ_{k=a..b} D_k
//	Accumulated_m = Σ_{k=f..m} DiD_k = A_m − n_m·D̄_ref
//
// with D_m the matching estimate of res, [a, b] = opts.Reference (W
// months), f = 1 (0 with IncludeMonth0) and n_m the number of months f..m.
// TreatedMean and ControlMean are the group means minus their own
// reference means. The estimator removes a difference between the
// matched groups that is constant over event time (a stable unobserved
// trait with the same effect on the outcome before and after the start:
// the parallel-trends assumption conditional on the covariates); a
// difference that changes over time is not removed.
//
// Intervals apply the same linear map to every replicate of res (Series
// Draws: Bootstrap or OtsuRai with KeepDraws) and summarise them as the
// method does, so they come from the very replicates of the effects; the
// DiD replicates are kept in Draws. A res with no intervals (Effects)
// gives point estimates only. Analytic methods (AbadieImbens,
// BiasAdjusted) give no joint distribution of the months: run them on
// DiDSample instead, which gives the same point estimates. Method is
// "did-" + res.Method; Truth is copied (the true effect is 0 in the
// months before the start, so it is also the estimand of DiD). Errors
// (ErrInvalid): a reference window that is empty, overlaps the start or
// lies beyond −Pre, an analytic res. Cost: O(R·(Pre+H+1)) per series.
func DiD(res *Result, opts *DiDOptions) (*Result, error) {
	if res == nil {
		return nil, invalid("Result", "DiD needs a Result (got nil)")
	}
	w := opts.window()
	out := &Result{Method: "did-" + res.Method, Level: res.Level, Replicates: res.Replicates,
		IncludeMonth0: res.IncludeMonth0, Series: make([]Series, len(res.Series))}
	for i := range res.Series {
		src := &res.Series[i]
		if err := w.checkPre("DiDOptions.Reference", "DiD reference window", src.Outcome, src.Pre); err != nil {
			return nil, err
		}
		se := Series{Outcome: src.Outcome, Subgroup: src.Subgroup, Group: src.Group,
			NTreated: src.NTreated, NUnmatched: src.NUnmatched, NControls: src.NControls,
			WeightedControls: src.WeightedControls, Pre: src.Pre,
			Effects: make([]Effect, len(src.Effects)), BandCrit: [2]float64{math.NaN(), math.NaN()},
			PreBandCrit: math.NaN()}
		j0 := src.Index(w.From)
		var rt, rc, ra float64
		for k := range w.Len() {
			e := &src.Effects[j0+k]
			rt += e.TreatedMean
			rc += e.ControlMean
			ra += e.ATT
		}
		W := float64(w.Len())
		rt, rc, ra = rt/W, rc/W, ra/W
		for j, e := range src.Effects {
			se.Effects[j] = Effect{Month: e.Month, TreatedMean: e.TreatedMean - rt, ControlMean: e.ControlMean - rc, ATT: e.ATT - ra}
		}
		accumulate(se.Effects, res.IncludeMonth0)
		if src.Truth != nil {
			se.Truth = append([]float64(nil), src.Truth...)
			se.TruthAccumulated = append([]float64(nil), src.TruthAccumulated...)
		}
		switch {
		case src.Draws != nil:
			reps, err := monthlyDraws(res, src)
			if err != nil {
				return nil, err
			}
			H1 := len(src.Effects)
			mapped := make([][]float64, len(reps))
			se.Draws = make([]float64, len(src.Draws))
			for r, row := range reps {
				d := se.Draws[r*2*H1 : (r+1)*2*H1]
				ref := 0.0
				for k := range w.Len() {
					ref += row[j0+k]
				}
				ref /= W
				for j := range H1 {
					d[j] = row[j] - ref
				}
				copy(d[H1:], d[:H1])
				cumsum(d[H1:], src.Pre, res.IncludeMonth0)
				mapped[r] = d
			}
			summarize(&se, mapped, res.Level)
		case src.Monthly != nil:
			return nil, invalid("Series.Draws", "DiD needs the replicates of the effects (method %q): run Bootstrap or OtsuRai with KeepDraws, or an analytic method on DiDSample",
				res.Method)
		}
		out.Series[i] = se
	}
	return out, nil
}

// DiDSample returns a copy of s whose outcomes are differenced against
// their mean over the reference window opts.Reference [a, b]:
//
//	ỹ_um = y_um − (1/W) Σ_{k=a..b} y_uk,  m = −Pre..H
//
// (float Y, same Pre and H, Stride Pre+H+1; Treated, Person and
// Subgroups are shared). Every estimator is linear in the outcomes, so an
// estimator on DiDSample gives the DiD of that estimator on s (the same
// point estimates as DiD, up to rounding), with its own intervals: the
// way to get Abadie–Imbens or bias-adjusted standard errors of the DiD.
// Errors (ErrInvalid) as for DiD, and an invalid s. Cost: 8 bytes per
// unit and month −Pre..H of every outcome (at the SFI size with Pre = 60
// and H = 21, 2.2 GB per outcome: prefer DiD on replicates there), and
// one pass over the outcome matrices on GOMAXPROCS goroutines.
func DiDSample(s *Sample, opts *DiDOptions) (*Sample, error) {
	if err := s.validate(); err != nil {
		return nil, err
	}
	w := opts.window()
	out := &Sample{Treated: s.Treated, Person: s.Person, Subgroups: s.Subgroups, Outcomes: make([]EventOutcome, len(s.Outcomes))}
	for k := range s.Outcomes {
		o := &s.Outcomes[k]
		if err := w.checkPre("DiDOptions.Reference", "DiD reference window", o.Name, o.Pre); err != nil {
			return nil, err
		}
		wd := o.width()
		y := make([]float64, s.Len()*wd)
		j0, j1 := o.Pre+w.From, o.Pre+w.To
		W := float64(w.Len())
		parallelRange(s.Len(), func(lo, hi int) {
			for u := lo; u < hi; u++ {
				ref := 0.0
				for j := j0; j <= j1; j++ {
					ref += o.at(u, j)
				}
				ref /= W
				row := y[u*wd : (u+1)*wd]
				if o.Binary != nil {
					b := o.Binary[u*o.stride() : u*o.stride()+wd]
					for j, v := range b {
						x := float64(v)
						if v == missing {
							x = nan
						}
						row[j] = x - ref
					}
					continue
				}
				for j := range row {
					row[j] = o.at(u, j) - ref
				}
			}
		})
		out.Outcomes[k] = EventOutcome{Name: o.Name, H: o.H, Pre: o.Pre, Y: y}
	}
	return out, nil
}
