package panel

import (
	"cmp"
	"math"
	"slices"
)

// MergeSpells merges each person's sub-spells into spells and returns them
// sorted by (Person, Start); the input is not modified. Two spells of the
// same person are merged when the later one starts no more than gapDays
// days after the day following the end of the earlier one:
//
//	next.Start <= cur.End + 1 + gapDays
//
// so with gapDays = 0 a spell that starts the day after the previous one
// ends (a change of weekly hours, say) or overlaps it becomes part of it
// (docs/method.md §1, "spell construction"). The merged spell runs from the
// first start to the latest end; its Hours is the mean of the sub-spells'
// hours weighted by their lengths in days (sub-spells with NaN hours are
// left out; NaN when all are). Cost: O(S log S) for S spells.
func MergeSpells(spells []Spell, gapDays int) []Spell {
	s := slices.Clone(spells)
	slices.SortFunc(s, func(a, b Spell) int {
		if c := cmp.Compare(a.Person, b.Person); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Start, b.Start); c != 0 {
			return c
		}
		if c := cmp.Compare(a.End, b.End); c != 0 {
			return c
		}
		return cmp.Compare(a.Hours, b.Hours)
	})
	out := s[:0]
	var hsum, hdays float64
	flush := func(cur Spell) {
		cur.Hours = float32(math.NaN())
		if hdays > 0 {
			cur.Hours = float32(hsum / hdays)
		}
		out = append(out, cur)
	}
	for k := 0; k < len(s); {
		cur := s[k]
		hsum, hdays = 0, 0
		for ; k < len(s) && s[k].Person == cur.Person && int64(s[k].Start) <= int64(cur.End)+1+int64(gapDays); k++ {
			sp := s[k]
			if sp.End > cur.End {
				cur.End = sp.End
			}
			if !math.IsNaN(float64(sp.Hours)) {
				days := float64(sp.End-sp.Start) + 1
				hsum += float64(sp.Hours) * days
				hdays += days
			}
		}
		flush(cur)
	}
	return out
}

// spellIndex holds merged spells sorted by (Person, Start).
type spellIndex struct {
	merged []Spell
}

// activeIn reports, for every person, whether a merged spell overlaps
// [from, to], as a bitset of n bits.
func (si *spellIndex) activeIn(n int, from, to Day) []uint64 {
	set := make([]uint64, (n+63)/64)
	for _, s := range si.merged {
		if s.Start <= to && s.End >= from {
			set[s.Person/64] |= 1 << (uint(s.Person) % 64)
		}
	}
	return set
}

// starter is a person whose first new merged spell starts in the window.
type starter struct {
	person int32
	day    Day
}

// starters returns, for each person with a merged spell starting in
// [ws, we], the first such start.
func (si *spellIndex) starters(ws, we Day) []starter {
	var out []starter
	for k, s := range si.merged {
		if s.Start < ws || s.Start > we {
			continue
		}
		if k > 0 && si.merged[k-1].Person == s.Person && si.merged[k-1].Start >= ws {
			continue // not the person's first start in the window
		}
		out = append(out, starter{s.Person, s.Start})
	}
	return out
}

func bitGet(set []uint64, i int32) bool { return set[i/64]>>(uint(i)%64)&1 == 1 }
