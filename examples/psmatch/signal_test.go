package main

import (
	"bufio"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/psmeval/psmeval/internal/interrupt/sigtest"
)

// writeSignalData writes a CSV of n units (treatment t, covariates x1..x3,
// outcomes y1..y8) large enough that each step takes a noticeable time.
func writeSignalData(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "big.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	fmt.Fprintln(w, "t,x1,x2,x3,y1,y2,y3,y4,y5,y6,y7,y8")
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < n; i++ {
		x1, x2, x3 := r.NormFloat64(), r.NormFloat64(), r.Float64()
		tr := 0
		if r.Float64() < 1/(1+math.Exp(2.5-0.5*x1-0.3*x2)) {
			tr = 1
		}
		fmt.Fprintf(w, "%d,%.6f,%.6f,%.6f", tr, x1, x2, x3)
		for k := 0; k < 8; k++ {
			fmt.Fprintf(w, ",%.4f", x1+float64(tr)+r.NormFloat64())
		}
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSignalEveryStep builds the program and sends SIGINT or SIGTERM when
// its log shows each step (read, fit, match, checksum): the program ends
// within a few seconds with status 130 or 143 and "psmatch: interrupted"
// on a line of its own. (psmatch writes only to stdout, and nothing there
// before its last step: an interrupted run prints no report.)
func TestSignalEveryStep(t *testing.T) {
	steps := []string{"psmatch: read", "psmatch: fit logit", "psmatch: match and estimate", "psmatch: checksum"}
	n := 400_000
	if testing.Short() {
		steps, n = steps[:2], 200_000
	}
	data := writeSignalData(t, n)
	bin := sigtest.Build(t, ".")
	for i, step := range steps {
		sig := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[i%2]
		t.Run(step+" "+sig.String(), func(t *testing.T) {
			res := sigtest.Run(t, bin, []string{"-data", data, "-treatment", "t", "-covariates", "x1,x2,x3",
				"-outcomes", "y1,y2,y3,y4,y5,y6,y7,y8", "-json"}, step, sig, 2*time.Minute)
			sigtest.CheckInterrupted(t, res, "psmatch", sig, 10*time.Second)
		})
	}
}
