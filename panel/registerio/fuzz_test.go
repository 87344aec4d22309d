package registerio

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/psmeval/psmeval/panel"
)

// Fuzz targets for the readers and for Build. Run one with e.g.
//
//	go test ./panel/registerio -run '^$' -fuzz '^FuzzReadCSV$' -fuzztime 2m -fuzzminimizetime 2s
//
// Keep -fuzzminimizetime short: the fuzzer minimizes every new
// interesting input for up to 60 s by default and reports the execs it
// spent doing so only when it is done, so with the default the exec
// counter stands still for long stretches (a 60 s run once showed 7
// execs). The execs themselves run at about 1,500/s on one worker.
//
// Seeds: the tiny CSV files under testdata/panel plus the corpora under
// panel/registerio/testdata/fuzz.

// fzTables are the tables in reading order.
var fzTables = []Table{TablePersons, TableStatus, TableOutcomes, TableSpells}

// fzRead reads the given tables (nil = absent; persons and status
// always) from CSV or Parquet bytes. Every error must be a clear one: a
// *Error (errors.Is ErrInvalid) naming the table.
func fzRead(t *testing.T, f Format, data [4][]byte) (*panel.Register, error) {
	t.Helper()
	return fzReadFormats(t, [4]Format{f, f, f, f}, data)
}

// fzReadFormats is fzRead with a format per table.
func fzReadFormats(t *testing.T, f [4]Format, data [4][]byte) (*panel.Register, error) {
	t.Helper()
	l := NewLoader(&ReadOptions{ChunkRows: 3}) // small chunks: exercise chunk borders
	for k, tb := range fzTables {
		if data[k] == nil && k >= 2 {
			continue
		}
		if err := l.Read(tb, bytes.NewReader(data[k]), f[k], string(tb)); err != nil {
			fzCheckErr(t, err, string(tb))
			return nil, err
		}
	}
	r, err := l.Register()
	if err != nil {
		fzCheckErr(t, err, "")
		return nil, err
	}
	if err := r.Validate(); err != nil {
		t.Fatalf("Register returned a register that fails Validate: %v", err)
	}
	return r, nil
}

// fzCheckErr checks that a reader error is a data error naming its table.
func fzCheckErr(t *testing.T, err error, table string) {
	t.Helper()
	var de *panel.Error
	if !errors.As(err, &de) || !errors.Is(err, panel.ErrInvalid) {
		t.Fatalf("reader error is not an *Error: %T %v", err, err)
	}
	if table != "" && de.Table != table {
		t.Fatalf("reader error names table %q, want %q: %v", de.Table, table, err)
	}
	if err.Error() == "" {
		t.Fatal("empty error message")
	}
}

// fzWriteAll writes every table of r as bytes in format f (nil for an
// absent outcomes or spells table).
func fzWriteAll(t *testing.T, r *panel.Register, f Format) [4][]byte {
	t.Helper()
	var out [4][]byte
	for k, tb := range fzTables {
		if tb == TableOutcomes && len(r.Outcomes) == 0 || tb == TableSpells && len(r.Spells) == 0 {
			continue
		}
		var b bytes.Buffer
		if err := WriteTable(&b, r, tb, &WriteOptions{Format: f, ChunkRows: 2, RowGroupRows: 3}); err != nil {
			t.Fatalf("WriteTable(%s, %v) of a register that was read: %v", tb, f, err)
		}
		out[k] = b.Bytes()
	}
	return out
}

// fzMaxColumnChunks bounds the registers fzRoundTrip writes: the wide
// status table has one column per week, and Parquet costs about 0.3 ms
// per column chunk (WriteOptions.RowGroupRows is 3 here), so a status
// table read from two rows a century apart (up to 5218 weeks, allowed
// by the reader) took seconds per input and stalled the fuzzer at a few
// execs a minute. Larger registers are still read and validated, only
// not written back.
const fzMaxColumnChunks = 256

// fzRoundTrip checks that a register that was read can be written and
// read back, and that write∘read is the identity on the written CSV
// (via CSV and via Parquet). Registers whose wide status table would
// have more than fzMaxColumnChunks Parquet column chunks are skipped.
func fzRoundTrip(t *testing.T, r *panel.Register) {
	t.Helper()
	if r.Status.Weeks*((r.Len()+2)/3) > fzMaxColumnChunks {
		return
	}
	for _, o := range r.Outcomes { // long layout: one row per person and month
		if o.Months*r.Len() > 16*fzMaxColumnChunks {
			return
		}
	}
	csv1 := fzWriteAll(t, r, FormatCSV)
	for _, f := range []Format{FormatCSV, FormatParquet} {
		src := csv1
		if f == FormatParquet {
			src = fzWriteAll(t, r, FormatParquet)
		}
		r2, err := fzRead(t, f, src)
		if err != nil {
			t.Fatalf("reading back the %v written from a register that was read: %v", f, err)
		}
		csv2 := fzWriteAll(t, r2, FormatCSV)
		for k := range csv1 {
			if !bytes.Equal(csv1[k], csv2[k]) {
				t.Fatalf("round trip via %v changes table %s:\n%q\n---\n%q", f, fzTables[k], csv1[k], csv2[k])
			}
		}
	}
}

// fzRoundTripOne checks that a register that was read is unchanged by
// writing table k as Parquet and the others as CSV and reading them back
// (compared as written CSV). Large registers are skipped as in
// fzRoundTrip.
func fzRoundTripOne(t *testing.T, r *panel.Register, k int) {
	t.Helper()
	if r.Status.Weeks*((r.Len()+2)/3) > fzMaxColumnChunks {
		return
	}
	csv1 := fzWriteAll(t, r, FormatCSV)
	src := csv1
	formats := [4]Format{FormatCSV, FormatCSV, FormatCSV, FormatCSV}
	if csv1[k] != nil {
		var b bytes.Buffer
		if err := WriteTable(&b, r, fzTables[k], &WriteOptions{Format: FormatParquet, ChunkRows: 2, RowGroupRows: 3}); err != nil {
			t.Fatalf("WriteTable(%s, Parquet) of a register that was read: %v", fzTables[k], err)
		}
		src[k], formats[k] = b.Bytes(), FormatParquet
	}
	r2, err := fzReadFormats(t, formats, src)
	if err != nil {
		t.Fatalf("reading back table %s written as Parquet from a register that was read: %v", fzTables[k], err)
	}
	csv2 := fzWriteAll(t, r2, FormatCSV)
	for j := range csv1 {
		if !bytes.Equal(csv1[j], csv2[j]) {
			t.Fatalf("round trip of table %s via Parquet changes table %s:\n%q\n---\n%q", fzTables[k], fzTables[j], csv1[j], csv2[j])
		}
	}
}

// fzSeedDir returns the four CSV tables of a testdata directory.
func fzSeedDir(f *testing.F, dir string) [4][]byte {
	var d [4][]byte
	for k, tb := range fzTables {
		b, err := os.ReadFile(filepath.Join("..", "..", "testdata", "panel", dir, string(tb)+".csv"))
		if err != nil {
			f.Fatal(err)
		}
		d[k] = b
	}
	return d
}

func FuzzReadCSV(f *testing.F) {
	for _, dir := range []string{"tiny_long", "tiny_wide"} {
		d := fzSeedDir(f, dir)
		f.Add(d[0], d[1], d[2], d[3])
	}
	f.Add([]byte("\xef\xbb\xbfid,birth\r\n1,2000-01-01\r\n"), []byte("id,week,code\r\n1,2007-01-01,\"a\nb\"\r\n"), []byte("id,month,x\n1,2007-01,1\n"), []byte("id,start,end\n1,2007-01-01,2007-01-01\n"))
	f.Add([]byte("id,a\n1,NA\n2,x\n2,y\n"), []byte("id,2007-01-01\n1,\n"), []byte(nil), []byte(nil))
	f.Add([]byte("id\n1\n"), []byte("id,2007-01-01,2007-01-15\n1,a,b\n"), []byte("id,x_2007-01,x_2007-03\n1,1,0\n"), []byte("id,start,end,hours\n1,2007-01-02,2007-01-01,-1\n"))
	f.Fuzz(func(t *testing.T, persons, status, outcomes, spells []byte) {
		if len(persons)+len(status)+len(outcomes)+len(spells) > 1<<13 {
			return
		}
		r, err := fzRead(t, FormatCSV, [4][]byte{persons, status, outcomes, spells})
		if err != nil {
			return
		}
		fzRoundTrip(t, r)
	})
}

// FuzzReadParquet mutates the Parquet bytes of one table (k) of the tiny
// register and reads it with the other three from their CSV files; a
// register that is read must round-trip through the Parquet writer and
// reader for table k. (Reading the other tables from Parquet too, and
// round-tripping all four, made an exec cost 20 Parquet reads and writes
// of about 1 ms each, and the fuzzer ran at about 20 execs/s.)
func FuzzReadParquet(f *testing.F) {
	// Seeds: each table of the tiny long register written as Parquet.
	l := NewLoader(nil)
	d := fzSeedDir(f, "tiny_long")
	for k, tb := range fzTables {
		if err := l.Read(tb, bytes.NewReader(d[k]), FormatCSV, ""); err != nil {
			f.Fatal(err)
		}
	}
	r, err := l.Register()
	if err != nil {
		f.Fatal(err)
	}
	var pq [4][]byte
	for k, tb := range fzTables {
		var b bytes.Buffer
		if err := WriteTable(&b, r, tb, &WriteOptions{Format: FormatParquet, ChunkRows: 2, RowGroupRows: 3}); err != nil {
			f.Fatal(err)
		}
		pq[k] = b.Bytes()
		f.Add(uint8(k), pq[k])
	}
	f.Add(uint8(0), pq[0][:len(pq[0])/2]) // truncated
	f.Add(uint8(1), []byte("PAR1PAR1"))
	for k, b := range fzTypedSeeds(f, d) {
		f.Add(uint8(k), b)
	}
	f.Fuzz(func(t *testing.T, k uint8, data []byte) {
		if len(data) > 1<<15 {
			return
		}
		in := d
		formats := [4]Format{FormatCSV, FormatCSV, FormatCSV, FormatCSV}
		in[int(k)%4], formats[int(k)%4] = data, FormatParquet
		r2, err := fzReadFormats(t, formats, in)
		if err != nil {
			return
		}
		fzRoundTripOne(t, r2, int(k)%4)
	})
}

// fzTypedSeeds returns the tiny register's tables with native column
// types (ioTypedRecords: int32 ids, date32, dictionary and nullable
// strings, float32, wide booleans) as Parquet files written by Arrow
// itself, as another tool would write them (plain encoding for persons
// and outcomes, dictionary encoding for status and spells, two rows per
// page group), so that the fuzzer starts from the readers' conversions
// of every type. Each one, read with the other tables from csv, must
// give a register.
func fzTypedSeeds(f *testing.F, csv [4][]byte) [4][]byte {
	var recs [4]arrow.Record
	recs[0], recs[1], recs[2], recs[3] = ioTypedRecords(f)
	var out [4][]byte
	for k, rec := range recs {
		tbl := array.NewTableFromRecords(rec.Schema(), []arrow.Record{rec})
		var b bytes.Buffer
		props := parquet.NewWriterProperties(parquet.WithDictionaryDefault(k%2 == 1))
		err := pqarrow.WriteTable(tbl, &b, 2, props, pqarrow.DefaultWriterProps())
		tbl.Release()
		rec.Release()
		if err != nil {
			f.Fatal(err)
		}
		out[k] = b.Bytes()
		l := NewLoader(nil)
		for j, tb := range fzTables {
			data, format := csv[j], FormatCSV
			if j == k {
				data, format = out[k], FormatParquet
			}
			if err := l.Read(tb, bytes.NewReader(data), format, ""); err != nil {
				f.Fatalf("typed %s seed: %v", tb, err)
			}
		}
		if _, err := l.Register(); err != nil {
			f.Fatalf("typed %s seed: %v", fzTables[k], err)
		}
	}
	return out
}
