package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/psmeval/psmeval/psm"
)

// biTable is a small seeded data set: treatment t (overlapping logit in
// a), covariates a, b, a constant c, s = a + b (collinear), weights w,
// outcomes y, z. Rows are 0-based data rows (the header not counted), as
// in every error of flatfile and psmatch.
func biTable() [][]string {
	rng := rand.New(rand.NewPCG(9, 9))
	rows := [][]string{{"t", "a", "b", "c", "s", "w", "y", "z"}}
	for i := 0; i < 60; i++ {
		a := float64(rng.IntN(2000))/1000 - 1
		b := float64(rng.IntN(2))
		t := 0
		if rng.Float64() < 0.3+0.2*a {
			t = 1
		}
		if i < 2 {
			t = i // rows 0 (control) and 1 (treated) are fixed
		}
		rows = append(rows, []string{fmt.Sprint(t), fmt.Sprint(a), fmt.Sprint(b), "3", fmt.Sprint(a + b),
			fmt.Sprint(1 + rng.IntN(3)), fmt.Sprint(a + float64(t) + float64(rng.IntN(100))/100), fmt.Sprint(rng.IntN(2))})
	}
	return rows
}

func biCSV(rows [][]string) string {
	var b strings.Builder
	for _, r := range rows {
		b.WriteString(strings.Join(r, ",") + "\n")
	}
	return b.String()
}

func biWrite(t *testing.T, name, content string) string {
	p := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// TestBadInputPsmatch: every kind of bad input file and option given to
// the psmatch program is an error naming the column and row, the flag
// or the option, with the sentinel of the layer that found it.
func TestBadInputPsmatch(t *testing.T) {
	set := func(row, col int, v string) func([][]string) {
		return func(r [][]string) { r[row+1][col] = v }
	}
	const colT, colA, colW, colY = 0, 1, 5, 6
	base := biTable()
	allTreated := func(r [][]string) {
		for i := 1; i < len(r); i++ {
			r[i][colT] = "1"
		}
	}
	separated := func(r [][]string) { // t = 1 exactly when a > 0
		for i := 1; i < len(r); i++ {
			if strings.HasPrefix(r[i][colA], "-") || r[i][colA] == "0" {
				r[i][colT] = "0"
			} else {
				r[i][colT] = "1"
			}
		}
	}
	bSeparates := func(r [][]string) { // b = 1 only among the treated
		for i := 1; i < len(r); i++ {
			if r[i][2] == "1" {
				r[i][colT] = "1"
			}
		}
	}
	cases := []struct {
		name  string
		edit  func([][]string)
		text  func(string) string // edit of the CSV text, after edit
		flags []string            // replace the default -covariates a,b
		// expected: sentinel, *flatfile.Error column/row or
		// *psm.InputError column/row ("" = not checked), message parts
		is     error
		column string
		row    int
		want   []string
	}{
		{name: "missing covariate column", flags: []string{"-covariates", "a,nope"},
			is: flatfile.ErrMissingColumn, column: "nope", row: -1, want: []string{`column "nope"`, "missing column"}},
		{name: "missing outcome column", flags: []string{"-covariates", "a,b", "-outcomes", "y,nope"},
			is: flatfile.ErrMissingColumn, column: "nope", row: -1, want: []string{"nope"}},
		{name: "text in a covariate", edit: set(4, colA, "abc"),
			is: flatfile.ErrNotNumeric, column: "a", row: 4, want: []string{`column "a" row 4: not a number: "abc"`}},
		{name: "NULL in a covariate", edit: set(7, colA, "NULL"),
			is: flatfile.ErrMissingValue, column: "a", row: 7, want: []string{`column "a" row 7: missing value`}},
		{name: "NaN in a covariate", edit: set(7, colA, "NaN"),
			is: flatfile.ErrMissingValue, column: "a", row: 7, want: []string{"row 7"}},
		{name: "Inf in a covariate", edit: set(9, colA, "Inf"),
			is: psm.ErrBadValue, column: "a", row: 9, want: []string{"propensity model", `column "a" row 9: +Inf`}},
		{name: "out-of-range number in a covariate", edit: set(9, colA, "1e999"),
			is: flatfile.ErrNotNumeric, column: "a", row: 9, want: []string{`"1e999" is out of the float64 range`}},
		{name: "NA in an outcome", edit: set(3, colY, "NA"), flags: []string{"-covariates", "a,b", "-outcomes", "y"},
			is: flatfile.ErrMissingValue, column: "y", row: 3, want: []string{`column "y" row 3`}},
		{name: "Inf in the outcome of a treated unit", edit: set(1, colY, "-Inf"), flags: []string{"-covariates", "a,b", "-outcomes", "y"},
			is: psm.ErrBadValue, row: 1, want: []string{`outcome "y" (row 1 of the data)`, "y[1] = -Inf"}},
		{name: "NULL weight", edit: set(5, colW, ""), flags: []string{"-covariates", "a,b", "-weights", "w"},
			is: flatfile.ErrMissingValue, column: "w", row: 5, want: []string{`column "w" row 5`}},
		{name: "negative weight", edit: set(5, colW, "-1"), flags: []string{"-covariates", "a,b", "-weights", "w"},
			is: psm.ErrBadWeight, column: "weight", row: 5, want: []string{`column "weight" row 5: -1`}},
		{name: "non-integer weight without replacement", edit: set(0, colW, "1.5"), flags: []string{"-covariates", "a,b", "-weights", "w", "-outcomes", "y", "-replace=false"},
			is: psm.ErrBadWeight, row: 0, want: []string{"matching (row 0 of the data)", "Weights[0] = 1.5", "whole-number weights"}},
		{name: "non-integer weight with -bootstrap", edit: set(0, colW, "1.5"), flags: []string{"-covariates", "a,b", "-weights", "w", "-outcomes", "y", "-bootstrap", "9"},
			is: psm.ErrBadWeight, row: 0, want: []string{"-bootstrap (row 0 of the data)", "ControlWeights[0] = 1.5", "whole-number frequency weights"}},
		{name: "one bootstrap replicate", flags: []string{"-covariates", "a,b", "-outcomes", "y", "-bootstrap", "1"},
			is: errUsage, row: -1, want: []string{"-bootstrap 1: want 0 (none) or at least 2 replicates"}},
		{name: "negative bootstrap", flags: []string{"-covariates", "a,b", "-outcomes", "y", "-bootstrap", "-4"},
			is: errUsage, row: -1, want: []string{"-bootstrap -4"}},
		{name: "bootstrap without outcomes", flags: []string{"-covariates", "a,b", "-bootstrap", "99"},
			is: errUsage, row: -1, want: []string{"-bootstrap needs -outcomes"}},
		{name: "-sensatt with three values", flags: []string{"-covariates", "a,b", "-outcomes", "z", "-sensatt", "0.5,0.5,0.5"},
			is: errUsage, row: -1, want: []string{"want four probabilities p11,p10,p01,p00, got 3 values"}},
		{name: "-sensatt probability above 1", flags: []string{"-covariates", "a,b", "-outcomes", "z", "-sensatt", "0.5,1.5,0.5,0.5"},
			is: errUsage, row: -1, want: []string{`"1.5" is not a probability in [0, 1]`}},
		{name: "-sensatt without outcomes", flags: []string{"-covariates", "a,b", "-sensatt", "0.5,0.5,0.5,0.5"},
			is: errUsage, row: -1, want: []string{"-sensatt and -sensatt-search need -outcomes"}},
		{name: "-sensatt-draws 1", flags: []string{"-covariates", "a,b", "-outcomes", "z", "-sensatt-search", "-sensatt-draws", "1"},
			is: errUsage, row: -1, want: []string{"-sensatt-draws 1: want at least 2"}},
		{name: "-sensatt with weights", flags: []string{"-covariates", "a,b", "-outcomes", "z", "-weights", "w", "-sensatt", "0.5,0.5,0.5,0.5"},
			is: errUsage, row: -1, want: []string{"do not take -weights"}},
		{name: "-sensatt on a continuous outcome", flags: []string{"-covariates", "a,b", "-outcomes", "y", "-sensatt", "0.5,0.5,0.5,0.5"},
			is: psm.ErrBadValue, row: -1, want: []string{`outcome "y" row 0`, "-sensatt needs a 0/1 outcome"}},
		{name: "treatment 2", edit: set(2, colT, "2"),
			is: psm.ErrNotBinary, column: "t", row: 2, want: []string{`column "t" row 2: 2`, "the treatment column must hold 0 or 1"}},
		{name: "all units treated", edit: allTreated,
			is: psm.ErrNoVariation, row: -1, want: []string{"60 treated and 0 controls"}},
		{name: "perfect separation", edit: separated, flags: []string{"-covariates", "a"},
			is: psm.ErrSeparation, row: -1, want: []string{"complete separation by a"}},
		{name: "quasi-complete separation suggests -drop-separated", edit: bSeparates,
			is: psm.ErrSeparation, row: -1, want: []string{"separation by b", "-drop-separated drops the separating covariate"}},
		{name: "-drop-separated with complete separation", edit: separated, flags: []string{"-covariates", "a", "-drop-separated"},
			is: psm.ErrSeparation, row: -1, want: []string{"complete separation by a"}},
		{name: "-r-caliper-se without -caliper", flags: []string{"-covariates", "a", "-outcomes", "y", "-r-caliper-se"},
			is: errUsage, row: -1, want: []string{"-r-caliper-se needs -caliper > 0"}},
		{name: "-r-caliper-se without -outcomes", flags: []string{"-covariates", "a", "-caliper", "0.1", "-r-caliper-se"},
			is: errUsage, row: -1, want: []string{"-r-caliper-se needs -outcomes"}},
		{name: "k larger than the number of controls", flags: []string{"-covariates", "a,b", "-outcomes", "y", "-neighbors", "1000"},
			is: psm.ErrTooFewControls, row: -1, want: []string{"matching", "K = 1000 neighbours"}},
		{name: "caliper that leaves no match", flags: []string{"-covariates", "a,b", "-outcomes", "y", "-caliper", "1e-12"},
			is: psm.ErrNoMatch, row: -1, want: []string{"no treated unit could be matched"}},
		{name: "bad -on", flags: []string{"-covariates", "a", "-outcomes", "y", "-on", "odds"},
			is: errUsage, row: -1, want: []string{`-on "odds": want prob or logit`}},
		{name: "negative -neighbors", flags: []string{"-covariates", "a", "-outcomes", "y", "-neighbors", "-3"},
			is: errUsage, row: -1, want: []string{"-neighbors -3: want >= 1"}},
		{name: "NaN -caliper", flags: []string{"-covariates", "a", "-outcomes", "y", "-caliper", "NaN"},
			is: errUsage, row: -1, want: []string{"-caliper NaN: want >= 0"}},
		// corrupt and truncated files
		{name: "CSV truncated inside a row", text: func(s string) string { return s[:strings.LastIndexByte(s[:len(s)-1], '\n')+4] },
			is: flatfile.ErrShape, row: 59, want: []string{"row 59", "wrong number of fields"}},
		{name: "CSV with a bare quote", text: func(s string) string { return strings.Replace(s, "\n1,", "\n1\",", 1) },
			is: flatfile.ErrShape, row: 1, want: []string{`row 1: malformed table: bare " in non-quoted-field`}},
		{name: "empty file", text: func(string) string { return "" },
			is: flatfile.ErrEmpty, row: -1, want: []string{"no header row"}},
		{name: "header only", text: func(s string) string { return s[:strings.IndexByte(s, '\n')+1] },
			is: flatfile.ErrEmpty, row: -1, want: []string{"empty table: cannot make a 0×2 matrix"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows := make([][]string, len(base))
			for i := range base {
				rows[i] = append([]string(nil), base[i]...)
			}
			if c.edit != nil {
				c.edit(rows)
			}
			text := biCSV(rows)
			if c.text != nil {
				text = c.text(text)
			}
			path := biWrite(t, "units.csv", text)
			flags := c.flags
			if flags == nil {
				flags = []string{"-covariates", "a,b"}
			}
			args := append([]string{"-data", path, "-treatment", "t"}, flags...)
			var out, errb bytes.Buffer
			var err error
			require.NotPanics(t, func() { err = run(context.Background(), args, &out, &errb) })
			require.Error(t, err, "%v", args)
			require.ErrorIs(t, err, c.is, "%v", err)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
			var fe *flatfile.Error
			var le *psm.InputError
			switch {
			case errors.As(err, &fe):
				assert.Equal(t, c.row, fe.Row, "%v", err)
				if c.column != "" {
					assert.Equal(t, c.column, fe.Column, "%v", err)
				}
			case c.column != "": // a covariate, treatment or weight column of the logit
				require.True(t, errors.As(err, &le), "expected an *psm.InputError naming column %q: %T %v", c.column, err, err)
				assert.Equal(t, c.row, le.Index, "%v", err)
				assert.Equal(t, c.column, le.Field, "%v", err)
			}
		})
	}
}

// TestBadInputPsmatchFiles: damaged Parquet and gzip files are errors
// naming the file; a BOM, CRLF line ends and quoted fields (with a comma
// and a newline in a quoted header name) are read correctly: the output
// equals that of the plain file.
func TestBadInputPsmatchFiles(t *testing.T) {
	args := func(path string) []string {
		return []string{"-data", path, "-treatment", "t", "-covariates", "a,b", "-outcomes", "y,z", "-json"}
	}
	plain := biWrite(t, "units.csv", biCSV(biTable()))
	var want bytes.Buffer
	require.NoError(t, run(context.Background(), args(plain), &want, io.Discard))

	// the same table as Parquet, then damaged
	tab, err := flatfile.Read(context.Background(), plain, nil)
	require.NoError(t, err)
	pq := filepath.Join(t.TempDir(), "units.parquet")
	require.NoError(t, flatfile.Write(pq, tab))
	good, err := os.ReadFile(pq)
	require.NoError(t, err)
	var got bytes.Buffer
	require.NoError(t, run(context.Background(), args(pq), &got, io.Discard))
	require.JSONEq(t, stripManifest(t, want.String()), stripManifest(t, got.String()), "Parquet and CSV agree")
	flipped := append([]byte(nil), good...)
	for i := len(flipped) - 60; i < len(flipped)-8; i++ { // the footer's metadata
		flipped[i] ^= 0x5a
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	_, err = zw.Write([]byte(biCSV(biTable())))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	for name, f := range map[string]struct {
		file string
		data []byte
	}{
		"truncated Parquet":       {"units.parquet", good[:len(good)/2]},
		"Parquet without footer":  {"units.parquet", good[:len(good)-8]},
		"Parquet magic only":      {"units.parquet", []byte("PAR1")},
		"damaged Parquet footer":  {"units.parquet", flipped},
		"CSV bytes named Parquet": {"units.parquet", []byte(biCSV(biTable()))},
		"truncated gzip":          {"units.csv.gz", gz.Bytes()[:gz.Len()/2]},
		"not gzip":                {"units.csv.gz", []byte("t,a\n1,2\n")},
	} {
		t.Run(name, func(t *testing.T) {
			path := biWrite(t, f.file, string(f.data))
			var out bytes.Buffer
			var err error
			require.NotPanics(t, func() { err = run(context.Background(), args(path), &out, &out) })
			require.Error(t, err)
			var fe *flatfile.Error
			require.True(t, errors.As(err, &fe), "%T %v", err, err)
			assert.Equal(t, path, fe.File)
			assert.Contains(t, err.Error(), path)
		})
	}

	// BOM, CRLF and quoting: read correctly, same output
	rows := biTable()
	rows[0][1] = "\"a\"" // quoted header
	text := "\ufeff" + strings.ReplaceAll(biCSV(rows), "\n", "\r\n")
	text = strings.Replace(text, "\r\n0,", "\r\n\"0\",", 1) // a quoted value
	text = strings.Replace(text, ",z\r\n", ",\"z, the\r\nsecond outcome\"\r\n", 1)
	variant := biWrite(t, "units.csv", text)
	got.Reset() // (-outcomes splits at commas, so the renamed z is not asked for)
	require.NoError(t, run(context.Background(), []string{"-data", variant, "-treatment", "t", "-covariates", "a,b", "-outcomes", "y", "-json"}, &got, io.Discard))
	var wantJ, gotJ map[string]any
	require.NoError(t, json.Unmarshal(want.Bytes(), &wantJ))
	require.NoError(t, json.Unmarshal(got.Bytes(), &gotJ))
	assert.Equal(t, wantJ["logit"], gotJ["logit"])
	assert.Equal(t, wantJ["outcomes"].(map[string]any)["y"], gotJ["outcomes"].(map[string]any)["y"])
	tab, err = flatfile.Read(context.Background(), variant, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"t", "a", "b", "c", "s", "w", "y", "z, the\nsecond outcome"}, tab.Names)
}

// TestBadInputPsmatchAccepted documents inputs psmatch accepts: a
// covariate with a single value and collinear covariates are dropped
// from the model as R's glm drops them (aliased, null in the JSON), and
// non-integer frequency weights are used as fractional copies when
// matching with replacement.
func TestBadInputPsmatchAccepted(t *testing.T) {
	path := biWrite(t, "units.csv", biCSV(biTable()))
	_, j := runJSON(t, "-data", path, "-treatment", "t", "-covariates", "a,c,b,s")
	assert.Nil(t, j.Logit.Coefficients["c"], "single-value covariate aliased")
	assert.Nil(t, j.Logit.Coefficients["s"], "s = a + b aliased")
	require.NotNil(t, j.Logit.Coefficients["a"])
	_, ref := runJSON(t, "-data", path, "-treatment", "t", "-covariates", "a,b")
	assert.InDelta(t, *ref.Logit.Coefficients["a"], *j.Logit.Coefficients["a"], 1e-9)

	rows := biTable()
	for i := 1; i < len(rows); i++ {
		rows[i][5] = "0.5"
	}
	half := biWrite(t, "half.csv", biCSV(rows))
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-data", half, "-treatment", "t", "-covariates", "a,b", "-weights", "w", "-outcomes", "y", "-json"}, &out, &errb))
	var res struct {
		WeightedControls float64 `json:"weighted_controls"`
		NTreated         int     `json:"n_treated"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	// every treated unit weighs 0.5: the matched controls weigh as much
	assert.InDelta(t, 0.5*float64(res.NTreated), res.WeightedControls, 1e-9)
}

// -drop-separated fits without the separating covariate and the units it
// predicts perfectly, and leaves those out of the matching; -r-caliper-se
// changes se_ai only when the caliper drops treated units; -json has the
// run manifest with the SHA-256 of the data file.
func TestPsmatchNewOptions(t *testing.T) {
	rows := biTable()
	nb := 0
	for i := 1; i < len(rows); i++ {
		if rows[i][2] == "1" {
			rows[i][0] = "1"
			nb++
		}
	}
	path := biWrite(t, "units.csv", biCSV(rows))
	var out, errb bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-data", path, "-treatment", "t", "-covariates", "a,b",
		"-outcomes", "y", "-drop-separated", "-json"}, &out, &errb))
	var res struct {
		NTreated         int      `json:"n_treated"`
		NControl         int      `json:"n_control"`
		Excluded         *int     `json:"excluded_units"`
		Dropped          []string `json:"dropped_covariates"`
		WeightedControls float64  `json:"weighted_controls"`
		Manifest         struct {
			Inputs []struct {
				Path   string `json:"path"`
				SHA256 string `json:"sha256"`
			} `json:"inputs"`
			Flags map[string]string `json:"flags"`
			Steps []struct{ Name string }
		} `json:"manifest"`
	}
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	require.NotNil(t, res.Excluded)
	assert.Equal(t, nb, *res.Excluded, "the units with b = 1")
	assert.Equal(t, []string{"b"}, res.Dropped)
	assert.Equal(t, 60-nb, res.NTreated+res.NControl, "the fit leaves them out")
	// every treated unit left in the fit is matched, the excluded ones are not
	assert.InDelta(t, float64(res.NTreated), res.WeightedControls, 1e-12)
	sum := sha256.Sum256([]byte(biCSV(rows)))
	require.Len(t, res.Manifest.Inputs, 1)
	assert.Equal(t, hex.EncodeToString(sum[:]), res.Manifest.Inputs[0].SHA256)
	assert.Equal(t, path, res.Manifest.Inputs[0].Path)
	assert.Equal(t, "a,b", res.Manifest.Flags["covariates"])
	assert.Equal(t, "true", res.Manifest.Flags["drop-separated"])
	assert.Len(t, res.Manifest.Steps, 4) // read, logit, match, checksum

	// -r-caliper-se: R's convention, which counts the dropped treated
	plain := biWrite(t, "plain.csv", biCSV(biTable()))
	se := func(extra ...string) (float64, float64) {
		var out bytes.Buffer
		args := append([]string{"-data", plain, "-treatment", "t", "-covariates", "a,b", "-outcomes", "y", "-json"}, extra...)
		require.NoError(t, run(context.Background(), args, &out, io.Discard))
		var r struct {
			Outcomes map[string]struct {
				ATT  float64 `json:"att"`
				SEAI float64 `json:"se_ai"`
			} `json:"outcomes"`
		}
		require.NoError(t, json.Unmarshal(out.Bytes(), &r))
		return r.Outcomes["y"].ATT, r.Outcomes["y"].SEAI
	}
	att, seM := se("-caliper", "0.01")
	attR, seR := se("-caliper", "0.01", "-r-caliper-se")
	assert.Equal(t, att, attR)
	assert.NotEqual(t, seM, seR, "the caliper drops treated units here")
	_, se0 := se("-caliper", "10")
	_, se0R := se("-caliper", "10", "-r-caliper-se")
	assert.Equal(t, se0, se0R, "nothing dropped: both agree")
}
