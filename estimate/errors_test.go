package estimate

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/psm"
)

// TestErrorFields checks the fields of *Error (the message is checked by
// TestBadInputEstimate): the option or argument, the unit and its person,
// the value, the sentinel and the cause from package psm.
func TestErrorFields(t *testing.T) {
	ctx := context.Background()
	biasAdj := func(z *mat.Dense) error {
		s, x := tinySample()
		m, err := psm.MatchUnits(x, s.Treated, nil)
		require.NoError(t, err)
		_, err = BiasAdjusted(s, m, z, nil)
		return err
	}
	nan := math.NaN()
	cases := []struct {
		name   string
		err    error
		want   Error // Value NaN is compared as NaN
		causes []error
	}{
		{"option", func() error {
			s, x := tinySample()
			um := unitsFor(t, s, x, nil)
			um.Options.Match.K = 4 // changed after matching
			_, err := Bootstrap(ctx, s, um, &BootstrapOptions{Replicates: 5})
			return err
		}(), Error{Field: "psm.MatchOptions.K", Unit: -1, Person: -1, Err: ErrInvalid}, nil},
		{"OtsuRai names its options", func() error {
			s, x := tinySample()
			_, err := OtsuRai(ctx, s, unitsFor(t, s, x, nil), &OtsuRaiOptions{Replicates: 1})
			return err
		}(), Error{Field: "OtsuRaiOptions.Replicates", Unit: -1, Person: -1, Err: ErrInvalid}, nil},
		{"score of a unit", func() error {
			s, x := tinySample()
			x[2] = nan
			_, err := matchUnits(s, x, nil)
			return err
		}(), Error{Field: "scores", Unit: 2, Person: 20, Value: nan, Err: ErrInvalid}, nil},
		{"subgroup code of a unit", func() error {
			s, _ := tinySample()
			s.Subgroups[0].Code[1] = 2
			_, err := effects(s, tinyMatches(), nil)
			return err
		}(), Error{Field: `subgroup "sex"`, Unit: 1, Person: 11, Value: 2, Err: ErrInvalid}, nil},
		{"weight of a control", func() error {
			s, _ := tinySample()
			m := tinyMatches()
			m.Weight[2] = -1
			_, err := effects(s, m, nil)
			return err
		}(), Error{Field: "sets.Weight[2]", Unit: 4, Person: 22, Value: -1, Err: ErrInvalid}, nil},
		{"NaN outcome", func() error {
			s, _ := tinySample()
			s.Outcomes[0].Y[4*3+2] = math.Inf(-1)
			_, err := effects(s, tinyMatches(), nil)
			return err
		}(), Error{Field: `outcome "emp"`, Unit: 4, Person: 22, Month: 2, HasMonth: true, Value: math.Inf(-1), Err: ErrNaNOutcome}, nil},
		{"no matches", func() error {
			s, _ := tinySample()
			_, err := effects(s, &matchSets{Treated: []int32{0, 1}, Start: []int{0, 0, 0}}, nil)
			return err
		}(), Error{Unit: -1, Person: -1, Err: ErrNoMatches}, nil},
		{"Gamma grid", func() error { return CheckGammas([]float64{1, 0.5}) }(),
			Error{Field: "RosenbaumOptions.Gammas", Unit: -1, Person: -1, Value: 0.5, Err: ErrInvalid}, nil},
		{"covariate of a unit rejected by psm", biasAdj(mat.NewDense(5, 1, []float64{1, 2, 3, nan, 5})),
			Error{Field: "z", Unit: 3, Person: 21, Value: nan, Err: ErrInvalid}, []error{psm.ErrBadValue}},
		{"option rejected by psm", biasAdj(mat.NewDense(5, 2, []float64{1, 0, 2, 1, 3, 0, 4, 1, 5, 1})),
			Error{Unit: -1, Person: -1, Err: ErrInvalid}, []error{psm.ErrBadOption}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			require.Error(t, c.err)
			var e *Error
			require.ErrorAs(t, c.err, &e)
			assert.Same(t, c.err.(*Error), e, "returned as an *Error, not wrapped")
			assert.True(t, strings.HasPrefix(c.err.Error(), "estimate: "), c.err.Error())
			assert.Equal(t, c.want.Field, e.Field)
			assert.Equal(t, c.want.Unit, e.Unit)
			assert.Equal(t, c.want.Person, e.Person)
			assert.Equal(t, c.want.HasMonth, e.HasMonth)
			assert.Equal(t, c.want.Month, e.Month)
			if math.IsNaN(c.want.Value) {
				assert.True(t, math.IsNaN(e.Value), "value %v", e.Value)
			} else {
				assert.Equal(t, c.want.Value, e.Value)
			}
			assert.Equal(t, c.want.Err, e.Err)
			require.ErrorIs(t, c.err, c.want.Err)
			assert.NotEmpty(t, e.Msg)
			if c.causes == nil {
				assert.Nil(t, e.Cause)
			}
			for _, cause := range c.causes {
				require.ErrorIs(t, c.err, cause)
				assert.Contains(t, c.err.Error(), cause.Error())
			}
		})
	}

	// a psm.InputError stays reachable with errors.As through Cause
	err := cases[len(cases)-1].err
	var pe *psm.InputError
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, psm.ErrBadOption, pe.Err)
	// the sentinels are distinct kinds
	assert.False(t, errors.Is(cases[0].err, ErrNaNOutcome))
	assert.False(t, errors.Is(cases[5].err, ErrInvalid))
}
