package synth

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// WindowFraction thins the window starters only: every person it keeps has
// exactly the data it has without thinning (its draw comes from a stream
// of its own), every person outside the window is kept as before, the
// number of window starters kept is Binomial(n, WindowFraction) (checked
// at 4 standard errors), and the result is the same for any Workers.
func TestWindowFraction(t *testing.T) {
	const wf = 0.3
	base := Options{Scale: 0.02, Seed: 9, ControlFraction: 0.05, Effect: LockIn(-0.05, 6, 6)}
	a := gen(t, base)
	o := base
	o.WindowFraction = wf
	o.Workers = 1
	b := gen(t, o)
	o.Workers = 3
	b3 := gen(t, o)
	require.Equal(t, b.Register, b3.Register, "same bits for any Workers")
	require.Equal(t, b.Untreated, b3.Untreated)
	assert.Equal(t, wf, b.Options.WindowFraction)

	inWindow := func(p *Population, i int) bool {
		d := p.FirstStart[i]
		return d != NoStart && d >= windowFirst && d <= windowLast
	}
	rowOf := map[int64]int{}
	for i, id := range a.Register.IDs {
		rowOf[id] = i
	}
	spellsOf := func(p *Population) map[int64][][3]float64 {
		m := map[int64][][3]float64{}
		for _, s := range p.Register.Spells {
			id := p.Register.IDs[s.Person]
			m[id] = append(m[id], [3]float64{float64(s.Start), float64(s.End), float64(s.Hours)})
		}
		return m
	}
	sa, sb := spellsOf(a), spellsOf(b)
	nWindowA, nWindowB, nOutA, nOutB := 0, 0, 0, 0
	for i := range a.Register.IDs {
		if inWindow(a, i) {
			nWindowA++
		} else {
			nOutA++
		}
	}
	ra, rb := &a.Register, &b.Register
	for j, id := range rb.IDs {
		i, ok := rowOf[id]
		require.True(t, ok, "person id %d kept with WindowFraction but not without", id)
		require.Equal(t, a.FirstStart[i], b.FirstStart[j], "id %d", id)
		require.Equal(t, ra.Birth[i], rb.Birth[j], "id %d", id)
		require.Equal(t, ra.Status.Row(i), rb.Status.Row(j), "id %d", id)
		require.Equal(t, a.U[i], b.U[j], "id %d", id)
		for k := range ra.Attrs {
			if ra.Attrs[k].Codes != nil {
				require.Equal(t, ra.Attrs[k].Codes[i], rb.Attrs[k].Codes[j], "id %d %s", id, ra.Attrs[k].Name)
			} else {
				require.Equal(t, ra.Attrs[k].Values[i], rb.Attrs[k].Values[j], "id %d %s", id, ra.Attrs[k].Name)
			}
		}
		for k := range ra.Outcomes {
			w := ra.Outcomes[k].Words()
			require.Equal(t, ra.Outcomes[k].Bits[i*w:(i+1)*w], rb.Outcomes[k].Bits[j*w:(j+1)*w], "id %d %s", id, ra.Outcomes[k].Name)
		}
		require.Equal(t, sa[id], sb[id], "spells of id %d", id)
		if inWindow(b, j) {
			nWindowB++
		} else {
			nOutB++
		}
	}
	assert.Equal(t, nOutA, nOutB, "persons outside the window are all kept")
	require.Greater(t, nWindowA, 50)
	mean, sd := wf*float64(nWindowA), math.Sqrt(wf*(1-wf)*float64(nWindowA))
	assert.InDelta(t, mean, float64(nWindowB), 4*sd, "window starters kept: %d of %d", nWindowB, nWindowA)

	// 1 is the zero value's behaviour.
	o = base
	o.WindowFraction = 1
	one := gen(t, o)
	require.Equal(t, a.Register, one.Register)
}

func TestWindowFractionErrors(t *testing.T) {
	for _, v := range []float64{-0.1, 1.5, math.NaN()} {
		_, err := Generate(context.Background(), &Options{Scale: 0.001, WindowFraction: v})
		require.Error(t, err, "%v", v)
		assert.Contains(t, err.Error(), "WindowFraction")
	}
}
