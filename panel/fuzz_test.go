package panel

import (
	"bytes"
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets for the readers and for Build. Run one with e.g.
//
//	go test ./panel -run '^$' -fuzz '^FuzzReadCSV$' -fuzztime 2m -fuzzminimizetime 2s
//
// Keep -fuzzminimizetime short: the fuzzer minimizes every new
// interesting input for up to 60 s by default and reports the execs it
// spent doing so only when it is done, so with the default the exec
// counter stands still for long stretches (a 60 s run once showed 7
// execs). The execs themselves run at about 1,500/s on one worker.
//
// Seeds: the tiny CSV files under testdata/panel plus the corpora under
// panel/testdata/fuzz.

// fzTables are the tables in reading order.
var fzTables = []Table{TablePersons, TableStatus, TableOutcomes, TableSpells}

// fzRead reads the given tables (nil = absent; persons and status
// always) from CSV or Parquet bytes. Every error must be a clear one: a
// *Error (errors.Is ErrInvalid) naming the table.
func fzRead(t *testing.T, f Format, data [4][]byte) (*Register, error) {
	t.Helper()
	return fzReadFormats(t, [4]Format{f, f, f, f}, data)
}

// fzReadFormats is fzRead with a format per table.
func fzReadFormats(t *testing.T, f [4]Format, data [4][]byte) (*Register, error) {
	t.Helper()
	l := NewLoader(&ReadOptions{ChunkRows: 3}) // small chunks: exercise chunk borders
	for k, tb := range fzTables {
		if data[k] == nil && k >= 2 {
			continue
		}
		if err := l.Read(tb, bytes.NewReader(data[k]), f[k], string(tb)); err != nil {
			fzCheckErr(t, err, string(tb))
			return nil, err
		}
	}
	r, err := l.Register()
	if err != nil {
		fzCheckErr(t, err, "")
		return nil, err
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("Register returned a register that fails Validate: %v", err)
	}
	return r, nil
}

// fzCheckErr checks that a reader error is a data error naming its table.
func fzCheckErr(t *testing.T, err error, table string) {
	t.Helper()
	var de *Error
	if !errors.As(err, &de) || !errors.Is(err, ErrInvalid) {
		t.Fatalf("reader error is not an *Error: %T %v", err, err)
	}
	if table != "" && de.Table != table {
		t.Fatalf("reader error names table %q, want %q: %v", de.Table, table, err)
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}

// fzWriteAll writes every table of r as bytes in format f (nil for an
// absent outcomes or spells table).
func fzWriteAll(t *testing.T, r *Register, f Format) [4][]byte {
	t.Helper()
	var out [4][]byte
	for k, tb := range fzTables {
		if tb == TableOutcomes && len(r.Outcomes) == 0 || tb == TableSpells && len(r.Spells) == 0 {
			continue
		}
		var b bytes.Buffer
		if err := WriteTable(&b, r, tb, &WriteOptions{Format: f, ChunkRows: 2, RowGroupRows: 3}); err != nil {
			t.Fatalf("WriteTable(%s, %v) of a register that was read: %v", tb, f, err)
		}
		out[k] = b.Bytes()
	}
	return out
}

// fzMaxColumnChunks bounds the registers fzRoundTrip writes: the wide
// status table has one column per week, and Parquet costs about 0.3 ms
// per column chunk (WriteOptions.RowGroupRows is 3 here), so a status
// table read from two rows a century apart (up to 5218 weeks, allowed
// by the reader) took seconds per input and stalled the fuzzer at a few
// execs a minute. Larger registers are still read and validated, only
// not written back.
const fzMaxColumnChunks = 256

// fzRoundTrip checks that a register that was read can be written and
// read back, and that write∘read is the identity on the written CSV
// (via CSV and via Parquet). Registers whose wide status table would
// have more than fzMaxColumnChunks Parquet column chunks are skipped.
func fzRoundTrip(t *testing.T, r *Register) {
	t.Helper()
	if r.Status.Weeks*((r.Len()+2)/3) > fzMaxColumnChunks {
		return
	}
	for _, o := range r.Outcomes { // long layout: one row per person and month
		if o.Months*r.Len() > 16*fzMaxColumnChunks {
			return
		}
	}
	csv1 := fzWriteAll(t, r, FormatCSV)
	for _, f := range []Format{FormatCSV, FormatParquet} {
		src := csv1
		if f == FormatParquet {
			src = fzWriteAll(t, r, FormatParquet)
		}
		r2, err := fzRead(t, f, src)
		if err != nil {
			t.Fatalf("reading back the %v written from a register that was read: %v", f, err)
		}
		csv2 := fzWriteAll(t, r2, FormatCSV)
		for k := range csv1 {
			if !bytes.Equal(csv1[k], csv2[k]) {
				t.Fatalf("round trip via %v changes table %s:\n%q\n---\n%q", f, fzTables[k], csv1[k], csv2[k])
			}
		}
	}
}

// fzRoundTripOne checks that a register that was read is unchanged by
// writing table k as Parquet and the others as CSV and reading them back
// (compared as written CSV). Large registers are skipped as in
// fzRoundTrip.
func fzRoundTripOne(t *testing.T, r *Register, k int) {
	t.Helper()
	if r.Status.Weeks*((r.Len()+2)/3) > fzMaxColumnChunks {
		return
	}
	csv1 := fzWriteAll(t, r, FormatCSV)
	src := csv1
	formats := [4]Format{FormatCSV, FormatCSV, FormatCSV, FormatCSV}
	if csv1[k] != nil {
		var b bytes.Buffer
		if err := WriteTable(&b, r, fzTables[k], &WriteOptions{Format: FormatParquet, ChunkRows: 2, RowGroupRows: 3}); err != nil {
			t.Fatalf("WriteTable(%s, Parquet) of a register that was read: %v", fzTables[k], err)
		}
		src[k], formats[k] = b.Bytes(), FormatParquet
	}
	r2, err := fzReadFormats(t, formats, src)
	if err != nil {
		t.Fatalf("reading back table %s written as Parquet from a register that was read: %v", fzTables[k], err)
	}
	csv2 := fzWriteAll(t, r2, FormatCSV)
	for j := range csv1 {
		if !bytes.Equal(csv1[j], csv2[j]) {
			t.Fatalf("round trip of table %s via Parquet changes table %s:\n%q\n---\n%q", fzTables[k], fzTables[j], csv1[j], csv2[j])
		}
	}
}

// fzSeedDir returns the four CSV tables of a testdata directory.
func fzSeedDir(f *testing.F, dir string) [4][]byte {
	var d [4][]byte
	for k, tb := range fzTables {
		b, err := os.ReadFile(filepath.Join("..", "testdata", "panel", dir, string(tb)+".csv"))
		if err != nil {
			f.Fatal(err)
		}
		d[k] = b
	}
	return d
}

func FuzzReadCSV(f *testing.F) {
	for _, dir := range []string{"tiny_long", "tiny_wide"} {
		d := fzSeedDir(f, dir)
		f.Add(d[0], d[1], d[2], d[3])
	}
	f.Add([]byte("\xef\xbb\xbfid,birth\r\n1,2000-01-01\r\n"), []byte("id,week,code\r\n1,2007-01-01,\"a\nb\"\r\n"), []byte("id,month,x\n1,2007-01,1\n"), []byte("id,start,end\n1,2007-01-01,2007-01-01\n"))
	f.Add([]byte("id,a\n1,NA\n2,x\n2,y\n"), []byte("id,2007-01-01\n1,\n"), []byte(nil), []byte(nil))
	f.Add([]byte("id\n1\n"), []byte("id,2007-01-01,2007-01-15\n1,a,b\n"), []byte("id,x_2007-01,x_2007-03\n1,1,0\n"), []byte("id,start,end,hours\n1,2007-01-02,2007-01-01,-1\n"))
	f.Fuzz(func(t *testing.T, persons, status, outcomes, spells []byte) {
		if len(persons)+len(status)+len(outcomes)+len(spells) > 1<<13 {
			return
		}
		r, err := fzRead(t, FormatCSV, [4][]byte{persons, status, outcomes, spells})
		if err != nil {
			return
		}
		fzRoundTrip(t, r)
	})
}

// FuzzReadParquet mutates the Parquet bytes of one table (k) of the tiny
// register and reads it with the other three from their CSV files; a
// register that is read must round-trip through the Parquet writer and
// reader for table k. (Reading the other tables from Parquet too, and
// round-tripping all four, made an exec cost 20 Parquet reads and writes
// of about 1 ms each, and the fuzzer ran at about 20 execs/s.)
func FuzzReadParquet(f *testing.F) {
	// Seeds: each table of the tiny long register written as Parquet.
	l := NewLoader(nil)
	d := fzSeedDir(f, "tiny_long")
	for k, tb := range fzTables {
		if err := l.Read(tb, bytes.NewReader(d[k]), FormatCSV, ""); err != nil {
			f.Fatal(err)
		}
	}
	r, err := l.Register()
	if err != nil {
		f.Fatal(err)
	}
	var pq [4][]byte
	for k, tb := range fzTables {
		var b bytes.Buffer
		if err := WriteTable(&b, r, tb, &WriteOptions{Format: FormatParquet, ChunkRows: 2, RowGroupRows: 3}); err != nil {
			f.Fatal(err)
		}
		pq[k] = b.Bytes()
		f.Add(uint8(k), pq[k])
	}
	f.Add(uint8(0), pq[0][:len(pq[0])/2]) // truncated
	f.Add(uint8(1), []byte("PAR1PAR1"))
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		if len(data) > 1<<15 {
			return
		}
		in := d
		formats := [4]Format{FormatCSV, FormatCSV, FormatCSV, FormatCSV}
		in[int(k)%4], formats[int(k)%4] = data, FormatParquet
		r2, err := fzReadFormats(t, formats, in)
		if err != nil {
			return
		}
		fzRoundTripOne(t, r2, int(k)%4)
	})
}

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
