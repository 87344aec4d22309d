package panel

import (
	"context"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// permuteRegister returns a copy of r whose person k is r's person
// perm[k], with the spells remapped and shuffled by rng.
func permuteRegister(r *Register, perm []int, rng *rand.Rand) *Register {
	q := subRegister(r, perm)
	rng.Shuffle(len(q.Spells), func(a, b int) { q.Spells[a], q.Spells[b] = q.Spells[b], q.Spells[a] })
	return q
}

// subRegister returns the register of the persons persons[0], persons[1],
// ... of r (distinct indices, in that order): person k of the result is
// r's person persons[k], with its attributes, status row and outcomes,
// and the spells of these persons remapped, in r's spell order. The
// status grid and the outcomes keep r's calendar and levels.
func subRegister(r *Register, persons []int) *Register {
	n := len(persons)
	inv := make([]int32, r.Len())
	for i := range inv {
		inv[i] = -1
	}
	for k, i := range persons {
		inv[i] = int32(k)
	}
	q := &Register{IDs: make([]int64, n), Birth: make([]Day, n)}
	for k, i := range persons {
		q.IDs[k] = r.IDs[i]
		q.Birth[k] = r.Birth[i]
	}
	for _, a := range r.Attrs {
		b := Attribute{Name: a.Name, Levels: a.Levels}
		if a.IsCategorical() {
			b.Codes = make([]uint16, n)
			for k, i := range persons {
				b.Codes[k] = a.Codes[i]
			}
		} else {
			b.Values = make([]float64, n)
			for k, i := range persons {
				b.Values[k] = a.Values[i]
			}
		}
		q.Attrs = append(q.Attrs, b)
	}
	g := r.Status
	q.Status = NewStatusGrid(n, g.FirstWeek, g.Weeks, g.Levels)
	for k, i := range persons {
		copy(q.Status.Row(k), g.Row(i))
	}
	for _, o := range r.Outcomes {
		p := NewOutcome(o.Name, n, o.FirstMonth, o.Months)
		w := o.Words()
		for k, i := range persons {
			copy(p.Bits[k*w:(k+1)*w], o.Bits[i*w:(i+1)*w])
		}
		q.Outcomes = append(q.Outcomes, p)
	}
	q.Spells = make([]Spell, 0, len(r.Spells))
	for _, s := range r.Spells {
		if k := inv[s.Person]; k >= 0 {
			s.Person = k
			q.Spells = append(q.Spells, s)
		}
	}
	return q
}

// requireSamePanel compares two panels bit for bit (NaN included);
// samePerson also compares the person indices (not comparable after a
// permutation of the input rows).
func requireSamePanel(t *testing.T, a, b *Panel, samePerson bool) {
	t.Helper()
	require.Equal(t, a.Counts, b.Counts)
	if samePerson {
		require.Equal(t, a.Person, b.Person)
	}
	require.Equal(t, a.ID, b.ID)
	require.Equal(t, a.Draw, b.Draw)
	require.Equal(t, a.Treated, b.Treated)
	require.Equal(t, a.StartDay, b.StartDay)
	require.Equal(t, a.StartWeek, b.StartWeek)
	require.Equal(t, a.Cohort, b.Cohort)
	require.Equal(t, a.CovNames, b.CovNames)
	require.Equal(t, a.DescNames, b.DescNames)
	sameBits := func(x, y []float64, what string) {
		require.Equal(t, len(x), len(y), what)
		for k := range x {
			if math.Float64bits(x[k]) != math.Float64bits(y[k]) {
				require.Failf(t, "panels differ", "%s element %d: %v vs %v", what, k, x[k], y[k])
			}
		}
	}
	sameBits(mat.DenseCopyOf(a.X).RawMatrix().Data, mat.DenseCopyOf(b.X).RawMatrix().Data, "X")
	sameBits(a.Desc.RawMatrix().Data, b.Desc.RawMatrix().Data, "Desc")
	require.Equal(t, len(a.Outcomes), len(b.Outcomes))
	for k := range a.Outcomes {
		require.Equal(t, a.Outcomes[k].H, b.Outcomes[k].H)
		require.Equal(t, a.Outcomes[k].Y, b.Outcomes[k].Y, a.Outcomes[k].Name)
	}
}

// TestBuildDeterministic: the panel is bit-identical for 1, 2 and 7
// workers and for shuffled persons and spells, with two draws per
// control and a full horizon (so NaN cells are compared too).
func TestBuildDeterministic(t *testing.T) {
	n, every := 20000, 40
	if testing.Short() {
		n, every = 3000, 10
	}
	r := synthRegister(n, every, 5)
	d := synthDesign()
	d.DrawsPerControl = 2
	d.FullHorizon = true
	d.Seed = 77
	d.Descriptors = append(d.Descriptors, Numeric("income"), CovFunc("draw", func(u *UnitView) float64 { return float64(u.Draw) }))
	var ref *Panel
	for _, w := range []int{1, 2, 7} {
		d.Workers = w
		p, err := Build(context.Background(), r, d)
		require.NoError(t, err)
		if ref == nil {
			ref = p
			require.Greater(t, p.Counts.Treated, 20)
			require.Greater(t, p.Counts.Controls, n/2)
			continue
		}
		requireSamePanel(t, ref, p, true)
	}
	rng := rand.New(rand.NewPCG(1, 1))
	for range 2 {
		perm := rng.Perm(n)
		q := permuteRegister(r, perm, rng)
		d.Workers = 3
		p, err := Build(context.Background(), q, d)
		require.NoError(t, err)
		requireSamePanel(t, ref, p, false)
		// Person indices point at the same persons in the shuffled input.
		for u := range p.Len() {
			require.Equal(t, p.ID[u], q.IDs[p.Person[u]])
		}
	}
	// Another seed changes the draws.
	d.Seed = 78
	p, err := Build(context.Background(), r, d)
	require.NoError(t, err)
	require.NotEqual(t, ref.StartDay, p.StartDay)
}
