package estimate

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/psmeval/psmeval/panel"
)

// TestGatheredRowsEqualSample checks the rows gather copies (bytes for
// binary outcomes, float64 otherwise) against Sample.addRow: the same
// bits added into the same random sums, for every sorted control position
// (gathered or not) and every treated unit, with missing bytes among the
// values.
func TestGatheredRowsEqualSample(t *testing.T) {
	for _, form := range []string{"float", "binary", "mixed"} {
		s, x := synthSample(40, 700, 6, 11)
		s.Outcomes = append(s.Outcomes, EventOutcome{Name: "z", H: 3, Stride: 6, Y: make([]float64, s.Len()*6)})
		r := rand.New(rand.NewPCG(4, 5))
		for i := range s.Outcomes[1].Y {
			s.Outcomes[1].Y[i] = float64(r.IntN(2))
		}
		switch form {
		case "binary":
			s = asBinary(t, s)
		case "mixed":
			b := asBinary(t, s)
			s.Outcomes[1] = b.Outcomes[1]
		}
		for k := range s.Outcomes {
			if bin := s.Outcomes[k].Binary; bin != nil {
				for range 50 {
					bin[r.IntN(len(bin))] = panel.Missing
				}
			}
		}
		ix := &index{}
		rule := &matchRule{K: 2}
		if err := buildIndex(ix, s, newPersons(s), x, nil, nil); err != nil {
			t.Fatal(err)
		}
		l := s.layout()
		ix.gather(s, &l, rule)
		if got := ix.g.rb != nil; got != (form == "binary") {
			t.Fatalf("%s: byte rows %v", form, got)
		}
		gathered := 0
		sameBits := func(what string, a, b []float64) {
			t.Helper()
			for j := range a {
				if math.Float64bits(a[j]) != math.Float64bits(b[j]) {
					t.Fatalf("%s %s: column %d: %v, want %v", form, what, j, a[j], b[j])
				}
			}
		}
		for pos := range ix.unit {
			if ix.g.idx[pos] >= 0 {
				gathered++
			}
			a := []float64{1, 0.5, 1.0 / 3, r.Float64()}[pos%4]
			got, want := make([]float64, l.cols), make([]float64, l.cols)
			for j := range got {
				got[j] = r.Float64()
				want[j] = got[j]
			}
			ix.addControl(got, s, &l, pos, a)
			s.addRow(want, int(ix.unit[pos]), a, &l)
			sameBits("control", got, want)
		}
		if gathered == 0 || gathered == len(ix.unit) {
			t.Fatalf("%s: %d of %d controls gathered; want some, not all", form, gathered, len(ix.unit))
		}
		for i, u := range ix.tunit {
			m := make([]float64, l.cols)
			for j := range m {
				m[j] = r.Float64()
			}
			got, want := make([]float64, l.cols), make([]float64, l.cols)
			ix.treatedDiff(got, m, s, &l, i, u)
			s.addRow(want, int(u), 1, &l)
			for j := range want {
				want[j] -= m[j]
			}
			sameBits("treated", got, want)
		}
	}
}
