package registerio

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gapDir writes the first persons of the example register as CSV into a
// temporary directory, status and outcomes in the long layout (outcomes:
// id, month, one column per outcome, NA outside an outcome's months),
// each table followed by its extra rows, and returns the directory and
// the number of outcome rows before the extra ones.
func gapDir(t *testing.T, persons int, extraOutcomes, extraStatus, extraSpells []string) (string, int) {
	t.Helper()
	reg, err := ReadDir(context.Background(), filepath.Join("..", "..", "testdata", "example", "parquet"), nil)
	require.NoError(t, err)
	dir := t.TempDir()
	src := filepath.Join("..", "..", "testdata", "example", "csv")
	keep := map[string]bool{}
	for _, id := range reg.IDs[:persons] {
		keep[fmt.Sprint(id)] = true
	}
	for _, tb := range []string{"persons", "status", "spells"} {
		var b []byte
		if tb == "status" {
			b = longStatus(t, reg, persons)
		} else {
			lines := strings.SplitAfter(string(gunzipFile(t, filepath.Join(src, tb+".csv.gz"))), "\n")
			b = append(b, lines[0]...)
			for _, ln := range lines[1:] {
				if id, _, _ := strings.Cut(ln, ","); keep[id] {
					b = append(b, ln...)
				}
			}
		}
		for _, r := range map[string][]string{"status": extraStatus, "spells": extraSpells}[tb] {
			b = append(b, r+"\n"...)
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, tb+".csv"), b, 0o644))
	}
	lo, hi := reg.Outcomes[0].FirstMonth, reg.Outcomes[0].LastMonth()
	for _, o := range reg.Outcomes {
		lo, hi = min(lo, o.FirstMonth), max(hi, o.LastMonth())
	}
	var b strings.Builder
	b.WriteString("id,month")
	for _, o := range reg.Outcomes {
		b.WriteString("," + o.Name)
	}
	b.WriteString("\n")
	rows := 0
	for i := 0; i < persons; i++ {
		for m := lo; m <= hi; m++ {
			fmt.Fprintf(&b, "%d,%v", reg.IDs[i], m)
			for k := range reg.Outcomes {
				v, ok := reg.Outcomes[k].Get(i, m)
				switch {
				case !ok:
					b.WriteString(",NA")
				case v:
					b.WriteString(",1")
				default:
					b.WriteString(",0")
				}
			}
			b.WriteString("\n")
			rows++
		}
	}
	for _, r := range extraOutcomes {
		b.WriteString(r + "\n")
	}
	require.NoError(t, os.WriteFile(filepath.Join(dir, "outcomes.csv"), []byte(b.String()), 0o644))
	return dir, rows
}

// longStatus is the status of the first persons in the long layout
// (id, week, code), one row per week with a code.
func longStatus(t *testing.T, reg *panel.Register, persons int) []byte {
	t.Helper()
	var b bytes.Buffer
	b.WriteString("id,week,code\n")
	g := &reg.Status
	for i := 0; i < persons; i++ {
		for w := 0; w < g.Weeks; w++ {
			if c := g.Codes[i*g.Weeks+w]; g.Levels[c] != "" {
				fmt.Fprintf(&b, "%d,%v,%s\n", reg.IDs[i], g.FirstWeek+panel.Day(7*w), g.Levels[c])
			}
		}
	}
	return b.Bytes()
}

func gunzipFile(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	zr, err := gzip.NewReader(f)
	require.NoError(t, err)
	b, err := io.ReadAll(zr)
	require.NoError(t, err)
	return b
}

func requireDataError(t *testing.T, err error, table, column string, row int, msg string) {
	t.Helper()
	require.Error(t, err)
	var de *panel.Error
	require.True(t, errors.As(err, &de), "%v", err)
	assert.Equal(t, table, de.Table, "%v", err)
	assert.Equal(t, column, de.Column, "%v", err)
	assert.Equal(t, row, de.Row, "%v", err)
	assert.Contains(t, err.Error(), msg)
}

// TestStrayOutcomeMonth: one row in 2099 appended to long outcomes is an
// error naming that row, whether the other outcomes are missing in it
// (it would otherwise stretch one outcome's months to 2099) or filled in
// (it would otherwise be reported as a missing value in an earlier row);
// MaxGapMonths < 0 reads it.
func TestStrayOutcomeMonth(t *testing.T) {
	for _, row := range []string{"7,2099-01,1,NA,NA,NA", "7,2099-01,1,1,0,0", "7,1950-01,NA,NA,NA,1"} {
		t.Run(row, func(t *testing.T) {
			dir, n := gapDir(t, 60, []string{row}, nil, nil)
			_, err := ReadDir(context.Background(), dir, nil)
			requireDataError(t, err, "outcomes.csv", ColMonth, n, "raise ReadOptions.MaxGapMonths")
			assert.Contains(t, err.Error(), row[2:9])
		})
	}
	dir, _ := gapDir(t, 60, []string{"7,2099-01,1,NA,NA,NA"}, nil, nil)
	reg, err := ReadDir(context.Background(), dir, &ReadOptions{MaxGapMonths: -1})
	require.NoError(t, err)
	assert.Equal(t, panel.MonthFromDate(2099, 1), reg.Outcomes[0].LastMonth(), "the declared gap is read as data")
}

// TestOutcomeMissingNamesRange: a missing value inside an outcome's
// observed months (stretched by a row within the gap limit) names the
// rows that set the first and last observed month.
func TestOutcomeMissingNamesRange(t *testing.T) {
	dir, n := gapDir(t, 60, []string{"7,2015-06,1,1,1,1"}, nil, nil)
	_, err := ReadDir(context.Background(), dir, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), fmt.Sprintf("the last from row %d", n))
}

// TestStrayStatusWeek: a status week far from the others in a long
// status table is an error naming its row instead of stretching the grid.
func TestStrayStatusWeek(t *testing.T) {
	dir, _ := gapDir(t, 60, nil, []string{"7,2099-01-05,self_supporting"}, nil)
	b, err := os.ReadFile(filepath.Join(dir, "status.csv"))
	require.NoError(t, err)
	n := bytes.Count(b, []byte("\n")) - 2
	_, err = ReadDir(context.Background(), dir, nil)
	requireDataError(t, err, "status.csv", ColWeek, n, "raise ReadOptions.MaxGapWeeks")
	_, err = ReadDir(context.Background(), dir, &ReadOptions{MaxGapWeeks: -1})
	assert.NoError(t, err, "a declared gap is read")
}

// TestStraySpell: a spell starting decades away from the others is an
// error naming its row (spells must lie in the status grid, which the
// status gap check keeps from stretching).
func TestStraySpell(t *testing.T) {
	dir, _ := gapDir(t, 60, nil, nil, []string{"7,2099-01-05,2099-02-05,10"})
	b, err := os.ReadFile(filepath.Join(dir, "spells.csv"))
	require.NoError(t, err)
	n := bytes.Count(b, []byte("\n")) - 2
	_, err = ReadDir(context.Background(), dir, nil)
	requireDataError(t, err, "spells.csv", ColStart, n, "2099-01-05")
}
