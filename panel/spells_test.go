package panel

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestMergeSpells(t *testing.T) {
	nan := float32(math.NaN())
	sp := func(p int32, s, e Day, h float32) Spell { return Spell{Person: p, Start: s, End: e, Hours: h} }
	cases := []struct {
		name string
		gap  int
		in   []Spell
		want []Spell
	}{
		{"consecutive", 0, []Spell{sp(0, 10, 19, 2), sp(0, 20, 29, 4)},
			// hours weighted by days: (2·10 + 4·10)/20 = 3
			[]Spell{sp(0, 10, 29, 3)}},
		{"one day apart is not merged", 0, []Spell{sp(0, 10, 19, 2), sp(0, 21, 29, 4)},
			[]Spell{sp(0, 10, 19, 2), sp(0, 21, 29, 4)}},
		{"one day apart with gap 1", 1, []Spell{sp(0, 21, 29, 4), sp(0, 10, 19, 2)},
			// (2·10 + 4·9)/19
			[]Spell{sp(0, 10, 29, float32(56.0/19))}},
		{"overlap", 0, []Spell{sp(0, 10, 25, 1), sp(0, 20, 30, 1)},
			[]Spell{sp(0, 10, 30, 1)}},
		{"contained", 0, []Spell{sp(0, 10, 40, 1), sp(0, 20, 30, 3)},
			// (1·31 + 3·11)/42
			[]Spell{sp(0, 10, 40, float32(64.0/42))}},
		{"chain of three, unsorted", 0, []Spell{sp(0, 30, 39, 1), sp(0, 10, 19, 1), sp(0, 20, 29, 1)},
			[]Spell{sp(0, 10, 39, 1)}},
		{"different persons never merge", 0, []Spell{sp(1, 20, 29, 1), sp(0, 10, 19, 1)},
			[]Spell{sp(0, 10, 19, 1), sp(1, 20, 29, 1)}},
		{"NaN hours left out", 0, []Spell{sp(0, 10, 19, nan), sp(0, 20, 29, 4)},
			[]Spell{sp(0, 10, 29, 4)}},
		{"all NaN hours", 0, []Spell{sp(0, 10, 19, nan)},
			[]Spell{sp(0, 10, 19, nan)}},
		{"one-day spells", 0, []Spell{sp(0, 10, 10, 1), sp(0, 11, 11, 1), sp(0, 13, 13, 1)},
			[]Spell{sp(0, 10, 11, 1), sp(0, 13, 13, 1)}},
		{"empty", 0, nil, []Spell{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := append([]Spell(nil), c.in...)
			got := MergeSpells(c.in, c.gap)
			for k := range in { // the input is not modified (bitwise, NaN hours included)
				assert.Equal(t, in[k].Start, c.in[k].Start)
				assert.Equal(t, math.Float32bits(in[k].Hours), math.Float32bits(c.in[k].Hours))
			}
			require.Len(t, got, len(c.want))
			for k := range got {
				assert.Equal(t, c.want[k].Person, got[k].Person)
				assert.Equal(t, c.want[k].Start, got[k].Start)
				assert.Equal(t, c.want[k].End, got[k].End)
				if math.IsNaN(float64(c.want[k].Hours)) {
					assert.True(t, math.IsNaN(float64(got[k].Hours)))
				} else {
					assert.InDelta(t, c.want[k].Hours, got[k].Hours, 1e-6)
				}
			}
		})
	}
}

func TestMergeSpellsTiny(t *testing.T) {
	r := tinyRegister(t)
	got := MergeSpells(r.Spells, 0)
	type sp struct {
		id         int64
		start, end string
		hours      float64
	}
	var g []sp
	for _, s := range got {
		g = append(g, sp{r.IDs[s.Person], s.Start.String(), s.End.String(), float64(s.Hours)})
	}
	want := []sp{
		// A: 02-06..02-19 (14 days, 2 h) + 02-20..03-31 (41 days, 4 h): (28 + 164)/55
		{101, "2012-02-06", "2012-03-31", 192.0 / 55},
		// B: a 15-day gap (01-30..02-12) keeps the spells apart
		{102, "2012-01-09", "2012-01-29", 3}, {102, "2012-02-13", "2012-02-26", 3},
		// C: 02-01 is the day after 01-31
		{103, "2012-01-16", "2012-03-01", 5},
		{104, "2012-05-07", "2012-06-30", 2},
		{105, "2011-12-05", "2011-12-20", 1},
		// F: overlapping sub-spells
		{106, "2012-03-19", "2012-04-30", 2},
	}
	// MergeSpells sorts by person index, not id: compare as sets.
	require.Len(t, g, len(want))
	for _, w := range want {
		found := false
		for _, x := range g {
			if x.id == w.id && x.start == w.start {
				found = true
				assert.Equal(t, w.end, x.end, "id %d", w.id)
				assert.InDelta(t, w.hours, x.hours, 1e-6, "id %d", w.id)
			}
		}
		assert.True(t, found, "merged spell %v", w)
	}
}
