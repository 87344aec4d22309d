package panel

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// buildTinyDirs are the committed file versions of the Build tests' tiny
// population (tinyRegister in tiny_test.go), regenerated with -update.
var buildTinyDirs = []struct {
	dir  string
	opts WriteOptions
}{
	{"build_tiny/csv_long", WriteOptions{Format: FormatCSV, StatusLayout: LayoutLong, OutcomesLayout: LayoutLong}},
	{"build_tiny/csv_wide", WriteOptions{Format: FormatCSV, StatusLayout: LayoutWide, OutcomesLayout: LayoutWide}},
	{"build_tiny/parquet", WriteOptions{Format: FormatParquet}},
}

// ioRequireSameRegisterData compares registers up to the numbering of
// status levels (the files hold code strings; the reader numbers them in
// sorted order).
func ioRequireSameRegisterData(t *testing.T, want, got *Register) {
	t.Helper()
	w := *want
	w.Status.Codes = append([]byte(nil), want.Status.Codes...)
	sorted, remap := sortedLevels(want.Status.Levels)
	for k, c := range w.Status.Codes {
		w.Status.Codes[k] = byte(remap[c])
	}
	w.Status.Levels = sorted
	ioRequireSameRegister(t, &w, got)
}

// ioRequireSamePanel compares two panels exactly (NaN equal to NaN).
func ioRequireSamePanel(t *testing.T, want, got *Panel) {
	t.Helper()
	require.Equal(t, want.Person, got.Person, "Person")
	require.Equal(t, want.ID, got.ID, "ID")
	require.Equal(t, want.Draw, got.Draw, "Draw")
	require.Equal(t, want.Treated, got.Treated, "Treated")
	require.Equal(t, want.StartDay, got.StartDay, "StartDay")
	require.Equal(t, want.StartWeek, got.StartWeek, "StartWeek")
	require.Equal(t, want.Cohort, got.Cohort, "Cohort")
	require.Equal(t, want.CovNames, got.CovNames, "CovNames")
	require.Equal(t, want.DescNames, got.DescNames, "DescNames")
	require.Equal(t, want.Counts, got.Counts, "Counts")
	sameDense := func(name string, a, b *mat.Dense) {
		if a == nil || b == nil {
			require.True(t, a == nil && b == nil, "%s: one is nil", name)
			return
		}
		ra, ca := a.Dims()
		rb, cb := b.Dims()
		require.Equal(t, [2]int{ra, ca}, [2]int{rb, cb}, "%s dims", name)
		for i := 0; i < ra; i++ {
			for j := 0; j < ca; j++ {
				x, y := a.At(i, j), b.At(i, j)
				require.True(t, x == y || math.IsNaN(x) && math.IsNaN(y), "%s[%d,%d] = %v, want %v", name, i, j, y, x)
			}
		}
	}
	sameDense("X", want.X, got.X)
	sameDense("Desc", want.Desc, got.Desc)
	require.Equal(t, len(want.Outcomes), len(got.Outcomes))
	for k := range want.Outcomes {
		a, b := want.Outcomes[k], got.Outcomes[k]
		require.Equal(t, a.Name, b.Name)
		require.Equal(t, a.H, b.H, "%s H", a.Name)
		require.Equal(t, a.HCommon, b.HCommon, "%s HCommon", a.Name)
		require.Equal(t, a.LastMonth, b.LastMonth, "%s LastMonth", a.Name)
		require.Equal(t, a.Y, b.Y, "%s Y", a.Name)
	}
}

// TestPathsGiveIdenticalPanels: the tiny population of the Build tests
// read from committed CSV long, CSV wide and Parquet files, and built
// from in-memory Arrow records, gives the same panel as the in-memory
// Register it was written from.
func TestPathsGiveIdenticalPanels(t *testing.T) {
	mem := tinyRegister(t)
	want, err := Build(context.Background(), mem, tinyDesign(t))
	require.NoError(t, err)
	require.Positive(t, want.Len())

	for _, c := range buildTinyDirs {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join(ioTestdata, c.dir)
			if *updateIO {
				require.NoError(t, WriteDir(dir, mem, &c.opts))
			}
			reg, err := ReadDir(context.Background(), dir, nil)
			require.NoError(t, err)
			ioRequireSameRegisterData(t, mem, reg) // else: go test ./panel -run TestPathsGiveIdenticalPanels -update
			got, err := Build(context.Background(), reg, tinyDesign(t))
			require.NoError(t, err)
			ioRequireSamePanel(t, want, got)
		})
	}

	t.Run("arrow records", func(t *testing.T) {
		rrs := map[Table]array.RecordReader{}
		for _, tb := range Tables {
			var recs []arrow.Record
			require.NoError(t, TableRecords(mem, tb, LayoutAuto, 4, func(rec arrow.Record) error {
				rec.Retain()
				recs = append(recs, rec)
				return nil
			}))
			rr, err := array.NewRecordReader(recs[0].Schema(), recs)
			require.NoError(t, err)
			rrs[tb] = rr
		}
		reg, err := RegisterFromRecords(rrs[TablePersons], rrs[TableStatus], rrs[TableOutcomes], rrs[TableSpells], nil)
		require.NoError(t, err)
		ioRequireSameRegisterData(t, mem, reg)
		got, err := Build(context.Background(), reg, tinyDesign(t))
		require.NoError(t, err)
		ioRequireSamePanel(t, want, got)
	})
}
