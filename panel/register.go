package panel

import (
	"fmt"
	"math"
	"math/bits"
)

// Register holds the register data of a population, in compact column
// form owned by the library: one entry per person in IDs, Birth and every
// Attribute; a weekly status grid; monthly outcome indicators; and
// treatment spells. Persons are identified by their position i in IDs
// (0 <= i < N); nothing else in the Register refers to raw ids.
//
// Memory: the status grid is one byte per person and week, outcomes one bit
// per person and month; there are no per-person heap objects. At the SFI
// size (3.3 million persons, 390 weeks, 4 outcomes of 90 months) that is
// about 1.3 GB for the grid and 0.15 GB for the outcomes.
//
// Build a Register in memory by filling the fields (with NewStatusGrid and
// NewOutcome for the packed parts) and calling Validate, or read one with
// the readers in this package.
type Register struct {
	// IDs are the person identifiers, unique.
	IDs []int64
	// Birth is each person's date of birth; nil when unknown (then no
	// age-based rule or covariate can be used).
	Birth []Day
	// Attrs are static person attributes (sex, origin, education, ...),
	// each of length len(IDs).
	Attrs []Attribute
	// Status is the weekly benefit/activity grid (DREAM).
	Status StatusGrid
	// Outcomes are monthly 0/1 indicators (employed, employed without
	// benefit, in education, on SU, ...).
	Outcomes []Outcome
	// Spells are treatment spells in any order.
	Spells []Spell
}

// Len returns the number of persons.
func (r *Register) Len() int { return len(r.IDs) }

// Attr returns the person attribute named name, or nil.
func (r *Register) Attr(name string) *Attribute {
	for i := range r.Attrs {
		if r.Attrs[i].Name == name {
			return &r.Attrs[i]
		}
	}
	return nil
}

// Outcome returns the monthly outcome named name, or nil.
func (r *Register) Outcome(name string) *Outcome {
	for i := range r.Outcomes {
		if r.Outcomes[i].Name == name {
			return &r.Outcomes[i]
		}
	}
	return nil
}

// Attribute is a static person attribute: numeric (Values set) or
// categorical (Codes index into Levels).
type Attribute struct {
	Name string
	// Values holds a numeric attribute; NaN marks a missing value.
	Values []float64
	// Codes and Levels hold a categorical attribute: person i has level
	// Levels[Codes[i]]. A code of MissingCode marks a missing value.
	Codes  []uint16
	Levels []string
}

// MissingCode marks a missing categorical value in Attribute.Codes.
const MissingCode = math.MaxUint16

// IsCategorical reports whether a holds a categorical attribute.
func (a *Attribute) IsCategorical() bool { return a.Codes != nil }

// Len returns the number of persons a describes.
func (a *Attribute) Len() int {
	if a.Codes != nil {
		return len(a.Codes)
	}
	return len(a.Values)
}

// Level returns the code of the named level, or -1.
func (a *Attribute) Level(name string) int {
	for i, l := range a.Levels {
		if l == name {
			return i
		}
	}
	return -1
}

// StatusGrid is a weekly status code per person (the DREAM register:
// benefit type and activation in one code). Week w (0 <= w < Weeks) is the
// seven days starting on FirstWeek + 7w. Code c means Levels[c]; by
// convention code 0 is "no public benefit" (self-supporting) but nothing
// in the package depends on that: rules and covariates name levels.
type StatusGrid struct {
	// FirstWeek is the first day of week 0 (usually a Monday).
	FirstWeek Day
	// Weeks is the number of weeks in the grid.
	Weeks int
	// Codes is row-major: Codes[i*Weeks+w] is person i's code in week w.
	Codes []byte
	// Levels names the codes; len(Levels) <= 256.
	Levels []string
}

// NewStatusGrid allocates a grid of n persons and weeks weeks, all code 0.
func NewStatusGrid(n int, firstWeek Day, weeks int, levels []string) StatusGrid {
	return StatusGrid{FirstWeek: firstWeek, Weeks: weeks, Codes: make([]byte, n*weeks), Levels: levels}
}

// Row returns person i's weekly codes (a view, not a copy).
func (g *StatusGrid) Row(i int) []byte { return g.Codes[i*g.Weeks : (i+1)*g.Weeks] }

// WeekOf returns the index of the week containing d (may be out of range).
func (g *StatusGrid) WeekOf(d Day) int { return floorDiv(int(d-g.FirstWeek), 7) }

// WeekStart returns the first day of week w.
func (g *StatusGrid) WeekStart(w int) Day { return g.FirstWeek + Day(7*w) }

// Code returns the code of the named level, or -1.
func (g *StatusGrid) Code(name string) int {
	for i, l := range g.Levels {
		if l == name {
			return i
		}
	}
	return -1
}

// Outcome is a monthly 0/1 indicator per person, observed for the months
// FirstMonth .. FirstMonth+Months-1; the last of them is the outcome's data
// cut-off. Bits are packed per person: person i's month m (0-based from
// FirstMonth) is bit m%64 of Bits[i*Words()+m/64].
type Outcome struct {
	Name       string
	FirstMonth Month
	Months     int
	Bits       []uint64
}

// NewOutcome allocates an all-zero outcome for n persons.
func NewOutcome(name string, n int, first Month, months int) Outcome {
	o := Outcome{Name: name, FirstMonth: first, Months: months}
	o.Bits = make([]uint64, n*o.Words())
	return o
}

// Words returns the number of 64-bit words per person.
func (o *Outcome) Words() int { return (o.Months + 63) / 64 }

// LastMonth returns the cut-off month (the last observed month).
func (o *Outcome) LastMonth() Month { return o.FirstMonth + Month(o.Months) - 1 }

// Get reports person i's indicator in calendar month m; ok is false when m
// is outside the observed months.
func (o *Outcome) Get(i int, m Month) (v, ok bool) {
	k := int(m - o.FirstMonth)
	if k < 0 || k >= o.Months {
		return false, false
	}
	w := o.Bits[i*o.Words()+k/64]
	return w>>(uint(k)%64)&1 == 1, true
}

// Set sets person i's indicator in calendar month m (which must be observed).
func (o *Outcome) Set(i int, m Month, v bool) {
	k := int(m - o.FirstMonth)
	if k < 0 || k >= o.Months {
		panic(fmt.Sprintf("panel: Outcome.Set month %v outside %v..%v", m, o.FirstMonth, o.LastMonth()))
	}
	p := &o.Bits[i*o.Words()+k/64]
	if v {
		*p |= 1 << (uint(k) % 64)
	} else {
		*p &^= 1 << (uint(k) % 64)
	}
}

// Count returns the number of months in [from, to] (calendar months,
// inclusive, clipped to the observed range) in which person i has the
// indicator. Cost: O(words).
func (o *Outcome) Count(i int, from, to Month) int {
	a := int(from - o.FirstMonth)
	b := int(to - o.FirstMonth)
	if a < 0 {
		a = 0
	}
	if b >= o.Months {
		b = o.Months - 1
	}
	if a > b {
		return 0
	}
	row := o.Bits[i*o.Words() : (i+1)*o.Words()]
	n := 0
	for wi := a / 64; wi <= b/64; wi++ {
		w := row[wi]
		lo, hi := wi*64, wi*64+63
		if a > lo {
			w &= ^uint64(0) << uint(a-lo)
		}
		if b < hi {
			w &= ^uint64(0) >> uint(hi-b)
		}
		n += bits.OnesCount64(w)
	}
	return n
}

// Spell is one treatment spell (a mentor-support spell, say) of person
// Person (an index into Register.IDs), from Start to End inclusive.
type Spell struct {
	Person int32
	Start  Day
	End    Day
	// Hours is the weekly number of hours; NaN when unknown.
	Hours float32
}
