package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/psm"
)

// runMap runs psmatch with args and -json -quiet and decodes stdout
// without the manifest.
func runMap(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), append(args, "-json", "-quiet"), &out, &errb), errb.String())
	var v map[string]any
	require.NoError(t, json.Unmarshal(out.Bytes(), &v))
	delete(v, "manifest")
	return v
}

// -bootstrap: the intervals are psm.Bootstrap's on the file's treated and
// controls (split here from the CSV with encoding/csv and R's fitted
// scores of testdata/match, column ps = glm(tr ~ x1 + x2 + x3) fitted
// values, so that only the wiring is under test), with the matching
// flags passed through; the same for 1 and 2 workers; -bootstrap 0 leaves
// the output as without the flag.
func TestBootstrapFlag(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "match", "cont.csv")
	base := []string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3", "-outcomes", "y1,y2"}
	assert.Equal(t, runMap(t, base...), runMap(t, append(base, "-bootstrap", "0")...))

	flags := append(base, "-bootstrap", "99", "-seed", "4", "-replace=false", "-neighbors", "1", "-caliper", "0.3")
	got := runMap(t, append(flags, "-workers", "1")...)
	assert.Equal(t, got, runMap(t, append(flags, "-workers", "2")...))
	assert.Equal(t, map[string]any{"replicates": 99.0, "valid": 99.0, "seed": 4.0, "level": 0.95}, got["bootstrap"])

	rows := readCSVFile(t, data)
	col := map[string]int{}
	for i, n := range rows[0] {
		col[n] = i
	}
	num := func(r []string, c string) float64 { return atof(t, r[col[c]]) }
	var st, sc []float64
	yt, yc := make([][]float64, 2), make([][]float64, 2)
	for _, r := range rows[1:] {
		if r[col["tr"]] == "1" {
			st = append(st, num(r, "ps"))
			yt[0], yt[1] = append(yt[0], num(r, "y1")), append(yt[1], num(r, "y2"))
		} else {
			sc = append(sc, num(r, "ps"))
			yc[0], yc[1] = append(yc[0], num(r, "y1")), append(yc[1], num(r, "y2"))
		}
	}
	want, err := psm.Bootstrap(context.Background(), st, sc, yt, yc, &psm.BootstrapOptions{Replicates: 99, Seed: 4,
		Match: psm.MatchOptions{K: 1, NoReplacement: true, Caliper: 0.3}})
	require.NoError(t, err)
	outs := got["outcomes"].(map[string]any)
	for k, name := range []string{"y1", "y2"} {
		o := outs[name].(map[string]any)
		// the Go and R scores agree to about 1e-13, which can move a
		// replicate's matches only at exact distance ties
		assert.InDelta(t, want.Low[k], o["ci_low"], 1e-9, name)
		assert.InDelta(t, want.High[k], o["ci_high"], 1e-9, name)
		assert.InDelta(t, want.ATT[k], o["att"], 1e-9, name)
		assert.Less(t, o["ci_low"], o["ci_high"])
	}
}

// readCSVFile reads a whole CSV file with encoding/csv.
func readCSVFile(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

// atof parses a number of a CSV test file.
func atof(t *testing.T, s string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err, s)
	return v
}
