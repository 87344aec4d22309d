package panel

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"testing"
)

// FuzzBuild: run with e.g.
//
//	go test ./panel -run '^$' -fuzz '^FuzzBuild$' -fuzztime 2m -fuzzminimizetime 2s

// fzRegister builds a small register from fuzz bytes: 1–6 persons, a
// grid of 1–12 weeks with levels "", "a", "b", one outcome of 1–8
// months, and up to 6 spells whose days may fall outside the grid or end
// before they start (Validate must then refuse them).
func fzRegister(b []byte) *Register {
	next := func() int {
		if len(b) == 0 {
			return 0
		}
		v := int(b[0])
		b = b[1:]
		return v
	}
	n := 1 + next()%6
	weeks := 6 + next()%12
	first := DayFromDate(2012, 1, 2) // a Monday
	r := &Register{IDs: make([]int64, n), Birth: make([]Day, n)}
	r.Status = NewStatusGrid(n, first, weeks, []string{"", "a", "b"})
	for i := range n {
		r.IDs[i] = int64(100 - 3*i)
		if i > 0 && next() == 255 {
			r.IDs[i] = r.IDs[i-1] // duplicate id
		}
		r.Birth[i] = DayFromDate(1950+next()%60, 1, 1)
		for w := range weeks {
			r.Status.Codes[i*weeks+w] = byte(next() % 3)
		}
	}
	x := Attribute{Name: "x", Values: make([]float64, n)}
	for i := range n {
		x.Values[i] = float64(next()%5) - 1
		if next()%9 == 0 {
			x.Values[i] = math.NaN()
		}
	}
	r.Attrs = []Attribute{x}
	months := 3 + next()%8
	o := NewOutcome("y", n, MonthOf(first)-Month(next()%2), months)
	for i := range n {
		for m := range months {
			if next()%2 == 1 {
				o.Set(i, o.FirstMonth+Month(m), true)
			}
		}
	}
	r.Outcomes = []Outcome{o}
	ns := next() % 7
	for range ns {
		p := int32(next() % n)
		if next() == 255 {
			p = int32(n) // out of range
		}
		s := first + Day(next()%(7*weeks))
		e := s + Day(next()%30)
		switch next() {
		case 254:
			s -= 30 // before the grid
		case 255:
			e = s - 1 // ends before it starts
		}
		r.Spells = append(r.Spells, Spell{Person: p, Start: s, End: e, Hours: float32(next() % 4)})
	}
	return r
}

func FuzzBuild(f *testing.F) {
	// seeds that build a panel: the first four of a seeded stream of
	// random inputs for which Build succeeds
	rng := rand.New(rand.NewPCG(9, 1))
	for found, tries := 0, 0; found < 4 && tries < 5000; tries++ {
		b := make([]byte, 40+rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.IntN(256))
		}
		ws, wl, fl := uint16(rng.IntN(120)), uint8(rng.IntN(60)), uint8(rng.IntN(256))
		if _, err := Build(context.Background(), fzRegister(b), fzDesign(fzRegister(b), ws, wl, fl, len(b))); err == nil {
			f.Add(b, ws, wl, fl)
			found++
		}
	}
	f.Add([]byte{2, 8, 0, 30, 1, 1, 1, 1, 2, 2, 2, 2, 7, 40, 0, 0, 1, 1, 1, 0, 0, 0, 2, 3, 1, 0, 1, 1, 0, 5, 0, 1, 0, 1, 0, 1, 0, 1, 1, 0, 2, 0, 40, 10, 3}, uint16(10), uint8(14), uint8(0))
	f.Add([]byte{5, 11, 1, 20, 0, 1, 2, 1, 0, 2, 1, 0, 1, 2, 1, 0, 2, 30, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 25, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 4, 50, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 22, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 6, 27, 2, 1, 0, 2, 1, 0, 2, 1, 0, 2, 1, 0, 1, 2, 3, 4, 0, 1, 7, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 4, 0, 30, 10, 1, 2, 40, 20, 2, 3, 25, 5, 1, 4, 35, 7, 0}, uint16(7), uint8(50), uint8(1))
	f.Add([]byte{0, 0}, uint16(0), uint8(0), uint8(2))
	f.Add([]byte{3, 5, 7, 9, 1, 2, 0, 1, 14, 9, 0, 0, 0, 1, 1, 21, 30, 2, 2, 2, 2, 2}, uint16(3), uint8(3), uint8(3))
	f.Fuzz(func(t *testing.T, b []byte, winStart uint16, winLen uint8, flags uint8) {
		if len(b) > 512 {
			return
		}
		r := fzRegister(b)
		d := fzDesign(r, winStart, winLen, flags, len(b))
		d.Workers = 1
		p, err := Build(context.Background(), r, d)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			var de *Error
			var dse *Error
			if !errors.As(err, &de) && !errors.As(err, &dse) && !errors.Is(err, ErrEmptyWindow) && !errors.Is(err, ErrNoControls) {
				t.Fatalf("Build error of unexpected kind %T: %v", err, err)
			}
			return
		}
		fzCheckPanel(t, r, d, p)
		// same panel with more workers
		d2 := *d
		d2.Workers = 3
		p2, err := Build(context.Background(), r, &d2)
		if err != nil {
			t.Fatalf("Workers 3: %v (Workers 1 succeeded)", err)
		}
		fzSamePanel(t, p, p2)
	})
}

// fzDesign is the design of FuzzBuild.
func fzDesign(r *Register, winStart uint16, winLen, flags uint8, seed int) *Design {
	d := &Design{
		WindowStart:     r.Status.FirstWeek + Day(winStart%uint16(7*r.Status.Weeks)) + 14,
		MergeGapDays:    int(flags>>4) % 4,
		DrawsPerControl: 1 + int(flags>>2)%3,
		Seed:            uint64(seed),
		FullHorizon:     flags&2 != 0,
	}
	d.WindowEnd = d.WindowStart + Day(winLen%40) - 1
	if flags&1 != 0 {
		d.Eligibility = []Rule{AnyWeekIn("a", "b"), StatusNotIn("b")}
	}
	d.Covariates = []Covariate{Numeric("x"), WeeksIn("w_", []LevelGroup{{Name: "a", Levels: []string{"a"}}}, 1, 3), StatusAtStart("s", LevelGroup{Name: "b", Levels: []string{"b"}})}
	return d
}

// fzCheckPanel checks the invariants of a built panel.
func fzCheckPanel(t *testing.T, r *Register, d *Design, p *Panel) {
	t.Helper()
	U := len(p.Person)
	if len(p.ID) != U || len(p.Draw) != U || len(p.Treated) != U || len(p.StartDay) != U || len(p.StartWeek) != U || len(p.Cohort) != U {
		t.Fatal("panel index columns have different lengths")
	}
	rows, cols := p.X.Dims()
	if rows != U || cols != len(p.CovNames) {
		t.Fatalf("X is %dx%d for %d units and %d covariates", rows, cols, U, len(p.CovNames))
	}
	nt := 0
	for u := range U {
		i := p.Person[u]
		if i < 0 || int(i) >= r.Len() || r.IDs[i] != p.ID[u] {
			t.Fatalf("unit %d: person %d / id %d inconsistent", u, i, p.ID[u])
		}
		if p.Treated[u] {
			nt++
			if p.StartDay[u] < d.WindowStart || p.StartDay[u] > d.WindowEnd {
				t.Fatalf("treated unit %d starts %v outside the window %v..%v", u, p.StartDay[u], d.WindowStart, d.WindowEnd)
			}
			if u > 0 && !p.Treated[u-1] {
				t.Fatal("treated units do not come first")
			}
		}
		if w := int(p.StartWeek[u]); w < 0 || w >= r.Status.Weeks || r.Status.WeekOf(p.StartDay[u]) != w {
			t.Fatalf("unit %d: start week %d does not hold start day %v", u, w, p.StartDay[u])
		}
		if p.Cohort[u] != MonthOf(p.StartDay[u]) {
			t.Fatalf("unit %d: cohort %v, start %v", u, p.Cohort[u], p.StartDay[u])
		}
		for c := range cols {
			if v := p.X.At(u, c); math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("unit %d covariate %s = %v", u, p.CovNames[c], v)
			}
		}
		for _, e := range p.Outcomes {
			for m := 0; m <= e.H; m++ {
				v := e.At(u, m)
				if !(v == 0 || v == 1 || math.IsNaN(v) && d.FullHorizon) {
					t.Fatalf("unit %d outcome %s month %d = %v", u, e.Name, m, v)
				}
			}
		}
	}
	if nt == 0 || nt == U {
		t.Fatalf("panel with %d treated of %d units returned without error", nt, U)
	}
}

// fzSamePanel checks two panels are bit-identical.
func fzSamePanel(t *testing.T, a, b *Panel) {
	t.Helper()
	same := func(x, y float64) bool { return math.Float64bits(x) == math.Float64bits(y) }
	if len(a.Person) != len(b.Person) {
		t.Fatalf("unit counts differ: %d, %d", len(a.Person), len(b.Person))
	}
	for u := range a.Person {
		if a.Person[u] != b.Person[u] || a.Draw[u] != b.Draw[u] || a.StartDay[u] != b.StartDay[u] || a.Treated[u] != b.Treated[u] {
			t.Fatalf("unit %d differs between worker counts", u)
		}
		for c := range a.CovNames {
			if !same(a.X.At(u, c), b.X.At(u, c)) {
				t.Fatalf("X[%d,%d] differs between worker counts", u, c)
			}
		}
	}
	for k := range a.Outcomes {
		for i := range a.Outcomes[k].Y {
			if a.Outcomes[k].Y[i] != b.Outcomes[k].Y[i] {
				t.Fatalf("outcome %d value %d differs between worker counts", k, i)
			}
		}
	}
}
