package registerio

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/require"
)

// TestWriteDirEveryByteChecked: every single-byte change (xor 0x01,
// 0x80 or 0xff by position) of a file
// WriteDir wrote (each table as Parquet and as CSV, and the checksum file
// itself) makes ReadDir fail with an error naming that file or the
// checksum file, instead of reading a silently different register.
func TestWriteDirEveryByteChecked(t *testing.T) {
	reg, err := ReadDir(context.Background(), filepath.Join("..", "..", "testdata", "panel", "tiny_long"), nil)
	require.NoError(t, err)
	step := 1 // every byte; a sample in -short
	if testing.Short() {
		step = 7
	}
	for _, f := range []Format{FormatParquet, FormatCSV} {
		dir := t.TempDir()
		require.NoError(t, WriteDir(dir, reg, &WriteOptions{Format: f, NoSync: true}))
		_, err := ReadDir(context.Background(), dir, nil)
		require.NoError(t, err)
		ents, err := os.ReadDir(dir)
		require.NoError(t, err)
		for _, e := range ents {
			path := filepath.Join(dir, e.Name())
			orig, err := os.ReadFile(path)
			require.NoError(t, err)
			fh, err := os.OpenFile(path, os.O_WRONLY, 0)
			require.NoError(t, err)
			undetected, tried := 0, 0
			for i := 0; i < len(orig); i += step {
				x := []byte{0x01, 0x80, 0xff}[i%3]
				_, err := fh.WriteAt([]byte{orig[i] ^ x}, int64(i))
				require.NoError(t, err)
				_, err = ReadDir(context.Background(), dir, nil)
				_, _ = fh.WriteAt(orig[i:i+1], int64(i))
				tried++
				// the damaged file, or the checksum file (for a damaged
				// checksum, the error names the table whose recorded sum
				// changed and says that it is recorded there)
				var de *panel.Error
				if err == nil || !errors.As(err, &de) ||
					!(de.Table == e.Name() || de.Table == ChecksumFile || e.Name() == ChecksumFile && strings.Contains(err.Error(), ChecksumFile)) {
					if undetected < 3 {
						t.Errorf("%s byte %d ^ %#x: err = %v, want an error naming %s", e.Name(), i, x, err, e.Name())
					}
					undetected++
				}
			}
			require.NoError(t, fh.Close())
			if undetected > 0 {
				t.Errorf("%s: %d of %d single-byte changes not detected", e.Name(), undetected, tried)
			}
		}
	}
}

// TestChecksumListedFileMissing: a table the checksum file lists but the
// directory lacks is an error; without the checksum file, a directory is
// read unverified.
func TestChecksumListedFileMissing(t *testing.T) {
	reg, err := ReadDir(context.Background(), filepath.Join("..", "..", "testdata", "panel", "tiny_long"), nil)
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, WriteDir(dir, reg, &WriteOptions{NoSync: true}))
	require.NoError(t, os.Remove(filepath.Join(dir, "spells.parquet")))
	_, err = ReadDir(context.Background(), dir, nil)
	require.Error(t, err)
	require.True(t, strings.Contains(err.Error(), "lists spells.parquet, which is missing"), "%v", err)
	require.NoError(t, os.Remove(filepath.Join(dir, ChecksumFile)))
	_, err = ReadDir(context.Background(), dir, nil)
	require.NoError(t, err)
}
