package panel

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/mat"
)

// shardDesign is synthDesign with two draws per control, a full horizon,
// pre-programme months and descriptors that may be NaN, so that every
// part of a unit is compared.
func shardDesign() *Design {
	d := synthDesign()
	d.DrawsPerControl = 2
	d.FullHorizon = true
	d.PreMonths = 3
	d.Seed = 41
	d.Descriptors = append(d.Descriptors, Numeric("income"), CovFunc("draw", func(u *UnitView) float64 { return float64(u.Draw) }))
	return d
}

// split is a named partition of the persons of a register into shards.
type split struct {
	name    string
	shards  [][]int
	special bool // starters, persons with control units, persons without units
}

// shardSplits returns the partitions TestShardedBuild checks: 1, 2, 3
// and 5 contiguous and interleaved shards, and a split into the starters
// (a shard without potential controls), the persons with a control unit
// (a shard without starters) and the persons without any unit (an empty
// panel).
func shardSplits(r *Register, d *Design, whole *Panel) []split {
	n := r.Len()
	var out []split
	for _, s := range []int{1, 2, 3, 5} {
		c := split{name: fmt.Sprintf("%d contiguous", s)}
		for k := range s {
			var idx []int
			for i := k * n / s; i < (k+1)*n/s; i++ {
				idx = append(idx, i)
			}
			c.shards = append(c.shards, idx)
		}
		out = append(out, c)
		if s == 1 {
			continue
		}
		in := split{name: fmt.Sprintf("%d interleaved", s), shards: make([][]int, s)}
		for i := range n {
			in.shards[(i*7)%s] = append(in.shards[(i*7)%s], i)
		}
		out = append(out, in)
	}
	si := spellIndex{merged: MergeSpells(r.Spells, d.MergeGapDays)}
	starter := map[int]bool{}
	for _, s := range si.starters(d.WindowStart, d.WindowEnd) {
		starter[int(s.person)] = true
	}
	inPanel := map[int]bool{}
	for _, p := range whole.Person {
		inPanel[int(p)] = true
	}
	var starters, controls, none []int
	for i := range n {
		switch {
		case starter[i]:
			starters = append(starters, i)
		case inPanel[i]:
			controls = append(controls, i)
		default:
			none = append(none, i)
		}
	}
	// Reversed: persons of a shard need not be in id order.
	slices.Reverse(controls)
	out = append(out, split{name: "starters, controls, no unit", shards: [][]int{starters, controls, none}, special: true})
	return out
}

// unitKey identifies a unit across panels.
type unitKey struct {
	id      int64
	draw    int32
	treated bool
}

// TestShardedBuild: the persons of a register split into shards
// (contiguous, interleaved, a shard without potential controls, one
// without treated, one without units): the shards' CountStarts merged in
// any order equal the whole register's, and Build of each shard with
// Design.Starts set to the merged counts gives exactly the units of
// Build on the whole register (same keys, start, week, cohort, and bit
// for bit the same covariates, descriptors and outcomes), with Counts
// that add up field by field.
func TestShardedBuild(t *testing.T) {
	n, every := 6000, 20
	if testing.Short() {
		n = 2500
	}
	ctx := context.Background()
	r := synthRegister(n, every, 9)
	d := shardDesign()
	whole, err := Build(ctx, r, d)
	require.NoError(t, err)
	require.Greater(t, whole.Counts.Treated, 30)
	all, err := CountStarts(ctx, r, d)
	require.NoError(t, err)
	require.Equal(t, whole.Counts.Treated, all.Len())
	treatedDays := slices.Clone(whole.StartDay[:whole.Counts.Treated])
	slices.Sort(treatedDays)
	days, counts := all.Histogram()
	var expanded []Day
	for k, day := range days {
		for range counts[k] {
			expanded = append(expanded, day)
		}
	}
	require.Equal(t, treatedDays, expanded)
	allBytes, err := all.MarshalBinary()
	require.NoError(t, err)

	wholeAt := map[unitKey]int{}
	for u := range whole.Len() {
		wholeAt[unitKey{whole.ID[u], whole.Draw[u], whole.Treated[u]}] = u
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for _, sp := range shardSplits(r, d, whole) {
		t.Run(sp.name, func(t *testing.T) {
			regs := make([]*Register, len(sp.shards))
			parts := make([]*StartCounts, len(sp.shards))
			for k, idx := range sp.shards {
				regs[k] = subRegister(r, idx)
				parts[k], err = CountStarts(ctx, regs[k], d)
				require.NoError(t, err)
			}
			// Merged in several orders, and as a tree: the same bytes.
			orders := [][]int{rng.Perm(len(parts)), rng.Perm(len(parts))}
			fwd := make([]int, len(parts))
			for k := range fwd {
				fwd[k] = k
			}
			bwd := slices.Clone(fwd)
			slices.Reverse(bwd)
			orders = append(orders, fwd, bwd)
			var merged *StartCounts
			for _, order := range orders {
				var m StartCounts
				for _, k := range order {
					require.NoError(t, m.Merge(parts[k]))
				}
				b, err := m.MarshalBinary()
				require.NoError(t, err)
				require.Equal(t, allBytes, b, "order %v", order)
				merged = &m
			}
			if len(parts) >= 3 {
				var left, right StartCounts
				require.NoError(t, left.Merge(parts[2]))
				require.NoError(t, left.Merge(parts[0]))
				require.NoError(t, right.Merge(parts[1]))
				for _, p := range parts[3:] {
					require.NoError(t, right.Merge(p))
				}
				require.NoError(t, right.Merge(&left))
				b, err := right.MarshalBinary()
				require.NoError(t, err)
				require.Equal(t, allBytes, b, "tree")
			}

			ds := *d
			ds.Starts = merged
			var sum Counts
			sum.Dropped = make([]RuleCount, len(whole.Counts.Dropped))
			for k := range sum.Dropped {
				sum.Dropped[k].Rule = whole.Counts.Dropped[k].Rule
			}
			seen := map[unitKey]bool{}
			for k, q := range regs {
				p, err := Build(ctx, q, &ds)
				require.NoError(t, err, "shard %d", k)
				if sp.special {
					// The shard without potential controls, the one
					// without starters, the one without units.
					switch k {
					case 0:
						require.Zero(t, p.Counts.PotentialControls)
						require.Positive(t, p.Counts.Treated)
					case 1:
						require.Zero(t, p.Counts.Starters)
						require.Zero(t, parts[k].Len())
						require.Positive(t, p.Counts.Controls)
					case 2:
						require.Zero(t, p.Len())
						require.Positive(t, p.Counts.Persons)
					}
				}
				addCounts(&sum, &p.Counts)
				requireUnitsOfWhole(t, whole, wholeAt, q, p, seen)
			}
			require.Equal(t, whole.Len(), len(seen), "units of all shards")
			require.Equal(t, whole.Counts, sum, "the shards' Counts add up to the whole's")
		})
	}
}

// addCounts adds every field of c to sum (Dropped element by element):
// all fields of Counts are additive over person shards.
func addCounts(sum, c *Counts) {
	sum.Persons += c.Persons
	sum.Spells += c.Spells
	sum.MergedSpells += c.MergedSpells
	sum.Starters += c.Starters
	sum.PotentialControls += c.PotentialControls
	sum.Draws += c.Draws
	sum.Treated += c.Treated
	sum.Controls += c.Controls
	sum.ControlPersons += c.ControlPersons
	for k := range c.Dropped {
		sum.Dropped[k].Treated += c.Dropped[k].Treated
		sum.Dropped[k].Controls += c.Dropped[k].Controls
	}
}

// requireUnitsOfWhole checks that every unit of the shard panel p (built
// from register q) is the unit of the whole panel with its key, bit for
// bit, and records its key in seen (a key seen twice fails).
func requireUnitsOfWhole(t *testing.T, whole *Panel, wholeAt map[unitKey]int, q *Register, p *Panel, seen map[unitKey]bool) {
	t.Helper()
	require.Equal(t, whole.CovNames, p.CovNames)
	require.Equal(t, whole.DescNames, p.DescNames)
	require.Equal(t, len(whole.Outcomes), len(p.Outcomes))
	if p.Len() == 0 {
		require.Nil(t, p.X)
		require.Nil(t, p.Desc)
		return
	}
	nx, nd := len(p.CovNames), len(p.DescNames)
	wx, px := mat.DenseCopyOf(whole.X).RawMatrix().Data, mat.DenseCopyOf(p.X).RawMatrix().Data
	wd, pd := whole.Desc.RawMatrix().Data, p.Desc.RawMatrix().Data
	for u := range p.Len() {
		key := unitKey{p.ID[u], p.Draw[u], p.Treated[u]}
		require.False(t, seen[key], "unit %v twice", key)
		seen[key] = true
		w, ok := wholeAt[key]
		require.True(t, ok, "unit %v is not in the whole panel", key)
		require.Equal(t, p.ID[u], q.IDs[p.Person[u]])
		require.Equal(t, whole.StartDay[w], p.StartDay[u], "unit %v", key)
		require.Equal(t, whole.StartWeek[w], p.StartWeek[u], "unit %v", key)
		require.Equal(t, whole.Cohort[w], p.Cohort[u], "unit %v", key)
		requireSameBits(t, wx[w*nx:(w+1)*nx], px[u*nx:(u+1)*nx], "X")
		requireSameBits(t, wd[w*nd:(w+1)*nd], pd[u*nd:(u+1)*nd], "Desc")
		for o := range p.Outcomes {
			require.Equal(t, whole.Outcomes[o].Row(w), p.Outcomes[o].Row(u), "outcome %s of unit %v", p.Outcomes[o].Name, key)
		}
	}
}

func requireSameBits(t *testing.T, x, y []float64, what string) {
	t.Helper()
	for k := range x {
		if math.Float64bits(x[k]) != math.Float64bits(y[k]) {
			require.Failf(t, "rows differ", "%s column %d: %v vs %v", what, k, x[k], y[k])
		}
	}
}

// TestBuildStartsUsed: a shard built with Design.Starts differs from the
// same shard built from its own treated (whose distribution differs from
// the merged one), and the whole register built with its own counts as
// Starts is the panel of Build without them.
func TestBuildStartsUsed(t *testing.T) {
	ctx := context.Background()
	r := synthRegister(3000, 20, 5)
	d := shardDesign()
	whole, err := Build(ctx, r, d)
	require.NoError(t, err)
	all, err := CountStarts(ctx, r, d)
	require.NoError(t, err)
	ds := *d
	ds.Starts = all
	same, err := Build(ctx, r, &ds)
	require.NoError(t, err)
	requireSamePanel(t, whole, same, true)

	idx := make([]int, 0, 1000)
	for i := range 1000 {
		idx = append(idx, i)
	}
	q := subRegister(r, idx)
	own, err := Build(ctx, q, d)
	require.NoError(t, err)
	shard, err := Build(ctx, q, &ds)
	require.NoError(t, err)
	require.Equal(t, own.Counts.Treated, shard.Counts.Treated)
	require.Equal(t, own.StartDay[:own.Counts.Treated], shard.StartDay[:shard.Counts.Treated], "the treated are the shard's own")
	differ := 0
	for u := range min(own.Len(), shard.Len()) {
		if u >= own.Counts.Treated && own.StartDay[u] != shard.StartDay[u] {
			differ++
		}
	}
	require.Greater(t, differ, 100, "controls draw from Starts, not from the shard's own treated")
}

// TestStartsErrors: Design.Starts that is empty, of another calendar,
// outside the window or without the register's own treated is a design
// error naming "Starts"; Merge refuses another calendar and leaves the
// counts unchanged.
func TestStartsErrors(t *testing.T) {
	ctx := context.Background()
	r := synthRegister(1500, 20, 5)
	d := shardDesign()
	all, err := CountStarts(ctx, r, d)
	require.NoError(t, err)
	require.Positive(t, all.Len())

	// Persons without a starter: CountStarts is empty, not an error;
	// Build without Starts is ErrEmptyWindow, with them a panel.
	si := spellIndex{merged: MergeSpells(r.Spells, 0)}
	st := map[int32]bool{}
	for _, s := range si.starters(d.WindowStart, d.WindowEnd) {
		st[s.person] = true
	}
	var noStart []int
	for i := range r.Len() {
		if !st[int32(i)] {
			noStart = append(noStart, i)
		}
	}
	q := subRegister(r, noStart)
	empty, err := CountStarts(ctx, q, d)
	require.NoError(t, err)
	require.Zero(t, empty.Len())
	fw, weeks := empty.Calendar()
	require.Equal(t, r.Status.FirstWeek, fw)
	require.Equal(t, r.Status.Weeks, weeks)
	_, err = Build(ctx, q, d)
	require.ErrorIs(t, err, ErrEmptyWindow)

	// Another calendar: the same register with a grid one week longer
	// at the start.
	shifted := subRegister(r, seq(0, 200))
	g := shifted.Status
	shifted.Status = NewStatusGrid(200, g.FirstWeek-7, g.Weeks+1, g.Levels)
	for i := range 200 {
		copy(shifted.Status.Row(i)[1:], g.Row(i))
	}
	other, err := CountStarts(ctx, shifted, d)
	require.NoError(t, err)
	require.Positive(t, other.Len())

	// Starts of a wider window.
	wide := *d
	wide.WindowEnd += 60
	wideCounts, err := CountStarts(ctx, r, &wide)
	require.NoError(t, err)
	require.Greater(t, wideCounts.Len(), all.Len())

	// Starts without this shard's treated.
	firstHalf, secondHalf := subRegister(r, seq(0, 750)), subRegister(r, seq(750, 1500))
	firstCounts, err := CountStarts(ctx, firstHalf, d)
	require.NoError(t, err)

	for _, tc := range []struct {
		name   string
		r      *Register
		starts *StartCounts
		want   string
		is     error
	}{
		{"zero Starts", r, &StartCounts{}, "no treated start day", ErrEmptyWindow},
		{"empty Starts", q, empty, "no treated start day", ErrEmptyWindow},
		{"Starts of another calendar", r, other, "share the calendar", nil},
		{"Starts outside the window", r, wideCounts, "outside the window", nil},
		{"Starts without the shard's treated", secondHalf, firstCounts, "Starts must be the merged CountStarts", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ds := *d
			ds.Starts = tc.starts
			_, err := Build(ctx, tc.r, &ds)
			require.ErrorIs(t, err, ErrDesign)
			var pe *Error
			require.ErrorAs(t, err, &pe)
			require.Equal(t, "Starts", pe.Option)
			require.ErrorContains(t, err, tc.want)
			if tc.is != nil {
				require.ErrorIs(t, err, tc.is)
			}
		})
	}

	t.Run("Merge of another calendar", func(t *testing.T) {
		m := &StartCounts{}
		require.NoError(t, m.Merge(all))
		before, _ := m.MarshalBinary()
		err := m.Merge(other)
		require.ErrorIs(t, err, ErrInvalid)
		require.ErrorContains(t, err, "share the calendar")
		after, _ := m.MarshalBinary()
		require.Equal(t, before, after)
		require.NoError(t, m.Merge(nil))
		require.NoError(t, m.Merge(&StartCounts{}))
		after, _ = m.MarshalBinary()
		require.Equal(t, before, after)
	})
	t.Run("CountStarts ignores Starts", func(t *testing.T) {
		ds := *d
		ds.Starts = &StartCounts{}
		c, err := CountStarts(ctx, r, &ds)
		require.NoError(t, err)
		require.Equal(t, all.Len(), c.Len())
	})
	t.Run("CountStarts refuses a bad design", func(t *testing.T) {
		bad := *d
		bad.Covariates = append(slices.Clone(d.Covariates), Numeric("nope"))
		_, err := CountStarts(ctx, r, &bad)
		require.ErrorIs(t, err, ErrDesign)
		_, err = CountStarts(ctx, nil, d)
		require.ErrorIs(t, err, ErrDesign)
		_, err = CountStarts(ctx, r, nil)
		require.ErrorIs(t, err, ErrDesign)
	})
}

func seq(lo, hi int) []int {
	s := make([]int, 0, hi-lo)
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

// TestStartCountsMerge: Merge adds counts, into a zero value, with
// itself, in any order.
func TestStartCountsMerge(t *testing.T) {
	mk := func(days []Day, counts []int64) *StartCounts {
		s := &StartCounts{firstWeek: 100, weeks: 10, days: days, counts: counts}
		for _, c := range counts {
			s.n += c
		}
		return s
	}
	a := mk([]Day{101, 105, 130}, []int64{1, 2, 3})
	b := mk([]Day{100, 105, 140}, []int64{4, 5, 6})
	var ab, ba StartCounts
	require.NoError(t, ab.Merge(a))
	require.NoError(t, ab.Merge(b))
	require.NoError(t, ba.Merge(b))
	require.NoError(t, ba.Merge(a))
	require.Equal(t, ab, ba)
	days, counts := ab.Histogram()
	require.Equal(t, []Day{100, 101, 105, 130, 140}, days)
	require.Equal(t, []int{4, 1, 7, 3, 6}, counts)
	require.Equal(t, 21, ab.Len())
	require.NoError(t, ab.Merge(&ab))
	require.Equal(t, 42, ab.Len())
	_, counts = ab.Histogram()
	require.Equal(t, []int{8, 2, 14, 6, 12}, counts)
	big := mk([]Day{101}, []int64{maxStarts})
	err := ab.Merge(big)
	require.ErrorContains(t, err, "more than")
	require.Equal(t, 42, ab.Len())
}

// TestStartCountsEncoding: encodings round-trip; truncated, extended or
// corrupted ones (header, version, reserved field, unsorted or repeated
// days, a zero count, a day outside the grid, a missing calendar, too
// many treated) are refused with an error naming the problem.
func TestStartCountsEncoding(t *testing.T) {
	r := synthRegister(1500, 20, 5)
	all, err := CountStarts(context.Background(), r, shardDesign())
	require.NoError(t, err)
	require.Greater(t, len(all.days), 3)
	for _, s := range []*StartCounts{all, {}, {firstWeek: -5, weeks: 3}} {
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		require.Len(t, b, 20+8*len(s.days))
		var back StartCounts
		require.NoError(t, back.UnmarshalBinary(b))
		require.Equal(t, s.Len(), back.Len())
		b2, err := back.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, b2)
	}
	good, err := all.MarshalBinary()
	require.NoError(t, err)
	for cut := range len(good) {
		var s StartCounts
		require.ErrorIs(t, s.UnmarshalBinary(good[:cut]), ErrInvalid, "truncated to %d bytes", cut)
	}
	edit := func(f func(b []byte) []byte) []byte { return f(slices.Clone(good)) }
	put32 := func(b []byte, off int, v uint32) []byte { binary.LittleEndian.PutUint32(b[off:], v); return b }
	day := func(k int) int { return 20 + 8*k }
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"trailing byte", append(slices.Clone(good), 0), "start days in"},
		{"header", edit(func(b []byte) []byte { b[2] = 'M'; return b }), "header"},
		{"version", edit(func(b []byte) []byte { b[4] = 2; return b }), "version 2"},
		{"reserved", edit(func(b []byte) []byte { b[6] = 1; return b }), "reserved"},
		{"unsorted days", edit(func(b []byte) []byte {
			d0, d1 := binary.LittleEndian.Uint64(b[day(0):]), binary.LittleEndian.Uint64(b[day(1):])
			binary.LittleEndian.PutUint64(b[day(0):], d1)
			binary.LittleEndian.PutUint64(b[day(1):], d0)
			return b
		}), "strictly ascending"},
		{"repeated day", edit(func(b []byte) []byte { return put32(b, day(1), binary.LittleEndian.Uint32(b[day(0):])) }), "strictly ascending"},
		{"zero count", edit(func(b []byte) []byte { return put32(b, day(2)+4, 0) }), "count 0"},
		{"day outside the grid", edit(func(b []byte) []byte { return put32(b, 12, uint32(all.days[len(all.days)-1]-all.firstWeek)/7) }), "outside the status grid"},
		{"no calendar with days", edit(func(b []byte) []byte { return put32(b, 12, 0) }), "no calendar"},
		{"too many treated", edit(func(b []byte) []byte {
			put32(b, day(0)+4, math.MaxInt32)
			return put32(b, day(1)+4, 1)
		}), "more than"},
		{"day count beyond the data", edit(func(b []byte) []byte { return put32(b, 16, math.MaxUint32) }), "start days in"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := *all
			err := s.UnmarshalBinary(tc.b)
			require.ErrorIs(t, err, ErrInvalid)
			var pe *Error
			require.True(t, errors.As(err, &pe))
			require.Equal(t, "StartCounts encoding", pe.Table)
			require.ErrorContains(t, err, tc.want)
			require.Equal(t, all.Len(), s.Len(), "unchanged")
		})
	}
}

// FuzzStartCounts: what decodes encodes to the same bytes and merges.
func FuzzStartCounts(f *testing.F) {
	r := synthRegister(800, 20, 5)
	all, err := CountStarts(context.Background(), r, shardDesign())
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []*StartCounts{all, {}} {
		b, _ := s.MarshalBinary()
		f.Add(b)
	}
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		var s StartCounts
		if err := s.UnmarshalBinary(b); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("error %v is not ErrInvalid", err)
			}
			return
		}
		b2, err := s.MarshalBinary()
		if err != nil || string(b2) != string(b) {
			t.Fatalf("re-encoding differs (%v)", err)
		}
		var m StartCounts
		if err := m.Merge(&s); err != nil {
			t.Fatal(err)
		}
		if m.Len() != s.Len() {
			t.Fatalf("merged into zero: %d, want %d", m.Len(), s.Len())
		}
	})
}
