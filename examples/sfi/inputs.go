package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/psmeval/psmeval/internal/manifest"
)

// addInputs records every regular file in dir (the -data register) in
// the run manifest with its size and SHA-256, in file-name order: the
// record in summary.json of exactly which data a run read. Nothing for
// no dir.
func addInputs(ctx context.Context, m *manifest.Manifest, dir string) error {
	if dir == "" {
		return nil
	}
	ents, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if err := m.AddInput(ctx, filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}
