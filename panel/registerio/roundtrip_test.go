package registerio

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// wideCols returns the column names <prefix><first + 7k days> or
// <prefix>YYYY-MM for count consecutive weeks or months.
func wideWeeks(first panel.Day, count int) []string {
	var s []string
	for k := 0; k < count; k++ {
		s = append(s, (first + panel.Day(7*k)).String())
	}
	return s
}

func wideMonths(name string, first panel.Month, count int) []string {
	var s []string
	for k := 0; k < count; k++ {
		s = append(s, name+"_"+(first+panel.Month(k)).String())
	}
	return s
}

// csvTable is a header and rows of equal length, each row a person id
// followed by one value per column, value(p, c).
func csvTable(cols []string, ids []int, value func(p, c int) string) string {
	var b strings.Builder
	b.WriteString("id," + strings.Join(cols, ",") + "\n")
	for p, id := range ids {
		fmt.Fprint(&b, id)
		for c := range cols {
			b.WriteString("," + value(p, c))
		}
		b.WriteString("\n")
	}
	return b.String()
}

// TestRoundTripWide: what ReadDir accepts from wide tables, WriteDir
// writes (status wide, outcomes long) and ReadDir reads back unchanged,
// as Parquet and as CSV; what it cannot write in the long layout it
// refuses to read, naming the column. The cases are those where the
// layouts differ: outcomes a century apart, an outcome all 0 for years,
// a status grid all "" for years.
func TestRoundTripWide(t *testing.T) {
	ids := []int{1, 2, 3}
	start := panel.DayFromDate(2007, 1, 1)
	status := csvTable(wideWeeks(start, 10), ids, func(p, c int) string { return "a" })
	jan07 := panel.MonthFromDate(2007, 1)
	cases := []struct {
		name, status, outcomes string
		refuse                 string // the error of reading, "" = read and round-trip
	}{
		{"outcomes a century apart", status,
			csvTable(append(wideMonths("x", panel.MonthFromDate(1950, 1), 2), wideMonths("y", panel.MonthFromDate(2099, 1), 2)...), ids,
				func(p, c int) string { return "1" }),
			"more than 1200 months"},
		{"outcomes 1200 months apart", status,
			csvTable(append(wideMonths("x", jan07, 1), wideMonths("y", jan07+1199, 1)...), ids,
				func(p, c int) string { return fmt.Sprint(p % 2) }),
			""},
		{"an outcome 0 for five years", status,
			csvTable(wideMonths("x", jan07, 70), ids, func(p, c int) string {
				if p == 1 && (c == 0 || c == 69) {
					return "1"
				}
				return "0"
			}), ""},
		{"status empty for five years",
			csvTable(wideWeeks(start, 270), ids, func(p, c int) string {
				if c < 3 || c > 265 {
					return "a"
				}
				return ""
			}),
			csvTable(wideMonths("x", jan07, 3), ids, func(p, c int) string { return "1" }), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			files := map[string]string{"persons.csv": "id\n1\n2\n3\n", "status.csv": c.status, "outcomes.csv": c.outcomes}
			for f, s := range files {
				require.NoError(t, os.WriteFile(filepath.Join(dir, f), []byte(s), 0o644))
			}
			r, err := ReadDir(context.Background(), dir, nil)
			if c.refuse != "" {
				require.Error(t, err)
				assert.ErrorIs(t, err, panel.ErrInvalid)
				assert.Contains(t, err.Error(), c.refuse)
				return
			}
			require.NoError(t, err)
			for _, f := range []Format{FormatParquet, FormatCSV} {
				out := filepath.Join(t.TempDir(), "w")
				require.NoError(t, WriteDir(out, r, &WriteOptions{Format: f, NoSync: true}))
				r2, err := ReadDir(context.Background(), out, nil)
				require.NoError(t, err, "reading back the %v written from a register that was read", f)
				assert.Equal(t, r.Status, r2.Status)
				assert.Equal(t, r.Outcomes, r2.Outcomes)
			}
		})
	}
}
