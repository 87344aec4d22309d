package estimate

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/psm"
)

// Bad-input suite for package estimate: the cases not already
// in TestEffectsBadInput, TestEffectsNaNOutcome, TestBootstrapOptionErrors
// and TestBootstrapRefitErrors (internal/badinput lists which test covers
// which item of the issue), here with the message asserted too. Errors of
// this package are *Error values wrapping ErrInvalid (input), ErrNoMatches
// or ErrNaNOutcome (Field names the outcome; Unit, Person, Month and Value
// say where).
func TestBadInputEstimate(t *testing.T) {
	ctx := context.Background()
	// tinySample: treated units 0, 1 (persons 10, 11); controls 2, 3, 4
	// (persons 20, 21, 22); scores .5, 1, .25, .75, 1.125; H = 2
	type mod func(s *Sample, m *matchSets, x *[]float64)
	effects := func(f mod) func() error {
		return func() error {
			s, x := tinySample()
			m := tinyMatches()
			f(s, m, &x)
			r, err := effects(s, m, nil)
			if err != nil && r != nil {
				return errors.New("a Result returned with an error")
			}
			return err
		}
	}
	// units matches tinySample with the default rule, then sets the rule
	// the replicates re-match by to rule (nil: unchanged), so that an
	// invalid rule reaches the estimator.
	units := func(s *Sample, x []float64, rule *matchRule) (*psm.UnitMatching, error) {
		um, err := psm.MatchUnits(x, s.Treated, nil)
		if err != nil || rule == nil {
			return um, err
		}
		um.Options.Match = psm.MatchOptions{K: rule.K, Caliper: rule.Caliper, TieTolerance: rule.TieTolerance, Trim: rule.Trim, Distance: rule.distance}
		um.Options.Strata = rule.Strata
		return um, nil
	}
	bootstrap := func(f mod, o *BootstrapOptions, rule *matchRule) func() error {
		return func() error {
			s, x := tinySample()
			um, err := units(s, x, rule)
			if err != nil {
				return err
			}
			f(s, nil, &um.Scores)
			if o == nil {
				o = &BootstrapOptions{}
			}
			o.Replicates = 5
			_, err = Bootstrap(ctx, s, um, o)
			return err
		}
	}
	otsuRai := func(f mod, o *OtsuRaiOptions, rule *matchRule) func() error {
		return func() error {
			s, x := tinySample()
			um, err := units(s, x, rule)
			if err != nil {
				return err
			}
			f(s, nil, &um.Scores)
			if o == nil {
				o = &OtsuRaiOptions{}
			}
			o.Replicates = 5
			_, err = OtsuRai(ctx, s, um, o)
			return err
		}
	}
	// fromPSM matches scores with treated flags that need not be
	// tinySample's and calls call on tinySample with the result.
	fromPSM := func(x []float64, treated []bool, o *psm.UnitOptions, call func(s *Sample, m *psm.UnitMatching) error) func() error {
		return func() error {
			s, _ := tinySample()
			m, err := psm.MatchUnits(x, treated, o)
			if err != nil {
				return err
			}
			return call(s, m)
		}
	}
	rosenbaum := func(f mod, w Window, o *RosenbaumOptions) func() error {
		return func() error {
			s, x := tinySample()
			m := tinyMatches()
			f(s, m, &x)
			r, err := rosenbaum(s, m, w, o)
			if err != nil && r != nil {
				return errors.New("a RosenbaumResult returned with an error")
			}
			return err
		}
	}
	month1 := Window{Outcome: "emp", Kind: WindowMonth, From: 1}
	asEffects := func(s *Sample, m *psm.UnitMatching) error { _, err := Effects(s, m, nil); return err }
	asAI := func(s *Sample, m *psm.UnitMatching) error { _, err := AbadieImbens(s, m, nil); return err }
	asOtsuRai := func(s *Sample, m *psm.UnitMatching) error {
		_, err := OtsuRai(ctx, s, m, &OtsuRaiOptions{Replicates: 5})
		return err
	}
	none := func(*Sample, *matchSets, *[]float64) {}
	// biasAdj calls BiasAdjusted on tinySample matched on its scores
	// with covariates z (5 units × columns)
	biasAdj := func(z *mat.Dense, o *BiasAdjustedOptions) func() error {
		return func() error {
			s, x := tinySample()
			m, err := psm.MatchUnits(x, s.Treated, nil)
			if err != nil {
				return err
			}
			if z == nil {
				_, err = BiasAdjusted(s, m, nil, o)
			} else {
				_, err = BiasAdjusted(s, m, z, o)
			}
			return err
		}
	}
	zNaN := mat.NewDense(5, 1, []float64{1, 2, 3, nan, 5})
	nan := math.NaN()

	cases := []struct {
		name string
		call func() error
		is   error
		oe   *Error // expected *Error fields of an ErrNaNOutcome, or nil
		msg  string
	}{
		// nil and empty inputs
		{"Effects nil matching", func() error { s, _ := tinySample(); _, err := Effects(s, nil, nil); return err }, ErrInvalid, nil, "needs a Sample and a psm.UnitMatching (got nil)"},
		{"Effects nil Sample", func() error { _, err := Effects(nil, &psm.UnitMatching{}, nil); return err }, ErrInvalid, nil, "needs a Sample and a psm.UnitMatching (got nil)"},
		{"Bootstrap nil Sample", func() error { _, err := Bootstrap(ctx, nil, nil, nil); return err }, ErrInvalid, nil, "invalid input: Sample: needs a Sample and a psm.UnitMatching (got nil)"},
		{"AbadieImbens nil Matching", func() error { s, _ := tinySample(); _, err := AbadieImbens(s, nil, nil); return err }, ErrInvalid, nil, "got nil"},
		{"sample without units", effects(func(s *Sample, _ *matchSets, _ *[]float64) { *s = Sample{Outcomes: s.Outcomes} }), ErrInvalid, nil, "sample has no units"},
		// mismatched slice lengths in the Sample
		{"Person shorter than units", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Person = s.Person[:2] }), ErrInvalid, nil, "Sample.Person: 2 entries for 5 units"},
		{"outcome matrix too short", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].Y = s.Outcomes[0].Y[:14] }), ErrInvalid, nil, `outcome "emp": Y has 14 values, want units × stride = 5 × 3`},
		{"horizon beyond the outcome matrix", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].H = 4 }), ErrInvalid, nil, `outcome "emp": Y has 15 values, want units × stride = 5 × 5`},
		{"stride below the horizon", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].Stride = 2 }), ErrInvalid, nil, `outcome "emp": Stride 2 < H+1 = 3`},
		{"negative horizon", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].H = -1 }), ErrInvalid, nil, "horizon H = -1 < 0"},
		{"Y and Binary both set", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].Binary = make([]uint8, 15) }), ErrInvalid, nil, "set exactly one of Y and Binary"},
		{"no outcomes", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes = nil }), ErrInvalid, nil, "sample has no outcomes"},
		{"duplicate outcome name", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes = append(s.Outcomes, s.Outcomes[0]) }), ErrInvalid, nil, `duplicate outcome name "emp"`},
		{"subgroup codes too short", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Subgroups[0].Code = s.Subgroups[0].Code[:4] }), ErrInvalid, nil, `subgroup "sex": Code has 4 entries for 5 units`},
		{"subgroup code without a level", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Subgroups[0].Code[1] = 2 }), ErrInvalid, nil, `subgroup "sex", unit 1 (person 11): code 2 but only 2 levels`},
		// mismatched Matches
		{"sets.Start too short", effects(func(_ *Sample, m *matchSets, _ *[]float64) { m.Start = m.Start[:2] }), ErrInvalid, nil, "sets.Start: 2 entries for 2 treated"},
		{"sets.Start beyond the controls", effects(func(_ *Sample, m *matchSets, _ *[]float64) { m.Start[1] = 4 }), ErrInvalid, nil, "sets.Start[1], unit 0 (person 10): 4 is beyond the 3 controls"},
		{"Matches names a control as treated", effects(func(_ *Sample, m *matchSets, _ *[]float64) { m.Treated[0] = 2 }), ErrInvalid, nil, "sets.Treated[0], unit 2 (person 20): not a treated unit"},
		{"Matches names a treated unit as control", effects(func(_ *Sample, m *matchSets, _ *[]float64) { m.Control[2] = 0 }), ErrInvalid, nil, "sets.Control[2], unit 1 (person 11): treated unit matched to unit 0, which is not a control"},
		{"Matches NaN set weight", effects(func(_ *Sample, m *matchSets, _ *[]float64) { m.Weight[0] = nan }), ErrInvalid, nil, "sets.Weight[0], unit 2 (person 20): weight NaN of this control in the set of treated unit 0"},
		{"Matches set weights not summing to 1", effects(func(_ *Sample, m *matchSets, _ *[]float64) { m.Weight[1] = 0.3 }), ErrInvalid, nil, "sets.Weight, unit 0 (person 10): weights of the set of this treated unit sum to 0.8, not 1"},
		// NaN outcomes inside the horizon (policy: an error naming the
		// outcome, unit, person and event month; NaN beyond H is allowed,
		// see TestBadInputHorizonPolicy)
		{"NaN outcome of a treated unit", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].Y[0*3+2] = nan }), ErrNaNOutcome,
			&Error{Field: `outcome "emp"`, Unit: 0, Person: 10, Month: 2}, `NaN or infinite outcome inside the horizon: outcome "emp", unit 0 (person 10), event month 2: value NaN`},
		{"Inf outcome of a matched control", effects(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].Y[4*3+1] = math.Inf(1) }), ErrNaNOutcome,
			&Error{Field: `outcome "emp"`, Unit: 4, Person: 22, Month: 1, Value: math.Inf(1)}, `outcome "emp", unit 4 (person 22), event month 1: value +Inf`},
		{"NaN outcome of a matched control in the bootstrap", bootstrap(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].Y[4*3+1] = nan }, nil, nil), ErrNaNOutcome,
			&Error{Field: `outcome "emp"`, Unit: 4, Person: 22, Month: 1}, "unit 4 (person 22), event month 1: value NaN"},
		{"NaN outcome in Otsu-Rai", otsuRai(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].Y[3*3+0] = nan }, nil, nil), ErrNaNOutcome,
			&Error{Field: `outcome "emp"`, Unit: 3, Person: 21, Month: 0}, "unit 3 (person 21), event month 0: value NaN"},
		// scores
		{"Bootstrap scores shorter than units", bootstrap(func(_ *Sample, _ *matchSets, x *[]float64) { *x = (*x)[:2] }, nil, nil), ErrInvalid, nil, "2 scores for 5 units"},
		{"Bootstrap NaN score", bootstrap(func(_ *Sample, _ *matchSets, x *[]float64) { (*x)[2] = nan }, nil, nil), ErrInvalid, nil, "scores, unit 2 (person 20): score NaN is not finite"},
		{"Otsu-Rai Inf score", otsuRai(func(_ *Sample, _ *matchSets, x *[]float64) { (*x)[4] = math.Inf(-1) }, nil, nil), ErrInvalid, nil, "scores, unit 4 (person 22): score -Inf is not finite"},
		{"MatchUnits scores longer than units", func() error { s, x := tinySample(); _, err := matchUnits(s, append(x, 0), nil); return err }, ErrInvalid, nil, "6 scores for 5 units"},
		{"re-fitted scores of the wrong length", bootstrap(none, &BootstrapOptions{Refit: func(context.Context, []float64) ([]float64, error) { return []float64{1, 2}, nil }}, nil),
			ErrInvalid, nil, "refit returned 2 scores for 5 units"},
		{"re-fitted NaN score", bootstrap(none, &BootstrapOptions{Refit: func(context.Context, []float64) ([]float64, error) { return []float64{.5, nan, .25, .75, 1}, nil }}, nil),
			ErrInvalid, nil, "BootstrapOptions.Refit, unit 1 (person 11): replicate 0: refitted score NaN is not finite"},
		// matching rule: k, caliper, strata, all treated
		{"K larger than the number of controls", bootstrap(none, nil, &matchRule{K: 4}), ErrInvalid, nil, "psm.MatchOptions.K: 4 neighbours, but the sample has 3 control units"},
		{"MatchUnits K larger than the number of controls", func() error { s, x := tinySample(); _, err := matchUnits(s, x, &matchRule{K: 5}); return err },
			ErrInvalid, nil, "psm.MatchOptions.K: 5 neighbours"},
		{"caliper that leaves no match", bootstrap(none, nil, &matchRule{Caliper: 0.01}), ErrNoMatches, nil, "2 treated and 3 control units; no treated unit has a match set"},
		{"Otsu-Rai caliper that leaves no match", otsuRai(none, nil, &matchRule{Caliper: 0.01}), ErrNoMatches, nil, "no treated unit has a match set"},
		{"all units treated", bootstrap(func(s *Sample, _ *matchSets, _ *[]float64) { s.Treated = []bool{true, true, true, true, true} }, nil, nil),
			ErrInvalid, nil, "psm.UnitMatching: its 2 treated and 3 control units are not the sample's 5 and 0 (another sample?)"},
		{"no treated units", otsuRai(func(s *Sample, _ *matchSets, _ *[]float64) { s.Treated = make([]bool, 5) }, nil, nil),
			ErrInvalid, nil, "psm.UnitMatching: its 2 treated and 3 control units are not the sample's 0 and 5 (another sample?)"},
		{"strata of the wrong length", bootstrap(none, nil, &matchRule{Strata: []int32{1, 2}}), ErrInvalid, nil, "psm.UnitOptions.Strata: 2 entries for 5 units"},
		{"negative caliper", bootstrap(none, nil, &matchRule{Caliper: -1}), ErrInvalid, nil, "psm.MatchOptions.Caliper: -1, want >= 0"},
		{"NaN tie tolerance", bootstrap(none, nil, &matchRule{TieTolerance: nan}), ErrInvalid, nil, "psm.MatchOptions.TieTolerance: NaN, want >= 0"},
		// options
		{"Level outside (0,1)", bootstrap(none, &BootstrapOptions{Level: 1.5}, nil), ErrInvalid, nil, "BootstrapOptions.Level: 1.5, want 0 < Level < 1"},
		{"unknown Scheme", bootstrap(none, &BootstrapOptions{Scheme: 7}, nil), ErrInvalid, nil, "BootstrapOptions.Scheme: unknown scheme 7"},
		{"Otsu-Rai negative Neighbours", otsuRai(none, &OtsuRaiOptions{Neighbours: -1}, nil), ErrInvalid, nil, "OtsuRaiOptions.Neighbours: -1, want >= 0"},
		{"subgroup breaks not ascending", func() error { _, err := SubgroupsByBreaks("age", []float64{1, 2}, []float64{30, 30}); return err },
			ErrInvalid, nil, `subgroup "age": breaks not strictly ascending at 1`},
		// a psm.Matching of another sample, or in the wrong form
		{"Matching with fewer treated than the sample", fromPSM([]float64{0.5, 1, 0.25, 0.75, 1.125}, []bool{true, false, false, false, false}, nil, asEffects),
			ErrInvalid, nil, "psm.UnitMatching: its 1 treated and 4 control units are not the sample's 2 and 3 (another sample?)"},
		{"Matching with fewer controls than the sample", fromPSM([]float64{0.5, 1, 0.25, 0.75}, []bool{true, true, false, false}, nil, asEffects),
			ErrInvalid, nil, "psm.UnitMatching: its 2 treated and 2 control units are not the sample's 2 and 3 (another sample?)"},
		{"AbadieImbens with another sample's Matching", fromPSM([]float64{0.5, 1, 0.25, 0.75, 1.125, 2}, []bool{true, true, false, false, false, false}, nil, asAI),
			ErrInvalid, nil, "psm.UnitMatching: its 2 treated and 4 control units are not the sample's 2 and 3"},
		{"Matching without sets", fromPSM([]float64{0.5, 1, 0.25, 0.75, 1.125}, []bool{true, true, false, false, false}, &psm.UnitOptions{Match: psm.MatchOptions{SkipSets: true}}, asEffects),
			ErrInvalid, nil, "psm.UnitMatching: no match sets (MatchOptions.SkipSets)"},
		{"Otsu-Rai of a matching without replacement", fromPSM([]float64{0.5, 1, 0.25, 0.75, 1.125}, []bool{true, true, false, false, false}, &psm.UnitOptions{Match: psm.MatchOptions{NoReplacement: true}}, asOtsuRai),
			ErrInvalid, nil, "psm.MatchOptions.NoReplacement: the Otsu-Rai linear form is that of matching with replacement"},
		{"BiasAdjusted nil z", biasAdj(nil, nil), ErrInvalid, nil, "needs the covariates z (got nil)"},
		{"BiasAdjusted z rows", biasAdj(mat.NewDense(4, 1, nil), nil), ErrInvalid, nil, "z: 4 rows for 5 units"},
		{"BiasAdjusted NaN covariate of a matched control", biasAdj(zNaN, &BiasAdjustedOptions{Names: []string{"age"}}),
			psm.ErrBadValue, nil, `z, unit 3 (person 21): covariate "age" of a matched control is not finite (NaN): psm: invalid value`},
		{"BiasAdjusted more covariates than a subgroup's treated", biasAdj(mat.NewDense(5, 2, []float64{1, 0, 2, 1, 3, 0, 4, 1, 5, 1}), nil),
			ErrInvalid, nil, "bias adjustment (sex = 0): psm: invalid option: Z: 2 covariates but only 1 (weighted) matched treated units"},
		{"BiasAdjusted Level", biasAdj(mat.NewDense(5, 1, nil), &BiasAdjustedOptions{Level: 1.5}), ErrInvalid, nil, "BiasAdjustedOptions.Level: 1.5, want 0 < Level < 1"},
		{"BiasAdjusted negative Tolerance", biasAdj(mat.NewDense(5, 1, nil), &BiasAdjustedOptions{Tolerance: -1}), psm.ErrBadOption, nil, "Tolerance: -1; want a finite value > 0"},
		// Rosenbaum bounds: options, windows, match sets, plain inputs
		{"Rosenbaum Gamma below 1", rosenbaum(none, month1, &RosenbaumOptions{Gammas: []float64{0.5, 1, 2}}), ErrInvalid, nil, "Gamma 0.5 (grid entry 0) is below 1"},
		{"Rosenbaum empty Gamma grid", rosenbaum(none, month1, &RosenbaumOptions{Gammas: []float64{}}), ErrInvalid, nil, "RosenbaumOptions.Gammas: empty grid"},
		{"Rosenbaum Gamma grid not increasing", rosenbaum(none, month1, &RosenbaumOptions{Gammas: []float64{1, 2, 2}}), ErrInvalid, nil, "Gamma grid not strictly increasing at entry 2 (2 after 2)"},
		{"Rosenbaum NaN Gamma", rosenbaum(none, month1, &RosenbaumOptions{Gammas: []float64{1, nan}}), ErrInvalid, nil, "Gamma NaN (grid entry 1) is not finite"},
		{"Rosenbaum Level outside (0,1)", rosenbaum(none, month1, &RosenbaumOptions{Level: 1}), ErrInvalid, nil, "RosenbaumOptions.Level: 1, want 0 < Level < 1"},
		{"Rosenbaum negative ExactMax", rosenbaum(none, month1, &RosenbaumOptions{ExactMax: -1}), ErrInvalid, nil, "RosenbaumOptions.ExactMax: -1, want >= 0"},
		{"Rosenbaum unknown Alternative", rosenbaum(none, month1, &RosenbaumOptions{Alternative: 7}), ErrInvalid, nil, "unknown Alternative 7"},
		{"Rosenbaum window beyond the horizon", rosenbaum(none, Window{Outcome: "emp", Kind: WindowSum, From: 1, To: 3}, nil), ErrInvalid, nil,
			`window 1..3 of outcome "emp" is outside its horizon 0..2`},
		{"Rosenbaum window before month 0", rosenbaum(none, Window{Outcome: "emp", Kind: WindowMonth, From: -1}, nil), ErrInvalid, nil,
			`window -1..-1 of outcome "emp" is outside its horizon 0..2`},
		{"Rosenbaum empty window", rosenbaum(none, Window{Outcome: "emp", Kind: WindowEver, From: 2, To: 1}, nil), ErrInvalid, nil, `window 2..1 of outcome "emp" is empty (To < From)`},
		{"Rosenbaum unknown outcome", rosenbaum(none, Window{Outcome: "wage"}, nil), ErrInvalid, nil, `Window.Outcome: no outcome "wage" in the sample`},
		{"Rosenbaum unknown WindowKind", rosenbaum(none, Window{Outcome: "emp", Kind: 9}, nil), ErrInvalid, nil, "unknown WindowKind 9"},
		{"Rosenbaum nil Matches", func() error { s, _ := tinySample(); _, err := Rosenbaum(s, nil, month1, nil); return err }, ErrInvalid, nil, "Rosenbaum needs a Sample and a psm.UnitMatching (got nil)"},
		{"Rosenbaum unequal weights in a set", rosenbaum(func(_ *Sample, m *matchSets, _ *[]float64) { m.Weight[0], m.Weight[1] = 0.25, 0.75 }, month1, nil), ErrInvalid, nil,
			"sets.Weight, unit 0 (person 10): the controls of this treated unit have unequal weights (0.25, 0.75)"},
		{"Rosenbaum NaN outcome in the window", rosenbaum(func(s *Sample, _ *matchSets, _ *[]float64) { s.Outcomes[0].Y[3*3+1] = nan }, month1, nil), ErrNaNOutcome,
			&Error{Field: `outcome "emp"`, Unit: 3, Person: 21, Month: 1}, "unit 3 (person 21), event month 1: value NaN"},
		{"Rosenbaum no matched treated unit", rosenbaum(func(_ *Sample, m *matchSets, _ *[]float64) {
			*m = matchSets{Treated: []int32{0, 1}, Start: []int{0, 0, 0}}
		}, month1, nil),
			ErrNoMatches, nil, "no treated unit has a match set"},
		{"RosenbaumSignedRank lengths differ", func() error { _, err := RosenbaumSignedRank([]float64{1, 2}, []float64{1}, nil); return err }, ErrInvalid, nil,
			"control: 2 treated and 1 control outcomes"},
		{"RosenbaumSignedRank Inf outcome", func() error {
			_, err := RosenbaumSignedRank([]float64{1, math.Inf(1)}, []float64{1, 0}, nil)
			return err
		}, ErrInvalid, nil,
			"pair 1 has the outcomes +Inf and 0"},
		{"RosenbaumBinary outcome not 0/1", func() error {
			_, err := RosenbaumBinary([]MatchedSet{{1, []float64{0}}, {2, []float64{1}}}, nil)
			return err
		}, ErrInvalid, nil,
			"matched set 1 has the outcome 2, want 0 or 1"},
		{"RosenbaumMeanDiff set without controls", func() error { _, err := RosenbaumMeanDiff([]MatchedSet{{1, []float64{0}}, {2, nil}}, nil); return err }, ErrInvalid, nil,
			"matched set 1 has no controls"},
		{"RosenbaumSets no sets", func() error { _, err := RosenbaumSets(nil, nil); return err }, ErrInvalid, nil, "need at least one matched set"},
		{"logit rule with a score of 1", bootstrap(func(_ *Sample, _ *matchSets, x *[]float64) { (*x)[1] = 1 }, nil, &matchRule{distance: psm.LogitDistance}),
			ErrInvalid, nil, "psm.UnitMatching.Scores, unit 1 (person 11): score 1 is outside (0,1), as LogitDistance needs"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var err error
			require.NotPanics(t, func() { err = c.call() })
			require.Error(t, err)
			require.ErrorIs(t, err, c.is, "%v", err)
			assert.Contains(t, err.Error(), c.msg)
			var e *Error
			require.ErrorAs(t, err, &e, "one error shape")
			assert.True(t, strings.HasPrefix(err.Error(), "estimate: "), err.Error())
			if c.oe != nil {
				var oe *Error
				require.ErrorAs(t, err, &oe)
				assert.Equal(t, ErrNaNOutcome, oe.Err)
				assert.Equal(t, c.oe.Field, oe.Field)
				assert.Equal(t, c.oe.Unit, oe.Unit)
				assert.Equal(t, c.oe.Person, oe.Person)
				assert.True(t, oe.HasMonth)
				assert.Equal(t, c.oe.Month, oe.Month)
				if c.oe.Value != 0 {
					assert.Equal(t, c.oe.Value, oe.Value)
				} else {
					assert.True(t, math.IsNaN(oe.Value), "value %v", oe.Value)
				}
			}
		})
	}
}

// TestBadInputHorizonPolicy: the documented policy for outcomes beyond
// the data cut-off, on a panel built from files. With FullHorizon the
// event matrices run to H, and a unit whose cohort is late has Missing
// (NaN) after its cut-off; FromPanel estimates months 0..HCommon, which
// every unit observes, so those NaN are never read. Asking for a horizon
// beyond HCommon makes the NaN fall inside it: an *Error wrapping
// ErrNaNOutcome naming the outcome, the unit, its person and the first
// month after its cut-off.
func TestBadInputHorizonPolicy(t *testing.T) {
	r, err := registerio.ReadDir(context.Background(), filepath.Join("..", "testdata", "panel", "build_tiny", "csv_long"), nil)
	require.NoError(t, err)
	d := &panel.Design{
		WindowStart:     panel.DayFromDate(2012, time.February, 1),
		WindowEnd:       panel.DayFromDate(2012, time.March, 31),
		Covariates:      []panel.Covariate{panel.AgeAtStart("age")},
		Outcomes:        []string{"emp"},
		DrawsPerControl: 3,
		FullHorizon:     true,
		Seed:            5,
	}
	p, err := panel.Build(context.Background(), r, d)
	require.NoError(t, err)
	e := p.Outcomes[0]
	// emp is observed to 2012-06, the window ends in 2012-03: HCommon = 3;
	// the first cohort is 2012-02: H = 4.
	require.Equal(t, 3, e.HCommon)
	require.Equal(t, 4, e.H)
	late := -1 // a unit of the 2012-03 cohort: month 4 is 2012-07, after the cut-off
	for u := range p.Cohort {
		if p.Cohort[u] == panel.MonthFromDate(2012, time.March) {
			late = u
			break
		}
	}
	require.GreaterOrEqual(t, late, 0)
	require.True(t, math.IsNaN(e.At(late, 4)))

	s, err := FromPanel(p)
	require.NoError(t, err)
	require.Equal(t, 3, s.Outcomes[0].H)
	scores := make([]float64, p.Len())
	for u := range scores {
		scores[u] = p.X.At(u, 0) // match on age at start
	}
	ms, err := psm.MatchUnits(scores, s.Treated, nil)
	require.NoError(t, err)
	res, err := Effects(s, ms, nil)
	require.NoError(t, err, "NaN beyond HCommon is allowed")
	for _, ef := range res.Series[0].Effects {
		assert.False(t, math.IsNaN(ef.ATT), "month %d", ef.Month)
	}

	// the full horizon: the NaN is inside now
	s.Outcomes[0].H = e.H
	_, err = Effects(s, ms, nil)
	require.ErrorIs(t, err, ErrNaNOutcome)
	var oe *Error
	require.ErrorAs(t, err, &oe)
	assert.Equal(t, `outcome "emp"`, oe.Field)
	assert.True(t, oe.HasMonth)
	assert.Equal(t, 4, oe.Month)
	assert.True(t, math.IsNaN(e.At(oe.Unit, 4)), "unit %d", oe.Unit)
	assert.Equal(t, p.ID[oe.Unit], oe.Person)
	assert.Equal(t, panel.MonthFromDate(2012, time.March), p.Cohort[oe.Unit])
	assert.Contains(t, err.Error(), "inside the horizon")
}
