package main

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/panel"
)

// The credibility section on a small run: the window's effects are the
// register's outcomes of the matched treated and of their controls
// (computed here by hand from the register, the panel and the match
// weights), the months after the start are the reported ones, the DiD
// accumulated effect is the plain one minus the months times the
// window's mean effect (Heckman, Ichimura and Todd's estimator in closed
// form), and the placebo p-values and Gamma* are in range.
func TestCredibility(t *testing.T) {
	c := config{scale: 0.03, seed: 5, bootstrap: 49, workers: 2, out: t.TempDir(),
		scenario: "sfi", confounding: -1, noFigures: true}
	a := analyse(t, &c)
	require.NoError(t, a.credibilityChecks(context.Background()))
	require.NotNil(t, a.cred)
	w := a.cred.window
	require.Equal(t, -60, w.From)
	require.Equal(t, -49, w.To)

	p, m := a.panel, a.matching
	nt := p.NTreated()
	for _, oi := range outcomeInfo {
		reg := a.reg.Outcomes[0]
		for _, o := range a.reg.Outcomes {
			if o.Name == oi.name {
				reg = o
			}
		}
		full := a.credRes.Find(oi.name, "", "")
		main := a.effects.Find(oi.name, "", "")
		require.NotNil(t, full)
		require.Equal(t, w.Len(), full.Pre)
		// months after the start: the reported estimates
		require.Equal(t, main.Effects, full.Effects[full.Pre:])
		var meanWin float64
		for ev := w.From; ev <= w.To; ev++ {
			var yt, nt1, yc, wc float64
			for u := 0; u < nt; u++ {
				if !m.Matched[u] {
					continue
				}
				v, ok := reg.Get(int(p.Person[u]), p.Cohort[u]+monthOf(ev))
				require.True(t, ok)
				nt1++
				if v {
					yt++
				}
			}
			for j, cw := range m.ControlWeight {
				if cw == 0 {
					continue
				}
				u := nt + j
				v, ok := reg.Get(int(p.Person[u]), p.Cohort[u]+monthOf(ev))
				require.True(t, ok)
				wc += cw
				if v {
					yc += cw
				}
			}
			e := full.Effects[full.Pre+(ev-w.From)-w.Len()]
			require.Equal(t, -w.Len()+(ev-w.From), e.Month)
			require.InDelta(t, yt/nt1, e.TreatedMean, 1e-12, "%s month %d", oi.name, ev)
			require.InDelta(t, yc/wc, e.ControlMean, 1e-12, "%s month %d", oi.name, ev)
			meanWin += e.ATT / float64(w.Len())
		}
		H := len(main.Effects) - 1
		did, lo, hi, _, ok := a.didAccumulated(oi.name)
		require.True(t, ok)
		require.InDelta(t, main.Effects[H].Accumulated-float64(H)*meanWin, did, 1e-12, oi.name)
		require.Less(t, lo, hi)
		pl := a.cred.placebo[oi.name]
		require.NotNil(t, pl)
		require.True(t, pl.WaldP >= 0 && pl.WaldP <= 1 && pl.SupTP >= 0 && pl.SupTP <= 1, "%+v", pl)
		require.GreaterOrEqual(t, a.cred.rosenbaum[oi.name].GammaStar, 1.0)
	}
	js := a.credibilityJSON()
	require.Equal(t, "-60..-49", js["window"])
	for _, oi := range outcomeInfo {
		o := js[oi.name].(map[string]any)
		for _, k := range []string{"placebo_p", "placebo_df", "placebo_supt_p", "did_accumulated", "did_monthly", "gamma_star"} {
			require.Contains(t, o, k, oi.name)
		}
		require.False(t, math.IsNaN(o["did_accumulated"].(map[string]any)["effect"].(float64)))
	}
}

// monthOf converts an event month to a calendar-month offset.
func monthOf(m int) panel.Month { return panel.Month(m) }

// -sensatt: the simulated confounder per outcome (psm.SimulatedConfounder,
// tested in psm) reaches the report's data and summary.json: its month
// is the horizon, its plain effect is the reported month-H effect, and
// the draws and odds ratios are there.
func TestCredibilitySimulatedConfounder(t *testing.T) {
	c := config{scale: 0.03, seed: 5, bootstrap: 19, workers: 2, out: t.TempDir(),
		scenario: "sfi", confounding: -1, noFigures: true, sensatt: "0.6,0.4,0.5,0.3", sensattDraws: 3}
	a := analyse(t, &c)
	require.NoError(t, a.credibilityChecks(context.Background()))
	js := a.credibilityJSON()
	for _, oi := range outcomeInfo {
		r := a.cred.confounder[oi.name]
		require.NotNil(t, r, oi.name)
		main := a.effects.Find(oi.name, "", "")
		H := len(main.Effects) - 1
		require.Equal(t, H, r.month)
		require.Equal(t, main.Effects[H].ATT, r.plain)
		require.Len(t, r.Draws, 3)
		require.False(t, math.IsNaN(r.ATT) || math.IsNaN(r.SE))
		sc := js[oi.name].(map[string]any)["simulated_confounder"].(map[string]any)
		require.Equal(t, 0.6, sc["p11"])
		require.Equal(t, 3, sc["draws"])
	}
}
