package registerio

import (
	"context"
	"fmt"
	"testing"

	"github.com/psmeval/psmeval/panel"
)

// ioBenchRegister is a register of n persons and weeks weeks of status
// runs (codes change with probability 1/10 a week), with ids only.
func ioBenchRegister(n, weeks int) *panel.Register {
	rng := newTestRand(42)
	levels := []string{"", "111", "121", "130", "131", "211", "611", "651", "730", "740", "750", "780", "890"}
	r := &panel.Register{IDs: make([]int64, n)}
	for i := range r.IDs {
		r.IDs[i] = int64(100000 + i)
	}
	r.Status = panel.NewStatusGrid(n, ioDay("2005-01-03"), weeks, levels)
	for i := 0; i < n; i++ {
		row := r.Status.Row(i)
		c := byte(rng.IntN(len(levels)))
		for w := range row {
			if rng.IntN(10) == 0 {
				c = byte(rng.IntN(len(levels)))
			}
			row[w] = c
		}
	}
	return r
}

// BenchmarkReadStatusWide reads a register directory whose status table
// is wide (one column per week, 390 weeks) with 100,000 persons as
// Parquet and 20,000 as CSV (the files are written outside the timer).
// Time and memory are linear in persons × weeks; multiply the Parquet
// figures by 33 for the SFI size of 3.3 million persons.
//
//	go test ./panel -run '^$' -bench BenchmarkReadStatusWide -benchtime 3x
func BenchmarkReadStatusWide(b *testing.B) {
	for _, c := range []struct {
		f Format
		n int
	}{{FormatParquet, 100_000}, {FormatCSV, 20_000}} {
		b.Run(fmt.Sprintf("%v/persons=%d/weeks=390", c.f, c.n), func(b *testing.B) {
			r := ioBenchRegister(c.n, 390)
			dir := b.TempDir()
			if err := WriteDir(dir, r, &WriteOptions{Format: c.f}); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				got, err := ReadDir(context.Background(), dir, nil)
				if err != nil {
					b.Fatal(err)
				}
				if got.Status.Weeks != 390 || got.Len() != c.n {
					b.Fatal("wrong size")
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(c.n*390), "ns/cell")
		})
	}
}

// BenchmarkWriteStatusWide writes the wide status table of 100,000
// persons × 390 weeks as Parquet.
func BenchmarkWriteStatusWide(b *testing.B) {
	r := ioBenchRegister(100_000, 390)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := WriteDir(b.TempDir(), r, nil); err != nil {
			b.Fatal(err)
		}
	}
}
