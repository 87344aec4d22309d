// Package flatfile reads and writes flat tables with one row per unit as
// named float64 columns, from and to CSV or Parquet files.
//
// Reading is strict by default: a requested column that is missing, a
// value that is not a number, and a missing value (empty field, NA, NULL,
// NaN, or a Parquet null) are errors of type *Error that name the file, the
// column and the 0-based data row. Booleans (true/false, TRUE/FALSE, Parquet
// bool) read as 1/0, so 0/1 indicators may be stored either way.
//
// Writing produces CSV that R's read.csv and data.table::fread read back
// bit for bit (shortest round-trip formatting, NaN as NA), and Parquet with
// one DOUBLE column per variable (Snappy compressed). A .csv.gz file is
// gzip-compressed CSV, read and written as such. RowWriter writes a table
// row by row, for tables too big to copy into columns.
package flatfile

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/psmeval/psmeval/internal/textlimit"

	"gonum.org/v1/gonum/mat"
)

// Table is a flat table: Names[j] names column Cols[j], and every column
// has the same length (the number of rows).
type Table struct {
	Names []string
	Cols  [][]float64
	// File is the file the table was read from ("" for one made by
	// NewTable); errors about the table name it.
	File string
}

// ReadOptions select what to read. The zero value reads every column and
// treats missing values as errors.
type ReadOptions struct {
	// Columns to read, in this order; nil reads all columns in file order.
	// A name not in the file is an error wrapping ErrMissingColumn.
	Columns []string
	// AllowMissing stores missing values (empty, NA, NULL, NaN, Parquet
	// null) as NaN instead of returning an error. Default false.
	AllowMissing bool
	// Limits bound the CSV header, each record and each field in bytes
	// (zero fields: 4 MiB, 4 MiB, 64 KiB; negative: no bound), so that a
	// line without its end fails after a few MiB instead of being read
	// whole; a NUL byte is always an error.
	Limits textlimit.Limits
}

// NewTable returns a table with the given columns; it panics if the
// lengths differ (a programmer mistake).
func NewTable(names []string, cols [][]float64) *Table {
	if len(names) != len(cols) {
		panic("flatfile: len(names) != len(cols)")
	}
	for j := range cols {
		if len(cols[j]) != len(cols[0]) {
			panic(fmt.Sprintf("flatfile: column %q has %d rows, want %d", names[j], len(cols[j]), len(cols[0])))
		}
	}
	return &Table{Names: names, Cols: cols}
}

// Rows returns the number of rows.
func (t *Table) Rows() int {
	if len(t.Cols) == 0 {
		return 0
	}
	return len(t.Cols[0])
}

// Index returns the position of the named column, or -1.
func (t *Table) Index(name string) int {
	for j, n := range t.Names {
		if n == name {
			return j
		}
	}
	return -1
}

// Column returns the named column (not a copy); an absent name is an error
// wrapping ErrMissingColumn.
func (t *Table) Column(name string) ([]float64, error) {
	j := t.Index(name)
	if j < 0 {
		return nil, &Error{File: t.File, Column: name, Row: -1, Err: ErrMissingColumn, Msg: "no such column (have " + strings.Join(t.Names, ", ") + ")"}
	}
	return t.Cols[j], nil
}

// Matrix copies the named columns into a new row-major rows×len(names)
// matrix (row i is unit i), the layout psm.FitLogit takes. An absent name
// is an error wrapping ErrMissingColumn.
func (t *Table) Matrix(names []string) (*mat.Dense, error) {
	cols := make([][]float64, len(names))
	for j, name := range names {
		c, err := t.Column(name)
		if err != nil {
			return nil, err
		}
		cols[j] = c
	}
	n, p := t.Rows(), len(names)
	if n == 0 || p == 0 {
		return nil, &Error{File: t.File, Row: -1, Err: ErrEmpty, Msg: fmt.Sprintf("cannot make a %d×%d matrix", n, p)}
	}
	data := make([]float64, n*p)
	for i := 0; i < n; i++ {
		row := data[i*p : (i+1)*p]
		for j := range row {
			row[j] = cols[j][i]
		}
	}
	return mat.NewDense(n, p, data), nil
}

// Format is a file format.
type Format int

// File formats.
const (
	CSV Format = iota + 1
	Parquet
)

// FormatOf returns the format named by the file extension: .csv and
// .csv.gz (gzip-compressed, read and written as such) are CSV, .parquet and
// .pq are Parquet (case-insensitive); anything else is an error wrapping
// ErrFormat.
func FormatOf(path string) (Format, error) {
	if isGzip(path) {
		return CSV, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv":
		return CSV, nil
	case ".parquet", ".pq":
		return Parquet, nil
	}
	return 0, &Error{File: path, Row: -1, Err: ErrFormat, Msg: "want extension .csv, .csv.gz, .parquet or .pq"}
}

// Read reads a CSV or Parquet file, chosen by its extension (see
// FormatOf). opts may be nil. It returns ctx.Err() soon after ctx is
// done.
func Read(ctx context.Context, path string, opts *ReadOptions) (*Table, error) {
	f, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &ReadOptions{}
	}
	var t *Table
	if f == CSV {
		t, err = readCSVFile(ctx, path, opts)
	} else {
		t, err = readParquetFile(ctx, path, opts)
	}
	if err != nil {
		return nil, err
	}
	t.File = path
	return t, nil
}

// Write writes t as CSV or Parquet, chosen by the extension of path (see
// FormatOf), creating or truncating the file.
func Write(path string, t *Table) error {
	f, err := FormatOf(path)
	if err != nil {
		return err
	}
	if f == CSV {
		return writeFile(path, t, WriteCSV)
	}
	return writeFile(path, t, WriteParquet)
}

// selectColumns maps the requested names to positions in have, in the
// requested order; nil want selects all.
func selectColumns(file string, have []string, want []string) ([]int, []string, error) {
	if want == nil {
		idx := make([]int, len(have))
		for j := range idx {
			idx[j] = j
		}
		return idx, append([]string(nil), have...), nil
	}
	pos := make(map[string]int, len(have))
	for j, n := range have {
		if _, dup := pos[n]; !dup {
			pos[n] = j
		}
	}
	idx := make([]int, len(want))
	for k, n := range want {
		j, ok := pos[n]
		if !ok {
			return nil, nil, &Error{File: file, Column: n, Row: -1, Err: ErrMissingColumn, Msg: "no such column (have " + strings.Join(have, ", ") + ")"}
		}
		idx[k] = j
	}
	return idx, append([]string(nil), want...), nil
}
