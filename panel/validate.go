package panel

import (
	"encoding/binary"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
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
		if k := firstCodeAbove(g.Codes, len(g.Levels)); k < len(g.Codes) {
			return dataErr("status", "week", k/g.Weeks, "code %d in week %d has no level", g.Codes[k], k%g.Weeks)
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

// firstCodeAbove returns the index of the first code that is levels or
// more, or len(codes) when there is none. A grid of more than
// validateChunk codes is scanned in chunks on GOMAXPROCS goroutines
// (about 0.2 s per GB on two cores).
func firstCodeAbove(codes []byte, levels int) int {
	scan := func(c []byte) int {
		for k := codeScanStart(c, levels); k < len(c); k++ {
			if int(c[k]) >= levels {
				return k
			}
		}
		return len(c)
	}
	workers := runtime.GOMAXPROCS(0)
	if workers < 2 || len(codes) <= validateChunk {
		return scan(codes)
	}
	chunks := (len(codes) + validateChunk - 1) / validateChunk
	first := make([]int, chunks)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, chunks) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= chunks {
					return
				}
				lo := i * validateChunk
				hi := min(lo+validateChunk, len(codes))
				first[i] = lo + scan(codes[lo:hi])
			}
		}()
	}
	wg.Wait()
	for i, k := range first {
		if k < min((i+1)*validateChunk, len(codes)) {
			return k
		}
	}
	return len(codes)
}

// validateChunk is the number of status codes a goroutine of
// firstCodeAbove scans at a time (4 MiB).
const validateChunk = 4 << 20

// codeScanStart returns an index k such that every code before k is below
// levels: it tests 32 codes at a time (SWAR "has a byte greater than
// levels−1" on four words, valid for levels <= 128), then the words of a
// block that may hold a larger code one at a time, and stops at the first
// such word. For more levels it returns 0.
func codeScanStart(codes []byte, levels int) int {
	if levels > 128 {
		return 0
	}
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	add := uint64(127-(levels-1)) * ones
	k := 0
	for ; k+32 <= len(codes); k += 32 {
		x0 := binary.LittleEndian.Uint64(codes[k:])
		x1 := binary.LittleEndian.Uint64(codes[k+8:])
		x2 := binary.LittleEndian.Uint64(codes[k+16:])
		x3 := binary.LittleEndian.Uint64(codes[k+24:])
		if ((x0+add)|x0|(x1+add)|x1|(x2+add)|x2|(x3+add)|x3)&highs != 0 {
			break
		}
	}
	for ; k+8 <= len(codes); k += 8 {
		x := binary.LittleEndian.Uint64(codes[k:])
		if ((x+add)|x)&highs != 0 {
			break
		}
	}
	return k
}
