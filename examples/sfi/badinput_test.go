package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/internal/leakcheck"
	"github.com/psmeval/psmeval/panel"
)

// TestBadInputSFI: bad flags and bad -data registers stop the program
// with an error naming the flag, or the file, column and row, or the
// design option; nothing is written to -out.
func TestBadInputSFI(t *testing.T) {
	tiny := filepath.Join("..", "..", "testdata", "panel", "tiny_long")
	copyTiny := func(t *testing.T, edit func(dir string)) string {
		dir := t.TempDir()
		for _, f := range []string{"persons.csv", "status.csv", "outcomes.csv", "spells.csv"} {
			b, err := os.ReadFile(filepath.Join(tiny, f))
			require.NoError(t, err)
			require.NoError(t, os.WriteFile(filepath.Join(dir, f), b, 0o644))
		}
		edit(dir)
		return dir
	}
	cases := []struct {
		name string
		cfg  func(t *testing.T, c *config)
		is   error  // errors.Is target (nil: not checked)
		de   string // *panel.Error "table column row" prefix of the message ("" = none)
		msg  string
	}{
		{"negative -scale", func(t *testing.T, c *config) { c.scale = -1 }, nil, "", "-scale -1: must be positive"},
		{"NaN -scale", func(t *testing.T, c *config) { c.scale = nanF() }, nil, "", "-scale NaN"},
		{"negative -study", func(t *testing.T, c *config) { c.study = -1 }, nil, "", "-study -1"},
		{"unknown -interval", func(t *testing.T, c *config) { c.interval = "wald" }, nil, "", `-interval "wald": want one of abadie-imbens, abadie-imbens-2016, bootstrap-normal`},
		{"-refit with Otsu-Rai", func(t *testing.T, c *config) { c.refit, c.interval = true, "otsu-rai-percentile" }, nil, "", "-refit re-fits the logit in the replicates of -interval bootstrap"},
		{"-bootstrap 1", func(t *testing.T, c *config) { c.bootstrap = 1 }, nil, "", "-bootstrap 1: want 0 or at least 2"},
		{"-sensatt with three values", func(t *testing.T, c *config) { c.sensatt = "0.5,0.5,0.5" }, nil, "", `-sensatt "0.5,0.5,0.5": want four probabilities p11,p10,p01,p00`},
		{"-sensatt probability 2", func(t *testing.T, c *config) { c.sensatt = "0.5,2,0.5,0.5" }, nil, "", `"2" is not a probability in [0, 1]`},
		{"-sensatt-draws 1", func(t *testing.T, c *config) { c.sensatt, c.sensattDraws = "0.5,0.5,0.5,0.5", 1 }, nil, "", "-sensatt-draws 1: want at least 2"},
		{"-sensatt without the section", func(t *testing.T, c *config) { c.sensatt, c.sensattDraws, c.preWindow = "0.5,0.5,0.5,0.5", 5, "off" }, nil, "", "-pre-window off turns off"},
		{"-pre-window not a range", func(t *testing.T, c *config) { c.preWindow = "sixty" }, nil, "", `-pre-window "sixty": want A..B with A <= B < 0`},
		{"-pre-window reversed", func(t *testing.T, c *config) { c.preWindow = "-49..-60" }, nil, "", `-pre-window "-49..-60"`},
		{"-pre-window overlapping the start", func(t *testing.T, c *config) { c.preWindow = "-3..0" }, nil, "", `-pre-window "-3..0"`},
		{"-pre-window before the data", func(t *testing.T, c *config) { c.preWindow, c.scale = "-80..-70", 0.01 }, nil, "",
			"the data begin in 2007-01, which does not reach back to the pre-programme window -80..-70; set -pre-window later or off"},
		{"negative -bootstrap", func(t *testing.T, c *config) { c.bootstrap = -5 }, nil, "", "-bootstrap -5"},
		{"unknown -study-score", func(t *testing.T, c *config) { c.studyScore = "known" }, nil, "", `-study-score "known": want fitted, independent or true`},
		{"-study-score true without -study", func(t *testing.T, c *config) { c.studyScore = "true" }, nil, "", "-study-score true is a diagnostic of a study"},
		{"unknown -scenario", func(t *testing.T, c *config) { c.scenario = "nonsense" }, nil, "", `-scenario "nonsense": want sfi, observables or persistent`},
		{"-data that does not exist", func(t *testing.T, c *config) { c.data = filepath.Join(t.TempDir(), "nope") }, os.ErrNotExist, "", "no persons table"},
		{"-data with a truncated Parquet file", func(t *testing.T, c *config) {
			dir := t.TempDir()
			src := filepath.Join("..", "..", "testdata", "panel", "tiny_parquet")
			for _, f := range []string{"persons", "status", "outcomes", "spells"} {
				b, err := os.ReadFile(filepath.Join(src, f+".parquet"))
				require.NoError(t, err)
				if f == "status" {
					b = b[:len(b)-10]
				}
				require.NoError(t, os.WriteFile(filepath.Join(dir, f+".parquet"), b, 0o644))
			}
			c.data = dir
		}, panel.ErrInvalid, "panel: status.parquet", "status.parquet"},
		{"-data with a duplicate person id", func(t *testing.T, c *config) {
			c.data = copyTiny(t, func(dir string) {
				p := filepath.Join(dir, "persons.csv")
				b, _ := os.ReadFile(p)
				require.NoError(t, os.WriteFile(p, []byte(strings.Replace(string(b), "\n105,", "\n101,", 1)), 0o644))
			})
		}, panel.ErrInvalid, `panel: persons.csv column "id" row 2`, "duplicate person id 101"},
		{"-data with a spell ending before it starts", func(t *testing.T, c *config) {
			c.data = copyTiny(t, func(dir string) {
				p := filepath.Join(dir, "spells.csv")
				b, _ := os.ReadFile(p)
				require.NoError(t, os.WriteFile(p, append(b, "104,2007-03-02,2007-03-01,2\n"...), 0o644))
			})
		}, panel.ErrInvalid, `panel: spells.csv column "end" row 4`, "ends 2007-03-01 before it starts 2007-03-02"},
		{"-data without the SFI columns", func(t *testing.T, c *config) { c.data = tiny }, nil, "", `the register has no categorical attribute "education", which the SFI design needs`},
		{"-out that is a file", func(t *testing.T, c *config) {
			f := filepath.Join(t.TempDir(), "file")
			require.NoError(t, os.WriteFile(f, nil, 0o644))
			c.out = f
			c.scale = 0.01 // enough treated for the logit to exist, so that the run reaches the output
		}, nil, "", "not a directory"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := config{scale: 0.003, seed: 1, bootstrap: 0, workers: 2, out: filepath.Join(t.TempDir(), "out"),
				scenario: "sfi", confounding: -1, noFigures: true}
			tc.cfg(t, &c)
			var err error
			require.NotPanics(t, func() { err = run(context.Background(), &c, io.Discard, io.Discard) })
			require.Error(t, err)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is, "%v", err)
			}
			assert.Contains(t, err.Error(), tc.msg)
			if tc.de != "" {
				var de *panel.Error
				require.True(t, errors.As(err, &de), "%T %v", err, err)
				assert.True(t, strings.HasPrefix(err.Error(), tc.de), "%v", err)
			}
			if !strings.HasPrefix(tc.name, "-out") {
				_, statErr := os.Stat(c.out)
				assert.ErrorIs(t, statErr, os.ErrNotExist, "nothing written on error")
			}
		})
	}
}

func nanF() float64 { var z float64; return z / z }

// TestSFICancelMidRun cancels the program at the start of each step
// (reported on the log writer): it returns context.Canceled, writes no
// output file, and leaves no goroutine behind.
func TestSFICancelMidRun(t *testing.T) {
	steps := []string{"persons", "build panel", "controls", "fit logit", "replicates", "true effects", "credibility", "write tables"}
	if testing.Short() {
		steps = []string{"controls", "replicates", "true effects", "write tables"}
	}
	for _, step := range steps {
		t.Run(step, func(t *testing.T) {
			defer leakcheck.Check(t)()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			logw := &cancelOn{step: step, cancel: cancel}
			c := config{scale: 0.01, seed: 1, bootstrap: 199, workers: 2, out: filepath.Join(t.TempDir(), "out"),
				scenario: "sfi", confounding: -1, noFigures: true}
			err := run(ctx, &c, io.Discard, logw)
			require.True(t, logw.seen(), "step %q not reached", step)
			require.ErrorIs(t, err, context.Canceled)
			_, statErr := os.Stat(c.out)
			assert.ErrorIs(t, statErr, os.ErrNotExist, "nothing written")
		})
	}
}

// cancelOn cancels when the log shows step.
type cancelOn struct {
	mu     sync.Mutex
	step   string
	cancel func()
	hit    bool
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.hit && strings.Contains(string(p), w.step) {
		w.hit = true
		w.cancel()
	}
	return len(p), nil
}

func (w *cancelOn) seen() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.hit
}
