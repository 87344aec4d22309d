package flatfile

import (
	"bufio"
	"compress/gzip"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// isGzip reports whether path names a gzip-compressed CSV file (.csv.gz).
func isGzip(path string) bool { return strings.HasSuffix(strings.ToLower(path), ".csv.gz") }

// RowWriter writes a flat table one row at a time, so that a table too big
// to copy into columns (a panel of millions of units) can be written from
// its own layout. The output is the same as Write's for the same table:
// CSV with the formatting of WriteCSV (gzip-compressed for .csv.gz), or
// Parquet as WriteParquet writes it (one DOUBLE column per name, Snappy,
// row groups of 64Ki rows). Memory: one row (CSV) or 64Ki rows (Parquet).
//
// The rows go to a temporary file in the target's directory that Close
// renames to the target, so an interrupted run never leaves a truncated
// table (the target keeps its old content); Abort removes it.
type RowWriter struct {
	path  string
	tmp   string // the temporary file, renamed to path by Close
	names []string
	rows  int

	f   *os.File
	bw  *bufio.Writer
	gz  *gzip.Writer
	buf []byte

	pq       *pqarrow.FileWriter
	schema   *arrow.Schema
	builders []*array.Float64Builder
	pending  int
}

// Create returns a RowWriter of a table with the given column names, to be
// written to path in the format of the extension: .csv, .csv.gz
// (gzip-compressed CSV), or .parquet / .pq (see FormatOf). Call Close to
// finish the file (it replaces path atomically), or Abort to drop it.
func Create(path string, names []string) (*RowWriter, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return nil, fmt.Errorf("flatfile: %w", err)
	}
	w := &RowWriter{path: path, tmp: f.Name(), names: append([]string(nil), names...), f: f, bw: newBufWriter(f)}
	if format == Parquet {
		err = w.startParquet()
	} else {
		err = w.startCSV()
	}
	if err != nil {
		f.Close()
		os.Remove(w.tmp)
		return nil, fmt.Errorf("flatfile: writing %s: %w", path, err)
	}
	return w, nil
}

func (w *RowWriter) startCSV() error {
	var out io.Writer = w.bw
	if isGzip(w.path) {
		w.gz = gzip.NewWriter(w.bw)
		out = w.gz
	}
	cw := csv.NewWriter(out)
	if err := cw.Write(w.names); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func (w *RowWriter) startParquet() error {
	fields := make([]arrow.Field, len(w.names))
	for j, n := range w.names {
		fields[j] = arrow.Field{Name: n, Type: arrow.PrimitiveTypes.Float64}
	}
	w.schema = arrow.NewSchema(fields, nil)
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(1<<20),
		parquet.WithDictionaryDefault(false),
	)
	fw, err := pqarrow.NewFileWriter(w.schema, w.bw, props, pqarrow.DefaultWriterProps())
	if err != nil {
		return err
	}
	w.pq = fw
	w.builders = make([]*array.Float64Builder, len(w.names))
	for j := range w.builders {
		w.builders[j] = array.NewFloat64Builder(memory.DefaultAllocator)
		w.builders[j].Reserve(parquetBatch)
	}
	return nil
}

// Write appends one row; row must have one value per column name (a
// different length is an error naming the row). NaN is written as NA in
// CSV and as NaN in Parquet.
func (w *RowWriter) Write(row []float64) error {
	if len(row) != len(w.names) {
		return &Error{File: w.path, Row: w.rows, Err: ErrShape, Msg: fmt.Sprintf("%d values for %d columns", len(row), len(w.names))}
	}
	w.rows++
	if w.pq != nil {
		for j, v := range row {
			w.builders[j].UnsafeAppend(v)
		}
		w.pending++
		if w.pending == parquetBatch {
			return w.flushParquet()
		}
		return nil
	}
	b := w.buf[:0]
	for j, v := range row {
		if j > 0 {
			b = append(b, ',')
		}
		b = appendCSVFloat(b, v)
	}
	b = append(b, '\n')
	w.buf = b
	var err error
	if w.gz != nil {
		_, err = w.gz.Write(b)
	} else {
		_, err = w.bw.Write(b)
	}
	if err != nil {
		return fmt.Errorf("flatfile: writing %s: %w", w.path, err)
	}
	return nil
}

// flushParquet writes the pending rows as one row group.
func (w *RowWriter) flushParquet() error {
	arrs := make([]arrow.Array, len(w.builders))
	for j, b := range w.builders {
		arrs[j] = b.NewFloat64Array()
		b.Reserve(parquetBatch)
	}
	rec := array.NewRecord(w.schema, arrs, int64(w.pending))
	err := w.pq.Write(rec)
	rec.Release()
	for _, a := range arrs {
		a.Release()
	}
	w.pending = 0
	if err != nil {
		return fmt.Errorf("flatfile: writing %s: parquet: %w", w.path, err)
	}
	return nil
}

// Rows returns the number of rows written so far.
func (w *RowWriter) Rows() int { return w.rows }

// Close finishes the file (the pending Parquet rows, the footer, the gzip
// trailer), syncs it and renames it to the target path. On any error the
// temporary file is removed and the target is left as it was.
func (w *RowWriter) Close() error {
	if w.f == nil {
		return fmt.Errorf("flatfile: writing %s: writer already closed", w.path)
	}
	var err error
	if w.pq != nil {
		if w.pending > 0 || w.rows == 0 {
			err = w.flushParquet()
		}
		for _, b := range w.builders {
			b.Release()
		}
		if cerr := w.pq.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("flatfile: writing %s: parquet: %w", w.path, cerr)
		}
	}
	if w.gz != nil {
		if cerr := w.gz.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("flatfile: writing %s: %w", w.path, cerr)
		}
	}
	if ferr := w.bw.Flush(); err == nil && ferr != nil {
		err = fmt.Errorf("flatfile: writing %s: %w", w.path, ferr)
	}
	if serr := w.f.Sync(); err == nil && serr != nil {
		err = fmt.Errorf("flatfile: writing %s: %w", w.path, serr)
	}
	if cerr := w.f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("flatfile: writing %s: %w", w.path, cerr)
	}
	w.f = nil
	if err == nil {
		if rerr := os.Rename(w.tmp, w.path); rerr != nil {
			err = fmt.Errorf("flatfile: writing %s: %w", w.path, rerr)
		}
	}
	if err != nil {
		os.Remove(w.tmp)
	}
	return err
}

// Abort drops the file being written: it closes and removes the temporary
// file and leaves the target path untouched. It is a no-op after Close.
func (w *RowWriter) Abort() {
	if w.f == nil {
		return
	}
	if w.pq != nil {
		for _, b := range w.builders {
			b.Release()
		}
	}
	w.f.Close()
	w.f = nil
	os.Remove(w.tmp)
}
