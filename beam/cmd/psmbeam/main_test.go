package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	os.Exit(m.Run())
}

// The command generates a small synthetic register in 2 person shards,
// runs the pipelines with beamx.Run (prism: no --runner flag) and prints
// the fit, the matching and the effects, and writes the effects' CSV.
func TestCommand(t *testing.T) {
	dir := t.TempDir()
	c := &config{work: dir, design: "synth", strata: "cohort", k: 1, generate: true, persons: 3000, treated: 150, parts: 2, seed: 3,
		csv: filepath.Join(dir, "effects.csv")}
	var out bytes.Buffer
	if err := run(context.Background(), c, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"shards: 2;", "canonical order", "logit: 34 terms", "converged true", "matching:", "employed: ATT by month", "education: ATT by month", "effect sums"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	b, err := os.ReadFile(c.csv)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "outcome,subgroup,group,month,measure,") {
		t.Errorf("CSV starts %q", b[:min(len(b), 60)])
	}
	c.work, c.generate = t.TempDir(), false
	c.dirs = nil
	if err := run(context.Background(), c, &out); err == nil || !strings.Contains(err.Error(), "no shard directories") {
		t.Errorf("no directories: error %v", err)
	}
}
