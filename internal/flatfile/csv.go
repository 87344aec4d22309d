package flatfile

import (
	"bufio"
	"compress/gzip"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"

	"github.com/psmeval/psmeval/internal/textlimit"
)

// ReadCSV reads a CSV table with a header row from r; name is used in
// error messages (e.g. the file name). Values are parsed with
// strconv.ParseFloat (correctly rounded); "true"/"false" in any case read
// as 1/0; "", "NA", "NULL" and "NaN" are missing values. opts may be nil.
// It returns ctx.Err() soon after ctx is done (checked every checkRows
// rows).
func ReadCSV(ctx context.Context, r io.Reader, name string, opts *ReadOptions) (*Table, error) {
	if opts == nil {
		opts = &ReadOptions{}
	}
	cr := csv.NewReader(textlimit.NewReader(r, opts.Limits))
	cr.ReuseRecord = true
	header, err := cr.Read()
	if err == io.EOF {
		return nil, &Error{File: name, Row: -1, Err: ErrEmpty, Msg: "no header row"}
	}
	if err != nil {
		return nil, csvErr(name, err)
	}
	header = append([]string(nil), header...)
	if len(header) > 0 {
		header[0] = strings.TrimPrefix(header[0], "\ufeff") // UTF-8 BOM
	}
	idx, names, err := selectColumns(name, header, opts.Columns)
	if err != nil {
		return nil, err
	}
	cols := make([][]float64, len(idx))
	for row := 0; ; row++ {
		if row%checkRows == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, csvErr(name, err)
		}
		for k, j := range idx {
			v, err := parseValue(rec[j], opts.AllowMissing)
			if err != nil {
				err.(*Error).File, err.(*Error).Column, err.(*Error).Row = name, names[k], row
				return nil, err
			}
			cols[k] = append(cols[k], v)
		}
	}
	for k := range cols {
		if cols[k] == nil {
			cols[k] = []float64{}
		}
	}
	return &Table{Names: names, Cols: cols}, nil
}

func csvErr(name string, err error) error {
	var le *textlimit.Error
	if errors.As(err, &le) {
		msg := le.Msg
		if le.Limit != "" {
			msg += "; raise ReadOptions.Limits if the data are right"
		}
		return &Error{File: name, Row: le.Record - 1, Err: ErrShape, Msg: msg}
	}
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		// csv line numbers are 1-based and count the header.
		return &Error{File: name, Row: pe.StartLine - 2, Err: ErrShape, Msg: pe.Err.Error()}
	}
	return &Error{File: name, Row: -1, Err: ErrShape, Msg: err.Error()}
}

func parseValue(s string, allowMissing bool) (float64, error) {
	t := strings.TrimSpace(s)
	switch strings.ToLower(t) {
	case "", "na", "null", "nan":
		if allowMissing {
			return math.NaN(), nil
		}
		return 0, &Error{Err: ErrMissingValue, Msg: fmt.Sprintf("%q", s)}
	case "true":
		return 1, nil
	case "false":
		return 0, nil
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return 0, &Error{Err: ErrNotNumeric, Msg: fmt.Sprintf("%q is out of the float64 range", s)}
		}
		return 0, &Error{Err: ErrNotNumeric, Msg: fmt.Sprintf("%q", s)}
	}
	if math.IsNaN(v) {
		if allowMissing {
			return v, nil
		}
		return 0, &Error{Err: ErrMissingValue, Msg: fmt.Sprintf("%q", s)}
	}
	return v, nil
}

// checkRows is how often (in rows) the CSV reader checks its context.
const checkRows = 1 << 14

func readCSVFile(ctx context.Context, path string, opts *ReadOptions) (*Table, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("flatfile: %w", err)
	}
	defer f.Close()
	if isGzip(path) {
		gz, err := gzip.NewReader(bufio.NewReaderSize(f, 1<<20))
		if err != nil {
			return nil, &Error{File: path, Row: -1, Err: ErrShape, Msg: err.Error()}
		}
		defer gz.Close()
		return ReadCSV(ctx, gz, path, opts)
	}
	return ReadCSV(ctx, f, path, opts)
}

// WriteCSV writes t as CSV with a header row. Numbers use the shortest
// representation that reads back to the same float64 ('g', -1); NaN is
// written as NA, infinities as Inf and -Inf (as R writes them).
func WriteCSV(w io.Writer, t *Table) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.Names); err != nil {
		return err
	}
	rec := make([]string, len(t.Cols))
	var buf []byte
	for i := 0; i < t.Rows(); i++ {
		buf = buf[:0]
		for j, c := range t.Cols {
			start := len(buf)
			buf = appendCSVFloat(buf, c[i])
			rec[j] = string(buf[start:])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// appendCSVFloat appends v as WriteCSV writes it.
func appendCSVFloat(buf []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(buf, "NA"...)
	case math.IsInf(v, 1):
		return append(buf, "Inf"...)
	case math.IsInf(v, -1):
		return append(buf, "-Inf"...)
	}
	return strconv.AppendFloat(buf, v, 'g', -1, 64)
}

func writeFile(path string, t *Table, write func(io.Writer, *Table) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("flatfile: %w", err)
	}
	bw := newBufWriter(f)
	var out io.Writer = bw
	var gz *gzip.Writer
	if isGzip(path) {
		gz = gzip.NewWriter(bw)
		out = gz
	}
	if err := write(out, t); err != nil {
		f.Close()
		return fmt.Errorf("flatfile: writing %s: %w", path, err)
	}
	if gz != nil {
		if err := gz.Close(); err != nil {
			f.Close()
			return fmt.Errorf("flatfile: writing %s: %w", path, err)
		}
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("flatfile: writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("flatfile: writing %s: %w", path, err)
	}
	return nil
}
