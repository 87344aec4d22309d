package atomicfile

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// dirNames lists the names in dir, to check that no temporary file is left.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

func TestWriteCreatesFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	require.NoError(t, Write(path, writeString("hello\n")))

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "hello\n", string(got))
	assert.Equal(t, []string{"out.txt"}, dirNames(t, dir), "no temporary file may remain")
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, DefaultPerm, fi.Mode().Perm())
	}
}

func TestWriteLarge(t *testing.T) {
	// Larger than the 64 KiB buffer, written in odd-sized pieces.
	dir := t.TempDir()
	path := filepath.Join(dir, "big.bin")
	want := make([]byte, 200_003)
	for i := range want {
		want[i] = byte(i * 7)
	}
	require.NoError(t, Write(path, func(w io.Writer) error {
		for off := 0; off < len(want); off += 9999 {
			end := min(off+9999, len(want))
			if _, err := w.Write(want[off:end]); err != nil {
				return err
			}
		}
		return nil
	}))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestWriteReplacesAndKeepsMode(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	require.NoError(t, os.WriteFile(path, []byte("old content that is longer"), 0o600))
	require.NoError(t, os.Chmod(path, 0o600)) // umask-proof

	require.NoError(t, Write(path, writeString("new")))
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "new", string(got))
	assert.Equal(t, []string{"out.txt"}, dirNames(t, dir))
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm(), "mode of the replaced file is kept")
	}
}

func TestWriteFailingWriterLeavesNoFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	boom := errors.New("boom")
	err := Write(path, func(w io.Writer) error {
		// Write more than the buffer so that part reaches the temp file.
		if _, err := w.Write(make([]byte, 100_000)); err != nil {
			return err
		}
		return boom
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, boom)
	assert.Contains(t, err.Error(), path)
	_, statErr := os.Stat(path)
	assert.True(t, errors.Is(statErr, os.ErrNotExist), "target must not exist, stat: %v", statErr)
	assert.Empty(t, dirNames(t, dir), "temporary file must be removed")
}

func TestWriteFailingWriterLeavesExistingFileUntouched(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	require.NoError(t, os.WriteFile(path, []byte("original"), 0o644))
	before, err := os.Stat(path)
	require.NoError(t, err)

	err = Write(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "partial")
		return io.ErrUnexpectedEOF
	})
	require.ErrorIs(t, err, io.ErrUnexpectedEOF)

	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "original", string(got))
	after, err := os.Stat(path)
	require.NoError(t, err)
	assert.True(t, os.SameFile(before, after), "the original inode must still be in place")
	assert.Equal(t, []string{"out.txt"}, dirNames(t, dir))
}

func TestWritePanickingWriterCleansUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.txt")
	require.NoError(t, os.WriteFile(path, []byte("original"), 0o644))

	assert.PanicsWithValue(t, "writer bug", func() {
		_ = Write(path, func(w io.Writer) error {
			_, _ = io.WriteString(w, "partial")
			panic("writer bug")
		})
	})
	got, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, "original", string(got))
	assert.Equal(t, []string{"out.txt"}, dirNames(t, dir))
}

func TestWriteErrors(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "sub")
	require.NoError(t, os.Mkdir(sub, 0o755))

	tests := []struct {
		name  string
		path  string
		write func(io.Writer) error
		want  string
	}{
		{"missing directory", filepath.Join(dir, "nope", "out.txt"), writeString("x"), "nope"},
		{"target is a directory", sub, writeString("x"), "is a directory"},
		{"nil writer", filepath.Join(dir, "out.txt"), nil, "nil write function"},
		{"empty path", "", writeString("x"), "empty path"},
		{"trailing separator", sub + string(filepath.Separator), writeString("x"), "names a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Write(tc.path, tc.write)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
	// Nothing but the pre-existing sub-directory may be left behind, and
	// the sub-directory must still be empty.
	assert.Equal(t, []string{"sub"}, dirNames(t, dir))
	assert.Empty(t, dirNames(t, sub))
}

func TestWriteRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	require.NoError(t, Write("rel.txt", writeString("relative")))
	got, err := os.ReadFile(filepath.Join(dir, "rel.txt"))
	require.NoError(t, err)
	assert.Equal(t, "relative", string(got))
	for _, n := range dirNames(t, dir) {
		assert.False(t, strings.Contains(n, ".tmp"), "leftover %s", n)
	}
}

func ExampleWrite() {
	dir, _ := os.MkdirTemp("", "atomicfile")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "table.csv")

	_ = Write(path, writeString("month,effect\n0,0.01\n"))
	// A failing writer leaves the previous content in place.
	err := Write(path, func(w io.Writer) error {
		_, _ = io.WriteString(w, "garbage")
		return errors.New("disk full")
	})
	b, _ := os.ReadFile(path)
	os.Stdout.Write(b)
	os.Stdout.WriteString(strings.Replace(err.Error(), path, "table.csv", 1) + "\n")
	// Output:
	// month,effect
	// 0,0.01
	// atomicfile: writing table.csv: disk full
}

// TestWriteContextCancelled: a context cancelled before, during or after
// the caller's write leaves the target as it was and no temporary file.
func TestWriteContextCancelled(t *testing.T) {
	for _, when := range []string{"before", "during", "after"} {
		t.Run(when, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "out.csv")
			if err := os.WriteFile(path, []byte("old\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			if when == "before" {
				cancel()
			}
			err := WriteContext(ctx, path, func(w io.Writer) error {
				for i := 0; i < 1<<12; i++ {
					if i == 10 && when == "during" {
						cancel()
					}
					if _, err := w.Write(make([]byte, 1<<10)); err != nil {
						return err
					}
				}
				if when == "after" {
					cancel()
				}
				return nil
			})
			cancel()
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			b, _ := os.ReadFile(path)
			if string(b) != "old\n" {
				t.Errorf("target changed: %d bytes", len(b))
			}
			ents, _ := os.ReadDir(dir)
			if len(ents) != 1 {
				t.Errorf("directory holds %d entries, want the target only", len(ents))
			}
		})
	}
}
