package main

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/psmeval/psmeval/internal/memguard"
)

// TestRefusesTooBig: with little memory available (a Go memory limit), a
// synthetic population of 10 million persons is refused before it is
// generated, and a register read with -data before the panel is built,
// each with the estimate and what to do instead.
func TestRefusesTooBig(t *testing.T) {
	cases := []struct {
		name  string
		limit int64
		c     config
	}{
		{"generated", 256 << 20, config{scale: 3, bootstrap: 0, workers: 2, scenario: "sfi", confounding: -1, noFigures: true}},
		{"read", 4 << 20, config{scale: 1, data: filepath.Join("..", "..", "testdata", "example", "parquet"), bootstrap: 0, workers: 2,
			scenario: "sfi", confounding: -1, noFigures: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.c
			c.out = filepath.Join(t.TempDir(), "out")
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
			defer cancel()
			logw := &strings.Builder{}
			old := debug.SetMemoryLimit(tc.limit)
			err := run(ctx, &c, io.Discard, logw)
			debug.SetMemoryLimit(old)
			var me *memguard.Error
			if !errors.As(err, &me) {
				t.Fatalf("err = %v, want a *memguard.Error", err)
			}
			if strings.Contains(logw.String(), "build panel") || strings.Contains(logw.String(), "generate") {
				t.Errorf("refused after starting the work:\n%s", logw)
			}
			for _, s := range []string{"-scale", "shards", "-no-memory-check"} {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message lacks %q: %v", s, err)
				}
			}
		})
	}
}
