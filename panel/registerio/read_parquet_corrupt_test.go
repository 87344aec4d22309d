package registerio

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCorruptPageNamesColumn: damage to the compressed pages of one
// column chunk (the second half of the chunk overwritten) is an error
// naming the column and the row group with its rows, not "row 0".
func TestCorruptPageNamesColumn(t *testing.T) {
	reg, err := ReadDir(context.Background(), filepath.Join("..", "..", "testdata", "panel", "tiny_long"), nil)
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, WriteTable(&b, reg, TableSpells, &WriteOptions{Format: FormatParquet, RowGroupRows: 2}))
	good := b.Bytes()
	pf, err := file.NewParquetReader(bytes.NewReader(good))
	require.NoError(t, err)
	defer pf.Close()
	require.GreaterOrEqual(t, pf.NumRowGroups(), 2)
	names := []string{ColID, ColStart, ColEnd, ColHours}
	tested := 0
	for c, name := range names {
		col, err := pf.MetaData().RowGroup(1).ColumnChunk(c)
		require.NoError(t, err)
		start, n := col.DataPageOffset(), col.TotalCompressedSize()
		if col.HasDictionaryPage() && col.DictionaryPageOffset() > 0 {
			start = col.DictionaryPageOffset()
		}
		bad := append([]byte(nil), good...)
		for i := start + n/2; i < start+n; i++ {
			bad[i] = 0xff
		}
		l := NewLoader(nil)
		require.NoError(t, l.Read(TablePersons, bytes.NewReader(personsCSV(reg)), FormatCSV, "persons.csv"))
		err = l.Read(TableSpells, bytes.NewReader(bad), FormatParquet, "spells.parquet")
		if err == nil {
			continue // the damage decoded to other values (no page checksums)
		}
		tested++
		t.Logf("%s: %v", name, err)
		var de *panel.Error
		require.True(t, errors.As(err, &de), "%v", err)
		assert.Equal(t, name, de.Column, "%v", err)
		assert.Contains(t, err.Error(), "row group 1 (data rows 2..3)")
	}
	assert.Positive(t, tested, "no damage was detected at all")
}

// personsCSV is the ids of reg as a persons CSV table.
func personsCSV(reg *panel.Register) []byte {
	var b bytes.Buffer
	b.WriteString("id\n")
	for _, id := range reg.IDs {
		b.WriteString(strconv.FormatInt(id, 10) + "\n")
	}
	return b.Bytes()
}
