package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/panel/synth"
	"gonum.org/v1/gonum/mat"
)

// TestDesignReadEqualsGenerated: the SFI design must give the same panel
// on the bundled register read from Parquet (status levels sorted by
// name) as on the same population generated in memory (levels in the
// generator's order). The design's own code tables must therefore follow
// the register's level order, not the generator's; a table indexed by
// synth.StatusLevels() fails this test.
func TestDesignReadEqualsGenerated(t *testing.T) {
	var params struct {
		Scale           float64 `json:"scale"`
		Seed            uint64  `json:"seed"`
		ControlFraction float64 `json:"control_fraction"`
		Confounding     float64 `json:"confounding"`
	}
	b, err := os.ReadFile("../../testdata/example/params.json") // what made the bundled data
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &params))
	pop, err := synth.Generate(context.Background(), &synth.Options{Scale: params.Scale, Seed: params.Seed,
		ControlFraction: params.ControlFraction, Confounding: params.Confounding})
	require.NoError(t, err)
	read, err := registerio.ReadDir(context.Background(), "../../testdata/example/parquet", nil)
	require.NoError(t, err)
	require.NotEqual(t, pop.Register.Status.Levels, read.Status.Levels, "the test needs different level orders")

	build := func(r *panel.Register) *panel.Panel {
		d, err := sfiDesign(r, 1, 2, nil)
		require.NoError(t, err)
		p, err := panel.Build(context.Background(), r, d)
		require.NoError(t, err)
		return p
	}
	g, f := build(&pop.Register), build(read)
	require.Equal(t, g.CovNames, f.CovNames)
	require.Equal(t, g.ID, f.ID)
	assert.Zero(t, mismatches(t, g.CovNames, mat.DenseCopyOf(g.X).RawMatrix().Data, mat.DenseCopyOf(f.X).RawMatrix().Data), "covariates")
	assert.Zero(t, mismatches(t, g.DescNames, g.Desc.RawMatrix().Data, f.Desc.RawMatrix().Data), "descriptors")
}

// mismatches counts the cells of two row-major matrices with columns
// names that differ (bit for bit) and logs the first.
func mismatches(t *testing.T, names []string, a, b []float64) int {
	require.Len(t, b, len(a))
	n := 0
	for k := range a {
		if math.Float64bits(a[k]) != math.Float64bits(b[k]) {
			if n == 0 {
				t.Logf("first difference: unit %d, column %s: %v vs %v", k/len(names), names[k%len(names)], a[k], b[k])
			}
			n++
		}
	}
	return n
}

// A register without the wage-income outcome or an attribute the design
// uses is an error that names it.
func TestDesignNamesWhatIsMissing(t *testing.T) {
	r, err := registerio.ReadDir(context.Background(), "../../testdata/example/parquet", nil)
	require.NoError(t, err)
	noEmp := *r
	noEmp.Outcomes = nil
	_, err = sfiDesign(&noEmp, 1, 1, nil)
	assert.ErrorContains(t, err, `"employed"`)
	noEdu := *r
	noEdu.Attrs = nil
	_, err = sfiDesign(&noEdu, 1, 1, nil)
	assert.ErrorContains(t, err, `"education"`)
}
