package panel

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// PreMonths = 5 reaches back to 2011-09, the first month of the tiny
// outcomes, for the first cohort (2012-02): every byte of months −5..H is
// the register indicator of calendar month Cohort+m, and months 0..H are
// the bytes of the panel without pre-months.
func TestPreMonths(t *testing.T) {
	r := tinyRegister(t)
	base, err := Build(context.Background(), r, tinyDesign(t))
	require.NoError(t, err)
	d := tinyDesign(t)
	d.PreMonths = 5
	d.FullHorizon = true
	p, err := Build(context.Background(), r, d)
	require.NoError(t, err)
	require.Equal(t, base.Len(), p.Len())
	d0 := tinyDesign(t)
	d0.FullHorizon = true
	full, err := Build(context.Background(), r, d0)
	require.NoError(t, err)
	for k := range p.Outcomes {
		e, f := &p.Outcomes[k], &full.Outcomes[k]
		reg := &r.Outcomes[regOutcome(r, e.Name)]
		require.Equal(t, 5, e.Pre)
		require.Equal(t, f.H, e.H)
		require.Len(t, e.Y, p.Len()*(5+e.H+1))
		for u := 0; u < p.Len(); u++ {
			row := e.Row(u)
			assert.Equal(t, f.Row(u), row[5:], "%s unit %d months 0..H", e.Name, u)
			for m := -5; m < 0; m++ {
				v, ok := reg.Get(int(p.Person[u]), p.Cohort[u]+Month(m))
				require.True(t, ok)
				want := 0.0
				if v {
					want = 1
				}
				assert.Equal(t, want, e.At(u, m), "%s unit %d month %d", e.Name, u, m)
			}
		}
	}
	// A (unit 0, cohort 2012-02) is employed only in 2012-03 and 2012-05:
	// months −5..−1 (2011-09..2012-01) are 0.
	assert.Equal(t, []uint8{0, 0, 0, 0, 0}, p.Outcome("emp").Row(0)[:5])
}

func TestPreMonthsErrors(t *testing.T) {
	r := tinyRegister(t)
	d := tinyDesign(t)
	d.PreMonths = 6 // 2011-08, before the first outcome month 2011-09
	_, err := Build(context.Background(), r, d)
	require.ErrorIs(t, err, ErrHorizon)
	require.ErrorIs(t, err, ErrDesign)
	var de *Error
	require.True(t, errors.As(err, &de))
	assert.Equal(t, "PreMonths", de.Option)
	assert.Contains(t, err.Error(), `outcome "emp" is observed from 2011-09, after 2011-08, 6 months before the first start month 2012-02`)

	d.PreMonths = -1
	_, err = Build(context.Background(), r, d)
	require.ErrorIs(t, err, ErrDesign)
	assert.Contains(t, err.Error(), "PreMonths")
}
