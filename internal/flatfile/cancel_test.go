package flatfile

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// A done context stops Read with ctx.Err() for CSV, gzipped CSV and
// Parquet, and a live one reads the same file.
func TestReadCancelled(t *testing.T) {
	n := 3 * checkRows
	col := make([]float64, n)
	for i := range col {
		col[i] = float64(i % 7)
	}
	tab := NewTable([]string{"a", "b"}, [][]float64{col, col})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, name := range []string{"t.csv", "t.csv.gz", "t.parquet"} {
		path := filepath.Join(t.TempDir(), name)
		if err := Write(path, tab); err != nil {
			t.Fatal(err)
		}
		if _, err := Read(ctx, path, nil); !errors.Is(err, context.Canceled) {
			t.Errorf("%s: error %v, want context.Canceled", name, err)
		}
		got, err := Read(context.Background(), path, nil)
		if err != nil || got.Rows() != n {
			t.Errorf("%s: %v, %d rows, want %d", name, err, got.Rows(), n)
		}
	}
}
