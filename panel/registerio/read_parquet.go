package registerio

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
)

// NewParquetRecordReader returns a streaming reader of a Parquet file as
// Arrow records of at most batch rows (zero means 8192), read with
// parquet/pqarrow's record reader one row group at a time. Text columns
// are read as dictionaries (cheap for status codes). Only flat schemas are
// accepted. A corrupt or truncated file gives an *Error naming the
// table (name). ctx cancels reading between records. The records' memory
// comes from mem (nil: memory.DefaultAllocator), as in arrow-go's own
// readers. The caller must Release the reader.
//
// If src is not an io.ReaderAt and io.Seeker (an *os.File, a
// *bytes.Reader) it is read into memory first.
func NewParquetRecordReader(ctx context.Context, mem memory.Allocator, src io.Reader, name string, batch int) (rr array.RecordReader, err error) {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	if batch <= 0 {
		batch = defaultChunkRows
	}
	ras, ok := src.(parquet.ReaderAtSeeker)
	if !ok {
		b, err := io.ReadAll(src)
		if err != nil {
			return nil, errorf(name, "reading: %w", err)
		}
		ras = bytes.NewReader(b)
	}
	defer func() {
		if p := recover(); p != nil {
			rr, err = nil, dataErr(name, "", -1, "corrupt Parquet file: %v", p)
		}
	}()
	size, err := ras.Seek(0, io.SeekEnd)
	if err != nil {
		return nil, errorf(name, "reading: %w", err)
	}
	if _, err := ras.Seek(0, io.SeekStart); err != nil {
		return nil, errorf(name, "reading: %w", err)
	}
	pf, err := file.NewParquetReader(ras)
	if err != nil {
		return nil, dataErr(name, "", -1, "not a valid Parquet file: %v", err)
	}
	if err := checkChunks(pf, size); err != nil {
		pf.Close()
		return nil, dataErr(name, "", -1, "corrupt Parquet file: %v", err)
	}
	sc := pf.MetaData().Schema
	// Parallel stays false: pqarrow's column goroutines would crash the
	// program on a corrupt page (a panic there cannot be recovered here).
	props := pqarrow.ArrowReadProperties{BatchSize: int64(batch)}
	for i := 0; i < sc.NumColumns(); i++ {
		if sc.Column(i).PhysicalType() == parquet.Types.ByteArray {
			props.SetReadDict(i, true)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, props, mem)
	if err != nil {
		pf.Close()
		return nil, dataErr(name, "", -1, "unreadable Parquet schema: %v", err)
	}
	schema, err := fr.Schema()
	if err != nil {
		pf.Close()
		return nil, dataErr(name, "", -1, "unreadable Parquet schema: %v", err)
	}
	if len(schema.Fields()) != sc.NumColumns() {
		pf.Close()
		return nil, dataErr(name, "", -1, "nested Parquet columns are not supported (%d fields, %d leaf columns)", len(schema.Fields()), sc.NumColumns())
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return &parquetRecords{ctx: ctx, name: name, pf: pf, fr: fr, schema: schema, nrg: pf.NumRowGroups(), refs: 1}, nil
}

// checkChunks checks that every column chunk of pf lies inside the file
// of size bytes. pqarrow reads the chunks in goroutines of its own, where
// a negative or huge length from a corrupt footer would panic (an
// unrecoverable crash) or allocate without bound (found by
// FuzzReadParquet).
func checkChunks(pf *file.Reader, size int64) error {
	md := pf.MetaData()
	for g := 0; g < pf.NumRowGroups(); g++ {
		rg := md.RowGroup(g)
		for c := 0; c < rg.NumColumns(); c++ {
			col, err := rg.ColumnChunk(c)
			if err != nil {
				return fmt.Errorf("row group %d column %d: %v", g, c, err)
			}
			start := col.DataPageOffset()
			if d := col.DictionaryPageOffset(); col.HasDictionaryPage() && d > 0 && d < start {
				start = d
			}
			n := col.TotalCompressedSize()
			if start < 0 || n < 0 || start > size || n > size-start {
				return fmt.Errorf("row group %d column %d: chunk of %d bytes at offset %d lies outside the file (%d bytes)", g, c, n, start, size)
			}
		}
	}
	return nil
}

// parquetRecords reads row group by row group, so that a batch never
// spans two dictionaries (pqarrow cannot join those), and turns panics
// inside the decoder (corrupt pages) into errors.
type parquetRecords struct {
	ctx     context.Context
	name    string
	pf      *file.Reader
	fr      *pqarrow.FileReader
	schema  *arrow.Schema
	nrg     int
	rg      int
	cur     pqarrow.RecordReader
	rows    int
	rgStart int // value of rows when the current row group began
	err     error
	refs    int
}

func (p *parquetRecords) Schema() *arrow.Schema { return p.schema }

// RecordBatch returns the current batch (nil before Next or after the
// end).
func (p *parquetRecords) RecordBatch() arrow.RecordBatch {
	if p.cur == nil {
		return nil
	}
	return p.cur.RecordBatch()
}

// Record is RecordBatch (arrow-go's deprecated name).
func (p *parquetRecords) Record() arrow.RecordBatch { return p.RecordBatch() }

func (p *parquetRecords) Next() (ok bool) {
	defer func() {
		if x := recover(); x != nil {
			p.err = p.corrupt(p.rg-1, fmt.Sprint(x))
			ok = false
		}
	}()
	for p.err == nil {
		if err := p.ctx.Err(); err != nil {
			p.err = err
			return false
		}
		if p.cur == nil {
			if p.rg > 0 {
				// pqarrow may stop early on a damaged page header
				// without an error; compare with the row group's count.
				want := p.pf.MetaData().RowGroup(p.rg - 1).NumRows()
				if got := int64(p.rows - p.rgStart); got != want {
					p.err = p.corrupt(p.rg-1, fmt.Sprintf("read %d rows, the file says %d", got, want))
					return false
				}
			}
			if p.rg >= p.nrg {
				return false
			}
			p.rgStart = p.rows
			cur, err := p.fr.GetRecordReader(p.ctx, nil, []int{p.rg})
			if err != nil {
				p.err = p.corrupt(p.rg, err.Error())
				return false
			}
			p.cur = cur
			p.rg++
		}
		if p.cur.Next() {
			p.rows += int(p.cur.Record().NumRows())
			return true
		}
		err := p.cur.Err()
		p.cur.Release()
		p.cur = nil
		if err != nil && !errors.Is(err, io.EOF) {
			p.err = p.corrupt(p.rg-1, err.Error())
			return false
		}
	}
	return false
}

func (p *parquetRecords) Err() error { return p.err }

// corrupt is the error of damaged data in row group rg: it names the
// first column of the row group that cannot be read on its own (none
// when every column reads alone) and the row group with its rows.
func (p *parquetRecords) corrupt(rg int, cause string) error {
	if rg < 0 || rg >= p.nrg {
		return dataErr(p.name, "", -1, "corrupt Parquet file: %s", cause)
	}
	col := ""
	for i := range p.schema.Fields() {
		if !p.columnReads(rg, i) {
			col = p.schema.Field(i).Name
			break
		}
	}
	first := 0
	for g := 0; g < rg; g++ {
		first += int(p.pf.MetaData().RowGroup(g).NumRows())
	}
	n := int(p.pf.MetaData().RowGroup(rg).NumRows())
	return dataErr(p.name, col, -1, "corrupt Parquet data in row group %d (data rows %d..%d): %s", rg, first, first+n-1, cause)
}

// columnReads reports whether column i of row group rg decodes without
// an error or a panic, to the row group's number of rows. It reads in
// the reader's batches (memory bounded by the batch size, whatever
// number of rows the file's metadata claims) and stops after
// diagnoseRows rows, reporting the column as readable: the diagnosis
// names a column only when it finds the damage within that bound.
func (p *parquetRecords) columnReads(rg, i int) (ok bool) {
	defer func() {
		if recover() != nil {
			ok = false
		}
	}()
	rr, err := p.fr.GetRecordReader(p.ctx, []int{i}, []int{rg})
	if err != nil {
		return false
	}
	defer rr.Release()
	var n int64
	for rr.Next() {
		n += rr.RecordBatch().NumRows()
		if n >= diagnoseRows || p.ctx.Err() != nil {
			return true
		}
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		return false
	}
	return n == p.pf.MetaData().RowGroup(rg).NumRows()
}

// diagnoseRows bounds the rows that the diagnosis of a corrupt row group
// decodes per column (a damaged file can claim any number of rows).
const diagnoseRows = 1 << 22

func (p *parquetRecords) Retain() { p.refs++ }

func (p *parquetRecords) Release() {
	p.refs--
	if p.refs > 0 {
		return
	}
	if p.cur != nil {
		p.cur.Release()
		p.cur = nil
	}
	if p.pf != nil {
		p.pf.Close()
		p.pf = nil
	}
}

var _ array.RecordReader = (*parquetRecords)(nil)
