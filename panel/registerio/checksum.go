package registerio

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ChecksumFile is the file in which WriteDir records the SHA-256 of every
// table file it writes, in the format of sha256sum ("<hex>  <name>", one
// file a line; `sha256sum -c checksums.sha256` checks it too). ReadDir
// verifies every file it lists before reading it.
const ChecksumFile = "checksums.sha256"

// writeChecksums writes the checksum file of dir for the given file
// names and SHA-256 sums, atomically.
func writeChecksums(dir string, sums map[string][]byte, sync bool) error {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	return writeFileAtomic(filepath.Join(dir, ChecksumFile), sync, func(w io.Writer) error {
		for _, n := range names {
			if _, err := fmt.Fprintf(w, "%s  %s\n", hex.EncodeToString(sums[n]), n); err != nil {
				return err
			}
		}
		return nil
	})
}

// readChecksums reads the checksum file of dir: file name -> SHA-256. It
// returns nil, nil when dir has none.
func readChecksums(dir string) (map[string][]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, ChecksumFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("panel: %w", err)
	}
	sums := map[string][]byte{}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return nil, dataErr(ChecksumFile, "", -1, "does not end with a line end (damaged; WriteDir writes one line per file)")
	}
	for i, line := range strings.Split(string(b[:len(b)-1]), "\n") {
		sum, name, ok := strings.Cut(line, "  ")
		d, err := hex.DecodeString(sum)
		if !ok || err != nil || len(d) != sha256.Size || name == "" || strings.ContainsAny(name, "/\\ ") || strings.ToLower(sum) != sum {
			return nil, dataErr(ChecksumFile, "", i, "malformed line %q: want \"<64 lower-case hex digits>  <file name>\"", line)
		}
		if _, dup := sums[name]; dup {
			return nil, dataErr(ChecksumFile, "", i, "lists %s twice", name)
		}
		sums[name] = d
	}
	return sums, nil
}

// verifyChecksums checks that every file the checksum file lists exists
// in dir and has its SHA-256.
func verifyChecksums(dir string, sums map[string][]byte) error {
	names := make([]string, 0, len(sums))
	for n := range sums {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		got, err := fileSHA256(filepath.Join(dir, n))
		if errors.Is(err, os.ErrNotExist) {
			return dataErr(ChecksumFile, "", -1, "lists %s, which is missing from %s", n, dir)
		}
		if err != nil {
			return fmt.Errorf("panel: %w", err)
		}
		if !bytes.Equal(got, sums[n]) {
			return dataErr(n, "", -1, "SHA-256 %x differs from the %x recorded in %s when the file was written: the file (or %s) is damaged or was changed since (remove %s to read it unverified)",
				got, sums[n], ChecksumFile, ChecksumFile, ChecksumFile)
		}
	}
	return nil
}

func fileSHA256(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20)); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
