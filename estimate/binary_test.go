package estimate

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// asBinary returns a copy of s whose outcomes are stored in EventOutcome.Binary
// (the compact form FromPanel uses) instead of Y.
func asBinary(t *testing.T, s *Sample) *Sample {
	b := *s
	b.Outcomes = nil
	for _, o := range s.Outcomes {
		bin := make([]uint8, len(o.Y))
		for i, v := range o.Y {
			switch v {
			case 0, 1:
				bin[i] = uint8(v)
			default:
				t.Fatalf("outcome %q value %v is not 0/1", o.Name, v)
			}
		}
		b.Outcomes = append(b.Outcomes, EventOutcome{Name: o.Name, H: o.H, Stride: o.Stride, Binary: bin})
	}
	return &b
}

// sameSeries requires equal series, bit for bit (%v prints the shortest
// representation that round-trips, and NaN equals NaN).
func sameSeries(t *testing.T, a, b []Series, what string) {
	require.Equal(t, fmt.Sprintf("%v", a), fmt.Sprintf("%v", b), what)
}

// TestBinaryOutcomesEqualFloat checks that every estimator gives the same
// bits on a 0/1 outcome stored as Binary bytes as on the same values
// stored as float64 Y (the reference: the float64 path).
func TestBinaryOutcomesEqualFloat(t *testing.T) {
	ctx := context.Background()
	s, x := synthSample(150, 900, 6, 3)
	b := asBinary(t, s)
	ms, err := psm.MatchUnits(x, s.Treated, nil)
	require.NoError(t, err)

	e1, err := Effects(s, ms, nil)
	require.NoError(t, err)
	e2, err := Effects(b, ms, nil)
	require.NoError(t, err)
	sameSeries(t, e1.Series, e2.Series, "Effects")

	a1, err := AbadieImbens(s, ms, nil)
	require.NoError(t, err)
	a2, err := AbadieImbens(b, ms, nil)
	require.NoError(t, err)
	sameSeries(t, a1.Series, a2.Series, "AbadieImbens")

	bo := &BootstrapOptions{Replicates: 30, Seed: 5}
	b1, err := Bootstrap(ctx, s, unitsFor(t, s, x, nil), bo)
	require.NoError(t, err)
	b2, err := Bootstrap(ctx, b, unitsFor(t, b, x, nil), bo)
	require.NoError(t, err)
	sameSeries(t, b1.Series, b2.Series, "Bootstrap")

	oo := &OtsuRaiOptions{Replicates: 30, Seed: 5}
	o1, err := OtsuRai(ctx, s, unitsFor(t, s, x, nil), oo)
	require.NoError(t, err)
	o2, err := OtsuRai(ctx, b, unitsFor(t, b, x, nil), oo)
	require.NoError(t, err)
	sameSeries(t, o1.Series, o2.Series, "OtsuRai")

	// a missing value inside the horizon is reported like a NaN
	b.Outcomes[0].Binary[ms.ControlUnits[ms.Control[0]]*(b.Outcomes[0].H+1)+2] = panel.Missing
	_, err = Effects(b, ms, nil)
	require.ErrorIs(t, err, ErrNaNOutcome)
	var oe *Error
	require.ErrorAs(t, err, &oe)
	require.True(t, oe.HasMonth)
	require.Equal(t, 2, oe.Month)
	require.Equal(t, ms.ControlUnits[ms.Control[0]], oe.Unit)

	// exactly one of Y and Binary
	b.Outcomes[0].Y = s.Outcomes[0].Y
	_, err = Effects(b, ms, nil)
	require.ErrorIs(t, err, ErrInvalid)
	require.ErrorContains(t, err, "exactly one of Y and Binary")
}
