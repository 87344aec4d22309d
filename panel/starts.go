package panel

import (
	"context"
	"math"
	"slices"
)

// StartCounts is the distribution of the start days of the eligible
// treated persons of one or more registers: pass 0 of a sharded run
// (docs/scale-out.md). Each shard of persons counts its own treated with
// CountStarts; Merge adds the counts of all shards; every shard then
// builds its panel with Design.Starts set to the merged counts, so that
// its potential controls draw their simulated starts from the treated of
// the whole population, exactly as Build on the whole register does.
//
// A StartCounts also records the calendar of the registers it counted:
// the first day of week 0 and the number of weeks of their status grids
// (StatusGrid.FirstWeek and Weeks). A start day's status-grid week, and
// with it every rule and covariate that reads the grid at the start, is
// counted from the first week, so the shards of one run must share the
// calendar: Merge refuses counts of another calendar and Build refuses
// Starts of another calendar than its register's.
//
// The zero value is empty and has no calendar yet; merging counts into it
// adopts theirs. Memory and encoding: 12 bytes per distinct day (at most
// one per day of the treatment window: 2.2 KB for six months).
type StartCounts struct {
	firstWeek Day
	weeks     int     // 0: the zero value, no calendar
	days      []Day   // distinct start days, ascending
	counts    []int64 // treated starting on days[k], > 0
	n         int64   // Σ counts
}

// maxStarts bounds the number of treated of a StartCounts: Build indexes
// the treated start days with int32.
const maxStarts = math.MaxInt32

// CountStarts is pass 0 of a sharded run: it returns the start days of
// the eligible treated persons of r under d, counted by day. It runs the
// first steps of Build, on the same code: it checks the register and the
// design (every option, covariate and outcome, so a design Build would
// refuse is refused here too), merges the spells, finds the starters in
// the window and applies the eligibility rules at their start week. The
// treated it counts are exactly the treated units of Build(ctx, r, d).
// d.Starts is not used (and not checked). A register without a starter,
// or without an eligible one, gives an empty StartCounts (Len 0, with
// r's calendar), not an error.
//
// Errors: as Build's before its simulated starts (a data or design
// *Error, ctx.Err() on cancellation). Cost: the spell merge
// (O(S log S) for S spells) and the rules for every starter; memory
// O(S + starters).
func CountStarts(ctx context.Context, r *Register, d *Design) (*StartCounts, error) {
	if d != nil && d.Starts != nil {
		dd := *d
		dd.Starts = nil
		d = &dd
	}
	bs, err := newBuildState(r, d)
	if err != nil {
		return nil, err
	}
	if err := bs.findTreated(ctx); err != nil {
		return nil, err
	}
	return bs.ownStarts(), nil
}

// ownStarts counts the start days of the eligible treated found by
// findTreated.
func (bs *buildState) ownStarts() *StartCounts {
	g := &bs.r.Status
	s := &StartCounts{firstWeek: g.FirstWeek, weeks: g.Weeks}
	days := make([]Day, len(bs.tStart))
	for k, t := range bs.tStart {
		days[k] = t.day
	}
	slices.Sort(days)
	for k, day := range days {
		if k == 0 || days[k-1] != day {
			s.days = append(s.days, day)
			s.counts = append(s.counts, 0)
		}
		s.counts[len(s.counts)-1]++
	}
	s.n = int64(len(days))
	return s
}

// Len returns the number of treated counted (the sum of the counts).
func (s *StartCounts) Len() int { return int(s.n) }

// Histogram returns copies of the distinct start days, ascending, and
// the number of treated starting on each (all > 0).
func (s *StartCounts) Histogram() (days []Day, counts []int) {
	days = slices.Clone(s.days)
	counts = make([]int, len(s.counts))
	for k, c := range s.counts {
		counts[k] = int(c)
	}
	return days, counts
}

// Calendar returns the first day of status week 0 and the number of
// weeks of the registers counted; weeks is 0 for the zero value.
func (s *StartCounts) Calendar() (firstWeek Day, weeks int) { return s.firstWeek, s.weeks }

// Merge adds the counts of o to s. The result does not depend on the
// order of merges. The calendars must agree (see StartCounts); a zero
// value takes the other's. Errors (s is then unchanged): another
// calendar, or more than 2^31−1 treated in all (Build's limit), as a
// data *Error (Table "StartCounts").
func (s *StartCounts) Merge(o *StartCounts) error {
	if o == nil || o.weeks == 0 {
		return nil
	}
	if s.weeks != 0 && (s.firstWeek != o.firstWeek || s.weeks != o.weeks) {
		return dataErr("StartCounts", "", -1, "merging counts of status grids with first week %v and %d weeks into counts of first week %v and %d weeks: the shards of a run must share the calendar",
			o.firstWeek, o.weeks, s.firstWeek, s.weeks)
	}
	if s.n+o.n > maxStarts {
		return dataErr("StartCounts", "", -1, "%d + %d treated: more than %d", s.n, o.n, maxStarts)
	}
	days := make([]Day, 0, len(s.days)+len(o.days))
	counts := make([]int64, 0, cap(days))
	i, j := 0, 0
	for i < len(s.days) || j < len(o.days) {
		switch {
		case j == len(o.days) || (i < len(s.days) && s.days[i] < o.days[j]):
			days, counts = append(days, s.days[i]), append(counts, s.counts[i])
			i++
		case i == len(s.days) || o.days[j] < s.days[i]:
			days, counts = append(days, o.days[j]), append(counts, o.counts[j])
			j++
		default:
			days, counts = append(days, s.days[i]), append(counts, s.counts[i]+o.counts[j])
			i, j = i+1, j+1
		}
	}
	s.firstWeek, s.weeks = o.firstWeek, o.weeks
	s.days, s.counts, s.n = days, counts, s.n+o.n
	return nil
}

// check checks Design.Starts against the register and the window (a
// design *Error naming option "Starts").
func (s *StartCounts) check(r *Register, d *Design) error {
	g := &r.Status
	switch {
	case s.weeks == 0 || s.n == 0:
		return &Error{Option: "Starts", Row: -1, Err: ErrEmptyWindow,
			Msg: "no treated start day: the merged CountStarts of the shards found no eligible treated in the window"}
	case s.firstWeek != g.FirstWeek || s.weeks != g.Weeks:
		return designErr("Starts", "counted on status grids with first week %v and %d weeks, but the register's grid has first week %v and %d weeks: the shards of a run must share the calendar",
			s.firstWeek, s.weeks, g.FirstWeek, g.Weeks)
	case s.days[0] < d.WindowStart || s.days[len(s.days)-1] > d.WindowEnd:
		return designErr("Starts", "start days %v..%v, outside the window %v..%v", s.days[0], s.days[len(s.days)-1], d.WindowStart, d.WindowEnd)
	}
	return nil
}

// covers checks that s holds the register's own treated (own): Starts
// must be the merged counts of every shard, this one included.
func (s *StartCounts) covers(own *StartCounts) error {
	j := 0
	for k, day := range own.days {
		for j < len(s.days) && s.days[j] < day {
			j++
		}
		if j == len(s.days) || s.days[j] != day || s.counts[j] < own.counts[k] {
			have := int64(0)
			if j < len(s.days) && s.days[j] == day {
				have = s.counts[j]
			}
			return designErr("Starts", "the register has %d eligible treated starting on %v, Starts only %d: Starts must be the merged CountStarts of every shard of the run, this one included, under the same design",
				own.counts[k], day, have)
		}
	}
	return nil
}
