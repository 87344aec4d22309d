package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/panel/synth"
)

// The files of a split (-split N) in its directory D: D/shard-i is the
// register of part i (registerio.WriteDir: Parquet) with shardFile, and
// splitFile, written last, says the split is complete.
const (
	splitFile = "split.json" // the split: parts, persons, bytes
	shardFile = "shard.json" // in each shard: its part and the design's levels
)

// shardDir is the register of part i in the split directory dir.
func shardDir(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("shard-%d", i)) }

// shardManifest is shardFile: which part of which split the register
// is, and the levels of the design's dummies in the whole population
// (benchdata.DummiesOf), so that every part makes the same covariate
// columns.
type shardManifest struct {
	Part    int               `json:"part"`
	Parts   int               `json:"parts"`
	Persons int               `json:"persons"`
	FirstID int64             `json:"first_id"`
	LastID  int64             `json:"last_id"`
	Seed    uint64            `json:"seed"`
	Dummies []benchdata.Dummy `json:"dummies"`
}

// splitManifest is splitFile.
type splitManifest struct {
	Parts     int     `json:"parts"`
	Persons   int     `json:"persons"`
	Seed      uint64  `json:"seed"`
	Shards    []int   `json:"shard_persons"`
	Bytes     int64   `json:"bytes"`
	Generate  float64 `json:"generate_s"`
	Write     float64 `json:"write_s"`
	PeakRSSMB float64 `json:"peak_rss_mb,omitempty"`
}

// readOptions reads a shard of the synthetic population back exactly
// (panel/synth's round trip: the status levels fixed, municipality
// categorical).
func readOptions() *registerio.ReadOptions {
	return &registerio.ReadOptions{StatusLevels: synth.StatusLevels(), Categorical: []string{"municipality"}}
}

// runSplit is the -split role: it generates the population of c once
// (as examples/bench) and writes n person shards, contiguous ranges of
// persons in id order, as Parquet registers D/shard-i
// (registerio.WriteDir) with their shardFile, each into a temporary
// directory in D renamed into place (a shard directory that exists is
// complete), then splitFile. It refuses a D that holds a split.
func runSplit(ctx context.Context, c *config, n int, logw io.Writer) (*splitManifest, error) {
	if n < 1 {
		return nil, fmt.Errorf("-split %d: want the number of parts, at least 1", n)
	}
	for _, f := range []string{filepath.Join(c.dir, splitFile), shardDir(c.dir, 0)} {
		if exists(f) {
			return nil, fmt.Errorf("%s exists: %s holds a split; use an empty directory", f, c.dir)
		}
	}
	o, err := benchdata.PopulationOptions(c.n, c.treated)
	if err != nil {
		return nil, err
	}
	o.Seed, o.Workers = c.seed, c.workers
	t0 := time.Now()
	pop, err := synth.Generate(ctx, &o)
	if err != nil {
		return nil, err
	}
	r := &pop.Register
	if !slices.IsSorted(r.IDs) {
		return nil, fmt.Errorf("the generated persons are not in id order")
	}
	if r.Len() < n {
		return nil, fmt.Errorf("-split %d: more parts than the %d persons", n, r.Len())
	}
	dummies, err := benchdata.DummiesOf(r)
	if err != nil {
		return nil, err
	}
	m := &splitManifest{Parts: n, Persons: r.Len(), Seed: c.seed, Generate: time.Since(t0).Seconds()}
	t1 := time.Now()
	for i := range n {
		lo, hi := r.Len()*i/n, r.Len()*(i+1)/n
		sm := shardManifest{Part: i, Parts: n, Persons: hi - lo, FirstID: r.IDs[lo], LastID: r.IDs[hi-1], Seed: c.seed, Dummies: dummies}
		b, err := writeShard(ctx, c.dir, i, personRange(r, lo, hi), &sm)
		if err != nil {
			return nil, err
		}
		m.Shards = append(m.Shards, hi-lo)
		m.Bytes += b
	}
	m.Write = time.Since(t1).Seconds()
	if v, ok := peakRSS(); ok {
		m.PeakRSSMB = v
	}
	if err := writeJSON(filepath.Join(c.dir, splitFile), m); err != nil {
		return nil, err
	}
	fmt.Fprintf(logw, "split: %d persons in %d shards in %s: generated in %.2fs, written in %.2fs, %d bytes\n",
		m.Persons, n, c.dir, m.Generate, m.Write, m.Bytes)
	return m, nil
}

// writeShard writes the register of part i and its manifest into a
// temporary directory in dir and renames it to shardDir(dir, i). It
// returns the bytes written.
func writeShard(ctx context.Context, dir string, i int, r *panel.Register, sm *shardManifest) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, context.Cause(ctx)
	}
	final := shardDir(dir, i)
	if exists(final) {
		return 0, fmt.Errorf("%s exists: %s holds a split; use an empty directory", final, dir)
	}
	tmp, err := os.MkdirTemp(dir, fmt.Sprintf(".shard-%d.tmp*", i))
	if err != nil {
		return 0, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(tmp)
		}
	}()
	if err := registerio.WriteDir(tmp, r, nil); err != nil {
		return 0, fmt.Errorf("shard %d: %w", i, err)
	}
	if err := writeJSON(filepath.Join(tmp, shardFile), sm); err != nil {
		return 0, fmt.Errorf("shard %d: %w", i, err)
	}
	var bytes int64
	ents, err := os.ReadDir(tmp)
	if err != nil {
		return 0, err
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil {
			bytes += fi.Size()
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		return 0, fmt.Errorf("shard %d: %w", i, err)
	}
	ok = true
	return bytes, nil
}

// personRange returns persons lo..hi-1 of r as a register of their own:
// views of r's person columns, status rows and outcome bits, and the
// spells of these persons renumbered.
func personRange(r *panel.Register, lo, hi int) *panel.Register {
	q := &panel.Register{IDs: r.IDs[lo:hi]}
	if r.Birth != nil {
		q.Birth = r.Birth[lo:hi]
	}
	for _, a := range r.Attrs {
		if a.Codes != nil {
			a.Codes = a.Codes[lo:hi]
		} else {
			a.Values = a.Values[lo:hi]
		}
		q.Attrs = append(q.Attrs, a)
	}
	g := r.Status
	g.Codes = g.Codes[lo*g.Weeks : hi*g.Weeks]
	q.Status = g
	for _, o := range r.Outcomes {
		w := o.Words()
		o.Bits = o.Bits[lo*w : hi*w]
		q.Outcomes = append(q.Outcomes, o)
	}
	for _, s := range r.Spells {
		if int(s.Person) >= lo && int(s.Person) < hi {
			s.Person -= int32(lo)
			q.Spells = append(q.Spells, s)
		}
	}
	return q
}

// readShard reads the register of part i of n from dir (-data): the
// Parquet or CSV register (registerio.ReadDir) and, when there, its
// shardFile, which must name part i of n. Without shardFile (a register
// from elsewhere) the dummies' levels are the part's own (nil).
func readShard(ctx context.Context, dir string, i, n int) (*panel.Register, []benchdata.Dummy, error) {
	var sm *shardManifest
	if b, err := os.ReadFile(filepath.Join(dir, shardFile)); err == nil {
		sm = &shardManifest{}
		if err := json.Unmarshal(b, sm); err != nil {
			return nil, nil, fmt.Errorf("-data %s: %s: %w", dir, shardFile, err)
		}
		if sm.Part != i || sm.Parts != n {
			return nil, nil, fmt.Errorf("-data %s holds part %d/%d of its split, not -part %d/%d", dir, sm.Part, sm.Parts, i, n)
		}
	} else if !os.IsNotExist(err) {
		return nil, nil, err
	}
	r, err := registerio.ReadDir(ctx, dir, readOptions())
	if err != nil {
		return nil, nil, fmt.Errorf("-data %s: %w", dir, err)
	}
	if sm == nil {
		return r, nil, nil
	}
	if r.Len() != sm.Persons {
		return nil, nil, fmt.Errorf("-data %s: %d persons, its %s says %d", dir, r.Len(), shardFile, sm.Persons)
	}
	return r, sm.Dummies, nil
}
