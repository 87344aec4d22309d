package registerio

import (
	"bytes"
	"compress/gzip"
	"context"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var updateIO = flag.Bool("update", false, "rewrite the generated Parquet files under testdata/panel")

const ioTestdata = "../../testdata/panel"

func ioDay(s string) panel.Day {
	d, ok := parseISODay(s)
	if !ok {
		panic("bad test date " + s)
	}
	return d
}

// ioTinyRegister is the population of testdata/panel/tiny_long and
// tiny_wide, written out by hand from the CSV files (persons in file
// order).
//
//	id   birth       sex origin      educ_years income    status weeks 2007-01-01 .. 2007-02-05
//	103  1980-05-17  F   DK          12         250000    "" 130 130 130 130 130
//	101  1975-11-02  M   nonwestern  9.5        NA        111 111 111 "" "" 651
//	105  1990-02-28  F   NA          NA         0         (no status rows: all "")
//	102  1962-07-01  M   western     15         410000.5  651 x6
//	104  1999-12-31  F   DK          10         120000    "" "" "" "" "" 111
//
// employed 2007-01..04: 103 0110, 101 1100, 105 0000, 102 0001, 104 1111;
// education 2007-01..03: 103 000, 101 001, 105 111, 102 110, 104 000.
func ioTinyRegister() *panel.Register {
	nan := math.NaN()
	r := &panel.Register{
		IDs:   []int64{103, 101, 105, 102, 104},
		Birth: []panel.Day{ioDay("1980-05-17"), ioDay("1975-11-02"), ioDay("1990-02-28"), ioDay("1962-07-01"), ioDay("1999-12-31")},
		Attrs: []panel.Attribute{
			{Name: "sex", Codes: []uint16{0, 1, 0, 1, 0}, Levels: []string{"F", "M"}},
			{Name: "origin", Codes: []uint16{0, 1, panel.MissingCode, 2, 0}, Levels: []string{"DK", "nonwestern", "western"}},
			{Name: "educ_years", Values: []float64{12, 9.5, nan, 15, 10}},
			{Name: "income", Values: []float64{250000, nan, 0, 410000.5, 120000}},
		},
	}
	// levels sorted: "" 0, "111" 1, "130" 2, "651" 3
	r.Status = panel.StatusGrid{FirstWeek: ioDay("2007-01-01"), Weeks: 6, Levels: []string{"", "111", "130", "651"},
		Codes: []byte{
			0, 2, 2, 2, 2, 2,
			1, 1, 1, 0, 0, 3,
			0, 0, 0, 0, 0, 0,
			3, 3, 3, 3, 3, 3,
			0, 0, 0, 0, 0, 1,
		}}
	jan := panel.MonthFromDate(2007, time.January)
	emp := panel.NewOutcome("employed", 5, jan, 4)
	edu := panel.NewOutcome("education", 5, jan, 3)
	set := func(o *panel.Outcome, i int, pattern string) {
		for k, c := range pattern {
			if c == '1' {
				o.Set(i, jan+panel.Month(k), true)
			}
		}
	}
	for i, p := range []string{"0110", "1100", "0000", "0001", "1111"} {
		set(&emp, i, p)
	}
	for i, p := range []string{"000", "001", "111", "110", "000"} {
		set(&edu, i, p)
	}
	r.Outcomes = []panel.Outcome{emp, edu}
	r.Spells = []panel.Spell{
		{Person: 1, Start: ioDay("2007-01-08"), End: ioDay("2007-01-20"), Hours: 5},
		{Person: 1, Start: ioDay("2007-01-21"), End: ioDay("2007-02-03"), Hours: 4.5},
		{Person: 0, Start: ioDay("2007-01-15"), End: ioDay("2007-02-01"), Hours: float32(nan)},
		{Person: 4, Start: ioDay("2007-02-05"), End: ioDay("2007-03-30"), Hours: 3},
	}
	if err := r.Validate(); err != nil {
		panic(err)
	}
	return r
}

// ioRequireSameRegister compares two registers field by field (NaN equal to
// NaN), so that a failure names the part that differs.
func ioRequireSameRegister(t *testing.T, want, got *panel.Register) {
	t.Helper()
	require.NotNil(t, got)
	require.Equal(t, want.IDs, got.IDs, "IDs")
	require.Equal(t, want.Birth, got.Birth, "Birth")
	require.Equal(t, len(want.Attrs), len(got.Attrs), "number of attributes")
	for k := range want.Attrs {
		w, g := want.Attrs[k], got.Attrs[k]
		require.Equal(t, w.Name, g.Name)
		require.Equal(t, w.Levels, g.Levels, "levels of %s", w.Name)
		require.Equal(t, w.Codes, g.Codes, "codes of %s", w.Name)
		require.Equal(t, len(w.Values), len(g.Values), "values of %s", w.Name)
		for i := range w.Values {
			if math.IsNaN(w.Values[i]) {
				require.True(t, math.IsNaN(g.Values[i]), "%s[%d] = %v, want NaN", w.Name, i, g.Values[i])
			} else {
				require.Equal(t, w.Values[i], g.Values[i], "%s[%d]", w.Name, i)
			}
		}
	}
	require.Equal(t, want.Status.FirstWeek, got.Status.FirstWeek, "FirstWeek")
	require.Equal(t, want.Status.Weeks, got.Status.Weeks, "Weeks")
	require.Equal(t, want.Status.Levels, got.Status.Levels, "status levels")
	require.Equal(t, want.Status.Codes, got.Status.Codes, "status codes")
	require.Equal(t, len(want.Outcomes), len(got.Outcomes), "number of outcomes")
	for k := range want.Outcomes {
		w, g := want.Outcomes[k], got.Outcomes[k]
		require.Equal(t, w.Name, g.Name)
		require.Equal(t, w.FirstMonth, g.FirstMonth, "first month of %s", w.Name)
		require.Equal(t, w.Months, g.Months, "months of %s", w.Name)
		require.Equal(t, w.Bits, g.Bits, "bits of %s", w.Name)
	}
	require.Equal(t, len(want.Spells), len(got.Spells), "number of spells")
	for k := range want.Spells {
		w, g := want.Spells[k], got.Spells[k]
		require.Equal(t, w.Person, g.Person, "spell %d person", k)
		require.Equal(t, w.Start, g.Start, "spell %d start", k)
		require.Equal(t, w.End, g.End, "spell %d end", k)
		if math.IsNaN(float64(w.Hours)) {
			require.True(t, math.IsNaN(float64(g.Hours)), "spell %d hours %v, want NaN", k, g.Hours)
		} else {
			require.Equal(t, w.Hours, g.Hours, "spell %d hours", k)
		}
	}
}

// TestTinyParquetFiles writes the Parquet versions of the tiny population
// (with -update) and checks the committed files.
func TestTinyParquetFiles(t *testing.T) {
	for _, c := range []struct {
		dir  string
		opts WriteOptions
	}{
		{"tiny_parquet", WriteOptions{}},
		{"tiny_parquet_long", WriteOptions{StatusLayout: LayoutLong, OutcomesLayout: LayoutWide}},
	} {
		dir := filepath.Join(ioTestdata, c.dir)
		if *updateIO {
			src, err := ReadDir(context.Background(), filepath.Join(ioTestdata, "tiny_long"), nil)
			require.NoError(t, err)
			require.NoError(t, WriteDir(dir, src, &c.opts))
		}
		got, err := ReadDir(context.Background(), dir, nil)
		require.NoError(t, err, "run go test ./panel -run TestTinyParquetFiles -update")
		ioRequireSameRegister(t, ioTinyRegister(), got)
	}
}

// TestReadPathsAgree: hand-written CSV long, CSV wide, the committed
// Parquet files and the in-memory register are the same Register.
func TestReadPathsAgree(t *testing.T) {
	want := ioTinyRegister()
	for _, dir := range []string{"tiny_long", "tiny_wide", "tiny_parquet", "tiny_parquet_long"} {
		t.Run(dir, func(t *testing.T) {
			got, err := ReadDir(context.Background(), filepath.Join(ioTestdata, dir), nil)
			require.NoError(t, err)
			ioRequireSameRegister(t, want, got)
		})
	}
	// small chunks: values straddle record boundaries
	got, err := ReadDir(context.Background(), filepath.Join(ioTestdata, "tiny_long"), &ReadOptions{ChunkRows: 2})
	require.NoError(t, err)
	ioRequireSameRegister(t, want, got)
	got, err = ReadDir(context.Background(), filepath.Join(ioTestdata, "tiny_parquet"), &ReadOptions{ChunkRows: 3})
	require.NoError(t, err)
	ioRequireSameRegister(t, want, got)
}

// TestRoundTrip writes the tiny register in every format and layout and
// reads it back.
func TestRoundTrip(t *testing.T) {
	want := ioTinyRegister()
	for _, f := range []Format{FormatCSV, FormatParquet} {
		for _, gz := range []bool{false, true} {
			if gz && f != FormatCSV {
				continue
			}
			for _, sl := range []Layout{LayoutLong, LayoutWide} {
				for _, ol := range []Layout{LayoutLong, LayoutWide} {
					opts := WriteOptions{Format: f, Gzip: gz, StatusLayout: sl, OutcomesLayout: ol, ChunkRows: 2, RowGroupRows: 3, NoSync: true}
					name := f.String() + "/" + sl.String() + "-status/" + ol.String() + "-outcomes"
					if gz {
						name += "/gz"
					}
					t.Run(name, func(t *testing.T) {
						dir := t.TempDir()
						require.NoError(t, WriteDir(dir, want, &opts))
						got, err := ReadDir(context.Background(), dir, nil)
						require.NoError(t, err)
						ioRequireSameRegister(t, want, got)
						// writing again over the same files works (atomic replace)
						require.NoError(t, WriteDir(dir, want, &opts))
						ents, err := os.ReadDir(dir)
						require.NoError(t, err)
						require.Len(t, ents, 5, "four tables and checksums.sha256, no temporary files left behind")
					})
				}
			}
		}
	}
}

// TestRoundTripNoEmptyLevel: a grid where every cell has a non-empty code
// and levels other than "" (long status then lists every cell).
func TestRoundTripNoEmptyLevel(t *testing.T) {
	r := ioTinyRegister()
	r.Status.Levels = []string{"a", "b", "c", "d"}
	r.Outcomes, r.Spells = nil, nil
	for _, l := range []Layout{LayoutLong, LayoutWide} {
		dir := t.TempDir()
		require.NoError(t, WriteDir(dir, r, &WriteOptions{Format: FormatCSV, StatusLayout: l}))
		got, err := ReadDir(context.Background(), dir, nil)
		require.NoError(t, err)
		ioRequireSameRegister(t, r, got)
		assert.Nil(t, got.Outcomes)
		assert.Nil(t, got.Spells)
	}
}

// TestRoundTripLarger: a seeded random register with many chunks and row
// groups, several outcome ranges and persons not in id order.
func TestRoundTripLarger(t *testing.T) {
	n := 3000
	if testing.Short() {
		n = 300
	}
	r := ioRandomRegister(n, 60, 7)
	for _, opts := range []WriteOptions{
		{Format: FormatParquet, RowGroupRows: n / 3, ChunkRows: n / 4, NoSync: true},
		{Format: FormatParquet, StatusLayout: LayoutLong, OutcomesLayout: LayoutWide, ChunkRows: n/3 - 1, NoSync: true},
		{Format: FormatCSV, Gzip: !testing.Short(), StatusLayout: LayoutLong, NoSync: true},
		{Format: FormatCSV, OutcomesLayout: LayoutWide, NoSync: true},
	} {
		dir := t.TempDir()
		require.NoError(t, WriteDir(dir, r, &opts))
		got, err := ReadDir(context.Background(), dir, &ReadOptions{ChunkRows: n / 6})
		require.NoError(t, err, "%+v", opts)
		ioRequireSameRegister(t, r, got)
	}
}

// TestShuffledRowsSameRegister: the row order of status, outcomes and
// spells files does not matter (spells keep file order, so they are not
// shuffled here), and levels do not depend on the order codes appear in.
func TestShuffledRowsSameRegister(t *testing.T) {
	base := filepath.Join(ioTestdata, "tiny_long")
	dir := t.TempDir()
	for _, f := range []string{"persons.csv", "spells.csv"} {
		b, err := os.ReadFile(filepath.Join(base, f))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
	}
	for _, f := range []string{"status.csv", "outcomes.csv"} {
		b, err := os.ReadFile(filepath.Join(base, f))
		require.NoError(t, err)
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		body := lines[1:]
		for i, j := 0, len(body)-1; i < j; i, j = i+1, j-1 { // reverse
			body[i], body[j] = body[j], body[i]
		}
		out := lines[0] + "\n" + strings.Join(body, "\n") + "\n"
		require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(out), 0o644))
	}
	got, err := ReadDir(context.Background(), dir, nil)
	require.NoError(t, err)
	ioRequireSameRegister(t, ioTinyRegister(), got)
}

// TestCSVTextVariants: a BOM, CRLF line ends, quoted fields with commas
// and newlines, and gzip give the same register.
func TestCSVTextVariants(t *testing.T) {
	base := filepath.Join(ioTestdata, "tiny_wide")
	read := func(f string) string {
		b, err := os.ReadFile(filepath.Join(base, f))
		require.NoError(t, err)
		return string(b)
	}
	persons := read("persons.csv")
	want := ioTinyRegister()
	variants := map[string]func(table, s string) (string, []byte){
		"bom":  func(_, s string) (string, []byte) { return ".csv", append([]byte("\xEF\xBB\xBF"), s...) },
		"crlf": func(_, s string) (string, []byte) { return ".csv", []byte(strings.ReplaceAll(s, "\n", "\r\n")) },
		"bom+crlf+gzip": func(_, s string) (string, []byte) {
			var buf bytes.Buffer
			zw := gzip.NewWriter(&buf)
			zw.Write([]byte("\xEF\xBB\xBF" + strings.ReplaceAll(s, "\n", "\r\n")))
			zw.Close()
			return ".csv.gz", buf.Bytes()
		},
		"spaces around header names": func(_, s string) (string, []byte) {
			k := strings.IndexByte(s, '\n')
			return ".csv", []byte(" " + strings.ReplaceAll(s[:k], ",", " , ") + " " + s[k:])
		},
		"quoted": func(table, s string) (string, []byte) {
			if table == "persons" {
				s = strings.Replace(s, ",nonwestern,", ",\"non\nwestern, \"\"x\"\"\",", 1)
			}
			s = strings.ReplaceAll(s, ",111", ",\"111\"")
			return ".csv", []byte(s)
		},
	}
	for name, v := range variants {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			for _, table := range []string{"persons", "status", "outcomes", "spells"} {
				src := read(table + ".csv")
				if table == "persons" {
					src = persons
				}
				ext, b := v(table, src)
				require.NoError(t, os.WriteFile(filepath.Join(dir, table+ext), b, 0o644))
			}
			got, err := ReadDir(context.Background(), dir, nil)
			require.NoError(t, err)
			w := want
			if name == "quoted" {
				w = ioTinyRegister()
				w.Attrs[1].Levels = []string{"DK", "non\nwestern, \"x\"", "western"}
			}
			ioRequireSameRegister(t, w, got)
		})
	}
}

// ioTypedRecords returns the tiny register's four tables (persons,
// status, outcomes, spells) as in-memory Arrow records with native types:
// int32 ids, date32 birth days and weeks, a dictionary-coded and a
// nullable string attribute, float32 and float64 values with nulls,
// NULL status codes, wide boolean outcomes and spells with text dates
// and int64 hours. The caller releases them.
func ioTypedRecords(t testing.TB) (prec, srec, orec, sprec arrow.Record) {
	mem := memory.NewGoAllocator()
	want := ioTinyRegister()
	// persons with typed columns
	ps := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int32},
		{Name: "birth", Type: arrow.FixedWidthTypes.Date32},
		{Name: "sex", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int8, ValueType: arrow.BinaryTypes.String}},
		{Name: "origin", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "educ_years", Type: arrow.PrimitiveTypes.Float32, Nullable: true},
		{Name: "income", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)
	pb := array.NewRecordBuilder(mem, ps)
	defer pb.Release()
	pb.Field(0).(*array.Int32Builder).AppendValues([]int32{103, 101, 105, 102, 104}, nil)
	for _, d := range want.Birth {
		pb.Field(1).(*array.Date32Builder).Append(arrow.Date32(d))
	}
	db := pb.Field(2).(*array.BinaryDictionaryBuilder)
	for _, s := range []string{"F", "M", "F", "M", "F"} {
		require.NoError(t, db.AppendString(s))
	}
	pb.Field(3).(*array.StringBuilder).AppendValues([]string{"DK", "nonwestern", "", "western", "DK"}, []bool{true, true, false, true, true})
	pb.Field(4).(*array.Float32Builder).AppendValues([]float32{12, 9.5, 0, 15, 10}, []bool{true, true, false, true, true})
	pb.Field(5).(*array.Float64Builder).AppendValues([]float64{250000, 0, 0, 410000.5, 120000}, []bool{true, false, true, true, true})
	prec = pb.NewRecord()

	// status long with date32 weeks; NULL code means ""
	ss := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "week", Type: arrow.FixedWidthTypes.Date32},
		{Name: "code", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	sb := array.NewRecordBuilder(mem, ss)
	defer sb.Release()
	for i, id := range want.IDs {
		for w := 0; w < want.Status.Weeks; w++ {
			lv := want.Status.Levels[want.Status.Row(i)[w]]
			sb.Field(0).(*array.Int64Builder).Append(id)
			sb.Field(1).(*array.Date32Builder).Append(arrow.Date32(want.Status.WeekStart(w)))
			if lv == "" {
				sb.Field(2).AppendNull()
			} else {
				sb.Field(2).(*array.StringBuilder).Append(lv)
			}
		}
	}
	srec = sb.NewRecord()

	// outcomes wide with booleans
	var ofields []arrow.Field
	ofields = append(ofields, arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64})
	for _, o := range want.Outcomes {
		for m := o.FirstMonth; m <= o.LastMonth(); m++ {
			ofields = append(ofields, arrow.Field{Name: o.Name + "_" + m.String(), Type: arrow.FixedWidthTypes.Boolean})
		}
	}
	ob := array.NewRecordBuilder(mem, arrow.NewSchema(ofields, nil))
	defer ob.Release()
	ob.Field(0).(*array.Int64Builder).AppendValues(want.IDs, nil)
	f := 1
	for _, o := range want.Outcomes {
		for m := o.FirstMonth; m <= o.LastMonth(); m++ {
			for i := range want.IDs {
				v, _ := o.Get(i, m)
				ob.Field(f).(*array.BooleanBuilder).Append(v)
			}
			f++
		}
	}
	orec = ob.NewRecord()

	// spells with text dates
	sp := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "start", Type: arrow.BinaryTypes.String},
		{Name: "end", Type: arrow.BinaryTypes.String},
		{Name: "hours", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	spb := array.NewRecordBuilder(mem, sp)
	defer spb.Release()
	for _, s := range want.Spells {
		spb.Field(0).(*array.Int64Builder).Append(want.IDs[s.Person])
		spb.Field(1).(*array.StringBuilder).Append(s.Start.String())
		spb.Field(2).(*array.StringBuilder).Append(s.End.String())
		if math.IsNaN(float64(s.Hours)) {
			spb.Field(3).AppendNull()
		} else {
			spb.Field(3).(*array.Int64Builder).Append(int64(s.Hours))
		}
	}
	sprec = spb.NewRecord()
	return prec, srec, orec, sprec
}

// TestRegisterFromRecords builds the tiny register from in-memory Arrow
// records with native types (ioTypedRecords).
func TestRegisterFromRecords(t *testing.T) {
	prec, srec, orec, sprec := ioTypedRecords(t)
	defer prec.Release()
	defer srec.Release()
	defer orec.Release()
	defer sprec.Release()

	rr := func(rec arrow.Record) array.RecordReader {
		r, err := array.NewRecordReader(rec.Schema(), []arrow.Record{rec})
		require.NoError(t, err)
		return r
	}
	got, err := RegisterFromRecords(rr(prec), rr(srec), rr(orec), rr(sprec), nil)
	require.NoError(t, err)
	w := ioTinyRegister()
	w.Spells[1].Hours = 4 // int64 hours column: 4.5 was written as 4
	ioRequireSameRegister(t, w, got)
}

// TestLoaderStreams reads each table from an io.Reader with format
// detection, CSV and Parquet mixed.
func TestLoaderStreams(t *testing.T) {
	want := ioTinyRegister()
	var pq bytes.Buffer
	require.NoError(t, WriteTable(&pq, want, TableStatus, nil)) // Parquet, wide
	l := NewLoader(nil)
	open := func(p string) *os.File {
		f, err := os.Open(filepath.Join(ioTestdata, p))
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		return f
	}
	require.NoError(t, l.Read(TablePersons, open("tiny_long/persons.csv"), FormatAuto, ""))
	// a plain io.Reader (not seekable) holding Parquet
	require.NoError(t, l.Read(TableStatus, struct{ *bytes.Buffer }{&pq}, FormatAuto, "status stream"))
	require.NoError(t, l.Read(TableOutcomes, open("tiny_parquet_long/outcomes.parquet"), FormatAuto, ""))
	require.NoError(t, l.Read(TableSpells, open("tiny_wide/spells.csv"), FormatCSV, ""))
	got, err := l.Register()
	require.NoError(t, err)
	ioRequireSameRegister(t, want, got)
	_, err = l.Register()
	require.Error(t, err, "Register twice")
}

// TestReadOptions: forced layouts, a fixed grid and fixed levels,
// categorical overrides.
func TestReadOptions(t *testing.T) {
	dir := filepath.Join(ioTestdata, "tiny_long")
	// fixed grid one week wider at each end; weeks without data are ""
	first := ioDay("2006-12-25")
	got, err := ReadDir(context.Background(), dir, &ReadOptions{FirstWeek: first, Weeks: 8})
	require.NoError(t, err)
	want := ioTinyRegister()
	require.Equal(t, first, got.Status.FirstWeek)
	require.Equal(t, 8, got.Status.Weeks)
	for i := range want.IDs {
		require.Equal(t, byte(0), got.Status.Row(i)[0])
		require.Equal(t, want.Status.Row(i), got.Status.Row(i)[1:7])
		require.Equal(t, byte(0), got.Status.Row(i)[7])
	}
	// fixed level order
	lv := []string{"651", "130", "111", "", "999"}
	got, err = ReadDir(context.Background(), dir, &ReadOptions{StatusLevels: lv})
	require.NoError(t, err)
	require.Equal(t, lv, got.Status.Levels)
	for k, c := range want.Status.Codes {
		require.Equal(t, want.Status.Levels[c], lv[got.Status.Codes[k]])
	}
	// numeric column forced categorical
	got, err = ReadDir(context.Background(), dir, &ReadOptions{Categorical: []string{"educ_years"}})
	require.NoError(t, err)
	a := got.Attrs[2]
	require.True(t, a.IsCategorical())
	require.Equal(t, []string{"10", "12", "15", "9.5"}, a.Levels)
	require.Equal(t, []uint16{1, 3, panel.MissingCode, 2, 0}, a.Codes)
	// forced layouts and format
	_, err = ReadDir(context.Background(), filepath.Join(ioTestdata, "tiny_wide"), &ReadOptions{StatusLayout: LayoutWide, OutcomesLayout: LayoutWide, Format: FormatCSV})
	require.NoError(t, err)
	_, err = ReadDir(context.Background(), filepath.Join(ioTestdata, "tiny_wide"), &ReadOptions{StatusLayout: LayoutLong})
	require.ErrorIs(t, err, panel.ErrInvalid)
	_, err = ReadDir(context.Background(), filepath.Join(ioTestdata, "tiny_wide"), &ReadOptions{Format: FormatParquet})
	require.ErrorIs(t, err, os.ErrNotExist)
}

// ioRandomRegister is a seeded random register of n persons and weeks
// weeks, persons in a shuffled id order, with runs of status codes, three
// outcomes with different observed months, attributes and spells.
func ioRandomRegister(n, weeks int, seed uint64) *panel.Register {
	rng := newTestRand(seed)
	levels := []string{"", "111", "130", "651", "730", "890"}
	r := &panel.Register{IDs: make([]int64, n), Birth: make([]panel.Day, n)}
	perm := rng.Perm(n)
	for i := range r.IDs {
		r.IDs[i] = int64(1000 + 7*perm[i])
		r.Birth[i] = ioDay("1950-01-01") + panel.Day(rng.IntN(20000))
	}
	sex := panel.Attribute{Name: "sex", Codes: make([]uint16, n), Levels: []string{"F", "M"}}
	age := panel.Attribute{Name: "score", Values: make([]float64, n)}
	for i := 0; i < n; i++ {
		sex.Codes[i] = uint16(rng.IntN(2))
		if rng.IntN(20) == 0 {
			sex.Codes[i] = panel.MissingCode
		}
		age.Values[i] = float64(rng.IntN(1000)) / 8
		if rng.IntN(15) == 0 {
			age.Values[i] = math.NaN()
		}
	}
	r.Attrs = []panel.Attribute{sex, age}
	r.Status = panel.NewStatusGrid(n, ioDay("2005-01-03"), weeks, levels)
	for i := 0; i < n; i++ {
		row := r.Status.Row(i)
		c := byte(rng.IntN(len(levels)))
		for w := range row {
			if rng.IntN(8) == 0 {
				c = byte(rng.IntN(len(levels)))
			}
			row[w] = c
		}
	}
	first := panel.MonthOf(r.Status.FirstWeek)
	outs := []panel.Outcome{panel.NewOutcome("emp", n, first, 70), panel.NewOutcome("edu", n, first+2, 50), panel.NewOutcome("su", n, first-3, 80)}
	for k := range outs {
		o := &outs[k]
		for i := 0; i < n; i++ {
			for m := o.FirstMonth; m <= o.LastMonth(); m++ {
				if rng.IntN(3) == 0 {
					o.Set(i, m, true)
				}
			}
		}
	}
	r.Outcomes = outs
	for i := 0; i < n; i += 1 + rng.IntN(5) {
		s := r.Status.FirstWeek + panel.Day(rng.IntN(7*weeks))
		h := float32(rng.IntN(20)) / 2
		if rng.IntN(10) == 0 {
			h = float32(math.NaN())
		}
		r.Spells = append(r.Spells, panel.Spell{Person: int32(i), Start: s, End: s + panel.Day(rng.IntN(200)), Hours: h})
	}
	if err := r.Validate(); err != nil {
		panic(err)
	}
	return r
}

func newTestRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// TestStatusLongAnyRowOrder: long status and outcomes rows in a random
// order make the reader grow its week and month ranges in both
// directions; the register is the same.
func TestStatusLongAnyRowOrder(t *testing.T) {
	r := ioRandomRegister(40, 150, 11)
	r.Spells = nil
	for _, tb := range []Table{TableStatus, TableOutcomes} {
		var buf bytes.Buffer
		require.NoError(t, WriteTable(&buf, r, tb, &WriteOptions{Format: FormatCSV, StatusLayout: LayoutLong}))
		lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
		body := lines[1:]
		rng := newTestRand(3)
		rng.Shuffle(len(body), func(i, j int) { body[i], body[j] = body[j], body[i] })
		shuffled := lines[0] + "\n" + strings.Join(body, "\n") + "\n"

		l := NewLoader(&ReadOptions{ChunkRows: 37})
		var pb bytes.Buffer
		require.NoError(t, WriteTable(&pb, r, TablePersons, nil))
		require.NoError(t, l.Read(TablePersons, bytes.NewReader(pb.Bytes()), FormatAuto, ""))
		if tb == TableOutcomes {
			var sb bytes.Buffer
			require.NoError(t, WriteTable(&sb, r, TableStatus, nil))
			require.NoError(t, l.Read(TableStatus, bytes.NewReader(sb.Bytes()), FormatAuto, ""))
		}
		require.NoError(t, l.Read(tb, strings.NewReader(shuffled), FormatCSV, ""))
		if tb == TableStatus {
			var ob bytes.Buffer
			require.NoError(t, WriteTable(&ob, r, TableOutcomes, nil))
			require.NoError(t, l.Read(TableOutcomes, bytes.NewReader(ob.Bytes()), FormatAuto, ""))
		}
		got, err := l.Register()
		require.NoError(t, err)
		ioRequireSameRegister(t, r, got)
	}
}

// TestReadDirCancelled: a cancelled context stops reading.
func TestReadDirCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, dir := range []string{"tiny_long", "tiny_parquet"} {
		_, err := ReadDir(ctx, filepath.Join(ioTestdata, dir), nil)
		require.ErrorIs(t, err, context.Canceled, dir)
	}
}
