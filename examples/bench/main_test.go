package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/examples/internal/benchdata"
	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/psmeval/psmeval/panel/synth"
)

// The small run shared by the tests: 20,000 persons, 1,000 treated, the
// default covariates, outcomes and horizon, 19 replicates, written as CSV.
// testdata/bench/r_reference.json is compare.R's output on this file.
const (
	smallN       = 20000
	smallTreated = 1000
)

var small struct {
	once sync.Once
	dir  string
	out  []byte
	p    *pipeline
	err  error
}

func smallConfig(write string) config {
	c := defaultConfig()
	c.n, c.treated, c.replicates, c.write = smallN, smallTreated, 19, write
	return c
}

// smallRun runs the program once (JSON output) and keeps its pipeline.
func smallRun(t *testing.T) ([]byte, *pipeline, string) {
	t.Helper()
	small.once.Do(func() {
		small.dir, small.err = os.MkdirTemp("", "psmeval-bench-")
		if small.err != nil {
			return
		}
		c := smallConfig(filepath.Join(small.dir, "bench.csv"))
		c.json = true
		var out bytes.Buffer
		small.p, small.err = runPipeline(context.Background(), &c, &out, io.Discard)
		small.out = out.Bytes()
	})
	require.NoError(t, small.err)
	return small.out, small.p, filepath.Join(small.dir, "bench.csv")
}

func TestMain(m *testing.M) {
	code := m.Run()
	if small.dir != "" {
		os.RemoveAll(small.dir)
	}
	os.Exit(code)
}

// The JSON report has the documented schema and consistent numbers.
func TestJSONReport(t *testing.T) {
	out, p, _ := smallRun(t)
	var r report
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&r))
	// also as a generic map: the documented top-level keys
	var raw map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(out, &raw))
	for _, k := range []string{"config", "machine", "stages", "budget", "sizes", "effects", "manifest"} {
		assert.Contains(t, raw, k)
	}
	// the run manifest: seed, cores, one step per stage; go test stamps
	// no VCS revision
	mf := r.Manifest
	require.NotNil(t, mf)
	require.NotNil(t, mf.Seed)
	assert.Equal(t, r.Config.Seed, *mf.Seed)
	assert.Equal(t, runtime.NumCPU(), mf.NumCPU)
	assert.Equal(t, "unknown", mf.Revision)
	assert.Empty(t, mf.Inputs)
	require.Len(t, mf.Steps, len(r.Stages))
	for i, s := range r.Stages {
		assert.Equal(t, s.Stage, mf.Steps[i].Name)
		assert.InDelta(t, s.Wall, mf.Steps[i].Seconds, 1e-6)
	}

	assert.Equal(t, smallN, r.Config.N)
	assert.Equal(t, smallTreated, r.Config.Treated)
	assert.Equal(t, 40, r.Config.Covariates)
	assert.Equal(t, runtime.NumCPU(), r.Machine.Cores)
	assert.Equal(t, runtime.Version(), r.Machine.GoVersion)

	var names []string
	for _, s := range r.Stages {
		names = append(names, s.Stage)
		assert.Greater(t, s.Wall, 0.0, s.Stage)
		assert.GreaterOrEqual(t, s.CPU, 0.0, s.Stage)
		assert.Greater(t, s.PeakRSS, 1.0, s.Stage)
	}
	assert.Equal(t, []string{stageGenerate, stagePanel, stageLogit, stageMatch, stageEffects, stageBootstrap, stageWrite}, names)
	wall := 0.0
	for _, s := range r.Stages[1:5] {
		wall += s.Wall
	}
	assert.InDelta(t, wall, r.Budget.Wall, 1e-9)

	sz := r.Sizes
	assert.Equal(t, p.reg.Len(), sz.Persons)
	assert.Equal(t, sz.Units, sz.TreatedUnits+sz.ControlUnits)
	// 1,000 treated requested: the count is binomial around it (4 SD)
	assert.InDelta(t, smallTreated, sz.TreatedUnits, 4*math.Sqrt(smallTreated))
	assert.InDelta(t, smallN, sz.Persons, 4*math.Sqrt(smallN))
	assert.Len(t, sz.Covariates, 40-len(sz.Dropped))
	assert.Equal(t, sz.TreatedUnits, sz.MatchedTreated)
	assert.GreaterOrEqual(t, sz.MatchPairs, sz.MatchedTreated)
	require.Len(t, sz.OutcomeMonths, len(synth.OutcomeNames))
	months := 0
	for i, o := range sz.OutcomeMonths {
		assert.Equal(t, synth.OutcomeNames[i], o.Name)
		assert.LessOrEqual(t, o.H, 21)
		months += o.H + 1
	}
	// employment and SU are observed to April 2014 (21 months after July
	// 2012), education to September 2013 (14)
	assert.Equal(t, []outcomeMonth{{synth.Employed, 21}, {synth.EmployedNoBenefit, 21}, {synth.Education, 14}, {synth.SUOutcome, 21}}, sz.OutcomeMonths)
	assert.Len(t, r.Effects, months)
	for _, e := range r.Effects {
		assert.InDelta(t, e.TreatedMean-e.ControlMean, e.ATT, 1e-12)
	}
}

// The table prints every stage and the budget line.
func TestTable(t *testing.T) {
	_, p, _ := smallRun(t)
	m := &meter{canReset: true, stages: []stageResult{{Stage: stagePanel, Wall: 1, CPU: 1.5, PeakRSS: 100}}}
	var buf bytes.Buffer
	newReport(p, m).writeTable(&buf)
	s := buf.String()
	assert.Contains(t, s, "panel+logit+match+effects")
	assert.Regexp(t, `(?m)^panel\s+1\.00\s+1\.50\s+1\.50\s+100$`, s)
}

// The flat file has one row per unit: id, treatment, the logit's
// covariates and the outcome months, with the panel's values.
func TestFlatFile(t *testing.T) {
	_, p, path := smallRun(t)
	tab, err := flatfile.Read(context.Background(), path, nil)
	require.NoError(t, err)
	want := []string{"id", "treatment"}
	want = append(want, p.xNames...)
	for _, o := range p.sample.Outcomes {
		for m := 0; m <= o.H; m++ {
			want = append(want, o.Name+"_m"+strconv.Itoa(m))
		}
	}
	require.Equal(t, want, tab.Names)
	require.Len(t, want, 2+40+22+22+15+22)
	require.Equal(t, p.panel.Len(), tab.Rows())
	id, tr := tab.Cols[0], tab.Cols[1]
	nt := 0
	for u := 0; u < tab.Rows(); u++ {
		require.Equal(t, float64(p.panel.ID[u]), id[u])
		if tr[u] == 1 {
			nt++
		}
	}
	assert.Equal(t, p.panel.NTreated(), nt)
	for _, u := range []int{0, p.panel.NTreated() - 1, p.panel.NTreated(), tab.Rows() - 1} {
		for j, name := range p.xNames {
			require.Equal(t, p.x.At(u, j), tab.Cols[2+j][u], "unit %d %s", u, name)
		}
		j := 2 + len(p.xNames)
		for oi := range p.sample.Outcomes {
			o := &p.sample.Outcomes[oi]
			row := make([]float64, o.H+1)
			outcomeRow(row, o, u)
			for m, v := range row {
				require.Equal(t, v, tab.Cols[j][u], "unit %d %s_m%d", u, o.Name, m)
				require.True(t, v == 0 || v == 1, "unit %d %s_m%d = %v", u, o.Name, m, v)
				j++
			}
		}
	}

	// Parquet and gzip-compressed CSV hold the same table.
	for _, ext := range []string{".parquet", ".csv.gz"} {
		other := filepath.Join(t.TempDir(), "bench"+ext)
		require.NoError(t, p.writeFlat(context.Background(), other))
		got, err := flatfile.Read(context.Background(), other, nil)
		require.NoError(t, err, ext)
		assert.Equal(t, tab.Names, got.Names, ext)
		assert.Equal(t, tab.Cols, got.Cols, ext)
	}
}

func fileMD5(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	s := md5.Sum(b)
	return hex.EncodeToString(s[:])
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(c *config)
		want string
	}{
		{"n", func(c *config) { c.n = 0 }, "-n 0"},
		{"treated", func(c *config) { c.treated = c.n }, "-treated"},
		{"treated negative", func(c *config) { c.treated = -1 }, "-treated"},
		{"outcomes", func(c *config) { c.outcomes = 5 }, "-outcomes 5"},
		{"horizon", func(c *config) { c.horizon = -1 }, "-horizon"},
		{"replicates", func(c *config) { c.replicates = 1 }, "-replicates 1"},
		{"workers", func(c *config) { c.workers = -2 }, "-workers"},
		{"covariates", func(c *config) { c.covariates = 0 }, "-covariates 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig("")
			tc.edit(&c)
			err := run(context.Background(), &c, io.Discard, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}

// Asking for more covariates than the list holds names -covariates and
// the size of the list (checked after generation, on the register).
func TestTooManyCovariates(t *testing.T) {
	_, p, _ := smallRun(t)
	list, err := benchdata.CovariateList(p.reg)
	require.NoError(t, err)
	assert.Len(t, list, 18+len(benchdata.HistoryBenefits)*len(benchdata.HistoryWindows)+len(benchdata.HistoryBenefits))
	_, _, err = benchdata.Design(p.reg, len(list)+1, synth.OutcomeNames, 1, 1, nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-covariates 109")
	assert.Contains(t, err.Error(), "1..108")
	// every name is unique and the list is the same for the same register
	seen := map[string]bool{}
	for _, c := range list {
		assert.False(t, seen[c.Name], c.Name)
		seen[c.Name] = true
	}
	assert.Equal(t, "age", list[0].Name)
	assert.Equal(t, "weeks_cash_benefit_13", list[18].Name)
	assert.Equal(t, "start=cash_benefit", list[18+75].Name)
}

// benchdata.PopulationOptions: Scale, ControlFraction and WindowFraction give the
// requested persons and treated in expectation, one fraction being 1.
func TestPopulationOptions(t *testing.T) {
	const others = synth.SFIPersons - benchdata.SFITreated
	for _, tc := range []struct{ n, treated int }{
		{330000, 0}, {330000, 649}, {20000, 1000}, {100000, 50}, {3300000, 6487}, {1000000, 100},
	} {
		o, err := benchdata.PopulationOptions(tc.n, tc.treated)
		require.NoError(t, err)
		wf, cf := o.WindowFraction, o.ControlFraction
		if wf == 0 {
			wf = 1
		}
		if cf == 0 {
			cf = 1
		}
		treated := tc.treated
		if treated == 0 {
			treated = benchdata.ProportionalTreated(tc.n)
		}
		assert.True(t, wf == 1 || cf == 1, "%+v", tc)
		assert.LessOrEqual(t, wf, 1.0)
		assert.LessOrEqual(t, cf, 1.0)
		if tc.treated == 0 || tc.treated == benchdata.ProportionalTreated(tc.n) {
			assert.Equal(t, float64(tc.n)/synth.SFIPersons, o.Scale)
			continue
		}
		assert.InDelta(t, float64(treated), benchdata.SFITreated*o.Scale*wf, 1e-6, "%+v", tc)
		assert.InDelta(t, float64(tc.n), benchdata.SFITreated*o.Scale*wf+others*o.Scale*cf, 1e-6, "%+v", tc)
	}
}

// Fewer treated than in proportion: synth's WindowFraction thins the
// window starters; the panel has about the requested number of treated
// (binomial, 4 SD) among about n persons.
func TestFewTreated(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 100,000 persons")
	}
	c := defaultConfig()
	c.n, c.treated, c.covariates, c.replicates = 100000, 50, 10, 0
	p, err := newPipeline(&c, io.Discard)
	require.NoError(t, err)
	assert.Less(t, p.opts.WindowFraction, 0.5)
	require.NoError(t, p.generate(context.Background()))
	require.NoError(t, p.buildPanel(context.Background()))
	assert.InDelta(t, 50, p.panel.NTreated(), 4*math.Sqrt(50))
	assert.InDelta(t, 100000, p.reg.Len(), 4*math.Sqrt(100000))
}

// The meter resets the peak resident set between stages, so a small stage
// after a big one reports a small peak (when the kernel supports it).
func TestMeterPeakReset(t *testing.T) {
	m := &meter{}
	var keep []byte
	require.NoError(t, m.run("big", func() error {
		b := make([]byte, 256<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		keep = b[:1]
		return nil
	}))
	require.NoError(t, m.run("small", func() error { return nil }))
	_ = keep
	big, smallStage := m.stages[0], m.stages[1]
	assert.Greater(t, big.PeakRSS, 256.0)
	if !m.canReset {
		t.Skip("/proc/self/clear_refs cannot reset the peak here")
	}
	assert.False(t, smallStage.PeakIsProcess)
	assert.Less(t, smallStage.PeakRSS, big.PeakRSS-200)
}

// Ctrl-C: a cancelled context stops the run with its error.
func TestCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	c := smallConfig("")
	err := run(ctx, &c, io.Discard, io.Discard)
	require.ErrorIs(t, err, context.Canceled)
}

// The floor: the bytes of each stage by the documented formulas (here
// the logit's: the covariate matrix once per pass, and the panel's),
// a positive bandwidth, and each multiple = wall / (bytes / bandwidth).
func TestFloor(t *testing.T) {
	_, p, _ := smallRun(t)
	stages := []stageResult{{Stage: stagePanel, Wall: 1}, {Stage: stageLogit, Wall: 2}, {Stage: stageGenerate, Wall: 3}}
	f := newFloor(p, stages)
	require.Positive(t, f.BandwidthGBs)
	require.Len(t, f.Stages, 2, "generation has no floor")
	units, cov := float64(p.panel.Len()), float64(len(p.xNames))
	months := 0.0
	for _, o := range p.sample.Outcomes {
		months += float64(o.H + 1)
	}
	assert.Equal(t, units*156+units*cov*8+units*months, f.Stages[0].Bytes)
	assert.Equal(t, float64(p.logit.Iterations+1)*units*cov*8, f.Stages[1].Bytes)
	for i, s := range f.Stages {
		assert.InDelta(t, s.Bytes/(f.BandwidthGBs*1e9), s.Seconds, 1e-12)
		assert.InDelta(t, stages[i].Wall/s.Seconds, s.Multiple, 1e-9)
	}
}
