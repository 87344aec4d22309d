package registerio

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	arrowcsv "github.com/apache/arrow-go/v18/arrow/csv"

	"github.com/psmeval/psmeval/internal/textlimit"
)

// defaultChunkRows is the number of rows per Arrow record when
// ReadOptions.ChunkRows and WriteOptions.ChunkRows are zero.
const defaultChunkRows = 8192

// NewCSVRecordReader returns a streaming reader of CSV text as Arrow
// records of chunk rows each (zero means 8192), every column as a
// non-NULL string column named by the header row. It strips a UTF-8 byte
// order mark, reads LF and CRLF line ends and quoted fields (which may
// hold commas, quotes and newlines), and decompresses gzip input
// (detected from its magic bytes). Errors name the table (name), and for
// a malformed row the 0-based data row.
//
// Reading is done by arrow/csv with WithChunk(chunk); memory is one chunk
// at a time. The header, each record and each field are bounded by the
// defaults of ReadOptions.MaxHeaderBytes, MaxRecordBytes and
// MaxFieldBytes (4 MiB, 4 MiB, 64 KiB), and a NUL byte is an error, so a
// file without line ends fails after a few MiB. The caller must Release
// the reader.
func NewCSVRecordReader(src io.Reader, name string, chunk int) (array.RecordReader, error) {
	return newCSVRecordReader(src, name, chunk, textlimit.Limits{})
}

func newCSVRecordReader(src io.Reader, name string, chunk int, limits textlimit.Limits) (array.RecordReader, error) {
	if chunk <= 0 {
		chunk = defaultChunkRows
	}
	br := bufio.NewReaderSize(src, 1<<16)
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, dataErr(name, "", -1, "corrupt gzip stream: %v", err)
		}
		br = bufio.NewReaderSize(gz, 1<<16)
	}
	if bom, _ := br.Peek(3); len(bom) == 3 && bom[0] == 0xEF && bom[1] == 0xBB && bom[2] == 0xBF {
		_, _ = br.Discard(3)
	}
	lr := bufio.NewReaderSize(textlimit.NewReader(br, limits), 1<<16)
	// Read the header line(s): a header may, in principle, hold a quoted
	// newline, so read until the quotes balance.
	var head bytes.Buffer
	for {
		line, err := lr.ReadBytes('\n')
		head.Write(line)
		if err != nil {
			var le *textlimit.Error
			if errors.As(err, &le) {
				return nil, dataErr(name, "", -1, "%s", limitMsg(le))
			}
			if err != io.EOF {
				return nil, dataErr(name, "", -1, "reading the header: %v", err)
			}
			break
		}
		if bytes.Count(head.Bytes(), []byte{'"'})%2 == 0 {
			break
		}
	}
	if len(bytes.TrimSpace(head.Bytes())) == 0 {
		return nil, dataErr(name, "", -1, "empty file: no header row")
	}
	names, err := csv.NewReader(bytes.NewReader(head.Bytes())).Read()
	if err != nil {
		return nil, dataErr(name, "", -1, "malformed header row: %v", err)
	}
	fields := make([]arrow.Field, len(names))
	seen := make(map[string]bool, len(names))
	for i, n := range names {
		n = strings.TrimSpace(n)
		if n == "" {
			return nil, dataErr(name, "", -1, "header column %d has no name", i+1)
		}
		if seen[n] {
			return nil, dataErr(name, n, -1, "column name appears twice in the header")
		}
		seen[n] = true
		fields[i] = arrow.Field{Name: n, Type: arrow.BinaryTypes.String}
	}
	schema := arrow.NewSchema(fields, nil)
	r := arrowcsv.NewReader(io.MultiReader(bytes.NewReader(head.Bytes()), lr), schema,
		arrowcsv.WithHeader(true), arrowcsv.WithChunk(chunk))
	return &csvRecords{Reader: r, name: name, schema: schema}, nil
}

// csvRecords wraps the arrow/csv reader to turn its errors into
// *Error values with the data row and to keep Schema valid before Next.
type csvRecords struct {
	*arrowcsv.Reader
	name   string
	schema *arrow.Schema
	rows   int
	err    error
}

func (c *csvRecords) Schema() *arrow.Schema { return c.schema }

func (c *csvRecords) Next() (ok bool) {
	if c.err != nil {
		return false
	}
	defer func() {
		if p := recover(); p != nil {
			c.err = dataErr(c.name, "", c.rows, "malformed CSV: %v", p)
			ok = false
		}
	}()
	if !c.Reader.Next() {
		c.setErr()
		return false
	}
	rec := c.Reader.Record()
	c.rows += int(rec.NumRows())
	// A record is returned together with an error when a row after the
	// first of a chunk is malformed; the rows before it are good.
	return true
}

func (c *csvRecords) setErr() {
	err := c.Reader.Err()
	if err == nil || c.err != nil {
		return
	}
	var pe *csv.ParseError
	var le *textlimit.Error
	switch {
	case errors.As(err, &le):
		c.err = dataErr(c.name, "", le.Record-1, "%s", limitMsg(le))
	case errors.As(err, &pe):
		msg := pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrFieldCount) {
			msg = "wrong number of fields (does not match the header)"
		}
		c.err = dataErr(c.name, "", c.rows, "malformed CSV at line %d: %s", pe.Line, msg)
	case errors.Is(err, arrowcsv.ErrMismatchFields):
		c.err = dataErr(c.name, "", c.rows, "wrong number of fields (does not match the header)")
	case strings.Contains(err.Error(), "header"):
		c.err = dataErr(c.name, "", -1, "%v", err)
	default:
		c.err = dataErr(c.name, "", c.rows, "reading CSV: %v", err)
	}
}

func (c *csvRecords) Err() error {
	if c.err == nil {
		c.setErr()
	}
	return c.err
}

var _ array.RecordReader = (*csvRecords)(nil)

// errorf wraps a non-data error with the table name.
func errorf(name string, format string, args ...any) error {
	return fmt.Errorf("panel: %s: "+format, append([]any{name}, args...)...)
}

// limitMsg is the message of a CSV limit error, naming the option that
// raises the limit.
func limitMsg(e *textlimit.Error) string {
	if o := e.Option(); o != "" {
		return e.Msg + "; raise ReadOptions." + o + " if the data are right"
	}
	return e.Msg
}
