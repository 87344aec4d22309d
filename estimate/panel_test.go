package estimate

import (
	"bytes"
	"context"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"

	"github.com/psmeval/psmeval/panel"
)

// A panel whose outcome has H = 3 but HCommon = 2 (NaN in month 3 for a
// late cohort): FromPanel estimates months 0..2 without copying, and the
// tiny example's hand-computed effects come out (see tinySample).
func TestFromPanel(t *testing.T) {
	const na = panel.Missing
	y := []uint8{
		1, 1, 0, 1,
		0, 1, 1, na,
		0, 0, 0, 0,
		1, 0, 1, na,
		0, 1, 0, 1,
	}
	p := &panel.Panel{
		Treated:   []bool{true, true, false, false, false},
		ID:        []int64{10, 11, 20, 21, 22},
		DescNames: []string{"sex"},
		Desc:      mat.NewDense(5, 1, []float64{0, 1, nan, 0, 1}),
		Outcomes:  []panel.EventOutcome{{Name: "emp", H: 3, HCommon: 2, Y: y}},
	}
	s, err := FromPanel(p, "sex")
	require.NoError(t, err)
	assert.Equal(t, 2, s.Outcomes[0].H)
	assert.Equal(t, 4, s.Outcomes[0].Stride)
	res, err := effects(s, tinyMatches(), nil)
	require.NoError(t, err)
	for m, want := range []float64{.25, .5, .25} {
		assert.InDelta(t, want, res.Find("emp", "", "").Effects[m].ATT, 1e-12)
	}
	assert.InDelta(t, -.5, res.Find("emp", "sex", "0").Effects[2].ATT, 1e-12)
	_, err = FromPanel(p, "nope")
	assert.ErrorIs(t, err, ErrInvalid)

	// Truth beside the estimate, and the tidy CSV.
	_, scores := tinySample()
	br, err := Bootstrap(context.Background(), s, unitsFor(t, s, scores, nil), &BootstrapOptions{Replicates: 20, Scheme: Poisson})
	require.NoError(t, err)
	se := br.Find("emp", "", "")
	se.SetTruth([]float64{0.2, 0.4}, false)
	assert.Equal(t, []float64{0, 0.4}, se.TruthAccumulated[:2])
	assert.True(t, math.IsNaN(se.Truth[2]))
	var buf bytes.Buffer
	require.NoError(t, br.WriteCSV(&buf))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	assert.Len(t, lines, 1+3*3*2) // header + 3 series × 3 months × 2 measures
	assert.True(t, strings.HasPrefix(lines[1], "emp,,,0,monthly,2,3,0.5,0.25,0.25,0.2,"), lines[1])
}

// A panel with two months before the start (the rows of TestDiDHand, a
// Missing month 3 after the common horizon): FromPanel carries Pre, the
// effects, truth and CSV have months −2..2.
func TestFromPanelPre(t *testing.T) {
	const na = panel.Missing
	y := []uint8{
		1, 0, 1, 1, 0, 1,
		1, 1, 0, 1, 1, na,
		0, 0, 0, 0, 0, 0,
		1, 0, 1, 0, 1, na,
		0, 1, 0, 1, 0, 1,
	}
	p := &panel.Panel{
		Treated:  []bool{true, true, false, false, false},
		ID:       []int64{10, 11, 20, 21, 22},
		Outcomes: []panel.EventOutcome{{Name: "emp", H: 3, HCommon: 2, Pre: 2, Y: y}},
	}
	s, err := FromPanel(p)
	require.NoError(t, err)
	assert.Equal(t, 2, s.Outcomes[0].Pre)
	assert.Equal(t, 6, s.Outcomes[0].Stride)
	res, err := effects(s, tinyMatches(), nil)
	require.NoError(t, err)
	se := &res.Series[0]
	for j, want := range []float64{.75, 0, .25, .5, .25} {
		assert.Equal(t, j-2, se.Effects[j].Month)
		assert.InDelta(t, want, se.Effects[j].ATT, 1e-15)
	}
	se.SetTruth([]float64{0.2, 0.4}, false)
	assert.Equal(t, []float64{0, 0, 0.2, 0.4}, se.Truth[:4])
	assert.Equal(t, []float64{0, 0, 0, 0.4}, se.TruthAccumulated[:4])
	var buf bytes.Buffer
	require.NoError(t, res.WriteCSV(&buf))
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	assert.Len(t, lines, 1+5*2)
	assert.True(t, strings.HasPrefix(lines[1], "emp,,,-2,monthly,2,3,1,0.25,0.75,0,"), lines[1])
}
