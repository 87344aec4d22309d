package flatfile

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// bigTable has more rows than one Parquet batch (parquetBatch), NaN and
// infinities, so that RowWriter's batching and special values are covered.
func bigTable() *Table {
	n := parquetBatch + 17
	a, b := make([]float64, n), make([]float64, n)
	for i := range a {
		a[i] = float64(i)
		b[i] = math.Sqrt(float64(i)) / 3
	}
	b[5], b[n-1], b[n-2] = math.NaN(), math.Inf(1), math.Inf(-1)
	return NewTable([]string{"a", "b,q"}, [][]float64{a, b})
}

func writeRows(t *testing.T, path string, tab *Table) {
	t.Helper()
	w, err := Create(path, tab.Names)
	require.NoError(t, err)
	row := make([]float64, len(tab.Cols))
	for i := 0; i < tab.Rows(); i++ {
		for j, c := range tab.Cols {
			row[j] = c[i]
		}
		require.NoError(t, w.Write(row))
	}
	assert.Equal(t, tab.Rows(), w.Rows())
	require.NoError(t, w.Close())
}

// RowWriter writes what Write writes: the same CSV bytes (also inside the
// gzip stream), and Parquet that reads back bit for bit.
func TestRowWriterMatchesWrite(t *testing.T) {
	dir := t.TempDir()
	for _, tab := range []*Table{roundTripTable(), bigTable()} {
		for _, ext := range []string{".csv", ".csv.gz", ".parquet"} {
			rows, table := filepath.Join(dir, "rows"+ext), filepath.Join(dir, "table"+ext)
			writeRows(t, rows, tab)
			require.NoError(t, Write(table, tab))
			got, err := Read(context.Background(), rows, &ReadOptions{AllowMissing: true})
			require.NoError(t, err, ext)
			assert.Equal(t, tab.Names, got.Names)
			require.Equal(t, tab.Rows(), got.Rows(), ext)
			for j := range tab.Cols {
				for i := range tab.Cols[j] {
					require.Equal(t, math.Float64bits(tab.Cols[j][i]), math.Float64bits(got.Cols[j][i]), "%s col %d row %d", ext, j, i)
				}
			}
			if ext != ".parquet" {
				assert.Equal(t, csvText(t, table), csvText(t, rows), ext)
			}
		}
	}
}

func csvText(t *testing.T, path string) string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	var r io.Reader = f
	if isGzip(path) {
		gz, err := gzip.NewReader(f)
		require.NoError(t, err)
		r = gz
	}
	var buf bytes.Buffer
	_, err = io.Copy(&buf, r)
	require.NoError(t, err)
	return buf.String()
}

func TestRowWriterErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Create(filepath.Join(dir, "x.txt"), []string{"a"})
	assert.ErrorIs(t, err, ErrFormat)
	w, err := Create(filepath.Join(dir, "x.csv"), []string{"a", "b"})
	require.NoError(t, err)
	err = w.Write([]float64{1})
	assert.ErrorIs(t, err, ErrShape)
	assert.Contains(t, err.Error(), "row 0")
	require.NoError(t, w.Close())
	// An empty Parquet table has its schema.
	p := filepath.Join(dir, "empty.parquet")
	w, err = Create(p, []string{"a"})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	got, err := Read(context.Background(), p, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"a"}, got.Names)
	assert.Equal(t, 0, got.Rows())
}

// TestRowWriterAtomic: until Close the target keeps its old content and no
// partial table is visible; Abort leaves the target untouched; neither
// leaves a temporary file behind.
func TestRowWriterAtomic(t *testing.T) {
	for _, ext := range []string{".csv", ".csv.gz", ".parquet"} {
		dir := t.TempDir()
		path := filepath.Join(dir, "flat"+ext)
		require.NoError(t, os.WriteFile(path, []byte("old"), 0o644))

		w, err := Create(path, []string{"a", "b"})
		require.NoError(t, err)
		require.NoError(t, w.Write([]float64{1, 2}))
		old, err := os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, "old", string(old), ext)
		w.Abort()
		old, err = os.ReadFile(path)
		require.NoError(t, err)
		require.Equal(t, "old", string(old), "%s: Abort must leave the target", ext)

		w, err = Create(path, []string{"a", "b"})
		require.NoError(t, err)
		require.NoError(t, w.Write([]float64{1, 2}))
		require.NoError(t, w.Close())
		w.Abort() // no-op after Close
		got, err := Read(context.Background(), path, nil)
		require.NoError(t, err)
		require.Equal(t, []string{"a", "b"}, got.Names, ext)
		require.Error(t, w.Close(), "second Close")

		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		require.Len(t, entries, 1, "%s: temporary files left: %v", ext, entries)
	}
}
