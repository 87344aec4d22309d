package manifest

import (
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestManifest(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	n := fs.Int("n", 3, "")
	fs.String("s", "a", "")
	require.NoError(t, fs.Parse([]string{"-n", "7"}))
	require.Equal(t, 7, *n)
	m := New("x", fs)
	m.SetArgs([]string{"-n", "7"})
	m.SetSeed(42)
	// the SHA-256 of "abc" (FIPS 180-2, appendix B.1)
	p := filepath.Join(t.TempDir(), "in.txt")
	require.NoError(t, os.WriteFile(p, []byte("abc"), 0o644))
	require.NoError(t, m.AddInput(context.Background(), p))
	assert.Error(t, m.AddInput(context.Background(), filepath.Join(t.TempDir(), "absent")))
	done := m.Step("sleep")
	time.Sleep(2 * time.Millisecond)
	done()
	m.Finish()
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", m.Inputs[0].SHA256)
	assert.Equal(t, int64(3), m.Inputs[0].Bytes)
	assert.Equal(t, map[string]string{"n": "7", "s": "a"}, m.Flags)
	assert.Equal(t, runtime.NumCPU(), m.NumCPU)
	assert.GreaterOrEqual(t, m.Steps[0].Seconds, 0.002)
	assert.GreaterOrEqual(t, m.Seconds, m.Steps[0].Seconds)
	// go test does not stamp VCS information
	assert.Equal(t, Unknown, m.Revision)
	assert.Nil(t, m.Modified)
	b, err := json.Marshal(m)
	require.NoError(t, err)
	for _, k := range []string{`"vcs_revision":"unknown"`, `"vcs_modified":null`, `"seed":42`, `"num_cpu":`, `"steps":[{"name":"sleep"`} {
		assert.True(t, strings.Contains(string(b), k), "%s in %s", k, b)
	}
}

func TestSetBuild(t *testing.T) {
	m := New("x", nil)
	m.setBuild(&debug.BuildInfo{GoVersion: "go1.99", Main: debug.Module{Path: "example.com/m", Version: "v1.2.3"},
		Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.time", Value: "2026-01-01T00:00:00Z"}, {Key: "vcs.modified", Value: "true"}}})
	assert.Equal(t, "example.com/m", m.Module)
	assert.Equal(t, "v1.2.3", m.Version)
	assert.Equal(t, "abc123", m.Revision)
	assert.Equal(t, "2026-01-01T00:00:00Z", m.RevisionTime)
	require.NotNil(t, m.Modified)
	assert.True(t, *m.Modified)
	assert.Equal(t, "go1.99", m.GoVersion)
}
