package flatfile

import (
	"bytes"
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
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestReadCSV(t *testing.T) {
	in := "\"y\",\"a\",\"b\",flag\n1,0.5,-3,TRUE\n0,1e-3,7,false\n1,2.25,0,true\n"
	tab, err := ReadCSV(context.Background(), strings.NewReader(in), "t.csv", nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"y", "a", "b", "flag"}, tab.Names)
	assert.Equal(t, 3, tab.Rows())
	assert.Equal(t, []float64{0.5, 1e-3, 2.25}, tab.Cols[1])
	assert.Equal(t, []float64{1, 0, 1}, tab.Cols[3])

	// Selected columns come back in the requested order.
	tab, err = ReadCSV(context.Background(), strings.NewReader(in), "t.csv", &ReadOptions{Columns: []string{"b", "y"}})
	require.NoError(t, err)
	assert.Equal(t, []string{"b", "y"}, tab.Names)
	assert.Equal(t, []float64{-3, 7, 0}, tab.Cols[0])

	m, err := tab.Matrix([]string{"y", "b"})
	require.NoError(t, err)
	assert.Equal(t, []float64{1, -3, 0, 7, 1, 0}, m.RawMatrix().Data)
}

func TestReadCSVErrors(t *testing.T) {
	cases := []struct {
		name, in string
		opts     *ReadOptions
		sentinel error
		column   string
		row      int
	}{
		{"missing column", "a,b\n1,2\n", &ReadOptions{Columns: []string{"a", "c"}}, ErrMissingColumn, "c", -1},
		{"not numeric", "a,b\n1,2\n3,x7\n", nil, ErrNotNumeric, "b", 1},
		{"empty field", "a,b\n1,2\n3,4\n,5\n", nil, ErrMissingValue, "a", 2},
		{"NA", "a,b\n1,NA\n", nil, ErrMissingValue, "b", 0},
		{"NULL", "a,b\n1,2\nNULL,2\n", nil, ErrMissingValue, "a", 1},
		{"NaN", "a,b\n1,NaN\n", nil, ErrMissingValue, "b", 0},
		{"out of range", "a\n1e999\n", nil, ErrNotNumeric, "a", 0},
		{"ragged", "a,b\n1,2\n3\n", nil, ErrShape, "", 1},
		{"no header", "", nil, ErrEmpty, "", -1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadCSV(context.Background(), strings.NewReader(c.in), "t.csv", c.opts)
			require.Error(t, err)
			assert.ErrorIs(t, err, c.sentinel)
			var fe *Error
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, c.column, fe.Column)
			assert.Equal(t, c.row, fe.Row)
			assert.Equal(t, "t.csv", fe.File)
			if c.column != "" {
				assert.Contains(t, err.Error(), c.column)
			}
		})
	}
}

func TestReadCSVAllowMissing(t *testing.T) {
	tab, err := ReadCSV(context.Background(), strings.NewReader("a,b\n1,NA\n,2\n"), "t", &ReadOptions{AllowMissing: true})
	require.NoError(t, err)
	assert.Equal(t, 1.0, tab.Cols[0][0])
	assert.True(t, math.IsNaN(tab.Cols[0][1]))
	assert.True(t, math.IsNaN(tab.Cols[1][0]))
}

// roundTripTable holds values that are hard to print exactly.
func roundTripTable() *Table {
	return NewTable([]string{"y", "x,comma", "tiny"}, [][]float64{
		{0, 1, 1, 0},
		{0.1, -2.5e300, 1.0 / 3, math.Pi},
		{5e-324, -0.0, 123456789012345678, 1e-7},
	})
}

func TestWriteReadRoundTrip(t *testing.T) {
	want := roundTripTable()
	dir := t.TempDir()
	for _, name := range []string{"t.csv", "t.parquet", "t.PQ"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, name)
			require.NoError(t, Write(path, want))
			got, err := Read(context.Background(), path, nil)
			require.NoError(t, err)
			assert.Equal(t, want.Names, got.Names)
			require.Len(t, got.Cols, len(want.Cols))
			for j := range want.Cols {
				for i := range want.Cols[j] {
					// Exact, bit for bit (shortest round-trip formatting).
					assert.Equal(t, math.Float64bits(want.Cols[j][i]), math.Float64bits(got.Cols[j][i]), "col %d row %d", j, i)
				}
			}
			got, err = Read(context.Background(), path, &ReadOptions{Columns: []string{"tiny", "y", "tiny"}})
			require.NoError(t, err)
			assert.Equal(t, []string{"tiny", "y", "tiny"}, got.Names)
			assert.Equal(t, want.Cols[0], got.Cols[1])
			assert.Equal(t, want.Cols[2], got.Cols[2])
		})
	}
}

func TestWriteCSVNaN(t *testing.T) {
	var buf bytes.Buffer
	tab := NewTable([]string{"a"}, [][]float64{{math.NaN(), math.Inf(1), math.Inf(-1), 2}})
	require.NoError(t, WriteCSV(&buf, tab))
	assert.Equal(t, "a\nNA\nInf\n-Inf\n2\n", buf.String())
}

func TestFormatOf(t *testing.T) {
	_, err := Read(context.Background(), "data.xlsx", nil)
	assert.ErrorIs(t, err, ErrFormat)
	f, err := FormatOf("x/y.Parquet")
	require.NoError(t, err)
	assert.Equal(t, Parquet, f)
}

// writeArrowParquet writes a Parquet file with mixed column types, built
// directly with Arrow so the reader is tested on files it did not write.
func writeArrowParquet(t *testing.T, path string, withNull bool) {
	mem := memory.DefaultAllocator
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "i64", Type: arrow.PrimitiveTypes.Int64},
		{Name: "i32", Type: arrow.PrimitiveTypes.Int32},
		{Name: "f32", Type: arrow.PrimitiveTypes.Float32},
		{Name: "flag", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "f64", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "s", Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, -2, 3}, nil)
	b.Field(1).(*array.Int32Builder).AppendValues([]int32{10, 20, 30}, nil)
	b.Field(2).(*array.Float32Builder).AppendValues([]float32{0.5, 1.5, 2.5}, nil)
	b.Field(3).(*array.BooleanBuilder).AppendValues([]bool{true, false, true}, nil)
	b.Field(4).(*array.Float64Builder).AppendValues([]float64{1.25, 2, 3}, []bool{true, !withNull, true})
	b.Field(5).(*array.StringBuilder).AppendValues([]string{"a", "b", "c"}, nil)
	rec := b.NewRecord()
	defer rec.Release()
	f, err := os.Create(path)
	require.NoError(t, err)
	w, err := pqarrow.NewFileWriter(schema, f, nil, pqarrow.DefaultWriterProps())
	require.NoError(t, err)
	require.NoError(t, w.Write(rec))
	require.NoError(t, w.Close())
}

func TestReadParquetTypes(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "types.parquet")
	writeArrowParquet(t, path, false)
	tab, err := Read(context.Background(), path, &ReadOptions{Columns: []string{"f64", "i64", "i32", "f32", "flag"}})
	require.NoError(t, err)
	assert.Equal(t, []float64{1.25, 2, 3}, tab.Cols[0])
	assert.Equal(t, []float64{1, -2, 3}, tab.Cols[1])
	assert.Equal(t, []float64{10, 20, 30}, tab.Cols[2])
	assert.Equal(t, []float64{0.5, 1.5, 2.5}, tab.Cols[3])
	assert.Equal(t, []float64{1, 0, 1}, tab.Cols[4])

	_, err = Read(context.Background(), path, &ReadOptions{Columns: []string{"i64", "s"}})
	assert.ErrorIs(t, err, ErrNotNumeric)
	var fe *Error
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "s", fe.Column)

	_, err = Read(context.Background(), path, &ReadOptions{Columns: []string{"nope"}})
	assert.ErrorIs(t, err, ErrMissingColumn)
	assert.Contains(t, err.Error(), `"nope"`)

	nullPath := filepath.Join(dir, "null.parquet")
	writeArrowParquet(t, nullPath, true)
	_, err = Read(context.Background(), nullPath, &ReadOptions{Columns: []string{"f64"}})
	assert.ErrorIs(t, err, ErrMissingValue)
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "f64", fe.Column)
	assert.Equal(t, 1, fe.Row)
	tab, err = Read(context.Background(), nullPath, &ReadOptions{Columns: []string{"f64"}, AllowMissing: true})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(tab.Cols[0][1]))
}

func TestReadParquetRowAcrossBatches(t *testing.T) {
	// A NaN far beyond the first record batch is reported at its file row.
	n := parquetBatch*2 + 17
	c := make([]float64, n)
	bad := parquetBatch + 5
	c[bad] = math.NaN()
	path := filepath.Join(t.TempDir(), "big.parquet")
	require.NoError(t, Write(path, NewTable([]string{"v"}, [][]float64{c})))
	_, err := Read(context.Background(), path, nil)
	var fe *Error
	require.ErrorAs(t, err, &fe)
	assert.True(t, errors.Is(err, ErrMissingValue))
	assert.Equal(t, bad, fe.Row)
}

// Errors about a table read from a file name the file; one made in
// memory says where without an empty place ("flatfile: missing column").
func TestTableErrorsNameTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "u.csv")
	require.NoError(t, Write(path, NewTable([]string{"a"}, [][]float64{{1, 2}})))
	tab, err := Read(context.Background(), path, nil)
	require.NoError(t, err)
	_, err = tab.Column("b")
	require.ErrorIs(t, err, ErrMissingColumn)
	assert.Contains(t, err.Error(), path)
	_, err = tab.Matrix(nil)
	require.ErrorIs(t, err, ErrEmpty)
	assert.Equal(t, "flatfile: "+path+": empty table: cannot make a 2×0 matrix", err.Error())
	_, err = NewTable(nil, nil).Matrix([]string{})
	assert.Equal(t, "flatfile: empty table: cannot make a 0×0 matrix", err.Error())
}
