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

// TestREADMESnippet: the README's library snippet is the text of main
// between the "README:" and "README end" comments, so the snippet is code
// that compiles and runs (TestQuickstartParquetEqualsCSV runs it).
func TestREADMESnippet(t *testing.T) {
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	s := string(src)
	a := strings.Index(s, "// README: ")
	require.GreaterOrEqual(t, a, 0, "no README marker in main.go")
	a += strings.Index(s[a:], "TestREADMESnippet")
	a += strings.Index(s[a:], "\n") + 1
	b := strings.Index(s, "\t// README end")
	require.Greater(t, b, a, "no README end marker in main.go")
	var want []string
	for _, l := range strings.Split(strings.TrimRight(s[a:b], "\n"), "\n") {
		want = append(want, strings.TrimPrefix(l, "\t"))
	}
	r := string(readme)
	i := strings.Index(r, "```go\n")
	require.GreaterOrEqual(t, i, 0, "no go block in README.md")
	r = r[i+len("```go\n"):]
	j := strings.Index(r, "```")
	require.GreaterOrEqual(t, j, 0)
	assert.Equal(t, strings.Join(want, "\n"), strings.TrimRight(r[:j], "\n"), "README.md's go block differs from examples/quickstart/main.go")
}
