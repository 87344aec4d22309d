package main

import (
	"os"
	"path/filepath"
	"testing"
)

// TestInputChecksums: the summary's input record is the SHA-256 of each
// -data file.
func TestInputChecksums(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "persons.csv"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := inputChecksums(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got["persons.csv"] != want || len(got) != 1 {
		t.Errorf("got %v, want persons.csv %s", got, want)
	}
}
