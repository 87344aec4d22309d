package panel_test

import (
	"context"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// buildTinyDirs are the committed file versions of the Build tests' tiny
// population (tinyRegister in tiny_test.go), regenerated with -update.
var buildTinyDirs = []struct {
	dir  string
	opts registerio.WriteOptions
}{
	{"build_tiny/csv_long", registerio.WriteOptions{Format: registerio.FormatCSV, StatusLayout: registerio.LayoutLong, OutcomesLayout: registerio.LayoutLong}},
	{"build_tiny/csv_wide", registerio.WriteOptions{Format: registerio.FormatCSV, StatusLayout: registerio.LayoutWide, OutcomesLayout: registerio.LayoutWide}},
	{"build_tiny/parquet", registerio.WriteOptions{Format: registerio.FormatParquet}},
}

// updateTiny rewrites the committed files of buildTinyDirs.
var updateTiny = flag.Bool("update", false, "rewrite the committed register files under testdata/panel/build_tiny")

// requireSameRegisterFiles checks that two registers write the same CSV
// files (long layouts): the same data whatever the numbering of their
// status levels, which the files hold as strings.
func requireSameRegisterFiles(t *testing.T, want, got *panel.Register) {
	t.Helper()
	dw, dg := t.TempDir(), t.TempDir()
	o := &registerio.WriteOptions{Format: registerio.FormatCSV, StatusLayout: registerio.LayoutLong, OutcomesLayout: registerio.LayoutLong, NoSync: true}
	require.NoError(t, registerio.WriteDir(dw, want, o))
	require.NoError(t, registerio.WriteDir(dg, got, o))
	files, err := os.ReadDir(dw)
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		bw, err := os.ReadFile(filepath.Join(dw, f.Name()))
		require.NoError(t, err)
		bg, err := os.ReadFile(filepath.Join(dg, f.Name()))
		require.NoError(t, err)
		require.Equal(t, string(bw), string(bg), "register file %s", f.Name())
	}
}

// ioRequireSamePanel compares two panels exactly (NaN equal to NaN).
func ioRequireSamePanel(t *testing.T, want, got *panel.Panel) {
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
	denseX := func(s *panel.CovStore) *mat.Dense {
		if s == nil {
			return nil
		}
		return mat.DenseCopyOf(s)
	}
	sameDense("X", denseX(want.X), denseX(got.X))
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
	mem := panel.TinyRegister(t)
	want, err := panel.Build(context.Background(), mem, panel.TinyDesign(t))
	require.NoError(t, err)
	require.Positive(t, want.Len())

	for _, c := range buildTinyDirs {
		t.Run(c.dir, func(t *testing.T) {
			dir := filepath.Join(ioTestdata, c.dir)
			if *updateTiny {
				require.NoError(t, registerio.WriteDir(dir, mem, &c.opts))
			}
			reg, err := registerio.ReadDir(context.Background(), dir, nil)
			require.NoError(t, err)
			requireSameRegisterFiles(t, mem, reg) // else: go test ./panel -run TestPathsGiveIdenticalPanels -update
			got, err := panel.Build(context.Background(), reg, panel.TinyDesign(t))
			require.NoError(t, err)
			ioRequireSamePanel(t, want, got)
		})
	}

	t.Run("arrow records", func(t *testing.T) {
		rrs := map[registerio.Table]array.RecordReader{}
		for _, tb := range registerio.Tables {
			var recs []arrow.Record
			require.NoError(t, registerio.TableRecords(mem, tb, registerio.LayoutAuto, 4, func(rec arrow.Record) error {
				rec.Retain()
				recs = append(recs, rec)
				return nil
			}))
			rr, err := array.NewRecordReader(recs[0].Schema(), recs)
			require.NoError(t, err)
			rrs[tb] = rr
		}
		reg, err := registerio.RegisterFromRecords(rrs[registerio.TablePersons], rrs[registerio.TableStatus], rrs[registerio.TableOutcomes], rrs[registerio.TableSpells], nil)
		require.NoError(t, err)
		requireSameRegisterFiles(t, mem, reg)
		got, err := panel.Build(context.Background(), reg, panel.TinyDesign(t))
		require.NoError(t, err)
		ioRequireSamePanel(t, want, got)
	})
}

// ioTestdata holds the committed register files of the tests.
const ioTestdata = "../testdata/panel"
