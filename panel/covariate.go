package panel

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
)

// Covariate builds one or more per-unit columns measured at the unit's
// actual or simulated start. It is used both for Design.Covariates (the
// columns of X, which must be finite) and Design.Descriptors (which may be
// NaN). Build covariates with Numeric, Dummies, DummiesWithMissing,
// WeeksIn, MonthsWith, StatusAtStart, ActivationAtStart, AgeAtStart or
// CovFunc; AttrCode and StatusGroupAtStart give subgroup codes for
// Descriptors. A Covariate is bound to the register when Build starts, so an
// unknown attribute, level or outcome is a design *Error before any work.
type Covariate struct {
	name  string
	weeks []int // week windows for the shared history pass
	bind  func(b *binder) (names []string, fill fillFunc, err error)
}

// fillFunc writes a unit's columns into out (len = number of columns).
type fillFunc func(u *UnitView, out []float64)

// Name returns the covariate's name (used in error messages).
func (c Covariate) Name() string { return c.name }

// LevelGroup names a set of status levels (for example "cash" =
// {kontanthjælp passive, kontanthjælp activated}).
type LevelGroup struct {
	Name   string
	Levels []string
}

// Numeric is a static numeric attribute, one column named attr. In X a
// missing (NaN) value is an error naming the person; in Descriptors it
// stays NaN.
func Numeric(attr string) Covariate {
	return Covariate{name: attr, bind: func(b *binder) ([]string, fillFunc, error) {
		a := regAttr(b.r, attr)
		if a == nil {
			return nil, nil, fmt.Errorf("unknown attribute %q (register has %v)", attr, regAttrNames(b.r))
		}
		if a.IsCategorical() {
			return nil, nil, fmt.Errorf("attribute %q is categorical; use Dummies", attr)
		}
		v := a.Values
		return []string{attr}, func(u *UnitView, out []float64) { out[0] = v[u.Person] }, nil
	}}
}

// Dummies dummy-codes the categorical attribute attr: one 0/1 column per
// level except the reference level ref, in level order, named
// "attr=level". With ref == "" every level gets a column (for
// Descriptors; in X with an intercept that is collinear). A missing value
// makes every column NaN: an error in X, missing in Descriptors; use
// DummiesWithMissing to give missing values their own column instead.
func Dummies(attr, ref string) Covariate { return dummies(attr, ref, false) }

// LevelIn is one 0/1 column named name: 1 when the categorical attribute
// attr has one of levels (several levels make one group, e.g. the three
// tertiary education levels), 0 for the other levels and NaN for a
// missing value (an error in X, missing in Descriptors). A level the
// register does not have matches nobody, with a note in Panel.Notes (a
// register may lack a rare level). Errors at Build: an unknown or
// numeric attribute.
func LevelIn(name, attr string, levels ...string) Covariate {
	return Covariate{name: name, bind: func(b *binder) ([]string, fillFunc, error) {
		a := regAttr(b.r, attr)
		if a == nil {
			return nil, nil, fmt.Errorf("unknown attribute %q (register has %v)", attr, regAttrNames(b.r))
		}
		if !a.IsCategorical() {
			return nil, nil, fmt.Errorf("attribute %q is numeric, not categorical", attr)
		}
		in := make([]bool, len(a.Levels))
		for _, l := range levels {
			if k := a.Level(l); k >= 0 {
				in[k] = true
			} else {
				b.note(fmt.Sprintf("attribute %q has no level %q (levels %v): covariate %q treats it as absent", attr, l, a.Levels, name))
			}
		}
		codes := a.Codes
		return []string{name}, func(u *UnitView, out []float64) {
			switch c := codes[u.Person]; {
			case c == MissingCode:
				out[0] = math.NaN()
			case in[c]:
				out[0] = 1
			default:
				out[0] = 0
			}
		}, nil
	}}
}

// DummiesWithMissing is Dummies with an extra column "attr=NA" that is 1
// for a missing value (and the level columns 0).
func DummiesWithMissing(attr, ref string) Covariate { return dummies(attr, ref, true) }

func dummies(attr, ref string, na bool) Covariate {
	return Covariate{name: attr, bind: func(b *binder) ([]string, fillFunc, error) {
		a := regAttr(b.r, attr)
		if a == nil {
			return nil, nil, fmt.Errorf("unknown attribute %q (register has %v)", attr, regAttrNames(b.r))
		}
		if !a.IsCategorical() {
			return nil, nil, fmt.Errorf("attribute %q is numeric, not categorical", attr)
		}
		refCode := -1
		if ref != "" {
			if refCode = a.Level(ref); refCode < 0 {
				return nil, nil, fmt.Errorf("attribute %q has no reference level %q (levels %v)", attr, ref, a.Levels)
			}
		}
		col := make([]int, len(a.Levels)) // level code -> column, -1 for ref
		var names []string
		for c, l := range a.Levels {
			if c == refCode {
				col[c] = -1
				continue
			}
			col[c] = len(names)
			names = append(names, attr+"="+l)
		}
		nl := len(names)
		if na {
			names = append(names, attr+"=NA")
		}
		codes := a.Codes
		return names, func(u *UnitView, out []float64) {
			clear(out)
			c := codes[u.Person]
			switch {
			case c == MissingCode && na:
				out[nl] = 1
			case c == MissingCode:
				for k := range out {
					out[k] = math.NaN()
				}
			case col[c] >= 0:
				out[col[c]] = 1
			}
		}, nil
	}}
}

// WeeksIn counts, for each level group and each window W, the weeks with
// a status code in the group among the W weeks before the start week
// (weeks Week−W .. Week−1; the start week itself is not counted). SFI:
// weeks on each benefit in the 52, 104 and 260 weeks before start.
// Columns are group-major, named prefix+group.Name+"_"+W (for prefix
// "weeks_": "weeks_cash_52", "weeks_cash_104", ..., "weeks_sick_52", ...).
// Every window must fit in the status grid for the earliest possible
// start (the week of WindowStart), else Build returns a design *Error.
//
// Cost: all WeeksIn covariates of a design share one pass over the max(W)
// weeks before the start of the person's row, which counts the codes
// (run-length counting, eight bytes at a time over runs) and at every
// window boundary sums the counts of each distinct level group of all
// WeeksIn covariates; then each column reads its group's sum.
// O(max W + windows × codes in the groups) per unit.
func WeeksIn(prefix string, groups []LevelGroup, windows ...int) Covariate {
	name := fmt.Sprintf("WeeksIn(%s)", prefix)
	return Covariate{name: name, weeks: slices.Clone(windows), bind: func(b *binder) ([]string, fillFunc, error) {
		if len(groups) == 0 {
			return nil, nil, fmt.Errorf("no level groups")
		}
		if len(windows) == 0 {
			return nil, nil, fmt.Errorf("no windows")
		}
		for _, w := range windows {
			if w <= 0 {
				return nil, nil, fmt.Errorf("window of %d weeks; windows must be positive", w)
			}
			if b.firstStartWeek-w < 0 {
				return nil, nil, fmt.Errorf("window of %d weeks before the start week %d (%v) reaches before the status grid starts (%v)",
					w, b.firstStartWeek, b.r.Status.WeekStart(b.firstStartWeek), b.r.Status.FirstWeek)
			}
		}
		slots := make([]int, len(groups)) // the groups' slots in the history pass
		var names []string
		for gi, g := range groups {
			if g.Name == "" {
				return nil, nil, fmt.Errorf("level group %d has no name", gi)
			}
			lut, err := b.statusSet(g.Levels)
			if err != nil {
				return nil, nil, fmt.Errorf("level group %q: %w", g.Name, err)
			}
			var codes []uint8
			for c := range b.levels {
				if lut[c] {
					codes = append(codes, uint8(c))
				}
			}
			slots[gi] = b.histGroup(codes)
			for _, w := range windows {
				names = append(names, fmt.Sprintf("%s%s_%d", prefix, g.Name, w))
			}
		}
		// idx[k] is column k's index into UnitView.hist
		idx := make([]int, 0, len(names))
		nw := len(b.windows)
		for _, g := range slots {
			for _, w := range windows {
				idx = append(idx, g*nw+b.windowIndex(w))
			}
		}
		return names, func(u *UnitView, out []float64) {
			h := u.hist
			for k, i := range idx {
				out[k] = float64(h[i])
			}
		}, nil
	}}
}

// MonthsWith counts, for each N in months, the months with the outcome
// indicator among the N calendar months before the start month (months
// Cohort−N .. Cohort−1). SFI: months with wage income in the 48 months
// before start, MonthsWith("wage", 48). Columns are named
// outcome+"_"+N+"m" ("wage_48m"). The months must be observed for every
// possible cohort, else Build returns a design *Error. Cost: O(N/64) per
// unit and column.
func MonthsWith(outcome string, months ...int) Covariate {
	name := fmt.Sprintf("MonthsWith(%s)", outcome)
	return Covariate{name: name, bind: func(b *binder) ([]string, fillFunc, error) {
		oi := regOutcome(b.r, outcome)
		if oi < 0 {
			return nil, nil, fmt.Errorf("unknown outcome %q (register has %v)", outcome, regOutcomeNames(b.r))
		}
		o := &b.r.Outcomes[oi]
		if len(months) == 0 {
			return nil, nil, fmt.Errorf("no month counts")
		}
		names := make([]string, len(months))
		for k, n := range months {
			if n <= 0 {
				return nil, nil, fmt.Errorf("%d months; must be positive", n)
			}
			if b.firstCohort-Month(n) < o.FirstMonth {
				return nil, nil, fmt.Errorf("the %d months before the first cohort %v start at %v, before outcome %q is observed (%v)",
					n, b.firstCohort, b.firstCohort-Month(n), outcome, o.FirstMonth)
			}
			if b.lastCohort-1 > o.LastMonth() {
				return nil, nil, fmt.Errorf("outcome %q ends %v, before the month preceding the last cohort %v", outcome, o.LastMonth(), b.lastCohort)
			}
			names[k] = fmt.Sprintf("%s_%dm", outcome, n)
		}
		return names, func(u *UnitView, out []float64) {
			for k, n := range months {
				out[k] = float64(o.Count(u.Person, u.Cohort-Month(n), u.Cohort-1))
			}
		}, nil
	}}
}

// StatusAtStart dummy-codes the status in the start week by level groups:
// one 0/1 column per group, named prefix+"="+group.Name ("start=cash").
// Codes in no group are the reference (all columns 0). Groups may
// overlap. SFI: benefit type at start (self-supporting, cash benefit,
// sickness benefit, ...). Cost: O(groups) per unit.
func StatusAtStart(prefix string, groups ...LevelGroup) Covariate {
	name := fmt.Sprintf("StatusAtStart(%s)", prefix)
	return Covariate{name: name, bind: func(b *binder) ([]string, fillFunc, error) {
		if len(groups) == 0 {
			return nil, nil, fmt.Errorf("no level groups")
		}
		luts := make([]*[256]bool, len(groups))
		names := make([]string, len(groups))
		for gi, g := range groups {
			if g.Name == "" {
				return nil, nil, fmt.Errorf("level group %d has no name", gi)
			}
			lut, err := b.statusSet(g.Levels)
			if err != nil {
				return nil, nil, fmt.Errorf("level group %q: %w", g.Name, err)
			}
			luts[gi] = lut
			names[gi] = prefix + "=" + g.Name
		}
		return names, func(u *UnitView, out []float64) {
			c := u.StatusAtStart()
			for gi, lut := range luts {
				out[gi] = b2f(lut[c])
			}
		}, nil
	}}
}

// ActivationAtStart is one 0/1 column, named name, that is 1 when the
// status in the start week is one of levels (the activation codes).
func ActivationAtStart(name string, levels ...string) Covariate {
	return Covariate{name: name, bind: func(b *binder) ([]string, fillFunc, error) {
		lut, err := b.statusSet(levels)
		if err != nil {
			return nil, nil, err
		}
		return []string{name}, func(u *UnitView, out []float64) { out[0] = b2f(lut[u.StatusAtStart()]) }, nil
	}}
}

// AttrCode is the level code of the categorical attribute attr (0 for
// Levels[0], ...; NaN when missing), one column named attr. It is meant
// for Descriptors, to split units into subgroups (sex, match group); in X
// use Dummies.
func AttrCode(attr string) Covariate {
	return Covariate{name: attr, bind: func(b *binder) ([]string, fillFunc, error) {
		a := regAttr(b.r, attr)
		if a == nil {
			return nil, nil, fmt.Errorf("unknown attribute %q (register has %v)", attr, regAttrNames(b.r))
		}
		if !a.IsCategorical() {
			return nil, nil, fmt.Errorf("attribute %q is numeric; use Numeric", attr)
		}
		codes := a.Codes
		return []string{attr}, func(u *UnitView, out []float64) {
			c := codes[u.Person]
			if c == MissingCode {
				out[0] = math.NaN()
			} else {
				out[0] = float64(c)
			}
		}, nil
	}}
}

// StatusGroupAtStart is the index of the first level group that holds the
// status in the start week (NaN when none does), one column named name.
// It is meant for Descriptors, to split units by benefit type at start;
// in X use StatusAtStart.
func StatusGroupAtStart(name string, groups ...LevelGroup) Covariate {
	return Covariate{name: name, bind: func(b *binder) ([]string, fillFunc, error) {
		if len(groups) == 0 {
			return nil, nil, fmt.Errorf("no level groups")
		}
		var group [256]float64
		for c := range group {
			group[c] = math.NaN()
		}
		for gi := len(groups) - 1; gi >= 0; gi-- {
			lut, err := b.statusSet(groups[gi].Levels)
			if err != nil {
				return nil, nil, fmt.Errorf("level group %q: %w", groups[gi].Name, err)
			}
			for c, in := range lut {
				if in {
					group[c] = float64(gi)
				}
			}
		}
		return []string{name}, func(u *UnitView, out []float64) { out[0] = group[u.StatusAtStart()] }, nil
	}}
}

// AgeAtStart is the age in years at the start day, (Start − Birth)/365.25
// (fractional years), one column named name. Needs Register.Birth.
func AgeAtStart(name string) Covariate {
	return Covariate{name: name, bind: func(b *binder) ([]string, fillFunc, error) {
		if b.r.Birth == nil {
			return nil, nil, fmt.Errorf("needs Register.Birth, which is nil")
		}
		birth := b.r.Birth
		return []string{name}, func(u *UnitView, out []float64) {
			out[0] = float64(u.Start-birth[u.Person]) / 365.25
		}, nil
	}}
}

// CovFunc is a user-defined column named name. f must be safe for
// concurrent use; it is called once per eligible unit.
func CovFunc(name string, f func(u *UnitView) float64) Covariate {
	return Covariate{name: name, bind: func(*binder) ([]string, fillFunc, error) {
		if f == nil {
			return nil, nil, fmt.Errorf("nil function")
		}
		return []string{name}, func(u *UnitView, out []float64) { out[0] = f(u) }, nil
	}}
}

// CovFuncs is a user-defined group of columns named names, filled
// together by one call of f (out has len(names) entries, all 0 on entry):
// the way to dummy-code a derived quantity (for example bins of weeks on
// public support) with one pass over a person's history. f must be safe
// for concurrent use; it is called once per eligible unit.
func CovFuncs(names []string, f func(u *UnitView, out []float64)) Covariate {
	name := strings.Join(names, ",")
	return Covariate{name: name, bind: func(*binder) ([]string, fillFunc, error) {
		if f == nil {
			return nil, nil, fmt.Errorf("nil function")
		}
		if len(names) == 0 {
			return nil, nil, fmt.Errorf("no column names")
		}
		return append([]string(nil), names...), func(u *UnitView, out []float64) {
			clear(out)
			f(u, out)
		}, nil
	}}
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// binder resolves rules and covariates against a register and design.
type binder struct {
	r      *Register
	d      *Design
	spells *spellIndex
	// windows are the sorted distinct week windows of all WeeksIn
	// covariates (the boundaries of the history pass).
	windows []int
	// groups are the distinct level groups (ascending codes) of all
	// WeeksIn covariates, whose weeks the history pass counts.
	groups [][]uint8
	levels int
	// range of possible start weeks and cohorts (from the window).
	firstStartWeek, lastStartWeek int
	firstCohort, lastCohort       Month
	// notes are remarks on the design for Panel.Notes
	notes []string
}

func newBinder(r *Register, d *Design, si *spellIndex) *binder {
	b := &binder{r: r, d: d, spells: si, levels: len(r.Status.Levels)}
	b.firstStartWeek = r.Status.WeekOf(d.WindowStart)
	b.lastStartWeek = r.Status.WeekOf(d.WindowEnd)
	b.firstCohort = MonthOf(d.WindowStart)
	b.lastCohort = MonthOf(d.WindowEnd)
	for _, cs := range [][]Covariate{d.Covariates, d.Descriptors} {
		for _, c := range cs {
			for _, w := range c.weeks {
				if w > 0 && !slices.Contains(b.windows, w) {
					b.windows = append(b.windows, w)
				}
			}
		}
	}
	slices.Sort(b.windows)
	return b
}

func (b *binder) windowIndex(w int) int {
	i, _ := slices.BinarySearch(b.windows, w)
	return i
}

// histGroup returns the slot of the level group codes in the history
// pass, adding it to b.groups when it is new.
func (b *binder) histGroup(codes []uint8) int {
	for g, cs := range b.groups {
		if slices.Equal(cs, codes) {
			return g
		}
	}
	b.groups = append(b.groups, codes)
	return len(b.groups) - 1
}

// statusSet returns a code look-up table for the named status levels. A
// level the register lacks (an extract without any week of it) matches
// no week, with a note: a rule "not in it at start" holds for everyone
// and a count of weeks in it is zero.
func (b *binder) statusSet(levels []string) (*[256]bool, error) {
	if len(levels) == 0 {
		return nil, fmt.Errorf("no status levels given")
	}
	var lut [256]bool
	for _, l := range levels {
		c := b.r.Status.Code(l)
		if c < 0 {
			b.note(fmt.Sprintf("status level %q is not in the register (levels %s): it matches no week, so rules and covariates over it treat every person alike",
				l, strings.Join(b.r.Status.Levels, ",")))
			continue
		}
		lut[c] = true
	}
	return &lut, nil
}

// note records a note for Panel.Notes, once.
func (b *binder) note(s string) {
	if !slices.Contains(b.notes, s) {
		b.notes = append(b.notes, s)
	}
}

// histSlots maps status codes to the count slots of the history pass:
// codes that belong to the same level groups share a slot, so the pass
// adds each run of weeks to one slot and a group's count is the sum of
// its slots (one slot per group when the groups are disjoint, as
// benefit types are).
type histSlots struct {
	slot   [256]uint8 // slot of each code; codes in no group share one
	n      int        // number of slots
	groups [][]uint8  // the slots of each group
}

// newHistSlots returns the slots of groups (ascending codes).
func newHistSlots(groups [][]uint8) *histSlots {
	h := &histSlots{groups: make([][]uint8, len(groups))}
	member := make([][]byte, 256) // the groups of each code, as a key
	for g, cs := range groups {
		for _, c := range cs {
			member[c] = append(member[c], byte(g), byte(g>>8))
		}
	}
	seen := map[string]uint8{}
	for c, m := range member {
		k, ok := seen[string(m)]
		if !ok {
			k = uint8(len(seen))
			seen[string(m)] = k
			for i := 0; i < len(m); i += 2 {
				g := int(m[i]) | int(m[i+1])<<8
				h.groups[g] = append(h.groups[g], k)
			}
		}
		h.slot[c] = k
	}
	h.n = len(seen)
	return h
}

// history sets hist[g·len(windows)+j] (len(groups) × len(windows)) to
// the number of weeks with a code of group g among the windows[j] weeks
// before week s of row (windows ascending); cnt is scratch of hs.n. Cost:
// one run-length pass over the max(windows) weeks, one add per run, and
// one sum per group and window over the group's slots.
func history(row []byte, s int, windows []int, hs *histSlots, cnt, hist []int32) {
	clear(cnt[:hs.n])
	prev := 0
	nw := len(windows)
	for j, w := range windows {
		countSlots(row[s-w:s-prev], &hs.slot, cnt)
		for g, sl := range hs.groups {
			var t int32
			for _, x := range sl {
				t += cnt[x]
			}
			hist[g*nw+j] = t
		}
		prev = w
	}
}

// countSlots adds to cnt[slot[c]] the number of occurrences of each code
// c in seg, by runs: status codes come in long runs, so a run is skipped
// eight bytes at a time.
func countSlots(seg []byte, slot *[256]uint8, cnt []int32) {
	n := len(seg)
	for i := 0; i < n; {
		c := seg[i]
		j := runEnd(seg, i, c)
		cnt[slot[c]] += int32(j - i)
		i = j
	}
}

// runEnd returns the end (exclusive) of the run of code c that starts at
// row[i]: eight bytes at a time, the first differing byte found with a
// trailing-zero count.
func runEnd(row []byte, i int, c byte) int {
	n := len(row)
	j := i + 1
	pat := uint64(c) * 0x0101010101010101
	for j+8 <= n {
		if x := binary.LittleEndian.Uint64(row[j:]) ^ pat; x != 0 {
			return j + bits.TrailingZeros64(x)/8
		}
		j += 8
	}
	for j < n && row[j] == c {
		j++
	}
	return j
}
