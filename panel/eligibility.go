package panel

import (
	"fmt"
	"strings"
	"time"
)

// UnitView is what eligibility rules and covariate functions see of a
// unit: the person, the (actual or simulated) start, and the register.
// Build reuses one UnitView per goroutine: do not keep the pointer.
type UnitView struct {
	// Register is the register the panel is built from (read only).
	Register *Register
	// Person is the person's index into Register.IDs; ID its id.
	Person int
	ID     int64
	// Treated reports whether the unit is treated; Draw is its draw
	// number (0 for the treated).
	Treated bool
	Draw    int
	// Start is the actual or simulated start day, Week the status-grid
	// week containing it and Cohort its calendar month (event month 0).
	Start  Day
	Week   int
	Cohort Month

	// hist holds the week counts of the history pass (level groups ×
	// windows, see history), set before covariates are filled.
	hist []int32
}

// StatusAtStart returns the person's status code in the start week.
func (u *UnitView) StatusAtStart() byte {
	g := &u.Register.Status
	return g.Codes[u.Person*g.Weeks+u.Week]
}

// StatusRow returns the person's weekly status codes (a view).
func (u *UnitView) StatusRow() []byte { return u.Register.Status.Row(u.Person) }

// WeeksBefore returns the number of weeks with a status code in set among
// the w weeks before the start week (weeks Week−w .. Week−1, those before
// the grid's first week not counted), for covariate functions that need
// a count of weeks in a computation of their own (WeeksIn gives such
// counts as columns). Cost: one pass over the runs of codes, eight weeks
// at a time.
func (u *UnitView) WeeksBefore(w int, set *[256]bool) int {
	row := u.StatusRow()[max(u.Week-w, 0):u.Week]
	n := 0
	for i := 0; i < len(row); {
		j := runEnd(row, i, row[i])
		if set[row[i]] {
			n += j - i
		}
		i = j
	}
	return n
}

// Rule is an eligibility rule evaluated at a unit's start week. Build
// rules with AgeBetween, AttrIn, AnyWeekIn, StatusNotIn, NoSpellActive or
// RuleFunc. A Rule is bound to the register when Build starts, so unknown
// attributes or levels are reported as a design *Error before any work.
type Rule struct {
	name string
	bind func(b *binder) (func(u *UnitView) bool, error)
}

// Name returns the rule's name, as used in Counts.Dropped.
func (r Rule) Name() string { return r.name }

// Named returns the rule with another name (for Counts.Dropped).
func (r Rule) Named(name string) Rule { r.name = name; return r }

// RuleFunc makes a rule from a predicate: the unit is kept when f returns
// true. f must be safe for concurrent use; it is called once per
// candidate unit (treated starter or control draw).
func RuleFunc(name string, f func(u *UnitView) bool) Rule {
	return Rule{name: name, bind: func(*binder) (func(*UnitView) bool, error) {
		if f == nil {
			return nil, fmt.Errorf("RuleFunc %q has a nil function", name)
		}
		return f, nil
	}}
}

// AgeBetween keeps persons aged lo..hi (inclusive) completed years on day
// at (SFI rule 1: AgeBetween(16, 64, 2012-01-01)). The age in completed
// years is the number of birthdays on or before at; a person born on
// 29 February has the birthday on 1 March in common years. The rule does
// not depend on the start week. Needs Register.Birth. Cost: two integer
// comparisons per unit.
func AgeBetween(lo, hi int, at Day) Rule {
	name := fmt.Sprintf("age %d-%d at %v", lo, hi, at)
	return Rule{name: name, bind: func(b *binder) (func(*UnitView) bool, error) {
		if b.r.Birth == nil {
			return nil, fmt.Errorf("needs Register.Birth, which is nil")
		}
		if lo > hi {
			return nil, fmt.Errorf("lower age %d above upper age %d", lo, hi)
		}
		// Age is lexicographic in (year, month, day): age >= k  <=>
		// birth <= (Y−k, M, D) for at = (Y, M, D).
		latest := birthdayFloor(at, lo)
		earliest := birthdayFloor(at, hi+1)
		birth := b.r.Birth
		return func(u *UnitView) bool {
			d := birth[u.Person]
			return d <= latest && d > earliest
		}, nil
	}}
}

// AgeYears returns the age in completed years on day at of a person born
// on birth (the age AgeBetween uses): the number of birthdays on or before
// at, where a person born on 29 February has the birthday on 1 March in
// common years.
func AgeYears(birth, at Day) int {
	by, bm, bd := civilFromDays(int(birth))
	ay, am, ad := civilFromDays(int(at))
	age := ay - by
	if am < bm || (am == bm && ad < bd) {
		age--
	}
	return age
}

// birthdayFloor returns the latest real date on or before (Y−k, M, D)
// for at = (Y, M, D): the latest birth day with AgeYears(birth, at) >= k.
func birthdayFloor(at Day, k int) Day {
	y, m, d := at.Time().Date()
	y -= k
	if m == time.February && d == 29 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		d = 28
	}
	return DayFromDate(y, m, d)
}

// AttrIn keeps persons whose categorical attribute attr has one of the
// given levels (a missing value fails). Use it, for example, for
// "present in the status register" when the register ships a presence
// flag (SFI rule 2). Cost: one table look-up per unit.
func AttrIn(attr string, levels ...string) Rule {
	name := fmt.Sprintf("%s in {%s}", attr, strings.Join(levels, ","))
	return Rule{name: name, bind: func(b *binder) (func(*UnitView) bool, error) {
		a := regAttr(b.r, attr)
		if a == nil {
			return nil, fmt.Errorf("unknown attribute %q (register has %v)", attr, regAttrNames(b.r))
		}
		if !a.IsCategorical() {
			return nil, fmt.Errorf("attribute %q is numeric, not categorical", attr)
		}
		if len(levels) == 0 {
			return nil, fmt.Errorf("no levels given")
		}
		ok := make([]bool, len(a.Levels))
		for _, l := range levels {
			c := a.Level(l)
			if c < 0 {
				return nil, fmt.Errorf("attribute %q has no level %q (levels %v)", attr, l, a.Levels)
			}
			ok[c] = true
		}
		codes := a.Codes
		return func(u *UnitView) bool {
			c := codes[u.Person]
			return c != MissingCode && ok[c]
		}, nil
	}}
}

// AnyWeekIn keeps persons with at least one week in the status grid
// (any week, not only before the start) whose code is one of levels: SFI
// rule 2, "present in the benefit register (DREAM)", is AnyWeekIn with
// every benefit level. Cost: a scan of the person's row until the first
// hit (at most Weeks bytes, runs of one code skipped eight bytes at a
// time).
func AnyWeekIn(levels ...string) Rule {
	name := fmt.Sprintf("any week in {%s}", strings.Join(levels, ","))
	return Rule{name: name, bind: func(b *binder) (func(*UnitView) bool, error) {
		lut, err := b.statusSet(levels)
		if err != nil {
			return nil, err
		}
		g := &b.r.Status
		return func(u *UnitView) bool {
			return anyIn(g.Codes[u.Person*g.Weeks:(u.Person+1)*g.Weeks], lut)
		}, nil
	}}
}

// StatusNotIn keeps units whose status code in the start week is not one
// of levels (SFI rule 3: not on early-retirement pay, flex benefit, state
// pension, adult-education support, in a service job or an adult
// apprenticeship in the start week). Cost: one look-up per unit.
func StatusNotIn(levels ...string) Rule {
	name := fmt.Sprintf("status at start not in {%s}", strings.Join(levels, ","))
	return Rule{name: name, bind: func(b *binder) (func(*UnitView) bool, error) {
		lut, err := b.statusSet(levels)
		if err != nil {
			return nil, err
		}
		g := &b.r.Status
		return func(u *UnitView) bool {
			return !lut[g.Codes[u.Person*g.Weeks+u.Week]]
		}, nil
	}}
}

// NoSpellActive keeps persons with no merged spell overlapping the days
// from..to (inclusive): SFI rule 4, no mentor support in January 2012, is
// NoSpellActive(2012-01-01, 2012-01-31). It makes the spells starting in
// the window new ones. Cost: O(spells) once, then a bit test per unit.
func NoSpellActive(from, to Day) Rule {
	name := fmt.Sprintf("no spell active %v..%v", from, to)
	return Rule{name: name, bind: func(b *binder) (func(*UnitView) bool, error) {
		if to < from {
			return nil, fmt.Errorf("range end %v before its start %v", to, from)
		}
		set := b.spells.activeIn(b.r.Len(), from, to)
		return func(u *UnitView) bool { return !bitGet(set, int32(u.Person)) }, nil
	}}
}

// anyIn reports whether a code of row is in lut, testing each run of
// equal codes once.
func anyIn(row []byte, lut *[256]bool) bool {
	n := len(row)
	for i := 0; i < n; {
		c := row[i]
		if lut[c] {
			return true
		}
		i = runEnd(row, i, c)
	}
	return false
}
