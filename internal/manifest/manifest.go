// Package manifest records how a run was made, for the JSON reports of
// the example commands: the module version and VCS revision of the
// binary, the command-line flags, the seed, SHA-256 checksums of the
// input files, the machine's core count and the wall time of each step.
//
//	m := manifest.New("psmatch", fs) // after fs.Parse
//	if err := m.AddInput(ctx, path); err != nil { ... }
//	done := m.Step("logit")
//	... ; done()
//	report.Manifest = m.Finish()
//
// The build information comes from runtime/debug.ReadBuildInfo. A binary
// built by go build inside a VCS checkout carries the revision
// (-buildvcs=auto, the default); go run and go test do not stamp it, and
// a build outside a checkout or with -buildvcs=false has none: the fields
// are then "unknown" (Modified nil). Version is the module's version for
// a binary built from a module download (go install module@version),
// "(devel)" for one built in its own checkout.
package manifest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"time"
)

// Unknown is the value of a build field the binary does not record.
const Unknown = "unknown"

// Manifest is the record of one run. The zero value is not useful; use
// New.
type Manifest struct {
	Command string `json:"command"`
	// Module is the main module's path, Version its version ("(devel)"
	// when built in its checkout), both Unknown without build info.
	Module  string `json:"module"`
	Version string `json:"version"`
	// Revision is the VCS revision (vcs.revision), RevisionTime its
	// commit time (vcs.time) and Modified whether the work tree had
	// uncommitted changes (vcs.modified): Unknown, Unknown and nil when
	// not stamped (go run, go test, -buildvcs=false).
	Revision     string `json:"vcs_revision"`
	RevisionTime string `json:"vcs_time"`
	Modified     *bool  `json:"vcs_modified"`
	GoVersion    string `json:"go_version"`
	GOOS         string `json:"goos"`
	GOARCH       string `json:"goarch"`
	// Args are the command-line arguments after the command name; Flags
	// holds every flag of the flag set with its value after parsing
	// (defaults included), by name.
	Args  []string          `json:"args"`
	Flags map[string]string `json:"flags"`
	// Seed is the seed of the run's random numbers, nil when it has none.
	Seed *uint64 `json:"seed,omitempty"`
	// Inputs lists the files read, with their size and SHA-256.
	Inputs []Input `json:"inputs"`
	// NumCPU is runtime.NumCPU (logical cores usable by the process),
	// GOMAXPROCS the Go scheduler's limit.
	NumCPU     int `json:"num_cpu"`
	GOMAXPROCS int `json:"gomaxprocs"`
	// Started is the start time (UTC, RFC 3339); Steps the timed steps in
	// order; Seconds the wall time from New to Finish.
	Started string  `json:"started"`
	Steps   []Step  `json:"steps"`
	Seconds float64 `json:"seconds"`

	start time.Time
}

// Input is one input file.
type Input struct {
	Path   string `json:"path"`
	Bytes  int64  `json:"bytes"`
	SHA256 string `json:"sha256"`
}

// Step is the wall time of one step.
type Step struct {
	Name    string  `json:"name"`
	Seconds float64 `json:"seconds"`
}

// New starts the manifest of command: it reads the build information,
// the machine's core counts and, when fs is not nil, the flags of fs
// (call it after fs.Parse) and the arguments os.Args[1:].
func New(command string, fs *flag.FlagSet) *Manifest {
	m := &Manifest{
		Command: command, Module: Unknown, Version: Unknown, Revision: Unknown, RevisionTime: Unknown,
		GoVersion: runtime.Version(), GOOS: runtime.GOOS, GOARCH: runtime.GOARCH,
		Args: append([]string{}, os.Args[1:]...), Flags: map[string]string{},
		Inputs: []Input{}, Steps: []Step{},
		NumCPU: runtime.NumCPU(), GOMAXPROCS: runtime.GOMAXPROCS(0),
		start: time.Now(),
	}
	m.Started = m.start.UTC().Format(time.RFC3339)
	if bi, ok := debug.ReadBuildInfo(); ok {
		m.setBuild(bi)
	}
	if fs != nil {
		fs.VisitAll(func(f *flag.Flag) { m.Flags[f.Name] = f.Value.String() })
	}
	return m
}

// setBuild copies the fields of bi.
func (m *Manifest) setBuild(bi *debug.BuildInfo) {
	if bi.Main.Path != "" {
		m.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		m.Version = bi.Main.Version
	}
	if bi.GoVersion != "" {
		m.GoVersion = bi.GoVersion
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			m.Revision = s.Value
		case "vcs.time":
			m.RevisionTime = s.Value
		case "vcs.modified":
			v := s.Value == "true"
			m.Modified = &v
		}
	}
}

// SetFlag sets the recorded value of flag name (for flags whose Value
// does not print what was given, such as those of flag.Func).
func (m *Manifest) SetFlag(name, value string) { m.Flags[name] = value }

// SetArgs replaces Args (for commands whose arguments do not come from
// os.Args, such as tests).
func (m *Manifest) SetArgs(args []string) { m.Args = append([]string{}, args...) }

// SetSeed records the seed.
func (m *Manifest) SetSeed(seed uint64) { m.Seed = &seed }

// AddInput records the file at path with its size and SHA-256 (reading
// the whole file once). It returns ctx.Err() soon after ctx is done.
func (m *Manifest) AddInput(ctx context.Context, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("manifest: %w", err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, ctxReader{ctx, f})
	if err := ctx.Err(); err != nil {
		return err
	}
	if err != nil {
		return fmt.Errorf("manifest: reading %s: %w", path, err)
	}
	m.Inputs = append(m.Inputs, Input{Path: path, Bytes: n, SHA256: hex.EncodeToString(h.Sum(nil))})
	return nil
}

// ctxReader reads from r until ctx is done.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}

// Step starts timing a step named name; calling the returned function
// ends it and appends it to Steps.
func (m *Manifest) Step(name string) (done func()) {
	t := time.Now()
	return func() { m.AddStep(name, time.Since(t)) }
}

// AddStep appends a step measured by the caller.
func (m *Manifest) AddStep(name string, d time.Duration) {
	m.Steps = append(m.Steps, Step{Name: name, Seconds: d.Seconds()})
}

// Finish sets Seconds, the wall time since New, and returns m.
func (m *Manifest) Finish() *Manifest {
	m.Seconds = time.Since(m.start).Seconds()
	return m
}
