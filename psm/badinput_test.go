package psm

import (
	"context"
	"errors"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// Bad-input suite for package psm: the cases not already in
// TestFitLogitInputErrors, TestFitLogitArgs, TestFitLogitNoVariation,
// TestFitLogitSeparation, TestMatchErrors, TestATTErrors and
// TestBalanceHand (internal/badinput lists which test covers which item
// of the issue). Each case asserts the sentinel, the typed error with its
// column/row or argument/unit (*InputError), and
// a piece of the message.
func TestBadInputPSM(t *testing.T) {
	ctx := context.Background()
	x, y := lgSynth(1, 50, []float64{0, 1, -1})
	ones := func(n int, v float64) []float64 {
		s := make([]float64, n)
		for i := range s {
			s[i] = v
		}
		return s
	}
	fit := func(x *mat.Dense, y, w []float64, names []string) func() error {
		return func() error {
			f, err := FitLogit(ctx, x, y, w, names, nil)
			if err != nil && f != nil && !errors.Is(err, ErrSeparation) && !errors.Is(err, ErrNotConverged) {
				return errors.New("a *Logit returned with an input error")
			}
			return err
		}
	}
	fit2 := func(x *mat.Dense, y []float64, o *LogitOptions) func() error {
		return func() error { _, err := FitLogit(ctx, x, y, nil, nil, o); return err }
	}
	match := func(tr, co []float64, o *MatchOptions) func() error {
		return func() error {
			m, err := Match(tr, co, o)
			if err != nil && m != nil {
				return errors.New("a *Matching returned with an error")
			}
			return err
		}
	}
	// m: treated 0.5, 0.2; controls 0.4, 0.6, 0.45
	m, err := Match([]float64{0.5, 0.2}, []float64{0.4, 0.6, 0.45}, nil)
	require.NoError(t, err)
	ix, err := NewIndex([]float64{0.1, 0.2}, nil)
	require.NoError(t, err)
	nanW := ones(50, 1)
	nanW[3] = math.NaN()
	// biasAdj calls BiasAdjustedATT on m with control outcomes 1, 2, 3
	// (the first nc of them; control nan, if given, NaN)
	biasAdj := func(yt []float64, zt, zc *mat.Dense, m *Matching, o *BiasAdjustOptions, nc ...int) func() error {
		return func() error {
			yc := []float64{1, 2, 3}
			if len(nc) > 0 {
				yc = make([]float64, nc[0])
				for j := range yc {
					yc[j] = float64(j + 1)
				}
			}
			if len(nc) > 1 {
				yc[nc[1]] = math.NaN()
			}
			var ztm, zcm mat.Matrix
			if zt != nil {
				ztm = zt
			}
			if zc != nil {
				zcm = zc
			}
			_, err := BiasAdjustedATT(yt, yc, ztm, zcm, m, o)
			return err
		}
	}
	// noMatch: m restricted to no treated unit (as a subgroup without
	// matched treated)
	noMatch := *m
	noMatch.Matched = []bool{false, false}
	noMatch.MatchedWeight = []float64{0, 0}
	noMatch.NMatched = 0

	cases := []struct {
		name   string
		call   func() error
		is     error
		column string // *InputError column ("" = not checked)
		field  string // *InputError field ("" = not checked)
		row    int    // its row / index
		msg    string
	}{
		// FitLogit: mismatched lengths, NaN weights, all treated
		{"FitLogit nil x", fit(nil, y, nil, nil), ErrBadOption, "", "", 0, "x is nil"},
		{"FitLogit y shorter than x", fit(x, y[:49], nil, nil), ErrBadOption, "", "", 0, "y: length 49, want 50 (rows of x)"},
		{"FitLogit w longer than x", fit(x, y, ones(51, 1), nil), ErrBadOption, "", "", 0, "w: length 51, want 50 (rows of x)"},
		{"FitLogit too few names", fit(x, y, nil, []string{"a"}), ErrBadOption, "", "", 0, "names: length 1, want 2 (columns of x)"},
		{"FitLogit duplicate names", fit(x, y, nil, []string{"a", "a"}), ErrBadOption, "", "", 0, `columns 0 and 1 are both named "a"`},
		{"FitLogit a column named as the intercept", fit(x, y, nil, []string{"a", InterceptName}), ErrBadOption, "", "", 0, `column 1 is named "(Intercept)"`},
		{"FitLogit negative Workers", fit2(x, y, &LogitOptions{Workers: -1}), ErrBadOption, "", "", 0, "Workers: -1"},
		{"FitLogit NaN weight", fit(x, y, nanW, nil), ErrBadValue, "weight", "", 3, `column "weight" row 3: NaN`},
		{"FitLogit all units treated", fit(x, ones(50, 1), nil, nil), ErrNoVariation, "", "", 0, "50 treated and 0 controls"},
		{"FitLogit all weights zero", fit(x, y, ones(50, 0), nil), ErrNoVariation, "", "", 0, "0 treated and 0 controls among 0 units with positive weight"},

		// Match: weights, scores, options
		{"Match NaN control weight", match([]float64{0.5}, []float64{0.4, 0.6, 0.45}, &MatchOptions{ControlWeights: []float64{1, 1, math.NaN()}}),
			ErrBadWeight, "", "ControlWeights", 2, "want a finite weight >= 0"},
		{"Match Inf treated weight", match([]float64{0.5}, []float64{0.4}, &MatchOptions{TreatedWeights: []float64{math.Inf(1)}}),
			ErrBadWeight, "", "TreatedWeights", 0, "want a finite weight >= 0"},
		{"Match fractional weight without replacement", match([]float64{0.5}, []float64{0.4, 0.6}, &MatchOptions{NoReplacement: true, ControlWeights: []float64{0.5, 1}}),
			ErrBadWeight, "", "ControlWeights", 0, "whole-number weights"},
		{"Match K above the weighted number of controls", match([]float64{0.1}, []float64{0.2, 0.3}, &MatchOptions{K: 2, ControlWeights: []float64{0.5, 0.5}}),
			ErrTooFewControls, "", "K", -1, "K = 2 neighbours but the controls weigh 1 in total"},
		{"Match K above controls without replacement", match([]float64{0.1}, []float64{0.2}, &MatchOptions{K: 2, NoReplacement: true}),
			ErrTooFewControls, "", "K", -1, "K = 2"},
		{"Match LogitDistance score 0", match([]float64{0}, []float64{0.4}, &MatchOptions{Distance: LogitDistance}),
			ErrBadScore, "", "treated", 0, "(0, 1)"},
		{"Match -Inf treated score", match([]float64{math.Inf(-1)}, []float64{0.4}, nil),
			ErrBadScore, "", "treated", 0, "treated[0]"},
		{"Match unknown Distance", match([]float64{0.5}, []float64{0.4}, &MatchOptions{Distance: 7}),
			ErrBadOption, "", "Distance", -1, "unknown distance 7"},
		{"Match unknown TieRule", match([]float64{0.5}, []float64{0.4}, &MatchOptions{TieRule: 9}),
			ErrBadOption, "", "TieRule", -1, "unknown tie rule 9"},
		{"Match negative caliper", match([]float64{0.5}, []float64{0.4}, &MatchOptions{Caliper: -1}),
			ErrBadOption, "", "Caliper", -1, "want a finite value >= 0"},
		{"Match infinite caliper", match([]float64{0.5}, []float64{0.4}, &MatchOptions{Caliper: math.Inf(1)}),
			ErrBadOption, "", "Caliper", -1, "caliper +Inf"},
		{"Match control strata length", match([]float64{0.1}, []float64{0.2}, &MatchOptions{TreatedStrata: []int32{1}, ControlStrata: []int32{1, 2}}),
			ErrBadOption, "", "ControlStrata", -1, "length 2, want 1"},
		{"Match treated weights all zero", match([]float64{0.5}, []float64{0.4}, &MatchOptions{TreatedWeights: []float64{math.Copysign(0, -1)}}),
			ErrEmptyGroup, "", "TreatedWeights", -1, "all treated weights are 0"},

		// Index
		{"NewIndex NaN score", func() error { _, err := NewIndex([]float64{0.1, math.NaN()}, nil); return err },
			ErrBadScore, "", "control", 1, "score is not finite"},
		{"NewIndex no controls", func() error { _, err := NewIndex(nil, nil); return err },
			ErrEmptyGroup, "", "control", -1, "no control units"},
		{"Index.Match weights length", func() error {
			_, err := ix.Match([]float64{0.1}, &MatchOptions{ControlWeights: []float64{1}})
			return err
		},
			ErrBadOption, "", "ControlWeights", -1, "length 1, want 2"},
		{"Index.Match K above controls", func() error { _, err := ix.Match([]float64{0.1}, &MatchOptions{K: 3}); return err },
			ErrTooFewControls, "", "K", -1, "K = 3 neighbours but the controls weigh 2 in total"},
		{"Index.Match NaN treated score", func() error { _, err := ix.Match([]float64{math.NaN()}, nil); return err },
			ErrBadScore, "", "treated", 0, "score is not finite"},

		// Balance: mismatched shapes, non-finite values, no matching
		{"Balance control rows", func() error {
			_, err := Balance([]string{"a"}, mat.NewDense(2, 1, nil), mat.NewDense(2, 1, nil), m, nil)
			return err
		}, ErrBadOption, "", "control[a]", -1, "length 2, want 3 (one per control unit)"},
		{"Balance treated rows", func() error {
			_, err := Balance([]string{"a"}, mat.NewDense(3, 1, nil), mat.NewDense(3, 1, nil), m, nil)
			return err
		}, ErrBadOption, "", "treated[a]", -1, "length 3, want 2 (one per treated unit)"},
		{"Balance names vs columns", func() error {
			_, err := Balance([]string{"a", "b"}, mat.NewDense(2, 1, nil), mat.NewDense(3, 1, nil), m, nil)
			return err
		}, ErrBadOption, "", "treated", -1, "1 columns for 2 names"},
		{"Balance nil matching", func() error {
			_, err := Balance([]string{"a"}, mat.NewDense(2, 1, nil), mat.NewDense(3, 1, nil), nil, nil)
			return err
		}, ErrBadOption, "", "m", -1, "nil or empty Matching"},
		{"Balance Inf control value", func() error {
			_, err := balanceColumns([]string{"a"}, [][]float64{{1, 2}}, [][]float64{{1, math.Inf(1), 3}}, m, nil)
			return err
		}, ErrBadValue, "", "a", 1, "control value is not finite"},

		// ATT
		{"ATT nil matching", func() error { _, err := ATT([]float64{1, 2}, []float64{1, 2, 3}, nil, nil); return err },
			ErrBadOption, "", "m", -1, "nil or empty Matching"},
		{"ATT Inf treated outcome", func() error { _, err := ATT([]float64{math.Inf(1), 2}, []float64{1, 2, 3}, m, nil); return err },
			ErrBadValue, "", "yTreated", 0, "outcome of a matched treated unit is not finite"},

		// BiasAdjustedATT: Z shapes, non-finite covariates, too few treated
		{"BiasAdjustedATT zTreated rows", biasAdj([]float64{1, 2}, mat.NewDense(3, 1, nil), mat.NewDense(3, 1, nil), m, nil),
			ErrBadOption, "", "zTreated", -1, "3 rows, want 2 (one per treated unit)"},
		{"BiasAdjustedATT zControl rows", biasAdj([]float64{1, 2}, mat.NewDense(2, 1, nil), mat.NewDense(4, 1, nil), m, nil),
			ErrBadOption, "", "zControl", -1, "4 rows, want 3 (one per control unit)"},
		{"BiasAdjustedATT Z columns differ", biasAdj([]float64{1, 2}, mat.NewDense(2, 1, nil), mat.NewDense(3, 2, nil), m, nil),
			ErrBadOption, "", "zControl", -1, "2 columns, zTreated has 1"},
		{"BiasAdjustedATT nil Z", biasAdj([]float64{1, 2}, nil, mat.NewDense(3, 1, nil), m, nil),
			ErrBadOption, "", "Z", -1, "zTreated and zControl are required"},
		{"BiasAdjustedATT typed nil zControl", func() error {
			var zc *mat.Dense
			_, err := BiasAdjustedATT([]float64{1, 2}, []float64{1, 2, 3}, mat.NewDense(2, 1, nil), zc, m, nil)
			return err
		}, ErrBadOption, "", "Z", -1, "zTreated and zControl are required"},
		{"BiasAdjustedATT names", biasAdj([]float64{1, 2}, mat.NewDense(2, 1, nil), mat.NewDense(3, 1, nil), m, &BiasAdjustOptions{Names: []string{"a", "b"}}),
			ErrBadOption, "", "Names", -1, "2 names for 1 columns of Z"},
		{"BiasAdjustedATT NaN treated covariate", biasAdj([]float64{1, 2}, mat.NewDense(2, 2, []float64{0, 0, 0, math.NaN()}), mat.NewDense(3, 2, nil), m, &BiasAdjustOptions{Names: []string{"age", "re74"}}),
			ErrBadValue, "", "zTreated", 1, `covariate "re74" of a matched treated unit is not finite`},
		{"BiasAdjustedATT Inf control covariate", biasAdj([]float64{1, 2}, mat.NewDense(2, 1, nil), mat.NewDense(3, 1, []float64{0, 0, math.Inf(-1)}), m, nil),
			ErrBadValue, "", "zControl", 2, "covariate column 0 of a matched control is not finite"},
		{"BiasAdjustedATT more covariates than treated", biasAdj([]float64{1, 2}, mat.NewDense(2, 3, nil), mat.NewDense(3, 3, nil), m, nil),
			ErrBadOption, "", "Z", -1, "3 covariates but only 2 (weighted) matched treated units"},
		{"BiasAdjustedATT negative Tolerance", biasAdj([]float64{1, 2}, mat.NewDense(2, 1, nil), mat.NewDense(3, 1, nil), m, &BiasAdjustOptions{Tolerance: -1}),
			ErrBadOption, "", "Tolerance", -1, "want a finite value > 0"},
		{"BiasAdjustedATT yControl length", biasAdj([]float64{1, 2}, mat.NewDense(2, 1, nil), mat.NewDense(3, 1, nil), m, nil, 2),
			ErrBadOption, "", "yControl", -1, "length 2, want 3 (one per control unit)"},
		{"BiasAdjustedATT NaN control outcome", biasAdj([]float64{1, 2}, mat.NewDense(2, 1, nil), mat.NewDense(3, 1, nil), m, nil, 3, 0),
			ErrBadValue, "", "yControl", 0, "outcome of a matched control is not finite"},
		{"BiasAdjustedATT no controls", func() error {
			_, err := NewBiasAdjustEvaluator(mat.NewDense(2, 1, nil), mat.NewDense(3, 1, nil), &noMatch, nil)
			return err
		},
			ErrNoMatch, "", "", 0, "no treated unit could be matched"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = c.call() })
			require.Error(t, err)
			require.ErrorIs(t, err, c.is, "%v", err)
			assert.Contains(t, err.Error(), c.msg)
			if c.column != "" {
				var le *InputError
				require.ErrorAs(t, err, &le)
				assert.Equal(t, c.column, le.Field)
				assert.Equal(t, c.row, le.Index)
			}
			if c.field != "" {
				var me *InputError
				require.ErrorAs(t, err, &me)
				assert.Equal(t, c.field, me.Field)
				assert.Equal(t, c.row, me.Index)
			}
		})
	}
}

// TestBadInputAcceptedPSM documents inputs that are accepted, and what
// the API does with them.
func TestBadInputAcceptedPSM(t *testing.T) {
	ctx := context.Background()
	t.Run("single covariate value is aliased, not an error", func(t *testing.T) {
		// As R's glm: a constant column is collinear with the intercept,
		// reported in Aliased with NaN coefficient; the other
		// coefficients are those of the model without it.
		base, y := lgSynth(3, 300, []float64{-0.5, 1, -1})
		x := mat.NewDense(300, 3, nil)
		for i := 0; i < 300; i++ {
			x.SetRow(i, []float64{base.At(i, 0), 7, base.At(i, 1)})
		}
		f, err := FitLogit(ctx, x, y, nil, []string{"a", "c", "b"}, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"c"}, f.Aliased)
		assert.True(t, math.IsNaN(f.Coef[2]))
		ref, err := FitLogit(ctx, base, y, nil, []string{"a", "b"}, nil)
		require.NoError(t, err)
		for k, j := range []int{0, 1, 3} {
			assert.InDelta(t, ref.Coef[k], f.Coef[j], 1e-9*(1+math.Abs(ref.Coef[k])))
		}
	})
	t.Run("collinear dummies: the last is aliased", func(t *testing.T) {
		// all three dummies of a factor beside the intercept: R drops
		// the last one (g3); deviance as the model with g1, g2 only
		n := 90
		x := mat.NewDense(n, 3, nil)
		x2 := mat.NewDense(n, 2, nil)
		y := make([]float64, n)
		for i := 0; i < n; i++ {
			x.Set(i, i%3, 1)
			if i%3 < 2 {
				x2.Set(i, i%3, 1)
			}
			if (i*7)%5 < 2+i%3/2 {
				y[i] = 1
			}
		}
		f, err := FitLogit(ctx, x, y, nil, []string{"g1", "g2", "g3"}, nil)
		require.NoError(t, err)
		assert.Equal(t, []string{"g3"}, f.Aliased)
		assert.Equal(t, 3, f.Rank)
		ref, err := FitLogit(ctx, x2, y, nil, []string{"g1", "g2"}, nil)
		require.NoError(t, err)
		assert.InDelta(t, ref.Deviance, f.Deviance, 1e-9*ref.Deviance)
	})
	t.Run("non-integer frequency weights are accepted in FitLogit", func(t *testing.T) {
		// Policy: weights need not be whole numbers (as glm's prior
		// weights). Closed form: scaling every weight by c leaves the
		// coefficients unchanged and scales the standard errors by
		// 1/sqrt(c).
		x, y := lgSynth(1, 200, []float64{0, 1, -1})
		w := make([]float64, 200)
		for i := range w {
			w[i] = 0.5
		}
		// tight convergence: R's rule computes the standard errors from
		// the weights of the last iteration, which differ between fits
		// that stop at different iterations
		tight := &LogitOptions{Epsilon: 1e-15, MaxIter: 100}
		f1, err := FitLogit(ctx, x, y, nil, nil, tight)
		require.NoError(t, err)
		f2, err := FitLogit(ctx, x, y, w, nil, tight)
		require.NoError(t, err)
		for j := range f1.Coef {
			assert.InDelta(t, f1.Coef[j], f2.Coef[j], 1e-7*(1+math.Abs(f1.Coef[j])))
			assert.InDelta(t, f1.SE[j]*math.Sqrt2, f2.SE[j], 1e-7*f2.SE[j])
		}
	})
	t.Run("non-integer weights are fractional copies in Match with replacement", func(t *testing.T) {
		// treated 0.5; controls 0.4 (w .5, distance .1), 0.6 (w .25, .1),
		// 0.45 (w .5, .05). K = 1: the copies within .05 weigh .5 < 1,
		// within .1 they weigh 1.25 >= 1, so d_K = .1 and the set is all
		// three with weights w_j / 1.25 = .4, .2, .4 (hand computation).
		m, err := Match([]float64{0.5}, []float64{0.4, 0.6, 0.45}, &MatchOptions{ControlWeights: []float64{0.5, 0.25, 0.5}})
		require.NoError(t, err)
		assert.Equal(t, []int32{0, 2, 1}, m.Control)
		assert.InDeltaSlice(t, []float64{0.4, 0.4, 0.2}, m.Weight, 1e-15)
		assert.InDelta(t, 0.1, m.KthDistance[0], 1e-15)
	})
	t.Run("signed zeros and subnormals are ordinary scores", func(t *testing.T) {
		// -0 and +0 are at distance 0; the subnormal 5e-324 is farther
		m, err := Match([]float64{math.Copysign(0, -1)}, []float64{0, 5e-324, 0}, nil)
		require.NoError(t, err)
		assert.Equal(t, []int32{0, 2}, m.Control)
		assert.Equal(t, []float64{0.5, 0.5}, m.Weight)
		assert.Equal(t, 0.0, m.KthDistance[0])
	})
}
