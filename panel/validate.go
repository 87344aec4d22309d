package panel

import (
	"encoding/binary"
	"math"
)

// Validate checks that r is consistent: unique ids, every per-person slice
// of length N, status codes with a level, outcome bit arrays of the right
// size, and spells that name a person, end on or after their start and lie
// inside the status grid. It returns an *Error naming the table, column
// and row of the first problem. Cost: O(N + weeks·N/8 + spells).
func (r *Register) Validate() error {
	n := len(r.IDs)
	if n == 0 {
		return dataErr("persons", "id", -1, "no persons")
	}
	// Fast path (no allocation): ids strictly ascending are unique.
	ascending := true
	for i := 1; i < n; i++ {
		if r.IDs[i] <= r.IDs[i-1] {
			ascending = false
			break
		}
	}
	if !ascending {
		seen := make(map[int64]int, n)
		for i, id := range r.IDs {
			if j, dup := seen[id]; dup {
				return dataErr("persons", "id", i, "duplicate person id %d (first at row %d)", id, j)
			}
			seen[id] = i
		}
	}
	if r.Birth != nil && len(r.Birth) != n {
		return dataErr("persons", "birth", -1, "has %d values for %d persons", len(r.Birth), n)
	}
	names := map[string]bool{}
	for _, a := range r.Attrs {
		if a.Name == "" {
			return dataErr("persons", "", -1, "attribute without a name")
		}
		if names[a.Name] {
			return dataErr("persons", a.Name, -1, "duplicate attribute name")
		}
		names[a.Name] = true
		if (a.Codes == nil) == (a.Values == nil) {
			return dataErr("persons", a.Name, -1, "attribute must have exactly one of Values or Codes")
		}
		if a.Len() != n {
			return dataErr("persons", a.Name, -1, "has %d values for %d persons", a.Len(), n)
		}
		if a.Codes != nil {
			for i, c := range a.Codes {
				if c != MissingCode && int(c) >= len(a.Levels) {
					return dataErr("persons", a.Name, i, "code %d has no level (%d levels)", c, len(a.Levels))
				}
			}
		} else {
			for i, v := range a.Values {
				if math.IsInf(v, 0) {
					return dataErr("persons", a.Name, i, "infinite value")
				}
			}
		}
	}
	g := &r.Status
	if g.Weeks <= 0 {
		return dataErr("status", "", -1, "no weeks in the status grid")
	}
	if len(g.Levels) == 0 || len(g.Levels) > 256 {
		return dataErr("status", "", -1, "needs 1..256 levels, has %d", len(g.Levels))
	}
	if len(g.Codes) != n*g.Weeks {
		return dataErr("status", "", -1, "has %d codes, want %d persons x %d weeks", len(g.Codes), n, g.Weeks)
	}
	if len(g.Levels) < 256 {
		for k := codeScanStart(g.Codes, len(g.Levels)); k < len(g.Codes); k++ {
			c := g.Codes[k]
			if int(c) >= len(g.Levels) {
				return dataErr("status", "week", k/g.Weeks, "code %d in week %d has no level", c, k%g.Weeks)
			}
		}
	}
	onames := map[string]bool{}
	for _, o := range r.Outcomes {
		if o.Name == "" || onames[o.Name] {
			return dataErr("outcomes", o.Name, -1, "outcome name empty or repeated")
		}
		onames[o.Name] = true
		if o.Months <= 0 {
			return dataErr("outcomes", o.Name, -1, "no months observed")
		}
		if len(o.Bits) != n*o.Words() {
			return dataErr("outcomes", o.Name, -1, "has %d words, want %d", len(o.Bits), n*o.Words())
		}
	}
	gridEnd := g.WeekStart(g.Weeks) - 1
	for k, s := range r.Spells {
		if s.Person < 0 || int(s.Person) >= n {
			return dataErr("spells", "person", k, "person index %d out of range", s.Person)
		}
		if s.End < s.Start {
			return dataErr("spells", "end", k, "spell of person %d ends %v before it starts %v", r.IDs[s.Person], s.End, s.Start)
		}
		if s.Start < g.FirstWeek || s.Start > gridEnd {
			return dataErr("spells", "start", k, "start %v of person %d is outside the status grid %v..%v", s.Start, r.IDs[s.Person], g.FirstWeek, gridEnd)
		}
		if math.IsInf(float64(s.Hours), 0) || s.Hours < 0 {
			return dataErr("spells", "hours", k, "hours %v must be finite and non-negative", s.Hours)
		}
	}
	return nil
}

// codeScanStart returns an index k such that every code before k is below
// levels: it tests eight codes at a time (SWAR "has a byte greater than
// levels−1", valid for levels <= 128) and stops at the first word that
// may hold a larger code. For more levels it returns 0.
func codeScanStart(codes []byte, levels int) int {
	if levels > 128 {
		return 0
	}
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	add := uint64(127-(levels-1)) * ones
	k := 0
	for ; k+8 <= len(codes); k += 8 {
		x := binary.LittleEndian.Uint64(codes[k:])
		if ((x+add)|x)&highs != 0 {
			break
		}
	}
	return k
}
