package flatfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// parquetBatch is the record batch size used for reading and writing.
const parquetBatch = 64 * 1024

func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 1<<20) }

// ReadParquet reads a flat Parquet file (no nested columns). Numeric
// columns of any integer or floating type and bool columns are converted
// to float64; other types are errors wrapping ErrNotNumeric; nulls are
// errors wrapping ErrMissingValue unless opts.AllowMissing. opts may be
// nil. It returns ctx.Err() soon after ctx is done (checked per record
// batch).
func ReadParquet(ctx context.Context, r parquet.ReaderAtSeeker, name string, opts *ReadOptions) (*Table, error) {
	pf, err := file.NewParquetReader(r)
	if err != nil {
		return nil, &Error{File: name, Row: -1, Err: ErrShape, Msg: err.Error()}
	}
	defer pf.Close()
	return readParquet(ctx, pf, name, opts)
}

func readParquetFile(ctx context.Context, path string, opts *ReadOptions) (*Table, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return nil, &Error{File: path, Row: -1, Err: ErrShape, Msg: err.Error()}
	}
	defer pf.Close()
	return readParquet(ctx, pf, path, opts)
}

func readParquet(ctx context.Context, pf *file.Reader, name string, opts *ReadOptions) (*Table, error) {
	if opts == nil {
		opts = &ReadOptions{}
	}
	sc := pf.MetaData().Schema
	have := make([]string, sc.NumColumns())
	for j := range have {
		have[j] = sc.Column(j).Path()
		if strings.Contains(have[j], ".") {
			return nil, &Error{File: name, Column: have[j], Row: -1, Err: ErrShape, Msg: "nested Parquet columns are not supported"}
		}
	}
	idx, names, err := selectColumns(name, have, opts.Columns)
	if err != nil {
		return nil, err
	}
	// The record reader returns columns in increasing leaf order; read each
	// distinct leaf once and map back to the requested order.
	leaves, pos := uniqueSorted(idx)
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: parquetBatch}, memory.DefaultAllocator)
	if err != nil {
		return nil, &Error{File: name, Row: -1, Err: ErrShape, Msg: err.Error()}
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return nil, &Error{File: name, Row: -1, Err: ErrShape, Msg: err.Error()}
	}
	defer rr.Release()
	nrows := int(pf.NumRows())
	cols := make([][]float64, len(leaves))
	for k := range cols {
		cols[k] = make([]float64, 0, nrows)
	}
	row0 := 0
	for rr.Next() {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rec := rr.Record()
		for k := range leaves {
			col := rec.Column(k)
			c, err := appendFloats(cols[k], col, opts.AllowMissing)
			if err != nil {
				e := err.(*Error)
				e.File, e.Column = name, have[leaves[k]]
				if e.Row >= 0 {
					e.Row += row0
				}
				return nil, e
			}
			cols[k] = c
		}
		row0 += int(rec.NumRows())
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return nil, &Error{File: name, Row: -1, Err: ErrShape, Msg: err.Error()}
	}
	out := make([][]float64, len(idx))
	for k := range idx {
		out[k] = cols[pos[k]]
	}
	return &Table{Names: names, Cols: out}, nil
}

// uniqueSorted returns the distinct values of idx in increasing order and,
// for each element of idx, its position in that list.
func uniqueSorted(idx []int) ([]int, []int) {
	max := -1
	for _, j := range idx {
		if j > max {
			max = j
		}
	}
	seen := make([]int, max+1)
	for j := range seen {
		seen[j] = -1
	}
	for _, j := range idx {
		seen[j] = 0
	}
	var leaves []int
	for j, s := range seen {
		if s == 0 {
			seen[j] = len(leaves)
			leaves = append(leaves, j)
		}
	}
	pos := make([]int, len(idx))
	for k, j := range idx {
		pos[k] = seen[j]
	}
	return leaves, pos
}

// appendFloats converts one Arrow column chunk to float64; errors carry
// the row within the chunk.
func appendFloats(dst []float64, col arrow.Array, allowMissing bool) ([]float64, error) {
	n := col.Len()
	get, ok := numericGetter(col)
	if !ok {
		return dst, &Error{Row: -1, Err: ErrNotNumeric, Msg: "column type " + col.DataType().String()}
	}
	for i := 0; i < n; i++ {
		if col.IsNull(i) {
			if !allowMissing {
				return dst, &Error{Row: i, Err: ErrMissingValue, Msg: "null"}
			}
			dst = append(dst, math.NaN())
			continue
		}
		v := get(i)
		if math.IsNaN(v) && !allowMissing {
			return dst, &Error{Row: i, Err: ErrMissingValue, Msg: "NaN"}
		}
		dst = append(dst, v)
	}
	return dst, nil
}

func numericGetter(col arrow.Array) (func(int) float64, bool) {
	switch a := col.(type) {
	case *array.Float64:
		return a.Value, true
	case *array.Float32:
		return func(i int) float64 { return float64(a.Value(i)) }, true
	case *array.Int8:
		return func(i int) float64 { return float64(a.Value(i)) }, true
	case *array.Int16:
		return func(i int) float64 { return float64(a.Value(i)) }, true
	case *array.Int32:
		return func(i int) float64 { return float64(a.Value(i)) }, true
	case *array.Int64:
		return func(i int) float64 { return float64(a.Value(i)) }, true
	case *array.Uint8:
		return func(i int) float64 { return float64(a.Value(i)) }, true
	case *array.Uint16:
		return func(i int) float64 { return float64(a.Value(i)) }, true
	case *array.Uint32:
		return func(i int) float64 { return float64(a.Value(i)) }, true
	case *array.Uint64:
		return func(i int) float64 { return float64(a.Value(i)) }, true
	case *array.Boolean:
		return func(i int) float64 {
			if a.Value(i) {
				return 1
			}
			return 0
		}, true
	}
	return nil, false
}

// WriteParquet writes t as a Parquet file with one non-nullable DOUBLE
// column per variable (NaN values are stored as NaN), Snappy compressed,
// in row groups of at most 1Mi rows.
func WriteParquet(w io.Writer, t *Table) error {
	fields := make([]arrow.Field, len(t.Names))
	for j, n := range t.Names {
		fields[j] = arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64}
	}
	schema := arrow.NewSchema(fields, nil)
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(1<<20),
		parquet.WithDictionaryDefault(false),
	)
	fw, err := pqarrow.NewFileWriter(schema, w, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	n := t.Rows()
	for lo := 0; lo < n || (n == 0 && lo == 0); lo += parquetBatch {
		hi := min(lo+parquetBatch, n)
		arrs := make([]arrow.Array, len(t.Cols))
		for j, c := range t.Cols {
			b := array.NewFloat64Builder(memory.DefaultAllocator)
			b.AppendValues(c[lo:hi], nil)
			arrs[j] = b.NewFloat64Array()
			b.Release()
		}
		rec := array.NewRecord(schema, arrs, int64(hi-lo))
		err := fw.Write(rec)
		rec.Release()
		for _, a := range arrs {
			a.Release()
		}
		if err != nil {
			fw.Close()
			return fmt.Errorf("parquet: %w", err)
		}
		if n == 0 {
			break
		}
	}
	return fw.Close()
}
