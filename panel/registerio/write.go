package registerio

import (
	"bufio"
	"compress/gzip"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	arrowcsv "github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/psmeval/psmeval/panel"
)

// WriteOptions configures WriteDir and WriteTable. The zero value (or a
// nil pointer) gives the defaults stated on each field.
type WriteOptions struct {
	// Format is the file format. Zero (FormatAuto) means Parquet.
	Format Format
	// Gzip compresses CSV output (files named .csv.gz). Default false.
	Gzip bool
	// StatusLayout is the layout of the status table. Zero (LayoutAuto)
	// means wide (one column per week), as DREAM ships it.
	StatusLayout Layout
	// OutcomesLayout is the layout of the outcomes table. Zero
	// (LayoutAuto) means long (id, month, one column per outcome).
	OutcomesLayout Layout
	// ChunkRows is the number of rows per Arrow record built for writing.
	// Zero means 8192.
	ChunkRows int
	// RowGroupRows is the number of rows per Parquet row group. Zero means
	// 65536.
	RowGroupRows int
	// NoSync skips the fsync of each file before it is renamed into place
	// (WriteDir). Readers still never see a partial file, but after a
	// system crash a file may be empty or short. Default false (sync).
	NoSync bool
}

func (o *WriteOptions) format() Format {
	if o.Format == FormatAuto {
		return FormatParquet
	}
	return o.Format
}

func (o *WriteOptions) layout(t Table) Layout {
	switch t {
	case TableStatus:
		if o.StatusLayout == LayoutAuto {
			return LayoutWide
		}
		return o.StatusLayout
	case TableOutcomes:
		if o.OutcomesLayout == LayoutAuto {
			return LayoutLong
		}
		return o.OutcomesLayout
	}
	return LayoutAuto
}

// fileName is the file name of table t.
func (o *WriteOptions) fileName(t Table) string {
	if o.format() == FormatParquet {
		return string(t) + ".parquet"
	}
	if o.Gzip {
		return string(t) + ".csv.gz"
	}
	return string(t) + ".csv"
}

// WriteDir writes r to directory dir (created if missing) as the files
// persons, status, outcomes (if r has outcomes) and spells (if r has
// spells), each named table.csv, table.csv.gz or table.parquet, in the
// schema ReadDir reads. Each file is written to a temporary file in dir
// and renamed into place, so a reader never sees a partial file; a failed
// write leaves the earlier version of that file. It refuses (before
// writing anything) when dir holds a file of one of the tables under
// another name (persons.csv when writing persons.parquet, say), since
// ReadDir would find both.
//
// Last it writes ChecksumFile, the SHA-256 of every file written, which
// ReadDir verifies: any change to a file after it was written is an
// error naming the file.
//
// ReadDir(ctx, dir, nil) gives back r exactly when r's status levels
// and categorical levels are sorted and all used, and no categorical level
// looks like a number (in CSV, such a column is read as numeric unless
// listed in ReadOptions.Categorical). r is validated first.
func WriteDir(dir string, r *panel.Register, opts *WriteOptions) error {
	var o WriteOptions
	if opts != nil {
		o = *opts
	}
	if err := r.Validate(); err != nil {
		return err
	}
	if o.Gzip && o.format() != FormatCSV {
		return errors.New("panel: WriteOptions.Gzip applies to CSV only")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("panel: %w", err)
	}
	var tables []Table
	for _, t := range Tables {
		want := o.fileName(t)
		write := t == TablePersons || t == TableStatus ||
			t == TableOutcomes && len(r.Outcomes) > 0 || t == TableSpells && len(r.Spells) > 0
		for _, alt := range []string{string(t) + ".csv", string(t) + ".csv.gz", string(t) + ".parquet"} {
			if write && alt == want {
				continue
			}
			if _, err := os.Stat(filepath.Join(dir, alt)); err == nil {
				return fmt.Errorf("panel: %s already holds %s; remove it or write to another directory (ReadDir would read it)", dir, alt)
			}
		}
		if write {
			tables = append(tables, t)
		}
	}
	sums := map[string][]byte{}
	for _, t := range tables {
		h := sha256.New()
		if err := writeFileAtomic(filepath.Join(dir, o.fileName(t)), !o.NoSync, func(w io.Writer) error {
			return writeTable(io.MultiWriter(w, h), r, t, &o)
		}); err != nil {
			return err
		}
		sums[o.fileName(t)] = h.Sum(nil)
	}
	return writeChecksums(dir, sums, !o.NoSync)
}

// WriteTable writes table t of r to w in the format and layout of opts
// (FormatAuto: Parquet). r is not validated; use WriteDir for that.
func WriteTable(w io.Writer, r *panel.Register, t Table, opts *WriteOptions) error {
	var o WriteOptions
	if opts != nil {
		o = *opts
	}
	if !t.valid() {
		return fmt.Errorf("panel: unknown table %q", t)
	}
	return writeTable(w, r, t, &o)
}

func writeTable(w io.Writer, r *panel.Register, t Table, o *WriteOptions) error {
	layout := o.layout(t)
	switch o.format() {
	case FormatCSV:
		var gz *gzip.Writer
		if o.Gzip {
			gz = gzip.NewWriter(w)
			w = gz
		}
		bw := bufio.NewWriterSize(w, 1<<16)
		var cw *arrowcsv.Writer
		err := TableRecords(r, t, layout, o.ChunkRows, func(rec arrow.Record) error {
			if cw == nil {
				cw = arrowcsv.NewWriter(bw, rec.Schema(), arrowcsv.WithHeader(true), arrowcsv.WithNullWriter(""))
			}
			return cw.Write(rec)
		})
		if err == nil {
			err = cw.Flush()
		}
		if err == nil {
			err = cw.Error()
		}
		if err == nil {
			err = bw.Flush()
		}
		if err == nil && gz != nil {
			err = gz.Close()
		}
		if err != nil {
			return fmt.Errorf("panel: writing %s: %w", t, err)
		}
		return nil
	case FormatParquet:
		rg := int64(o.RowGroupRows)
		if rg <= 0 {
			rg = 65536
		}
		props := parquet.NewWriterProperties(
			parquet.WithCompression(compress.Codecs.Snappy),
			parquet.WithMaxRowGroupLength(rg),
			parquet.WithDictionaryDefault(true),
			parquet.WithCreatedBy("psmeval panel"),
			// Column statistics of the status codes would cost a hash of
			// every cell (pqarrow's dictionary path) and serve no reader.
			parquet.WithStats(t != TableStatus),
		)
		// bufio.Writer is not an io.Closer, so closing the Parquet writer
		// leaves w open.
		bw := bufio.NewWriterSize(w, 1<<20)
		var fw *pqarrow.FileWriter
		records := TableRecords
		if t == TableStatus && layout == LayoutWide {
			records = func(r *panel.Register, _ Table, _ Layout, chunk int, fn func(arrow.Record) error) error {
				if chunk <= 0 {
					chunk = defaultChunkRows
				}
				return statusWide(r, chunk, true, fn)
			}
		}
		err := records(r, t, layout, o.ChunkRows, func(rec arrow.Record) error {
			if fw == nil {
				var err error
				fw, err = pqarrow.NewFileWriter(rec.Schema(), bw, props, pqarrow.DefaultWriterProps())
				if err != nil {
					return err
				}
			}
			if rec.NumRows() == 0 {
				return nil
			}
			return fw.WriteBuffered(rec)
		})
		if fw != nil {
			if cerr := fw.Close(); err == nil {
				err = cerr
			}
		}
		if err == nil {
			err = bw.Flush()
		}
		if err != nil {
			return fmt.Errorf("panel: writing %s: %w", t, err)
		}
		return nil
	}
	return fmt.Errorf("panel: unknown format %v", o.Format)
}

// writeFileAtomic writes path through a temporary file in the same
// directory, synced (if sync) and renamed into place.
func writeFileAtomic(path string, sync bool, write func(io.Writer) error) (err error) {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("panel: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err = write(f); err != nil {
		return err
	}
	if err = f.Chmod(0o644); err != nil {
		return fmt.Errorf("panel: %w", err)
	}
	if sync {
		if err = f.Sync(); err != nil {
			return fmt.Errorf("panel: %w", err)
		}
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("panel: %w", err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("panel: %w", err)
	}
	return nil
}
