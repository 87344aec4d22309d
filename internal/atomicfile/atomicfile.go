// Package atomicfile writes files so that readers see either the old
// content or the complete new content, never a partial file.
//
// Write creates a temporary file in the target's directory, lets the
// caller fill it, flushes and fsyncs it, and renames it over the target.
// On any error (including a panic in the caller's function) the temporary
// file is removed and an existing target is left untouched.
package atomicfile

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// DefaultPerm is the permission of a newly created file. It is set with
// chmod, so the process umask does not apply. When the target already
// exists, its permission bits are kept instead.
const DefaultPerm os.FileMode = 0o644

// Write writes the file at path atomically: write is called with a
// buffered writer on a temporary file in the same directory as path
// (named ".<base>.tmp*"); when it returns nil, the data are flushed,
// fsynced and the temporary file is renamed to path, after which the
// directory is fsynced (best effort: some file systems do not support
// syncing a directory, and that failure is ignored because the rename
// has already happened).
//
// If write returns an error, or panics, or any step fails, the temporary
// file is removed, an existing file at path is not modified, and the
// error is returned wrapped (%w) with the path. A panic is re-raised
// after the clean-up.
//
// The new file gets the permission bits of the file it replaces, or
// DefaultPerm (0644) when path did not exist. If path is a symbolic link,
// the link itself is replaced by a regular file.
//
// Cost: one temporary file, one fsync of the file and one of the
// directory; the data pass through a 64 KiB buffer.
func Write(path string, write func(io.Writer) error) (err error) {
	return WriteContext(context.Background(), path, write)
}

// WriteContext is Write that stops when ctx is done: the writer passed to
// write fails every call with ctx's error once ctx is done, and ctx is
// checked again before the rename, so a cancelled write leaves no
// temporary file and path as it was.
func WriteContext(ctx context.Context, path string, write func(io.Writer) error) (err error) {
	if write == nil {
		return fmt.Errorf("atomicfile: %s: nil write function", path)
	}
	if path == "" {
		return errors.New("atomicfile: empty path")
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("atomicfile: %s: path names a directory", path)
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp*")
	if err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	tmp := f.Name()
	committed := false
	defer func() {
		// Runs on error returns and on panics in write alike.
		if !committed {
			_ = f.Close() // may already be closed; the error is irrelevant here
			_ = os.Remove(tmp)
		}
	}()

	if err := ctx.Err(); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	bw := bufio.NewWriterSize(ctxWriter{ctx, f}, 64<<10)
	if err := write(bw); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	perm := DefaultPerm
	if fi, err := os.Stat(path); err == nil {
		if fi.IsDir() {
			return fmt.Errorf("atomicfile: %s: is a directory", path)
		}
		perm = fi.Mode().Perm()
	}
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("atomicfile: syncing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("atomicfile: closing %s: %w", path, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("atomicfile: writing %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("atomicfile: %s: %w", path, err)
	}
	committed = true
	syncDir(dir)
	return nil
}

// syncDir fsyncs a directory so that a rename in it is durable. Errors
// are ignored: not every platform or file system supports it (Windows,
// some network file systems), and the rename itself has succeeded.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// ctxWriter fails writes once ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}
