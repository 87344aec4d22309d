package registerio

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/psmeval/psmeval/internal/textlimit"
	"github.com/psmeval/psmeval/panel"
)

// ReadOptions configures ReadDir and Loader. The zero value (or a nil
// pointer) gives the defaults stated on each field.
type ReadOptions struct {
	// Allocator provides the memory of the Arrow records read from
	// Parquet files; nil means memory.DefaultAllocator (Go's heap). Pass
	// a memory.CheckedAllocator to find leaks, or an allocator of your own
	// to account for the reader's memory.
	Allocator memory.Allocator
	// Format restricts ReadDir to files of one format. Zero (FormatAuto)
	// accepts .csv, .csv.gz and .parquet, and it is an error for a table
	// to have files in two formats.
	Format Format
	// StatusLayout forces the layout of the status table. Zero
	// (LayoutAuto) detects it: a "week" column means long, otherwise
	// every column but id must be named by a date (wide).
	StatusLayout Layout
	// OutcomesLayout forces the layout of the outcomes table. Zero
	// (LayoutAuto) detects it: a "month" column means long, otherwise
	// every column but id must be named "<outcome>_YYYY-MM" (wide).
	OutcomesLayout Layout
	// FirstWeek and Weeks fix the status grid to the Weeks weeks starting
	// on FirstWeek; a week in the status table outside it is an error and
	// weeks without data are "" (no benefit). Zero Weeks (the default)
	// means the grid spans the first to the last week in the status table.
	FirstWeek panel.Day
	Weeks     int
	// StatusLevels fixes the status levels and so the codes (code c is
	// StatusLevels[c]); a code in the data not listed is an error, and ""
	// must be listed when some cells have no data. Nil (the default) means
	// the distinct codes found, sorted byte-wise ("" first when present).
	StatusLevels []string
	// Categorical lists persons columns to read as categorical attributes
	// even when every value is a number. Nil (the default): a column is
	// numeric when every non-missing value is a number.
	Categorical []string
	// MaxGapMonths bounds the stretch of months without any row inside
	// an outcome's observed months in long outcomes: a month separated
	// from the outcome's other months by a longer stretch is an error
	// naming its row, because one stray row (2099-01) would otherwise
	// stretch the observed months and so the horizon. Zero means
	// DefaultMaxGapMonths (24); negative means no check.
	MaxGapMonths int
	// MaxGapWeeks is the same for the weeks of a long status table whose
	// grid is inferred (Weeks = 0); spells must lie in the status grid.
	// Zero means DefaultMaxGapWeeks (104); negative means no check.
	MaxGapWeeks int
	// MaxHeaderBytes, MaxRecordBytes and MaxFieldBytes bound the CSV
	// header, each record and each field in bytes (after gzip
	// decompression), so that a damaged file (a line without its end, a
	// file of NUL bytes) fails after reading a few MiB instead of being
	// buffered whole; a NUL byte is always an error. Zero means 4 MiB,
	// 4 MiB and 64 KiB (textlimit's defaults: a wide status header of a
	// century of weeks is 57 KiB); negative means no bound.
	MaxHeaderBytes int
	MaxRecordBytes int
	MaxFieldBytes  int
	// ChunkRows is the number of rows per Arrow record: arrow/csv
	// WithChunk and the Parquet BatchSize. Zero means 8192.
	ChunkRows int
}

// ReadDir reads a register from a directory holding the tables persons,
// status, outcomes and spells, each as name.csv, name.csv.gz or
// name.parquet (persons and status are required; without an outcomes or
// spells file the Register has none). The file schema is in the package
// documentation. The result has been checked with Validate; data errors
// are *Error values naming the file, column and 0-based data row.
//
// When dir holds ChecksumFile (WriteDir writes it), every file it lists
// must exist and have the SHA-256 recorded there, or ReadDir returns a
// *Error naming the file before reading any table.
//
// Reading streams: memory is the Register itself (one byte per person and
// week, one bit per person and outcome month) plus one chunk of rows. ctx
// cancels reading between chunks (ReadDir then returns ctx.Err()).
func ReadDir(ctx context.Context, dir string, opts *ReadOptions) (*panel.Register, error) {
	l := NewLoader(opts)
	l.ctx = ctx
	sums, err := readChecksums(dir)
	if err != nil {
		return nil, err
	}
	if err := verifyChecksums(dir, sums); err != nil {
		return nil, err
	}
	for _, t := range Tables {
		path, f, err := findTableFile(dir, t, l.opts.Format)
		if err != nil {
			return nil, err
		}
		if path == "" {
			if t == TablePersons || t == TableStatus {
				return nil, fmt.Errorf("panel: %s: no %s table (%s.csv, %s.csv.gz or %s.parquet): %w", dir, t, t, t, t, os.ErrNotExist)
			}
			continue
		}
		if err := l.readFile(t, path, f); err != nil {
			return nil, err
		}
	}
	return l.Register()
}

// findTableFile returns the file holding table t in dir ("" if none).
func findTableFile(dir string, t Table, want Format) (string, Format, error) {
	type cand struct {
		name string
		f    Format
	}
	var found []cand
	for _, c := range []cand{{string(t) + ".csv", FormatCSV}, {string(t) + ".csv.gz", FormatCSV}, {string(t) + ".parquet", FormatParquet}} {
		if want != FormatAuto && c.f != want {
			continue
		}
		p := filepath.Join(dir, c.name)
		st, err := os.Stat(p)
		if err == nil && !st.IsDir() {
			found = append(found, cand{p, c.f})
		} else if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", 0, fmt.Errorf("panel: %w", err)
		}
	}
	switch len(found) {
	case 0:
		return "", 0, nil
	case 1:
		return found[0].name, found[0].f, nil
	}
	return "", 0, fmt.Errorf("panel: %s: table %s is in more than one file (%s and %s); remove one or set ReadOptions.Format",
		dir, t, filepath.Base(found[0].name), filepath.Base(found[1].name))
}

func (l *Loader) readFile(t Table, path string, f Format) error {
	fh, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("panel: %w", err)
	}
	defer fh.Close()
	return l.Read(t, fh, f, filepath.Base(path))
}

// Loader assembles a Register table by table, for callers whose tables
// are streams or Arrow records rather than files in a directory. Read
// persons first (the other tables refer to its ids), then status and,
// optionally, outcomes and spells, in any order; then call Register.
//
//	l := panel.NewLoader(nil)
//	err := l.Read(panel.TablePersons, personsCSV, panel.FormatCSV, "persons")
//	...
//	reg, err := l.Register()
//
// A Loader is not safe for concurrent use.
type Loader struct {
	opts     ReadOptions
	ctx      context.Context
	reg      panel.Register
	names    map[Table]string
	idx      personIndex
	status   *statusAcc
	outcomes bool
	spells   bool
	failed   error
}

// NewLoader returns a Loader with the given options (nil for defaults).
func NewLoader(opts *ReadOptions) *Loader {
	l := &Loader{ctx: context.Background(), names: map[Table]string{}}
	if opts != nil {
		l.opts = *opts
	}
	return l
}

// Read reads table t from src in format f (FormatAuto detects Parquet from
// its "PAR1" magic bytes, anything else is CSV); name is used in error
// messages (the table name if empty). Parquet input that is not an
// io.ReaderAt and io.Seeker is read into memory first.
func (l *Loader) Read(t Table, src io.Reader, f Format, name string) error {
	if name == "" {
		name = string(t)
	}
	if f == FormatAuto {
		if ras, ok := src.(io.ReadSeeker); ok {
			pos, err := ras.Seek(0, io.SeekCurrent)
			if err != nil {
				return errorf(name, "%w", err)
			}
			var magic [4]byte
			n, _ := io.ReadFull(ras, magic[:])
			if _, err := ras.Seek(pos, io.SeekStart); err != nil {
				return errorf(name, "%w", err)
			}
			f = FormatCSV
			if n == 4 && string(magic[:]) == "PAR1" {
				f = FormatParquet
			}
		} else {
			br := bufio.NewReader(src)
			magic, _ := br.Peek(4)
			src, f = br, FormatCSV
			if string(magic) == "PAR1" {
				f = FormatParquet
			}
		}
	}
	var rr array.RecordReader
	var err error
	switch f {
	case FormatCSV:
		rr, err = newCSVRecordReader(src, name, l.opts.ChunkRows, textlimit.Limits{
			HeaderBytes: l.opts.MaxHeaderBytes, RecordBytes: l.opts.MaxRecordBytes, FieldBytes: l.opts.MaxFieldBytes})
	case FormatParquet:
		rr, err = NewParquetRecordReader(l.ctx, l.opts.Allocator, src, name, l.opts.ChunkRows)
	default:
		return fmt.Errorf("panel: %s: unknown format %v", name, f)
	}
	if err != nil {
		return err
	}
	defer rr.Release()
	return l.ReadRecords(t, rr, name)
}

// ReadRecords reads table t from a stream of Arrow records (for example
// array.NewRecordReader over records built in memory); name is used in
// error messages. Column types: see the package documentation; text
// columns are parsed as in CSV. The data are copied: rr's records may be
// released afterwards.
func (l *Loader) ReadRecords(t Table, rr array.RecordReader, name string) error {
	if l.failed != nil {
		return fmt.Errorf("panel: loader unusable after an earlier error: %w", l.failed)
	}
	if name == "" {
		name = string(t)
	}
	if !t.valid() {
		return fmt.Errorf("panel: unknown table %q", t)
	}
	if _, dup := l.names[t]; dup {
		return fmt.Errorf("panel: %s: table %s was already read (from %s)", name, t, l.names[t])
	}
	if t != TablePersons && l.reg.IDs == nil {
		return fmt.Errorf("panel: %s: read the persons table before %s", name, t)
	}
	var err error
	switch t {
	case TablePersons:
		err = l.readPersons(rr, name)
	case TableStatus:
		err = l.readStatus(rr, name)
	case TableOutcomes:
		err = l.readOutcomes(rr, name)
	case TableSpells:
		err = l.readSpells(rr, name)
	}
	if err != nil {
		l.failed = err
		return err
	}
	l.names[t] = name
	return nil
}

// Register returns the assembled, validated register. Persons and status
// must have been read.
func (l *Loader) Register() (*panel.Register, error) {
	if l.failed != nil {
		return nil, l.failed
	}
	if l.reg.IDs == nil {
		return nil, errors.New("panel: no persons table was read")
	}
	if l.status == nil {
		return nil, errors.New("panel: no status table was read")
	}
	if err := l.status.finish(&l.reg); err != nil {
		l.failed = err
		return nil, err
	}
	l.status = nil
	if err := l.reg.Validate(); err != nil {
		var de *panel.Error
		if errors.As(err, &de) {
			if n, ok := l.names[Table(de.Table)]; ok {
				de.Table = n
			}
		}
		l.failed = err
		return nil, err
	}
	r := l.reg
	l.reg = panel.Register{}
	l.failed = errors.New("panel: Register was already called")
	return &r, nil
}

// RegisterFromRecords builds a Register from Arrow record streams, one per
// table (outcomes and spells may be nil). See Loader.ReadRecords.
func RegisterFromRecords(persons, status, outcomes, spells array.RecordReader, opts *ReadOptions) (*panel.Register, error) {
	l := NewLoader(opts)
	for _, x := range []struct {
		t  Table
		rr array.RecordReader
	}{{TablePersons, persons}, {TableStatus, status}, {TableOutcomes, outcomes}, {TableSpells, spells}} {
		if x.rr == nil {
			continue
		}
		if err := l.ReadRecords(x.t, x.rr, ""); err != nil {
			return nil, err
		}
	}
	return l.Register()
}

// forEachRecord calls fn for each record of rr with the file row of its
// first row, checking the context between records.
func (l *Loader) forEachRecord(rr array.RecordReader, name string, fn func(rec arrow.Record, row0 int) error) (err error) {
	row0 := 0
	if _, ok := rr.(*parquetRecords); ok {
		// A corrupt Parquet page can decode without an error into an
		// inconsistent Arrow array (a dictionary index or a string
		// offset out of range) that panics when its values are read:
		// bad data, not a bug (found by FuzzReadParquet).
		defer func() {
			if p := recover(); p != nil {
				err = dataErr(name, "", row0, "corrupt Parquet file: %v", p)
			}
		}()
	}
	for rr.Next() {
		if err := l.ctx.Err(); err != nil {
			return err
		}
		rec := rr.Record()
		if err := fn(rec, row0); err != nil {
			return err
		}
		row0 += int(rec.NumRows())
	}
	if err := rr.Err(); err != nil && !errors.Is(err, io.EOF) {
		if cerr := l.ctx.Err(); cerr != nil {
			return cerr
		}
		var de *panel.Error
		if errors.As(err, &de) {
			return err
		}
		return dataErr(name, "", row0, "reading: %v", err)
	}
	return l.ctx.Err()
}

// columnIndex maps column names of a schema to their positions.
func columnIndex(s *arrow.Schema, name string) (map[string]int, error) {
	m := make(map[string]int, len(s.Fields()))
	for i, f := range s.Fields() {
		if _, dup := m[f.Name]; dup {
			return nil, dataErr(name, f.Name, -1, "column name appears twice")
		}
		m[f.Name] = i
	}
	return m, nil
}

// personIndex finds a person's position in Register.IDs by id: O(1) when
// the table being read follows the persons order, else a binary search.
type personIndex struct {
	ids    []int64 // panel.Register.IDs
	sorted []int64 // ids sorted, nil when ids are sorted already
	pos    []int32 // position in ids of sorted[k]
	last   int
}

// build indexes ids and reports the first duplicate.
func (x *personIndex) build(ids []int64, name string) error {
	x.ids, x.last = ids, -1
	isSorted := true
	for i := 1; i < len(ids); i++ {
		if ids[i] <= ids[i-1] {
			isSorted = false
			break
		}
	}
	if isSorted {
		x.sorted, x.pos = nil, nil
		return nil
	}
	n := len(ids)
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = int32(i)
	}
	sort.Slice(pos, func(a, b int) bool {
		ia, ib := ids[pos[a]], ids[pos[b]]
		return ia < ib || ia == ib && pos[a] < pos[b]
	})
	sorted := make([]int64, n)
	for k, p := range pos {
		sorted[k] = ids[p]
	}
	first := -1
	for k := 1; k < n; k++ {
		if sorted[k] == sorted[k-1] && (first < 0 || int(pos[k]) < first) {
			first = int(pos[k])
		}
	}
	if first >= 0 {
		id := ids[first]
		k := sort.Search(n, func(k int) bool { return sorted[k] >= id })
		return dataErr(name, ColID, first, "duplicate person id %d (first at row %d)", id, pos[k])
	}
	x.sorted, x.pos = sorted, pos
	return nil
}

// find returns the position of id, or -1.
func (x *personIndex) find(id int64) int {
	if l := x.last; l >= 0 {
		if l+1 < len(x.ids) && x.ids[l+1] == id {
			x.last = l + 1
			return l + 1
		}
		if x.ids[l] == id {
			return l
		}
	}
	var p int
	if x.sorted == nil {
		k := sort.Search(len(x.ids), func(k int) bool { return x.ids[k] >= id })
		if k == len(x.ids) || x.ids[k] != id {
			return -1
		}
		p = k
	} else {
		k := sort.Search(len(x.sorted), func(k int) bool { return x.sorted[k] >= id })
		if k == len(x.sorted) || x.sorted[k] != id {
			return -1
		}
		p = int(x.pos[k])
	}
	x.last = p
	return p
}

// persons maps a chunk of ids to person positions; unknown ids are errors.
func (x *personIndex) persons(dst []int32, ids []int64, loc colLoc) ([]int32, error) {
	dst = dst[:0]
	for i, id := range ids {
		p := x.find(id)
		if p < 0 {
			return nil, loc.err(i, "person id %d is not in the persons table", id)
		}
		dst = append(dst, int32(p))
	}
	return dst, nil
}
