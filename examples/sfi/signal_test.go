package main

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/psmeval/psmeval/internal/interrupt/sigtest"
)

// sfiOutputs are the files a complete run writes.
var sfiOutputs = func() map[string]bool {
	m := map[string]bool{"table51.csv": true, "effects.csv": true, "accumulated.csv": true, "summary.json": true}
	for _, f := range []string{"overlap", "love"} {
		m[f+".svg"], m[f+".png"] = true, true
	}
	for _, o := range outcomeInfo {
		for _, kind := range []string{"monthly_", "accumulated_"} {
			m[kind+o.name+".svg"], m[kind+o.name+".png"] = true, true
		}
	}
	return m
}()

// TestSignalEveryStage builds the program and sends SIGINT or SIGTERM
// when its log shows each stage: the program ends within a few seconds
// with status 130 or 143 and "sfi: interrupted" on a line of its own, and
// the output directory does not exist (signal before the writing) or
// holds complete output files only, never a temporary file.
func TestSignalEveryStage(t *testing.T) {
	stages := []string{
		"persons:", // generation, inside a progress line
		"build panel",
		"controls:",
		"fit logit",
		"match (",
		"balance",
		"monthly and accumulated effects",
		"replicates:",
		"true effects",
		"credibility:",
		"write tables",
	}
	if testing.Short() {
		stages = []string{"persons:", "replicates:", "true effects", "write tables"}
	}
	bin := sigtest.Build(t, ".")
	for i, stage := range stages {
		sig := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[i%2]
		t.Run(stage+" "+sig.String(), func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "out")
			res := sigtest.Run(t, bin, []string{"-scale", "0.02", "-seed", "3", "-bootstrap", "199", "-workers", "2", "-out", out},
				stage, sig, 3*time.Minute)
			sigtest.CheckInterrupted(t, res, "sfi", sig, 20*time.Second)
			complete := sfiOutputs
			if stage != "write tables" {
				complete = nil // nothing may be written before the writing starts
			}
			sigtest.CheckDir(t, out, complete)
		})
	}
}
