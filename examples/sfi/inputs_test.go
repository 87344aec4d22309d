package main

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/psmeval/psmeval/internal/manifest"
)

// TestAddInputs: the manifest's input record is the size and SHA-256 of
// each regular -data file (SHA-256 of "abc" from FIPS 180-2, appendix B.1).
func TestAddInputs(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "persons.csv"), []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	m := manifest.New("sfi", nil)
	if err := addInputs(context.Background(), m, dir); err != nil {
		t.Fatal(err)
	}
	want := "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
	if len(m.Inputs) != 1 || m.Inputs[0].SHA256 != want || m.Inputs[0].Bytes != 3 || filepath.Base(m.Inputs[0].Path) != "persons.csv" {
		t.Errorf("got %+v, want persons.csv, 3 bytes, %s", m.Inputs, want)
	}
	if err := addInputs(context.Background(), m, filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing -data directory: no error")
	}
}
