package registerio

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ioTinyFiles returns the files of testdata/panel/tiny_long.
func ioTinyFiles(t *testing.T) map[string][]byte {
	files := map[string][]byte{}
	for _, f := range []string{"persons.csv", "status.csv", "outcomes.csv", "spells.csv"} {
		b, err := os.ReadFile(filepath.Join(ioTestdata, "tiny_long", f))
		require.NoError(t, err)
		files[f] = b
	}
	return files
}

func ioWriteFiles(t *testing.T, files map[string][]byte) string {
	dir := t.TempDir()
	for name, b := range files {
		if b == nil {
			continue
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	return dir
}

func ioGzip(s string) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write([]byte(s))
	w.Close()
	return buf.Bytes()
}

// TestReadErrors: every kind of bad input gives an *Error naming the
// file, column and row, and never a panic.
func TestReadErrors(t *testing.T) {
	manyCodes := func() string {
		var sb strings.Builder
		sb.WriteString("id,week,code\n")
		for k := 0; k < 300; k++ {
			fmt.Fprintf(&sb, "%d,%v,c%d\n", []int{101, 102, 103, 104, 105}[k%5], ioDay("2007-01-01")+panel.Day(7*(k/5)), k)
		}
		return sb.String()
	}()
	zipped := ioGzip("id,week,code\n" + strings.Repeat("101,2007-01-01,111\n", 2000))
	truncGz := string(zipped[:len(zipped)/2])
	cases := []struct {
		name string
		set  map[string]string // file -> content ("" deletes the file)
		opts *ReadOptions
		// expected Error fields; row -2 means "do not check"
		table, column string
		row           int
		msg           string
	}{
		// persons
		{name: "persons missing id column", set: map[string]string{"persons.csv": "pid,birth\n1,2000-01-01\n"},
			table: "persons.csv", column: "id", row: -1, msg: "missing column"},
		{name: "text in id", set: map[string]string{"persons.csv": "id\n101\nabc\n"},
			table: "persons.csv", column: "id", row: 1, msg: `"abc" is not an integer`},
		{name: "fraction in id", set: map[string]string{"persons.csv": "id\n101\n1.5\n"},
			table: "persons.csv", column: "id", row: 1, msg: "not an integer"},
		{name: "NULL id", set: map[string]string{"persons.csv": "id,sex\n101,F\n,M\n"},
			table: "persons.csv", column: "id", row: 1, msg: "missing value"},
		{name: "duplicate person ids", set: map[string]string{"persons.csv": "id\n103\n101\n105\n101\n"},
			table: "persons.csv", column: "id", row: 3, msg: "duplicate person id 101 (first at row 1)"},
		{name: "unparseable birth", set: map[string]string{"persons.csv": "id,birth\n101,1980-02-30\n"},
			table: "persons.csv", column: "birth", row: 0, msg: `"1980-02-30" is not a date`},
		{name: "NULL birth", set: map[string]string{"persons.csv": "id,birth\n101,1980-01-01\n102,NA\n"},
			table: "persons.csv", column: "birth", row: 1, msg: "missing date"},
		{name: "no persons", set: map[string]string{"persons.csv": "id,sex\n"},
			table: "persons.csv", column: "id", row: -1, msg: "no persons"},
		{name: "empty persons file", set: map[string]string{"persons.csv": ""},
			table: "persons.csv", column: "", row: -1, msg: "empty file"},
		{name: "Categorical names unknown column", opts: &ReadOptions{Categorical: []string{"nope"}},
			table: "persons.csv", column: "nope", row: -1, msg: "not an attribute"},
		{name: "duplicate header name", set: map[string]string{"persons.csv": "id,sex,sex\n101,F,F\n"},
			table: "persons.csv", column: "sex", row: -1, msg: "twice"},

		// CSV structure
		{name: "row with too many fields", set: map[string]string{"persons.csv": "id,sex\n103,F\n101,M,x\n"},
			table: "persons.csv", row: 1, msg: "wrong number of fields"},
		{name: "row with too few fields", set: map[string]string{"spells.csv": "id,start,end\n101,2007-01-08,2007-01-09\n101,2007-01-08\n"},
			table: "spells.csv", row: 1, msg: "wrong number of fields"},
		{name: "bare quote", set: map[string]string{"persons.csv": "id,sex\n103,F\n101,M\"x\n"},
			table: "persons.csv", row: 1, msg: "malformed CSV at line 3"},
		{name: "unterminated quote", set: map[string]string{"persons.csv": "id,sex\n103,F\n101,\"M\n"},
			table: "persons.csv", row: 1, msg: "malformed CSV"},
		{name: "truncated gzip", set: map[string]string{"status.csv": "", "status.csv.gz": truncGz},
			table: "status.csv.gz", row: -2, msg: ""},
		{name: "not gzip after magic", set: map[string]string{"status.csv": "", "status.csv.gz": "\x1f\x8bxxxxxxxxxxxxxxxxxx"},
			table: "status.csv.gz", row: -1, msg: "gzip"},

		// status
		{name: "status missing id", set: map[string]string{"status.csv": "person,week,code\n101,2007-01-01,111\n"},
			table: "status.csv", column: "id", row: -1, msg: "missing column"},
		{name: "long status missing code", set: map[string]string{"status.csv": "id,week\n101,2007-01-01\n"},
			table: "status.csv", column: "code", row: -1, msg: "missing column"},
		{name: "long status extra column", set: map[string]string{"status.csv": "id,week,code,x\n101,2007-01-01,111,1\n"},
			table: "status.csv", column: "x", row: -1, msg: "unexpected column"},
		{name: "status id not in persons", set: map[string]string{"status.csv": "id,week,code\n101,2007-01-01,111\n999,2007-01-01,111\n"},
			table: "status.csv", column: "id", row: 1, msg: "person id 999 is not in the persons table"},
		{name: "status text id", set: map[string]string{"status.csv": "id,week,code\n101,2007-01-01,111\nx1,2007-01-01,111\n"},
			table: "status.csv", column: "id", row: 1, msg: "not an integer"},
		{name: "week not on the grid", set: map[string]string{"status.csv": "id,week,code\n101,2007-01-01,111\n101,2007-01-10,111\n"},
			table: "status.csv", column: "week", row: 1, msg: "not on the weekly grid"},
		{name: "week outside fixed grid", opts: &ReadOptions{FirstWeek: ioDay("2007-01-08"), Weeks: 3},
			table: "status.csv", column: "week", row: 0, msg: "outside the status grid"},
		{name: "wide week outside fixed grid", set: map[string]string{"status.csv": "id,2007-01-01,2007-01-08\n101,1,1\n"},
			opts:  &ReadOptions{FirstWeek: ioDay("2007-01-08"), Weeks: 3},
			table: "status.csv", column: "2007-01-01", row: -1, msg: "outside the status grid"},
		{name: "week span of centuries", set: map[string]string{"status.csv": "id,week,code\n101,2007-01-01,111\n101,1900-01-01,111\n"},
			table: "status.csv", column: "week", row: 1, msg: "span more than"},
		{name: "unparseable week", set: map[string]string{"status.csv": "id,week,code\n101,2007-01-01,111\n101,2007/01/08,111\n"},
			table: "status.csv", column: "week", row: 1, msg: "not a date"},
		{name: "NULL week", set: map[string]string{"status.csv": "id,week,code\n101,,111\n"},
			table: "status.csv", column: "week", row: 0, msg: "missing date"},
		{name: "duplicate person-week", set: map[string]string{"status.csv": "id,week,code\n101,2007-01-01,111\n102,2007-01-01,111\n101,2007-01-01,130\n"},
			table: "status.csv", column: "week", row: 2, msg: "second row for person 101 in week 2007-01-01"},
		{name: "more than 255 codes", set: map[string]string{"status.csv": manyCodes},
			table: "status.csv", column: "code", row: 255, msg: "more than 255 distinct status codes"},
		{name: "code not in StatusLevels", opts: &ReadOptions{StatusLevels: []string{"", "111", "130"}},
			table: "status.csv", column: "code", row: 0, msg: `status code "651" is not in ReadOptions.StatusLevels`},
		{name: "StatusLevels without empty level", opts: &ReadOptions{StatusLevels: []string{"111", "130", "651"}},
			table: "status.csv", column: "code", row: 16, msg: `status code "" is not in`},
		{name: "wide bad column name", set: map[string]string{"status.csv": "id,2007-01-01,foo\n101,111,111\n"},
			table: "status.csv", column: "foo", row: -1, msg: "unexpected column"},
		{name: "wide missing week column", set: map[string]string{"status.csv": "id,2007-01-01,2007-01-15\n101,111,111\n"},
			table: "status.csv", column: "2007-01-15", row: -1, msg: "7 days apart"},
		{name: "wide week not 7 days apart", set: map[string]string{"status.csv": "id,2007-01-01,2007-01-09\n101,111,111\n"},
			table: "status.csv", column: "2007-01-09", row: -1, msg: "7 days apart"},
		{name: "wide duplicate person", set: map[string]string{"status.csv": "id,2007-01-01\n101,111\n102,111\n101,130\n"},
			table: "status.csv", column: "id", row: 2, msg: "second row for person 101 (first at row 0)"},
		{name: "wide no week columns", set: map[string]string{"status.csv": "id\n101\n"},
			table: "status.csv", row: -1, msg: "no week columns"},
		{name: "status with no rows", set: map[string]string{"status.csv": "id,week,code\n"},
			table: "status.csv", row: -1, msg: "no rows"},
		{name: "spell outside the grid (Validate)", set: map[string]string{"spells.csv": "id,start,end\n101,2007-01-08,2007-01-09\n101,2008-01-01,2008-01-09\n"},
			table: "spells.csv", column: "start", row: 1, msg: "outside the status grid"},

		// outcomes
		{name: "outcome NULL inside observed months", set: map[string]string{"outcomes.csv": "id,month,employed\n101,2007-01,1\n101,2007-02,\n101,2007-03,0\n"},
			table: "outcomes.csv", column: "employed", row: 1, msg: "missing value in month 2007-02"},
		{name: "outcome value 2", set: map[string]string{"outcomes.csv": "id,month,employed\n101,2007-01,1\n101,2007-02,2\n"},
			table: "outcomes.csv", column: "employed", row: 1, msg: `"2" is not 0 or 1`},
		{name: "outcome duplicate person-month", set: map[string]string{"outcomes.csv": "id,month,employed\n101,2007-01,1\n101,2007-01,0\n"},
			table: "outcomes.csv", column: "month", row: 1, msg: "second row for person 101 in month 2007-01"},
		{name: "outcome bad month", set: map[string]string{"outcomes.csv": "id,month,employed\n101,2007-13,1\n"},
			table: "outcomes.csv", column: "month", row: 0, msg: "not a month"},
		{name: "outcome all NULL", set: map[string]string{"outcomes.csv": "id,month,employed,education\n101,2007-01,1,\n"},
			table: "outcomes.csv", column: "education", row: -1, msg: "no observed month"},
		{name: "outcome id not in persons", set: map[string]string{"outcomes.csv": "id,month,employed\n101,2007-01,1\n7,2007-01,1\n"},
			table: "outcomes.csv", column: "id", row: 1, msg: "person id 7"},
		{name: "long outcomes without outcome columns", set: map[string]string{"outcomes.csv": "id,month\n101,2007-01\n"},
			table: "outcomes.csv", row: -1, msg: "no outcome columns"},
		{name: "wide outcome NULL", set: map[string]string{"outcomes.csv": "id,employed_2007-01,employed_2007-02\n101,1,1\n102,0,\n"},
			table: "outcomes.csv", column: "employed_2007-02", row: 1, msg: "missing value"},
		{name: "wide outcome missing month", set: map[string]string{"outcomes.csv": "id,employed_2007-01,employed_2007-03\n101,1,1\n"},
			table: "outcomes.csv", column: "employed_2007-03", row: -1, msg: "no column for month 2007-02"},
		{name: "wide outcome bad name", set: map[string]string{"outcomes.csv": "id,employed_2007-01,employed\n101,1,1\n"},
			table: "outcomes.csv", column: "employed", row: -1, msg: "unexpected column"},
		{name: "wide outcome duplicate person", set: map[string]string{"outcomes.csv": "id,employed_2007-01\n101,1\n101,0\n"},
			table: "outcomes.csv", column: "id", row: 1, msg: "second row for person 101"},

		// spells
		{name: "spell ends before it starts", set: map[string]string{"spells.csv": "id,start,end,hours\n101,2007-01-08,2007-01-20,5\n103,2007-01-15,2007-01-14,5\n"},
			table: "spells.csv", column: "end", row: 1, msg: "ends 2007-01-14 before it starts 2007-01-15"},
		{name: "spell missing start column", set: map[string]string{"spells.csv": "id,begin,end\n101,2007-01-08,2007-01-20\n"},
			table: "spells.csv", column: "start", row: -1, msg: "missing column"},
		{name: "spell id not in persons", set: map[string]string{"spells.csv": "id,start,end\n42,2007-01-08,2007-01-20\n"},
			table: "spells.csv", column: "id", row: 0, msg: "person id 42"},
		{name: "spell negative hours", set: map[string]string{"spells.csv": "id,start,end,hours\n101,2007-01-08,2007-01-20,-1\n"},
			table: "spells.csv", column: "hours", row: 0, msg: "non-negative"},
		{name: "spell text hours", set: map[string]string{"spells.csv": "id,start,end,hours\n101,2007-01-08,2007-01-20,three\n"},
			table: "spells.csv", column: "hours", row: 0, msg: `"three" is not a number`},
		{name: "spell NULL start", set: map[string]string{"spells.csv": "id,start,end,hours\n101,2007-01-08,2007-01-20,1\n101,NULL,2007-01-20,1\n"},
			table: "spells.csv", column: "start", row: 1, msg: "missing date"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := ioTinyFiles(t)
			for f, s := range c.set {
				if s == "" && f != "persons.csv" {
					delete(files, f)
				} else {
					files[f] = []byte(s)
				}
			}
			dir := ioWriteFiles(t, files)
			var reg *panel.Register
			var err error
			require.NotPanics(t, func() { reg, err = ReadDir(context.Background(), dir, c.opts) })
			require.Error(t, err)
			require.Nil(t, reg)
			require.ErrorIs(t, err, panel.ErrInvalid, "%v", err)
			var de *panel.Error
			require.True(t, errors.As(err, &de), "%T %v", err, err)
			assert.Equal(t, c.table, de.Table, "table: %v", err)
			if c.column != "" {
				assert.Equal(t, c.column, de.Column, "column: %v", err)
			}
			if c.row != -2 {
				assert.Equal(t, c.row, de.Row, "row: %v", err)
			}
			assert.Contains(t, err.Error(), c.msg)
		})
	}
}

// TestReadCorruptParquet: truncated and damaged Parquet files give
// errors naming the file, never panics. Damage is a 20-byte run of
// flipped bits slid over each file; Parquet in arrow-go v18 has no page
// checksums, so when no error is reported the data must be unchanged.
func TestReadCorruptParquet(t *testing.T) {
	tables := []string{"persons", "status", "outcomes", "spells"}
	orig := map[string][]byte{}
	for _, g := range tables {
		b, err := os.ReadFile(filepath.Join(ioTestdata, "tiny_parquet", g+".parquet"))
		require.NoError(t, err)
		orig[g+".parquet"] = b
	}
	want := ioTinyRegister()
	for _, f := range []string{"status.parquet", "persons.parquet", "outcomes.parquet", "spells.parquet"} {
		good := orig[f]
		variants := map[string][]byte{
			"empty":          {},
			"magic only":     []byte("PAR1"),
			"truncated half": good[:len(good)/2],
			"truncated end":  good[:len(good)-1],
			"not parquet":    []byte("id,week,code\n"),
			"zeroed data":    append(append(append([]byte{}, good[:4]...), make([]byte, len(good)/2-4)...), good[len(good)/2:]...),
		}
		step := 20
		if testing.Short() {
			step = 80
		}
		for from := 4; from < len(good)-8; from += step {
			variants[fmt.Sprintf("flip %d", from)] = ioFlipBytes(good, from, from+20)
		}
		for name, b := range variants {
			t.Run(f+"/"+name, func(t *testing.T) {
				files := map[string][]byte{}
				for k, v := range orig {
					files[k] = v
				}
				files[f] = b
				dir := ioWriteFiles(t, files)
				var err error
				var got *panel.Register
				require.NotPanics(t, func() { got, err = ReadDir(context.Background(), dir, nil) })
				if err == nil && strings.HasPrefix(name, "flip") {
					ioRequireSameRegister(t, want, got)
					return
				}
				require.Error(t, err)
				var de *panel.Error
				require.True(t, errors.As(err, &de), "%v", err)
				if !strings.HasPrefix(name, "flip") {
					assert.Equal(t, f, de.Table, "%v", err)
				}
			})
		}
	}
}

func ioFlipBytes(b []byte, from, to int) []byte {
	out := append([]byte{}, b...)
	for i := from; i < to && i < len(out)-8; i++ {
		out[i] ^= 0x5a
	}
	return out
}

// TestReadRecordsTypeErrors: Arrow columns of the wrong type are errors
// naming the column.
func TestReadRecordsTypeErrors(t *testing.T) {
	mem := memory.NewGoAllocator()
	one := func(name string, typ arrow.DataType, fill func(array.Builder)) array.RecordReader {
		s := arrow.NewSchema([]arrow.Field{{Name: name, Type: typ, Nullable: true}}, nil)
		b := array.NewRecordBuilder(mem, s)
		defer b.Release()
		fill(b.Field(0))
		rec := b.NewRecord()
		rr, err := array.NewRecordReader(s, []arrow.Record{rec})
		require.NoError(t, err)
		return rr
	}
	for _, c := range []struct {
		name string
		rr   array.RecordReader
		msg  string
	}{
		{"float id", one("id", arrow.PrimitiveTypes.Float64, func(b array.Builder) { b.(*array.Float64Builder).Append(1) }), "has type float64, want an integer type"},
		{"bool id", one("id", arrow.FixedWidthTypes.Boolean, func(b array.Builder) { b.(*array.BooleanBuilder).Append(true) }), "want an integer type"},
		{"NULL int id", one("id", arrow.PrimitiveTypes.Int64, func(b array.Builder) { b.AppendNull() }), "missing value (NULL)"},
		{"huge uint id", one("id", arrow.PrimitiveTypes.Uint64, func(b array.Builder) { b.(*array.Uint64Builder).Append(1 << 63) }), "does not fit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := RegisterFromRecords(c.rr, nil, nil, nil, nil)
			require.ErrorIs(t, err, panel.ErrInvalid)
			var de *panel.Error
			require.True(t, errors.As(err, &de))
			assert.Equal(t, "id", de.Column)
			assert.Contains(t, err.Error(), c.msg)
		})
	}
	// a timestamp where a date is wanted
	l := NewLoader(nil)
	require.NoError(t, l.ReadRecords(TablePersons, one("id", arrow.PrimitiveTypes.Int64, func(b array.Builder) { b.(*array.Int64Builder).Append(1) }), ""))
	s := arrow.NewSchema([]arrow.Field{{Name: "id", Type: arrow.PrimitiveTypes.Int64}, {Name: "week", Type: arrow.FixedWidthTypes.Timestamp_s}, {Name: "code", Type: arrow.BinaryTypes.String}}, nil)
	b := array.NewRecordBuilder(mem, s)
	b.Field(0).(*array.Int64Builder).Append(1)
	b.Field(1).(*array.TimestampBuilder).Append(0)
	b.Field(2).(*array.StringBuilder).Append("x")
	rr, err := array.NewRecordReader(s, []arrow.Record{b.NewRecord()})
	require.NoError(t, err)
	err = l.ReadRecords(TableStatus, rr, "status records")
	require.ErrorIs(t, err, panel.ErrInvalid)
	assert.Contains(t, err.Error(), `panel: status records column "week": has type timestamp[s`)
	// the loader refuses further use after an error
	require.Error(t, l.ReadRecords(TableSpells, rr, ""))
	_, err = l.Register()
	require.Error(t, err)
}

// TestReadDirAmbiguous: a table in two formats, and missing required
// tables.
func TestReadDirAmbiguous(t *testing.T) {
	files := ioTinyFiles(t)
	files["persons.csv.gz"] = ioGzip(string(files["persons.csv"]))
	dir := ioWriteFiles(t, files)
	_, err := ReadDir(context.Background(), dir, nil)
	require.ErrorContains(t, err, "table persons is in more than one file")
	_, err = ReadDir(context.Background(), dir, &ReadOptions{Format: FormatParquet})
	require.ErrorIs(t, err, os.ErrNotExist)

	files = ioTinyFiles(t)
	delete(files, "status.csv")
	_, err = ReadDir(context.Background(), ioWriteFiles(t, files), nil)
	require.ErrorIs(t, err, os.ErrNotExist)
	require.ErrorContains(t, err, "no status table")

	// optional tables may be absent
	files = ioTinyFiles(t)
	delete(files, "outcomes.csv")
	delete(files, "spells.csv")
	r, err := ReadDir(context.Background(), ioWriteFiles(t, files), nil)
	require.NoError(t, err)
	require.Nil(t, r.Outcomes)
	require.Nil(t, r.Spells)
	require.Equal(t, 5, r.Len())
}

// TestWriteDirRefusesOtherFormat: WriteDir does not leave two files of one
// table behind.
func TestWriteDirRefusesOtherFormat(t *testing.T) {
	r := ioTinyRegister()
	dir := t.TempDir()
	require.NoError(t, WriteDir(dir, r, &WriteOptions{Format: FormatCSV}))
	err := WriteDir(dir, r, nil)
	require.ErrorContains(t, err, "already holds persons.csv")
	_, err = os.Stat(filepath.Join(dir, "persons.parquet"))
	require.ErrorIs(t, err, os.ErrNotExist, "nothing written")
	// a register without spells must not leave an old spells file
	r.Spells = nil
	err = WriteDir(dir, r, &WriteOptions{Format: FormatCSV})
	require.ErrorContains(t, err, "already holds spells.csv")
	// invalid registers and unwritable levels are refused
	bad := ioTinyRegister()
	bad.IDs[1] = bad.IDs[0]
	require.ErrorIs(t, WriteDir(t.TempDir(), bad, nil), panel.ErrInvalid)
	bad = ioTinyRegister()
	bad.Attrs[0].Levels[0] = "NA"
	require.ErrorContains(t, WriteDir(t.TempDir(), bad, nil), `level "NA" would be read back as a missing value`)
	require.Error(t, WriteDir(t.TempDir(), ioTinyRegister(), &WriteOptions{Gzip: true}), "gzip Parquet")
}
