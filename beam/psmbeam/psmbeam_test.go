package psmbeam_test

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"

	"github.com/psmeval/psmeval/beam/internal/synthdesign"
	"github.com/psmeval/psmeval/beam/psmbeam"
	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/panel/synth"
	"github.com/psmeval/psmeval/psm"
)

func TestMain(m *testing.M) {
	flag.Parse()
	beam.Init()
	os.Exit(m.Run())
}

// population is the synthetic register of the tests: about 7,000
// persons, about 300 of them starting in the window (synth Scale 0.05
// with the other persons thinned to 4 percent), generated once. Person
// noUnits, the first after person 10 without spells, gets a spell in
// January 2012, so that the design's rule NoSpellActive leaves it
// without a unit.
var population = sync.OnceValues(func() (*panel.Register, error) {
	pop, err := synth.Generate(context.Background(), &synth.Options{Scale: 0.05, WindowFraction: 1, ControlFraction: 0.04, Seed: 7})
	if err != nil {
		return nil, err
	}
	r := &pop.Register
	spells := make([]bool, r.Len())
	for _, sp := range r.Spells {
		spells[sp.Person] = true
	}
	for noUnits = 10; spells[noUnits]; noUnits++ {
	}
	r.Spells = append(r.Spells, panel.Spell{Person: int32(noUnits),
		Start: panel.DayFromDate(2012, time.January, 10), End: panel.DayFromDate(2012, time.January, 20), Hours: float32(math.NaN())})
	return r, nil
})

var noUnits int

// writeShards splits r into n person shards of about equal size (in the
// order of r's persons, whose ids increase) and writes each as a Parquet
// register directory under dir.
func writeShards(t *testing.T, r *panel.Register, n int, dir string) []string {
	t.Helper()
	cuts := make([]int, n+1)
	for k := range cuts {
		cuts[k] = r.Len() * k / n
	}
	return writeCuts(t, r, cuts, dir)
}

// writeCuts writes the persons cuts[k]..cuts[k+1]−1 of r as shard k.
func writeCuts(t *testing.T, r *panel.Register, cuts []int, dir string) []string {
	t.Helper()
	n := len(cuts) - 1
	dirs := make([]string, n)
	for k := range n {
		s, err := synthdesign.Split(r, cuts[k], cuts[k+1])
		if err != nil {
			t.Fatal(err)
		}
		dirs[k] = filepath.Join(dir, fmt.Sprintf("shard-%d", k))
		if err := registerio.WriteDir(dirs[k], s, &registerio.WriteOptions{NoSync: true}); err != nil {
			t.Fatal(err)
		}
	}
	return dirs
}

// single is the library's single-process run on the whole register:
// panel.Build, psm.FitLogit, psm.MatchUnits and estimate.Effects with
// the options of o.
func single(t *testing.T, r *panel.Register, o *psmbeam.Options) (*panel.Panel, *psm.LogitFit, *psm.UnitMatching, *estimate.Result) {
	t.Helper()
	ctx := context.Background()
	d, err := synthdesign.Design(r)
	if err != nil {
		t.Fatal(err)
	}
	pan, err := panel.Build(ctx, r, d)
	if err != nil {
		t.Fatal(err)
	}
	fit, err := psm.FitLogit(ctx, pan.X, pan.TreatedIndicator(), nil, pan.CovNames, &o.Logit)
	if err != nil {
		t.Fatal(err)
	}
	uo := &psm.UnitOptions{Match: o.Match}
	if o.Strata != "" {
		if uo.Strata, err = psmbeam.CohortStrata(pan); err != nil {
			t.Fatal(err)
		}
	}
	um, err := psm.MatchUnits(fit.Scores(nil), pan.Treated, uo)
	if err != nil {
		t.Fatal(err)
	}
	s, err := estimate.FromPanel(pan)
	if err != nil {
		t.Fatal(err)
	}
	for i := range s.Outcomes {
		if o.Months > 0 {
			s.Outcomes[i].H = min(s.Outcomes[i].H, o.Months-1)
		}
	}
	eff, err := estimate.Effects(s, um, &o.Effects)
	if err != nil {
		t.Fatal(err)
	}
	return pan, fit, um, eff
}

// tol is the tolerance of the comparisons with the single-process run,
// absolute. The shards' logit partials cut the logit's 4,096-row blocks
// at every shard's treated and control ranges, so the coordinator adds
// the same terms in another grouping: the coefficients agree to
// rounding (about 1e-14 here), not bit for bit. Effects are means of
// 0/1 outcomes over the same match sets, summed per shard and then
// added: rounding again (about 1e-16). 1e-12 leaves room for both and is
// far below any difference a wrong unit, set or sum would make (1/T ≈
// 3e-3 for one treated unit's outcome).
const tol = 1e-12

// The pipeline on 1, 3 and 6 Parquet person shards (three of them tiny:
// no treated, or no units), on the prism runner,
// gives the single-process run on the whole register: the same units
// (numbered as panel.Build numbers them), coefficients and standard
// errors to tol, the same match sets exactly (unit weights: the sets
// are the same whenever the scores are), and every monthly and
// accumulated effect, mean and count to tol. "k2-cohort-caliper"
// matches 2 neighbours within cohort strata and a caliper, which adds
// the moments round.
func TestRunMatchesSingleProcess(t *testing.T) {
	r, err := population()
	if err != nil {
		t.Fatal(err)
	}
	n := r.Len()
	cases := []struct {
		name string
		cuts []int // shard k holds the persons cuts[k]..cuts[k+1]-1
		o    psmbeam.Options
	}{
		{"1-shard", []int{0, n}, psmbeam.Options{}},
		{"3-shards", []int{0, n / 3, 2 * n / 3, n}, psmbeam.Options{Months: 13}},
		{"3-shards-k2-cohort-caliper", []int{0, n / 3, 2 * n / 3, n}, psmbeam.Options{Strata: "cohort", Match: psm.MatchOptions{K: 2, Caliper: 0.25}}},
		// shards of 1 and 2 persons without treated, and one of a person
		// without units
		{"6-shards-tiny", []int{0, 1, 3, noUnits, noUnits + 1, n / 2, n}, psmbeam.Options{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			dirs := writeCuts(t, r, c.cuts, filepath.Join(dir, "data"))
			o := c.o
			o.Design, o.WorkDir = synthdesign.Name, filepath.Join(dir, "work")
			res, err := psmbeam.Run(context.Background(), dirs, &o)
			if err != nil {
				t.Fatal(err)
			}
			pan, fit, um, eff := single(t, r, &o)
			checkRun(t, res, pan, fit, um, eff)
		})
	}
}

// checkRun compares a run with the single-process results.
func checkRun(t *testing.T, res *psmbeam.Result, pan *panel.Panel, fit *psm.LogitFit, um *psm.UnitMatching, eff *estimate.Result) {
	t.Helper()
	for k, s := range res.Shards {
		t.Logf("shard %d: %d treated, %d controls", k, s.Treated, s.Controls)
	}
	if res.Units != pan.Len() || res.Treated != pan.NTreated() || !res.Canonical {
		t.Fatalf("units %d, treated %d, canonical %v; want %d, %d, true", res.Units, res.Treated, res.Canonical, pan.Len(), pan.NTreated())
	}
	var counts panel.Counts
	for _, s := range res.Shards {
		counts.Persons += s.Counts.Persons
		counts.Starters += s.Counts.Starters
		counts.Treated += s.Counts.Treated
		counts.Controls += s.Counts.Controls
	}
	if counts.Persons != pan.Counts.Persons || counts.Starters != pan.Counts.Starters ||
		counts.Treated != pan.Counts.Treated || counts.Controls != pan.Counts.Controls {
		t.Errorf("shard counts add up to %+v, want %+v", counts, pan.Counts)
	}

	worst, worstWhat := 0.0, ""
	defer func() {
		t.Logf("%d units, %d treated, %d shards, %d pipelines, %d matched (%d unmatched), %d distinct controls; largest difference %.3g in %s",
			res.Units, res.Treated, len(res.Shards), len(res.Rounds), res.Matching.NMatched, res.Treated-res.Matching.NMatched, res.Matching.NDistinctControls, worst, worstWhat)
	}()
	near := func(what string, got, want float64) {
		t.Helper()
		if d := math.Abs(got - want); d > worst {
			worst, worstWhat = d, fmt.Sprintf("%s (%v)", what, want)
		}
		if math.IsNaN(got) != math.IsNaN(want) || math.Abs(got-want) > tol {
			t.Errorf("%s = %v, want %v (difference %g)", what, got, want, got-want)
		}
	}
	l := res.Logit
	if l.Iterations != fit.Iterations || l.Converged != fit.Converged || l.N != fit.N || l.Rank != fit.Rank {
		t.Errorf("logit: %d iterations, converged %v, N %d, rank %d; want %d, %v, %d, %d",
			l.Iterations, l.Converged, l.N, l.Rank, fit.Iterations, fit.Converged, fit.N, fit.Rank)
	}
	if len(l.Coef) != len(fit.Coef) {
		t.Fatalf("%d coefficients, want %d", len(l.Coef), len(fit.Coef))
	}
	for j := range l.Coef {
		near("Coef["+l.Names[j]+"]", l.Coef[j], fit.Coef[j])
		near("SE["+l.Names[j]+"]", l.SE[j], fit.SE[j])
	}
	// the deviance is a sum over all units (about 1,300 here): to
	// rounding relative to its size
	if d := math.Abs(l.Deviance - fit.Deviance); d > 1e-13*math.Abs(fit.Deviance) {
		t.Errorf("Deviance = %v, want %v", l.Deviance, fit.Deviance)
	}

	m, w := res.Matching, um
	same := func(what string, ok bool) {
		t.Helper()
		if !ok {
			t.Errorf("matching: %s differs", what)
		}
	}
	same("TreatedUnits", equal(m.TreatedUnits, w.TreatedUnits))
	same("ControlUnits", equal(m.ControlUnits, w.ControlUnits))
	same("Start", equal(m.Start, w.Start))
	same("Control", equal(m.Control, w.Control))
	same("Weight", equal(m.Weight, w.Weight))
	same("Status", equal(m.Status, w.Status))
	same("ControlWeight", equal(m.ControlWeight, w.ControlWeight))
	if m.NMatched != w.NMatched || m.NDistinctControls != w.NDistinctControls {
		t.Errorf("matching: %d matched, %d controls; want %d, %d", m.NMatched, m.NDistinctControls, w.NMatched, w.NDistinctControls)
	}

	if len(res.Effects.Series) != len(eff.Series) {
		t.Fatalf("%d series, want %d", len(res.Effects.Series), len(eff.Series))
	}
	for i, s := range res.Effects.Series {
		ws := eff.Series[i]
		if s.Outcome != ws.Outcome || s.NTreated != ws.NTreated || s.NUnmatched != ws.NUnmatched || s.NControls != ws.NControls ||
			s.Pre != ws.Pre || len(s.Effects) != len(ws.Effects) {
			t.Fatalf("series %d: %s %d/%d/%d, %d months; want %s %d/%d/%d, %d months", i,
				s.Outcome, s.NTreated, s.NUnmatched, s.NControls, len(s.Effects), ws.Outcome, ws.NTreated, ws.NUnmatched, ws.NControls, len(ws.Effects))
		}
		near(s.Outcome+" WeightedControls", s.WeightedControls, ws.WeightedControls)
		for j, e := range s.Effects {
			we := ws.Effects[j]
			what := fmt.Sprintf("%s month %d ", s.Outcome, e.Month)
			if e.Month != we.Month {
				t.Errorf("%s: want month %d", what, we.Month)
			}
			near(what+"TreatedMean", e.TreatedMean, we.TreatedMean)
			near(what+"ControlMean", e.ControlMean, we.ControlMean)
			near(what+"ATT", e.ATT, we.ATT)
			near(what+"Accumulated", e.Accumulated, we.Accumulated)
		}
	}
}

// With the shards in another order than their person ids the units are
// numbered in another order (Canonical false), but the fit and every
// effect are the same to tol: a numbering changes only the order in
// which sums are added.
func TestRunShardsOutOfOrder(t *testing.T) {
	r, err := population()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dirs := writeShards(t, r, 3, filepath.Join(dir, "data"))
	dirs[0], dirs[2] = dirs[2], dirs[0]
	o := psmbeam.Options{Design: synthdesign.Name, WorkDir: filepath.Join(dir, "work")}
	res, err := psmbeam.Run(context.Background(), dirs, &o)
	if err != nil {
		t.Fatal(err)
	}
	_, fit, um, eff := single(t, r, &o)
	if res.Canonical {
		t.Error("Canonical with the shards out of order")
	}
	for j := range fit.Coef {
		if d := math.Abs(res.Logit.Coef[j] - fit.Coef[j]); d > tol {
			t.Errorf("Coef[%s] = %v, want %v", fit.Names[j], res.Logit.Coef[j], fit.Coef[j])
		}
	}
	if res.Matching.NMatched != um.NMatched || res.Matching.NDistinctControls != um.NDistinctControls {
		t.Errorf("%d matched, %d controls; want %d, %d", res.Matching.NMatched, res.Matching.NDistinctControls, um.NMatched, um.NDistinctControls)
	}
	for i, s := range res.Effects.Series {
		for j, e := range s.Effects {
			we := eff.Series[i].Effects[j]
			if math.Abs(e.ATT-we.ATT) > tol || math.Abs(e.Accumulated-we.Accumulated) > tol {
				t.Errorf("%s month %d: ATT %v, accumulated %v; want %v, %v", s.Outcome, e.Month, e.ATT, e.Accumulated, we.ATT, we.Accumulated)
			}
		}
	}
}

// Bad options and a missing shard are errors that name the option or the
// shard's directory.
func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	used := filepath.Join(dir, "used")
	if err := os.MkdirAll(used, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(used, "round-0000.in"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "no-such-shard")
	work := func(name string) string { return filepath.Join(dir, name) }
	cases := []struct {
		name string
		dirs []string
		o    psmbeam.Options
		want string
	}{
		{"no dirs", nil, psmbeam.Options{Design: synthdesign.Name, WorkDir: work("a")}, "no shard directories"},
		{"no design", []string{missing}, psmbeam.Options{WorkDir: work("b")}, "Options.Design"},
		{"unknown design", []string{missing}, psmbeam.Options{Design: "nope", WorkDir: work("c")}, `Options.Design "nope"`},
		{"no work dir", []string{missing}, psmbeam.Options{Design: synthdesign.Name}, "Options.WorkDir"},
		{"used work dir", []string{missing}, psmbeam.Options{Design: synthdesign.Name, WorkDir: used}, "previous run"},
		{"unknown strata", []string{missing}, psmbeam.Options{Design: synthdesign.Name, WorkDir: work("d"), Strata: "nope"}, `Options.Strata "nope"`},
		{"months", []string{missing}, psmbeam.Options{Design: synthdesign.Name, WorkDir: work("e"), Months: -1}, "Options.Months"},
		{"drop separated", []string{missing}, psmbeam.Options{Design: synthdesign.Name, WorkDir: work("g"), Logit: psm.LogitOptions{DropSeparated: true}}, "DropSeparated"},
		{"no replacement", []string{missing}, psmbeam.Options{Design: synthdesign.Name, WorkDir: work("h"), Match: psm.MatchOptions{NoReplacement: true}}, "NoReplacement"},
		{"missing shard", []string{missing}, psmbeam.Options{Design: synthdesign.Name, WorkDir: work("f")}, missing},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := psmbeam.Run(context.Background(), c.dirs, &c.o)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %v, want one naming %q", err, c.want)
			}
		})
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
