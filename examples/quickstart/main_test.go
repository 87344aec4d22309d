package main

import (
	"bytes"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func runOn(dir string) string {
	var b bytes.Buffer
	out = &b
	os.Args = []string{"quickstart", dir}
	main()
	return b.String()
}

// The bundled example register in Parquet and in gzipped CSV must give
// the same analysis to the last digit, with a line per outcome.
func TestQuickstartParquetEqualsCSV(t *testing.T) {
	pq := runOn("../../testdata/example/parquet")
	cs := runOn("../../testdata/example/csv")
	assert.Equal(t, pq, cs)
	lines := strings.Split(strings.TrimSpace(pq), "\n")
	require.Len(t, lines, 3)
	assert.Contains(t, lines[0], " treated, ")
	assert.True(t, strings.HasPrefix(lines[1], "employed "), lines[1])
	assert.True(t, strings.HasPrefix(lines[2], "employed_no_benefit "), lines[2])
}
