package panel_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Bad-input suite for package panel, the cases not already in
// TestReadErrors, TestBuildErrors, TestReadCorruptParquet,
// TestReadRecordsTypeErrors and TestCSVTextVariants (the catalogue in
// internal/badinput lists which test covers which item of the issue).
// Each case asserts the sentinel, the typed error and its table, column,
// row or option, and a piece of the message.

// biWant is the expected error of a bad-input case.
type biWant struct {
	is            error  // errors.Is target
	table, column string // *panel.Error fields ("" = not checked)
	row           int    // *panel.Error row; -2 = not checked
	option        string // *panel.Error option prefix ("" = not a design error)
	msg           string // substring of the message
}

func biCheck(t *testing.T, err error, w biWant) {
	t.Helper()
	require.Error(t, err)
	require.ErrorIs(t, err, w.is, "%v", err)
	assert.Contains(t, err.Error(), w.msg)
	if w.option != "" {
		var de *panel.Error
		require.True(t, errors.As(err, &de), "%T %v is not an *Error", err, err)
		assert.True(t, strings.HasPrefix(de.Option, w.option), "option %q, want %q", de.Option, w.option)
		return
	}
	if w.table != "" || w.column != "" || w.row != -2 {
		var de *panel.Error
		require.True(t, errors.As(err, &de), "%T %v is not an *Error", err, err)
		if w.table != "" {
			assert.Equal(t, w.table, de.Table, "%v", err)
		}
		if w.column != "" {
			assert.Equal(t, w.column, de.Column, "%v", err)
		}
		if w.row != -2 {
			assert.Equal(t, w.row, de.Row, "%v", err)
		}
	}
}

// biFiles returns the CSV files of the Build tests' register
// (testdata/panel/build_tiny/csv_long, written from tinyRegister).
func biFiles(t *testing.T) map[string]string {
	files := map[string]string{}
	for _, f := range []string{"persons.csv", "status.csv", "outcomes.csv", "spells.csv"} {
		b, err := os.ReadFile(filepath.Join(ioTestdata, "build_tiny", "csv_long", f))
		require.NoError(t, err)
		files[f] = string(b)
	}
	return files
}

func biReplace(t *testing.T, s, old, new string) string {
	t.Helper()
	require.Equal(t, 1, strings.Count(s, old), "%q must occur once", old)
	return strings.Replace(s, old, new, 1)
}

// TestBadInputFilesToPanel: register files with one defect each, read
// with ReadDir and built with the design of the Build tests (tinyDesign).
// The error comes from the reader or from Build, whichever first sees
// the problem; wantRead says which.
func TestBadInputFilesToPanel(t *testing.T) {
	cases := []struct {
		name     string
		edit     func(t *testing.T, f map[string]string)
		wantRead bool
		want     biWant
	}{
		// NaN/Inf/NULL in covariates. Policy: "", NA, NaN, NULL, null
		// are missing values; a numeric attribute may be missing, but a
		// covariate that is NaN for a unit of the panel is an error
		// naming the person (categories: use DummiesWithMissing).
		// Infinite values are never allowed.
		{"Inf in a numeric covariate", func(t *testing.T, f map[string]string) {
			f["persons.csv"] = biReplace(t, f["persons.csv"], "103,1985-03-03,300,", "103,1985-03-03,Inf,")
		}, true, biWant{is: panel.ErrInvalid, table: "persons.csv", column: "income", row: 2, msg: `"Inf" is infinite or out of range`}},
		{"-inf in a numeric covariate", func(t *testing.T, f map[string]string) {
			f["persons.csv"] = biReplace(t, f["persons.csv"], "109,1975-05-05,900,", "109,1975-05-05,-inf,")
		}, true, biWant{is: panel.ErrInvalid, table: "persons.csv", column: "income", row: 7, msg: `"-inf" is infinite`}},
		{"out-of-range number in a numeric covariate", func(t *testing.T, f map[string]string) {
			f["persons.csv"] = biReplace(t, f["persons.csv"], "103,1985-03-03,300,", "103,1985-03-03,1e999,")
		}, true, biWant{is: panel.ErrInvalid, table: "persons.csv", column: "income", row: 2, msg: `"1e999" is infinite or out of range`}},
		{"NULL in a covariate of a panel unit", func(t *testing.T, f map[string]string) {
			f["persons.csv"] = biReplace(t, f["persons.csv"], "101,1990-02-06,100,", "101,1990-02-06,,")
		}, false, biWant{is: panel.ErrInvalid, table: "persons", column: "income", row: -2, msg: "covariate is NaN for person id 101"}},
		{"NaN text in a covariate of a panel unit", func(t *testing.T, f map[string]string) {
			f["persons.csv"] = biReplace(t, f["persons.csv"], "101,1990-02-06,100,", "101,1990-02-06,NaN,")
		}, false, biWant{is: panel.ErrInvalid, column: "income", row: -2, msg: "covariate is NaN for person id 101"}},
		// wrong column type: a text value makes the column categorical
		// (the schema infers types), which a numeric covariate refuses
		{"text in a numeric covariate", func(t *testing.T, f map[string]string) {
			f["persons.csv"] = biReplace(t, f["persons.csv"], "103,1985-03-03,300,", "103,1985-03-03,three hundred,")
		}, false, biWant{is: panel.ErrDesign, option: "Covariates[0] income", msg: `attribute "income" is categorical`}},
		{"categorical used as numeric", func(t *testing.T, f map[string]string) {
			f["persons.csv"] = strings.Replace(f["persons.csv"], "id,birth,income,edu", "id,birth,edu,income", 1)
		}, false, biWant{is: panel.ErrDesign, option: "Covariates[0] income", msg: "categorical"}},
		// missing columns
		{"missing covariate column", func(t *testing.T, f map[string]string) {
			var b strings.Builder
			for _, line := range strings.SplitAfter(f["persons.csv"], "\n") {
				if k := strings.LastIndexByte(line, ','); k > 0 {
					line = line[:k] + "\n" // drop edu
				}
				b.WriteString(line)
			}
			f["persons.csv"] = b.String()
		}, false, biWant{is: panel.ErrDesign, option: "Covariates[1] edu", msg: `unknown attribute "edu"`}},
		{"missing outcome column", func(t *testing.T, f map[string]string) {
			var b strings.Builder
			for _, line := range strings.SplitAfter(f["outcomes.csv"], "\n") {
				if k := strings.IndexByte(line, ','); k > 0 {
					parts := strings.Split(strings.TrimSuffix(line, "\n"), ",")
					line = strings.Join(append(parts[:2], parts[3:]...), ",") + "\n" // drop emp
				}
				b.WriteString(line)
			}
			f["outcomes.csv"] = b.String()
		}, false, biWant{is: panel.ErrDesign, option: "Outcomes", msg: `unknown outcome "emp"`}},
		{"missing birth column for an age rule", func(t *testing.T, f map[string]string) {
			var b strings.Builder
			for _, line := range strings.SplitAfter(f["persons.csv"], "\n") {
				if parts := strings.Split(line, ","); len(parts) == 4 {
					line = strings.Join([]string{parts[0], parts[2], parts[3]}, ",")
				}
				b.WriteString(line)
			}
			f["persons.csv"] = b.String()
		}, false, biWant{is: panel.ErrDesign, option: "Eligibility[0]", msg: "needs Register.Birth"}},
		// duplicate person ids, spells
		{"duplicate person id", func(t *testing.T, f map[string]string) {
			f["persons.csv"] = biReplace(t, f["persons.csv"], "104,1947-01-02,", "101,1947-01-02,")
		}, true, biWant{is: panel.ErrInvalid, table: "persons.csv", column: "id", row: 6, msg: "duplicate person id 101 (first at row 1)"}},
		{"spell ending before it starts", func(t *testing.T, f map[string]string) {
			f["spells.csv"] += "101,2012-03-10,2012-03-09,1\n"
		}, true, biWant{is: panel.ErrInvalid, table: "spells.csv", column: "end", row: 10, msg: "ends 2012-03-09 before it starts 2012-03-10"}},
		{"spell starting before the week grid", func(t *testing.T, f map[string]string) {
			f["spells.csv"] += "101,2011-01-03,2012-03-09,1\n"
		}, true, biWant{is: panel.ErrInvalid, table: "spells.csv", column: "start", row: 10, msg: "start 2011-01-03 of person 101 is outside the status grid 2011-12-05..2012-07-01"}},
		{"spell starting after the week grid", func(t *testing.T, f map[string]string) {
			f["spells.csv"] += "101,2013-01-07,2013-03-09,1\n"
		}, true, biWant{is: panel.ErrInvalid, table: "spells.csv", column: "start", row: 10, msg: "start 2013-01-07 of person 101 is outside the status grid"}},
		{"spell with infinite hours", func(t *testing.T, f map[string]string) {
			f["spells.csv"] += "101,2012-03-05,2012-03-09,Inf\n"
		}, true, biWant{is: panel.ErrInvalid, table: "spells.csv", column: "hours", row: 10, msg: "infinite value"}},
		// all units treated: every person starts a spell in the window
		{"all units treated", func(t *testing.T, f map[string]string) {
			var b strings.Builder
			b.WriteString("id,start,end,hours\n")
			for _, line := range strings.Split(f["persons.csv"], "\n")[1:] {
				if id, _, ok := strings.Cut(line, ","); ok {
					b.WriteString(id + ",2012-02-06,2012-03-30,2\n")
				}
			}
			f["spells.csv"] = b.String()
		}, false, biWant{is: panel.ErrNoControls, row: -2, msg: "none of 0 control draws (0 persons)"}},
		{"no spells at all", func(t *testing.T, f map[string]string) { delete(f, "spells.csv") },
			false, biWant{is: panel.ErrEmptyWindow, row: -2, msg: "no merged spell starts in the window"}},
		// outcome values
		{"outcome 0.5", func(t *testing.T, f map[string]string) {
			f["outcomes.csv"] = biReplace(t, f["outcomes.csv"], "105,2011-09,0,0,0\n", "105,2011-09,0.5,0,0\n")
		}, true, biWant{is: panel.ErrInvalid, table: "outcomes.csv", column: "emp", row: 0, msg: `"0.5" is not 0 or 1`}},
		{"outcome NaN inside the observed months", func(t *testing.T, f map[string]string) {
			f["outcomes.csv"] = biReplace(t, f["outcomes.csv"], "105,2011-09,0,0,0\n", "105,2011-09,0,0,0\n105,2011-10,NaN,0,0\n")
		}, true, biWant{is: panel.ErrInvalid, table: "outcomes.csv", column: "emp", row: 1, msg: "missing value in month 2011-10"}},
		// corrupt or truncated CSV
		{"CSV truncated inside a row", func(t *testing.T, f map[string]string) {
			s := f["status.csv"]
			f["status.csv"] = s[:strings.LastIndexByte(s[:len(s)-1], '\n')+8] // "id,week" of the last row only
		}, true, biWant{is: panel.ErrInvalid, table: "status.csv", row: 299, msg: "malformed CSV at line 301: wrong number of fields"}},
		{"CSV with a NUL byte", func(t *testing.T, f map[string]string) {
			f["persons.csv"] = biReplace(t, f["persons.csv"], "103,1985", "10\x003,1985")
		}, true, biWant{is: panel.ErrInvalid, table: "persons.csv", row: 2, msg: "NUL byte"}},
		{"binary garbage instead of CSV", func(t *testing.T, f map[string]string) {
			f["spells.csv"] = "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
		}, true, biWant{is: panel.ErrInvalid, table: "spells.csv", column: "id", row: -1, msg: "missing column (spells need id, start, end"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			files := biFiles(t)
			c.edit(t, files)
			dir := t.TempDir()
			for name, s := range files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
			}
			var r *panel.Register
			var p *panel.Panel
			var err error
			require.NotPanics(t, func() { r, err = registerio.ReadDir(context.Background(), dir, nil) })
			if c.wantRead {
				assert.Nil(t, r)
				biCheck(t, err, c.want)
				return
			}
			require.NoError(t, err, "the reader accepts this; Build must refuse it")
			require.NotPanics(t, func() { p, err = panel.Build(context.Background(), r, panel.TinyDesign(t)) })
			assert.Nil(t, p)
			biCheck(t, err, c.want)
		})
	}
}

// TestBadInputTextVariantsGiveSamePanel: a byte order mark, CRLF line
// ends, quoted fields and a quoted newline are read correctly (policy:
// accepted, not rejected): the panel equals the one from the plain files.
func TestBadInputTextVariantsGiveSamePanel(t *testing.T) {
	build := func(files map[string]string) *panel.Panel {
		dir := t.TempDir()
		for name, s := range files {
			require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
		}
		r, err := registerio.ReadDir(context.Background(), dir, nil)
		require.NoError(t, err)
		p, err := panel.Build(context.Background(), r, panel.TinyDesign(t))
		require.NoError(t, err)
		return p
	}
	want := build(biFiles(t))
	files := biFiles(t)
	for name, s := range files {
		s = strings.ReplaceAll(s, "\n", "\r\n")
		s = "\ufeff" + s
		files[name] = s
	}
	// quoted values, and an extra attribute whose first value holds a
	// quoted comma and CRLF
	files["status.csv"] = strings.ReplaceAll(files["status.csv"], ",cash\r\n", ",\"cash\"\r\n")
	lines := strings.SplitAfter(files["persons.csv"], "\r\n")
	for k, line := range lines {
		switch {
		case k == 0:
			line = strings.TrimSuffix(line, "\r\n") + ",note\r\n"
		case k == 1:
			line = strings.TrimSuffix(line, "\r\n") + ",\"line one,\r\nline \"\"two\"\"\"\r\n"
		case line != "":
			line = strings.TrimSuffix(line, "\r\n") + ",x\r\n"
		}
		lines[k] = line
	}
	files["persons.csv"] = strings.Join(lines, "")
	got := build(files)
	panel.RequireSamePanel(t, want, got, true)
	// the value is read with its comma, newline and quotes; a CRLF
	// inside quotes reads as "\n", as Go's encoding/csv does
	dir := t.TempDir()
	for name, s := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644))
	}
	r, err := registerio.ReadDir(context.Background(), dir, nil)
	require.NoError(t, err)
	note := r.Attrs[len(r.Attrs)-1]
	require.Equal(t, "note", note.Name)
	assert.Equal(t, []string{"line one,\nline \"two\"", "x"}, note.Levels)
}

// TestBadInputWrongArrowTypes: Arrow (and so Parquet) columns of a type
// the schema does not allow are errors naming the table and column.
func TestBadInputWrongArrowTypes(t *testing.T) {
	mem := memory.NewGoAllocator()
	record := func(fields []arrow.Field, fill func(b *array.RecordBuilder)) array.RecordReader {
		s := arrow.NewSchema(fields, nil)
		b := array.NewRecordBuilder(mem, s)
		defer b.Release()
		fill(b)
		rr, err := array.NewRecordReader(s, []arrow.Record{b.NewRecord()})
		require.NoError(t, err)
		return rr
	}
	id := arrow.Field{Name: "id", Type: arrow.PrimitiveTypes.Int64}
	persons := func() array.RecordReader {
		return record([]arrow.Field{id}, func(b *array.RecordBuilder) {
			b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
		})
	}
	status := func() array.RecordReader {
		return record([]arrow.Field{id, {Name: "week", Type: arrow.FixedWidthTypes.Date32}, {Name: "code", Type: arrow.BinaryTypes.String}},
			func(b *array.RecordBuilder) {
				b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
				b.Field(1).(*array.Date32Builder).AppendValues([]arrow.Date32{arrow.Date32(panel.DayFromDate(2012, 1, 2)), arrow.Date32(panel.DayFromDate(2012, 1, 2))}, nil)
				b.Field(2).(*array.StringBuilder).AppendValues([]string{"a", "b"}, nil)
			})
	}
	cases := []struct {
		name  string
		table registerio.Table
		rr    func() array.RecordReader
		want  biWant
	}{
		{"float week", registerio.TableStatus, func() array.RecordReader {
			return record([]arrow.Field{id, {Name: "week", Type: arrow.PrimitiveTypes.Float64}, {Name: "code", Type: arrow.BinaryTypes.String}},
				func(b *array.RecordBuilder) {
					b.Field(0).(*array.Int64Builder).Append(1)
					b.Field(1).(*array.Float64Builder).Append(15000)
					b.Field(2).(*array.StringBuilder).Append("a")
				})
		}, biWant{is: panel.ErrInvalid, table: "t", column: "week", row: -2, msg: "type float64"}},
		{"string outcome", registerio.TableOutcomes, func() array.RecordReader {
			return record([]arrow.Field{id, {Name: "month", Type: arrow.BinaryTypes.String}, {Name: "emp", Type: arrow.BinaryTypes.String}},
				func(b *array.RecordBuilder) {
					b.Field(0).(*array.Int64Builder).Append(1)
					b.Field(1).(*array.StringBuilder).Append("2012-01")
					b.Field(2).(*array.StringBuilder).Append("yes")
				})
		}, biWant{is: panel.ErrInvalid, table: "t", column: "emp", row: 0, msg: `"yes" is not 0 or 1`}},
		{"float outcome 0.5", registerio.TableOutcomes, func() array.RecordReader {
			return record([]arrow.Field{id, {Name: "month", Type: arrow.BinaryTypes.String}, {Name: "emp", Type: arrow.PrimitiveTypes.Float64}},
				func(b *array.RecordBuilder) {
					b.Field(0).(*array.Int64Builder).Append(1)
					b.Field(1).(*array.StringBuilder).Append("2012-01")
					b.Field(2).(*array.Float64Builder).Append(0.5)
				})
		}, biWant{is: panel.ErrInvalid, table: "t", column: "emp", row: 0, msg: "not 0 or 1"}},
		{"Inf outcome", registerio.TableOutcomes, func() array.RecordReader {
			return record([]arrow.Field{id, {Name: "month", Type: arrow.BinaryTypes.String}, {Name: "emp", Type: arrow.PrimitiveTypes.Float64}},
				func(b *array.RecordBuilder) {
					b.Field(0).(*array.Int64Builder).Append(1)
					b.Field(1).(*array.StringBuilder).Append("2012-01")
					b.Field(2).(*array.Float64Builder).Append(math.Inf(1))
				})
		}, biWant{is: panel.ErrInvalid, table: "t", column: "emp", row: 0, msg: "infinite value"}},
		{"date hours", registerio.TableSpells, func() array.RecordReader {
			return record([]arrow.Field{id, {Name: "start", Type: arrow.BinaryTypes.String}, {Name: "end", Type: arrow.BinaryTypes.String}, {Name: "hours", Type: arrow.FixedWidthTypes.Date32}},
				func(b *array.RecordBuilder) {
					b.Field(0).(*array.Int64Builder).Append(1)
					b.Field(1).(*array.StringBuilder).Append("2012-01-02")
					b.Field(2).(*array.StringBuilder).Append("2012-01-03")
					b.Field(3).(*array.Date32Builder).Append(3)
				})
		}, biWant{is: panel.ErrInvalid, table: "t", column: "hours", row: -2, msg: "type date32"}},
		{"boolean hours", registerio.TableSpells, func() array.RecordReader {
			return record([]arrow.Field{id, {Name: "start", Type: arrow.BinaryTypes.String}, {Name: "end", Type: arrow.BinaryTypes.String}, {Name: "hours", Type: arrow.FixedWidthTypes.Boolean}},
				func(b *array.RecordBuilder) {
					b.Field(0).(*array.Int64Builder).Append(1)
					b.Field(1).(*array.StringBuilder).Append("2012-01-02")
					b.Field(2).(*array.StringBuilder).Append("2012-01-03")
					b.Field(3).(*array.BooleanBuilder).Append(true)
				})
		}, biWant{is: panel.ErrInvalid, table: "t", column: "hours", row: -2, msg: "type bool"}},
		{"NaN hours read as unknown, Inf refused", registerio.TableSpells, func() array.RecordReader {
			return record([]arrow.Field{id, {Name: "start", Type: arrow.BinaryTypes.String}, {Name: "end", Type: arrow.BinaryTypes.String}, {Name: "hours", Type: arrow.PrimitiveTypes.Float64}},
				func(b *array.RecordBuilder) {
					b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
					b.Field(1).(*array.StringBuilder).AppendValues([]string{"2012-01-02", "2012-01-02"}, nil)
					b.Field(2).(*array.StringBuilder).AppendValues([]string{"2012-01-03", "2012-01-03"}, nil)
					b.Field(3).(*array.Float64Builder).AppendValues([]float64{math.NaN(), math.Inf(-1)}, nil)
				})
		}, biWant{is: panel.ErrInvalid, table: "t", column: "hours", row: 1, msg: "infinite value"}},
		{"integer birth", registerio.TablePersons, func() array.RecordReader {
			return record([]arrow.Field{id, {Name: "birth", Type: arrow.PrimitiveTypes.Int64}},
				func(b *array.RecordBuilder) {
					b.Field(0).(*array.Int64Builder).Append(1)
					b.Field(1).(*array.Int64Builder).Append(19800101)
				})
		}, biWant{is: panel.ErrInvalid, table: "t", column: "birth", row: -2, msg: "type int64"}},
		{"Inf in a float attribute", registerio.TablePersons, func() array.RecordReader {
			return record([]arrow.Field{id, {Name: "income", Type: arrow.PrimitiveTypes.Float64}},
				func(b *array.RecordBuilder) {
					b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2}, nil)
					b.Field(1).(*array.Float64Builder).AppendValues([]float64{1, math.Inf(1)}, nil)
				})
		}, biWant{is: panel.ErrInvalid, table: "t", column: "income", row: 1, msg: "infinite value"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := registerio.NewLoader(nil)
			if c.table != registerio.TablePersons {
				require.NoError(t, l.ReadRecords(registerio.TablePersons, persons(), "persons"))
			}
			if c.table != registerio.TablePersons && c.table != registerio.TableStatus {
				require.NoError(t, l.ReadRecords(registerio.TableStatus, status(), "status"))
			}
			var err error
			require.NotPanics(t, func() { err = l.ReadRecords(c.table, c.rr(), "t") })
			biCheck(t, err, c.want)
		})
	}
}

// TestBadInputRegisterShapes: a Register built in memory whose slices do
// not fit together (the "mismatched lengths" item for this package) is
// refused by Validate, Build and WriteDir with an *Error naming the
// table and column, never a panic or an index out of range.
func TestBadInputRegisterShapes(t *testing.T) {
	cases := []struct {
		name string
		mod  func(r *panel.Register)
		want biWant
	}{
		{"no persons", func(r *panel.Register) { *r = panel.Register{} }, biWant{is: panel.ErrInvalid, table: "persons", column: "id", row: -1, msg: "no persons"}},
		{"short Birth", func(r *panel.Register) { r.Birth = r.Birth[:3] }, biWant{is: panel.ErrInvalid, table: "persons", column: "birth", row: -1, msg: "has 3 values for 10 persons"}},
		{"short attribute", func(r *panel.Register) { r.Attrs[0].Values = r.Attrs[0].Values[:9] }, biWant{is: panel.ErrInvalid, table: "persons", column: "income", row: -1, msg: "has 9 values for 10 persons"}},
		{"attribute with Values and Codes", func(r *panel.Register) { r.Attrs[1].Values = make([]float64, 10) }, biWant{is: panel.ErrInvalid, table: "persons", column: "edu", row: -1, msg: "exactly one of Values or Codes"}},
		{"code without a level", func(r *panel.Register) { r.Attrs[1].Codes[4] = 3 }, biWant{is: panel.ErrInvalid, table: "persons", column: "edu", row: 4, msg: "code 3 has no level (3 levels)"}},
		{"infinite attribute", func(r *panel.Register) { r.Attrs[0].Values[2] = math.Inf(-1) }, biWant{is: panel.ErrInvalid, table: "persons", column: "income", row: 2, msg: "infinite value"}},
		{"status grid too short", func(r *panel.Register) { r.Status.Codes = r.Status.Codes[:len(r.Status.Codes)-1] }, biWant{is: panel.ErrInvalid, table: "status", row: -1, msg: "want 10 persons x"}},
		{"status code without a level", func(r *panel.Register) { r.Status.Codes[3*r.Status.Weeks+5] = 200 }, biWant{is: panel.ErrInvalid, table: "status", column: "week", row: 3, msg: "code 200 in week 5 has no level"}},
		{"no weeks", func(r *panel.Register) { r.Status.Weeks = 0 }, biWant{is: panel.ErrInvalid, table: "status", row: -1, msg: "no weeks"}},
		{"outcome bits too short", func(r *panel.Register) { r.Outcomes[1].Bits = r.Outcomes[1].Bits[:5] }, biWant{is: panel.ErrInvalid, table: "outcomes", column: "educ", row: -1, msg: "has 5 words, want 10"}},
		{"outcome without months", func(r *panel.Register) { r.Outcomes[0].Months = 0 }, biWant{is: panel.ErrInvalid, table: "outcomes", column: "emp", row: -1, msg: "no months observed"}},
		{"spell of no person", func(r *panel.Register) { r.Spells[2].Person = 10 }, biWant{is: panel.ErrInvalid, table: "spells", column: "person", row: 2, msg: "person index 10 out of range"}},
		{"NaN hours are unknown, negative refused", func(r *panel.Register) {
			r.Spells[0].Hours = float32(math.NaN())
			r.Spells[1].Hours = -1
		}, biWant{is: panel.ErrInvalid, table: "spells", column: "hours", row: 1, msg: "non-negative"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := panel.TinyRegister(t)
			c.mod(r)
			var err error
			require.NotPanics(t, func() { err = r.Validate() })
			biCheck(t, err, c.want)
			var p *panel.Panel
			require.NotPanics(t, func() { p, err = panel.Build(context.Background(), r, panel.TinyDesign(t)) })
			assert.Nil(t, p)
			biCheck(t, err, c.want)
			require.NotPanics(t, func() { err = registerio.WriteDir(t.TempDir(), r, nil) })
			biCheck(t, err, c.want)
		})
	}
}
