package estimate

import (
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/psmeval/psmeval/panel"
)

// Sample is the analysis sample: one entry per unit (a treated person, or
// a control person with an actual or simulated start). It holds plain
// slices; nothing is copied.
type Sample struct {
	// Treated reports whether each unit is treated. Its length is the
	// number of units.
	Treated []bool
	// Person is the resampling unit of each unit: units with the same
	// Person are drawn together by the bootstrap (several draws per control
	// person). nil means every unit is its own person.
	Person []int64
	// Outcomes holds the event-time outcome matrices.
	Outcomes []EventOutcome
	// Subgroups lists attributes for subgroup effects. Only the codes of
	// the treated units are used.
	Subgroups []Subgroups
}

// EventOutcome is one outcome in event time (the concept of
// panel.EventOutcome; panel.Outcome is a register's calendar-month
// series): unit u's value in event month m is Y[u*Stride+Pre+m],
// m = −Pre..H, or, for a 0/1 outcome stored compactly,
// Binary[u*Stride+Pre+m]. Exactly one of Y and Binary is set. With
// Pre = 0 (the default) months are 0..H at Y[u*Stride+m].
type EventOutcome struct {
	Name string
	// H is the last event month estimated (months 0..H).
	H int
	// Pre is the number of event months before the start, −Pre..−1,
	// estimated with the same match sets as months 0..H (pre-programme
	// curves, placebo tests, difference-in-differences). Default 0.
	Pre int
	// Stride is the row length of Y; 0 means Pre+H+1. A larger stride lets
	// a matrix with a longer horizon be used up to H without a copy.
	Stride int
	// Y is units × Stride, row-major. Values in months −Pre..H must not be
	// NaN or infinite for any unit that enters an estimate (an *Error
	// wrapping ErrNaNOutcome); values beyond H are not read and may be
	// NaN.
	Y []float64
	// Binary is the compact form of a 0/1 outcome (panel.EventOutcome.Y,
	// which FromPanel shares): units × Stride bytes, each 0, 1 or
	// panel.Missing (255, read as NaN), an eighth of Y's memory.
	Binary []uint8
}

// missing is panel.Missing: a NaN in EventOutcome.Binary.
const missing = panel.Missing

var nan = math.NaN()

// at returns unit u's value in column j of its row, event month j−Pre
// (NaN when missing).
func (o *EventOutcome) at(u, j int) float64 {
	i := u*o.stride() + j
	if o.Binary != nil {
		if v := o.Binary[i]; v != missing {
			return float64(v)
		}
		return nan
	}
	return o.Y[i]
}

// len returns the number of values of the outcome matrix.
func (o *EventOutcome) len() int {
	if o.Binary != nil {
		return len(o.Binary)
	}
	return len(o.Y)
}

func (o *EventOutcome) stride() int {
	if o.Stride == 0 {
		return o.width()
	}
	return o.Stride
}

// width is the number of estimated months, Pre+H+1.
func (o *EventOutcome) width() int { return o.Pre + o.H + 1 }

// Subgroups is a unit attribute that splits the treated into subgroups.
type Subgroups struct {
	// Name names the attribute, e.g. "sex".
	Name string
	// Levels labels the codes: Code[u] = k puts unit u in Levels[k].
	Levels []string
	// Code is the level of each unit; a negative code puts a unit in no
	// subgroup.
	Code []int32
}

// SubgroupsOf builds Subgroups from a numeric attribute: one level per
// distinct non-NaN value (sorted ascending, labelled with strconv 'g'
// formatting; 0 and −0 are one level); NaN gets code −1. Cost: O(n) with a
// small map while there are at most 4,096 distinct values, else a sort.
func SubgroupsOf(name string, v []float64) Subgroups {
	g := Subgroups{Name: name, Code: make([]int32, len(v))}
	if smallCodes(&g, v) {
		return g
	}
	vals, ok := fewDistinct(v, 4096)
	if !ok {
		for _, x := range v {
			if !math.IsNaN(x) {
				vals = append(vals, x+0) // x+0 turns −0 into +0
			}
		}
		slices.Sort(vals)
		vals = slices.Compact(vals)
	}
	for _, x := range vals {
		g.Levels = append(g.Levels, strconv.FormatFloat(x, 'g', -1, 64))
	}
	// code by binary search, with the last value's code cached: runs of
	// equal values are common
	last, lastCode := math.NaN(), int32(-1)
	for i, x := range v {
		switch {
		case math.IsNaN(x):
			g.Code[i] = -1
		case x == last:
			g.Code[i] = lastCode
		default:
			k, _ := slices.BinarySearch(vals, x)
			last, lastCode = x, int32(k)
			g.Code[i] = lastCode
		}
	}
	return g
}

// smallCodes sets g's levels and codes as SubgroupsOf does when every
// non-NaN value of v is an integer in 0..255 (codes of a categorical
// column, dummies, bands), by table lookup, and reports whether it did.
func smallCodes(g *Subgroups, v []float64) bool {
	var seen [256]bool
	for _, x := range v {
		if x >= 0 && x < 256 && x == math.Trunc(x) {
			seen[int(x)] = true
		} else if !math.IsNaN(x) {
			return false
		}
	}
	var code [256]int32
	for k, ok := range seen {
		if ok {
			code[k] = int32(len(g.Levels))
			g.Levels = append(g.Levels, strconv.Itoa(k))
		}
	}
	for i, x := range v {
		if math.IsNaN(x) {
			g.Code[i] = -1
		} else {
			g.Code[i] = code[int(x)]
		}
	}
	return true
}

// fewDistinct returns the sorted distinct non-NaN values of v when there
// are at most max of them, and false otherwise.
func fewDistinct(v []float64, max int) ([]float64, bool) {
	seen := make(map[float64]struct{})
	last := math.NaN()
	for _, x := range v {
		if x == last || math.IsNaN(x) {
			continue
		}
		last = x
		if _, ok := seen[x]; ok {
			continue
		}
		if len(seen) == max {
			return nil, false
		}
		seen[x+0] = struct{}{} // x+0 turns −0 into +0
	}
	vals := make([]float64, 0, len(seen))
	for x := range seen {
		vals = append(vals, x)
	}
	slices.Sort(vals)
	return vals, true
}

// SubgroupsByBreaks builds Subgroups from a numeric attribute cut at the
// ascending breaks b_1 < ... < b_k into k+1 bands [−∞,b_1), [b_1,b_2), ...,
// [b_k,∞), labelled "<b_1", "b_1-b_2", ..., ">=b_k". NaN gets code −1.
func SubgroupsByBreaks(name string, v, breaks []float64) (Subgroups, error) {
	for i := 1; i < len(breaks); i++ {
		if !(breaks[i] > breaks[i-1]) {
			return Subgroups{}, invalid(fmt.Sprintf("subgroup %q", name), "breaks not strictly ascending at %d", i)
		}
	}
	f := func(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }
	g := Subgroups{Name: name, Code: make([]int32, len(v))}
	for k := 0; k <= len(breaks); k++ {
		switch {
		case len(breaks) == 0:
			g.Levels = append(g.Levels, "all")
		case k == 0:
			g.Levels = append(g.Levels, "<"+f(breaks[0]))
		case k == len(breaks):
			g.Levels = append(g.Levels, ">="+f(breaks[k-1]))
		default:
			g.Levels = append(g.Levels, f(breaks[k-1])+"-"+f(breaks[k]))
		}
	}
	for i, x := range v {
		if math.IsNaN(x) {
			g.Code[i] = -1
			continue
		}
		k, found := slices.BinarySearch(breaks, x)
		if found {
			k++
		}
		g.Code[i] = int32(k)
	}
	return g, nil
}

// Len returns the number of units.
func (s *Sample) Len() int { return len(s.Treated) }

func (s *Sample) person(u int) int64 {
	if s.Person == nil {
		return int64(u)
	}
	return s.Person[u]
}

// validate checks the shapes of s.
func (s *Sample) validate() error { return s.validateShapes(false) }

// validateShapes is validate; with emptyOK a sample without units (a
// shard's part without units) is valid.
func (s *Sample) validateShapes(emptyOK bool) error {
	if s == nil {
		return invalid("Sample", "nil")
	}
	n := len(s.Treated)
	if n == 0 && !emptyOK {
		return invalid("Sample.Treated", "sample has no units")
	}
	if s.Person != nil && len(s.Person) != n {
		return invalid("Sample.Person", "%d entries for %d units", len(s.Person), n)
	}
	if len(s.Outcomes) == 0 {
		return invalid("Sample.Outcomes", "sample has no outcomes")
	}
	names := map[string]bool{}
	for k := range s.Outcomes {
		o := &s.Outcomes[k]
		if o.Name == "" {
			return invalid(fmt.Sprintf("Sample.Outcomes[%d]", k), "outcome has no name")
		}
		if names[o.Name] {
			return invalid(fmt.Sprintf("Sample.Outcomes[%d]", k), "duplicate outcome name %q", o.Name)
		}
		names[o.Name] = true
		field := fmt.Sprintf("outcome %q", o.Name)
		if o.H < 0 {
			return invalid(field, "horizon H = %d < 0", o.H)
		}
		if o.Pre < 0 {
			return invalid(field, "Pre = %d < 0", o.Pre)
		}
		if o.Stride != 0 && o.Stride < o.width() {
			if o.Pre == 0 {
				return invalid(field, "Stride %d < H+1 = %d", o.Stride, o.H+1)
			}
			return invalid(field, "Stride %d < Pre+H+1 = %d", o.Stride, o.width())
		}
		if (o.Y == nil) == (o.Binary == nil) {
			return invalid(field, "set exactly one of Y and Binary")
		}
		if o.len() != n*o.stride() {
			return invalid(field, "Y has %d values, want units × stride = %d × %d", o.len(), n, o.stride())
		}
	}
	gnames := map[string]bool{}
	for k, g := range s.Subgroups {
		if g.Name == "" || gnames[g.Name] {
			return invalid(fmt.Sprintf("Sample.Subgroups[%d]", k), "subgroup attribute name %q empty or duplicate", g.Name)
		}
		gnames[g.Name] = true
		if len(g.Code) != n {
			return invalid(fmt.Sprintf("subgroup %q", g.Name), "Code has %d entries for %d units", len(g.Code), n)
		}
		for u, c := range g.Code {
			if int(c) >= len(g.Levels) {
				return invalidUnit(s, fmt.Sprintf("subgroup %q", g.Name), u, float64(c), "code %d but only %d levels", c, len(g.Levels))
			}
		}
	}
	return nil
}

// checkUnit returns an *Error wrapping ErrNaNOutcome if unit u has a NaN
// or infinite outcome in months −Pre..H of any outcome.
func (s *Sample) checkUnit(u int) error {
	for k := range s.Outcomes {
		o := &s.Outcomes[k]
		lo, hi := u*o.stride(), u*o.stride()+o.width()
		m := -1
		v := nan
		if o.Binary != nil {
			m = slices.Index(o.Binary[lo:hi], missing)
		} else if m = slices.IndexFunc(o.Y[lo:hi], notFinite); m >= 0 {
			v = o.Y[lo+m]
		}
		if m >= 0 {
			return outcomeError(s, o, u, m-o.Pre, v)
		}
	}
	return nil
}

// notFinite reports whether v is NaN or ±Inf.
func notFinite(v float64) bool { return v-v != 0 }

// checkAll checks every unit for NaN or infinite outcomes inside the
// horizon.
func (s *Sample) checkAll() error {
	for u := range s.Treated {
		if err := s.checkUnit(u); err != nil {
			return err
		}
	}
	return nil
}

// layout describes the concatenated columns of all outcomes: outcome k
// has months −Pre_k..H_k in columns off[k]..off[k]+Pre_k+H_k.
type layout struct {
	off  []int
	cols int
}

func (s *Sample) layout() layout {
	l := layout{off: make([]int, len(s.Outcomes)+1)}
	for k := range s.Outcomes {
		l.off[k+1] = l.off[k] + s.Outcomes[k].width()
	}
	l.cols = l.off[len(s.Outcomes)]
	return l
}

// addRow adds a·(unit u's outcome row) into dst (len cols).
func (s *Sample) addRow(dst []float64, u int, a float64, l *layout) {
	for k := range s.Outcomes {
		o := &s.Outcomes[k]
		st, w := o.stride(), o.width()
		d := dst[l.off[k] : l.off[k]+w]
		if o.Binary != nil {
			for m, v := range o.Binary[u*st : u*st+w] {
				if v == missing {
					d[m] += a * nan
				} else {
					d[m] += a * float64(v)
				}
			}
			continue
		}
		for m, v := range o.Y[u*st : u*st+w] {
			d[m] += a * v
		}
	}
}

// groupIndex maps treated units to the accumulation groups: group 0 is
// the whole sample, then one group per (attribute, level).
type groupIndex struct {
	names  []groupName
	starts []int // starts[a] = first group of attribute a
}

type groupName struct{ attr, level string }

func (s *Sample) groups() groupIndex {
	gi := groupIndex{names: []groupName{{}}}
	for _, g := range s.Subgroups {
		gi.starts = append(gi.starts, len(gi.names))
		for _, l := range g.Levels {
			gi.names = append(gi.names, groupName{g.Name, l})
		}
	}
	return gi
}

// unitGroups appends to dst the groups of unit u (always 0 first).
func (s *Sample) unitGroups(dst []int32, u int, gi *groupIndex) []int32 {
	dst = append(dst[:0], 0)
	for a, g := range s.Subgroups {
		if c := g.Code[u]; c >= 0 {
			dst = append(dst, int32(gi.starts[a])+c)
		}
	}
	return dst
}
