package main

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/psmeval/psmeval/internal/interrupt/sigtest"
)

// TestSignalEveryStage builds the program and sends SIGINT or SIGTERM
// when its log shows each stage: the program ends within a few seconds
// with status 130 or 143 and "bench: interrupted" on a line of its own,
// and leaves no file (the -write file is complete or absent).
func TestSignalEveryStage(t *testing.T) {
	stages := []string{"generate ...", "panel ...", "logit ...", "bootstrap ...", "write ..."}
	if testing.Short() {
		stages = []string{"generate ...", "write ..."}
	}
	bin := sigtest.Build(t, ".")
	for i, stage := range stages {
		sig := []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}[i%2]
		t.Run(stage+" "+sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			res := sigtest.Run(t, bin, []string{"-n", "150000", "-replicates", "199", "-workers", "2",
				"-write", filepath.Join(dir, "flat.csv")}, stage, sig, 3*time.Minute)
			sigtest.CheckInterrupted(t, res, "bench", sig, 20*time.Second)
			sigtest.CheckDir(t, dir, nil)
		})
	}
}
