package panel

import (
	"errors"
	"fmt"
	"runtime"
)

// Design describes how Build turns a Register into a Panel (docs/design.md
// steps 2–4): the treatment window, spell merging, eligibility, the
// covariates, descriptive variables and outcomes, and the simulated start
// dates of the potential controls. The zero value of every optional field
// is its documented default.
//
// The SFI design (docs/method.md §1) is: window 2012-02-01..2012-07-31,
// MergeGapDays 0, Eligibility {AgeBetween(16, 64, 2012-01-01),
// AnyWeekIn(<benefit codes>), StatusNotIn(<efterløn, fleksydelse,
// folkepension, VUS, service job, adult apprentice>), NoSpellActive(
// 2012-01-01, 2012-01-31)}, one draw per control.
type Design struct {
	// WindowStart and WindowEnd (inclusive) bound the treatment window:
	// a person whose first new merged spell starts in it is treated. Both
	// must lie inside the status grid. Required.
	WindowStart, WindowEnd Day

	// MergeGapDays is the merging rule for sub-spells (see MergeSpells):
	// a spell starting at most MergeGapDays days after the day following
	// the end of the previous spell of the same person (or overlapping
	// it) is merged into it. Default 0: only spells that follow directly
	// (start the day after the previous one ends) or overlap are merged.
	// Must be >= 0.
	MergeGapDays int

	// Eligibility rules, evaluated in order at the actual (treated) or
	// simulated (controls) start week; a unit is kept when it passes all
	// of them and counted in Counts.Dropped under the first one it fails.
	// Default: no rules.
	Eligibility []Rule

	// Covariates are the columns of Panel.X, in order. Default: none.
	Covariates []Covariate
	// Descriptors are extra per-unit variables (Panel.Desc) for balance
	// tables and subgroups; they may hold NaN. Default: none.
	Descriptors []Covariate

	// Outcomes names the Register.Outcomes to put in event time, in
	// order. Default (nil): all, in register order.
	Outcomes []string
	// FullHorizon, when true, extends each outcome's event-time matrix to
	// the earliest cohort's horizon LastMonth − month(WindowStart); later
	// cohorts are Missing (At: NaN) after the cut-off. Default false: H = LastMonth −
	// month(WindowEnd), observed for every cohort (SFI: 21 months for
	// employment, 14 for education).
	FullHorizon bool
	// PreMonths is P, the number of event months before the start that
	// each outcome's event-time matrix carries: months −P..H, for
	// pre-programme curves, placebo tests and difference-in-differences.
	// Every cohort must be observed back to month −P: an outcome whose
	// data start after month(WindowStart) − P is a design *Error (option
	// "PreMonths", naming the outcome; errors.Is ErrHorizon). Default 0:
	// months 0..H only. Must be >= 0. Cost: P bytes per unit and outcome.
	PreMonths int

	// DrawsPerControl is the number of simulated starts drawn for each
	// potential control. Default (0): 1.
	DrawsPerControl int
	// Seed seeds the simulated start dates. A unit's draw depends only on
	// (Seed, person id, draw), so the panel is identical for any Workers
	// and any input row order.
	Seed uint64

	// Starts, when not nil, is the distribution the potential controls
	// draw their simulated starts from: the merged CountStarts of every
	// shard of a sharded run (pass 0, docs/scale-out.md). The register's
	// own eligible treated are still the treated units, and a control's
	// draw is DrawIndex(Seed, id, draw, Starts.Len()) into the sorted
	// start days of all shards, so each shard's units are exactly those
	// Build makes for its persons from the whole register. A register
	// (shard) without starters, eligible treated or eligible control
	// draws is then not an error (ErrEmptyWindow and ErrNoControls apply
	// only without Starts): its panel may be empty (X and Desc nil).
	// Starts must be non-empty (else a design *Error that also wraps
	// ErrEmptyWindow), share the register's calendar (StatusGrid
	// FirstWeek and Weeks), have every day in [WindowStart, WindowEnd],
	// and hold the register's own eligible treated on their days; else a
	// design *Error naming option "Starts". Default (nil): the start days
	// of this register's eligible treated.
	Starts *StartCounts

	// Workers bounds the number of goroutines. Default (0): GOMAXPROCS.
	Workers int
	// Progress, when not nil, is called with the stage name ("spells",
	// "treated", "controls", "units") and the number of blocks done and
	// in total. Calls are serialized; they may come from any goroutine.
	Progress func(stage string, done, total int)
}

// ErrDesign is wrapped by every design *Error (Option set).
var ErrDesign = errors.New("invalid design")

// normalized returns a copy of d with defaults filled in, after checking
// the options that do not need the bound covariates.
func (d *Design) normalized(r *Register) (Design, error) {
	c := *d
	g := &r.Status
	if c.WindowEnd < c.WindowStart {
		return c, designErr("WindowEnd", "window end %v is before window start %v", c.WindowEnd, c.WindowStart)
	}
	gridEnd := g.WeekStart(g.Weeks) - 1
	if c.WindowStart < g.FirstWeek || c.WindowStart > gridEnd {
		return c, designErr("WindowStart", "window start %v is outside the status grid %v..%v", c.WindowStart, g.FirstWeek, gridEnd)
	}
	if c.WindowEnd > gridEnd {
		return c, designErr("WindowEnd", "window end %v is outside the status grid %v..%v", c.WindowEnd, g.FirstWeek, gridEnd)
	}
	if c.Starts != nil {
		if err := c.Starts.check(r, &c); err != nil {
			return c, err
		}
	}
	if c.MergeGapDays < 0 {
		return c, designErr("MergeGapDays", "must be >= 0, is %d", c.MergeGapDays)
	}
	if c.PreMonths < 0 {
		return c, designErr("PreMonths", "must be >= 0, is %d", c.PreMonths)
	}
	if c.DrawsPerControl < 0 {
		return c, designErr("DrawsPerControl", "must be >= 0 (0 means 1), is %d", c.DrawsPerControl)
	}
	if c.DrawsPerControl == 0 {
		c.DrawsPerControl = 1
	}
	if c.Workers < 0 {
		return c, designErr("Workers", "must be >= 0 (0 means GOMAXPROCS), is %d", c.Workers)
	}
	if c.Workers == 0 {
		c.Workers = runtime.GOMAXPROCS(0)
	}
	for i, rule := range c.Eligibility {
		if rule.bind == nil {
			return c, designErr(fmt.Sprintf("Eligibility[%d]", i), "zero Rule; build rules with the constructors or RuleFunc")
		}
	}
	for i, cv := range c.Covariates {
		if cv.bind == nil {
			return c, designErr(fmt.Sprintf("Covariates[%d]", i), "zero Covariate; build covariates with the constructors or CovFunc")
		}
	}
	for i, cv := range c.Descriptors {
		if cv.bind == nil {
			return c, designErr(fmt.Sprintf("Descriptors[%d]", i), "zero Covariate; build descriptors with the constructors or CovFunc")
		}
	}
	if c.Outcomes == nil {
		for _, o := range r.Outcomes {
			c.Outcomes = append(c.Outcomes, o.Name)
		}
	} else {
		seen := map[string]bool{}
		for _, name := range c.Outcomes {
			if seen[name] {
				return c, designErr("Outcomes", "outcome %q named twice", name)
			}
			seen[name] = true
			if regOutcome(r, name) < 0 {
				return c, designErr("Outcomes", "unknown outcome %q (register has %v)", name, regOutcomeNames(r))
			}
		}
	}
	return c, nil
}

func regOutcome(r *Register, name string) int {
	for i := range r.Outcomes {
		if r.Outcomes[i].Name == name {
			return i
		}
	}
	return -1
}

func regOutcomeNames(r *Register) []string {
	s := make([]string, len(r.Outcomes))
	for i := range r.Outcomes {
		s[i] = r.Outcomes[i].Name
	}
	return s
}

func regAttr(r *Register, name string) *Attribute { return r.Attr(name) }

func regAttrNames(r *Register) []string {
	s := make([]string, len(r.Attrs))
	for i := range r.Attrs {
		s[i] = r.Attrs[i].Name
	}
	return s
}
