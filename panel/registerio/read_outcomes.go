package registerio

import (
	"math/bits"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/psmeval/psmeval/panel"
)

// maxMonthSpan bounds the months an outcome table may span (100 years).
const maxMonthSpan = 1200

// bitRows is one bit per person and month for months origin ..
// origin+span-1, packed per person in words words.
type bitRows struct {
	words int
	bits  []uint64
}

func newBitRows(n, span int) bitRows {
	w := (span + 63) / 64
	return bitRows{words: w, bits: make([]uint64, n*w)}
}

func (b *bitRows) get(p, k int) bool { return b.bits[p*b.words+k/64]>>(uint(k)%64)&1 == 1 }
func (b *bitRows) set(p, k int)      { b.bits[p*b.words+k/64] |= 1 << (uint(k) % 64) }

// moved returns the rows with bit k moved to bit k+shift, keeping bits
// that land in [0, span). Cost: O(words + set bits) per person.
func (b *bitRows) moved(n, span, shift int) bitRows {
	out := newBitRows(n, span)
	for p := 0; p < n; p++ {
		row := b.bits[p*b.words : (p+1)*b.words]
		for wi, w := range row {
			for w != 0 {
				t := bits.TrailingZeros64(w)
				w &= w - 1
				if k := wi*64 + t + shift; k >= 0 && k < span {
					out.set(p, k)
				}
			}
		}
	}
	return out
}

// outcomeLongAcc accumulates long-form outcomes: the 1s of every outcome
// and which (person, month) rows were seen, over a growing month range.
type outcomeLongAcc struct {
	n      int
	names  []string
	start  bool
	origin panel.Month
	span   int
	// dataLo and dataHi are the first and last month of any row
	dataLo, dataHi panel.Month
	seen           bitRows
	vals           []bitRows
	has            []bool        // outcome k has a non-NULL value
	lo, hi         []panel.Month // its first and last non-NULL month
	// nulls[k][m] is the first row with a NULL for outcome k in month m
	nulls []map[panel.Month]int
	// hist[k] counts outcome k's non-NULL rows per month
	hist []unitHist
}

// month returns the offset of m, growing the range if needed. The months
// of all rows may span at most maxMonthSpan months (the wide reader
// checks the same); the buffer holds them plus some slack.
func (a *outcomeLongAcc) month(m panel.Month, loc colLoc, i int) (int, error) {
	if !a.start {
		a.start, a.origin, a.span = true, m, 64
		a.dataLo, a.dataHi = m, m
		a.seen = newBitRows(a.n, a.span)
		for k := range a.vals {
			a.vals[k] = newBitRows(a.n, a.span)
		}
	}
	a.dataLo, a.dataHi = min(a.dataLo, m), max(a.dataHi, m)
	k := int(m - a.origin)
	if k >= 0 && k < a.span {
		return k, nil
	}
	if int(a.dataHi-a.dataLo) >= maxMonthSpan {
		return 0, loc.err(i, "month %v makes the outcome months span more than %d months (%v..%v); check the dates", m, maxMonthSpan, a.dataLo, a.dataHi)
	}
	slack := panel.Month(min(max(int(a.dataHi-a.dataLo)/2, 12), maxMonthSpan))
	newOrigin, newEnd := a.dataLo, a.dataHi
	if k < 0 {
		newOrigin -= slack
	} else {
		newEnd += slack
	}
	newSpan, shift := int(newEnd-newOrigin)+1, int(a.origin-newOrigin)
	a.seen = a.seen.moved(a.n, newSpan, shift)
	for j := range a.vals {
		a.vals[j] = a.vals[j].moved(a.n, newSpan, shift)
	}
	a.origin, a.span = newOrigin, newSpan
	return int(m - a.origin), nil
}

func (l *Loader) readOutcomes(rr array.RecordReader, name string) error {
	cols, layout, err := longOrWide(rr.Schema(), name, TableOutcomes, l.opts.OutcomesLayout, ColMonth)
	if err != nil {
		return err
	}
	switch layout {
	case LayoutLong:
		return l.readOutcomesLong(rr, name, cols)
	case LayoutWide:
		return l.readOutcomesWide(rr, name, cols)
	}
	return dataErr("ReadOptions", "OutcomesLayout", -1, "unknown layout %v", layout)
}

func (l *Loader) readOutcomesLong(rr array.RecordReader, name string, cols map[string]int) error {
	monthCol, ok := cols[ColMonth]
	if !ok {
		return dataErr(name, ColMonth, -1, "missing column (long outcomes need id, month and one column per outcome)")
	}
	a := &outcomeLongAcc{n: len(l.reg.IDs)}
	var ocols []int
	for i, f := range rr.Schema().Fields() {
		if f.Name == ColID || f.Name == ColMonth {
			continue
		}
		a.names = append(a.names, f.Name)
		ocols = append(ocols, i)
	}
	if len(ocols) == 0 {
		return dataErr(name, "", -1, "no outcome columns (long outcomes need id, month and one column per outcome)")
	}
	K := len(ocols)
	a.vals = make([]bitRows, K)
	a.has = make([]bool, K)
	a.lo, a.hi = make([]panel.Month, K), make([]panel.Month, K)
	a.nulls = make([]map[panel.Month]int, K)
	a.hist = make([]unitHist, K)
	for k := range a.nulls {
		a.nulls[k] = map[panel.Month]int{}
	}
	var (
		ids    []int64
		pidx   []int32
		months []panel.Month
		flags  = make([][]int8, K)
	)
	err := l.forEachRecord(rr, name, func(rec arrow.Record, row0 int) error {
		var err error
		iloc := colLoc{name, ColID, row0}
		if ids, err = readInt64s(ids, rec.Column(cols[ColID]), iloc); err != nil {
			return err
		}
		if pidx, err = l.idx.persons(pidx, ids, iloc); err != nil {
			return err
		}
		mloc := colLoc{name, ColMonth, row0}
		if months, err = readMonths(months, rec.Column(monthCol), mloc); err != nil {
			return err
		}
		for k, c := range ocols {
			if flags[k], err = readFlags(flags[k], rec.Column(c), colLoc{name, a.names[k], row0}); err != nil {
				return err
			}
		}
		for i, p := range pidx {
			m := months[i]
			off, err := a.month(m, mloc, i)
			if err != nil {
				return err
			}
			if a.seen.get(int(p), off) {
				return mloc.err(i, "second row for person %d in month %v", ids[i], m)
			}
			a.seen.set(int(p), off)
			for k := range ocols {
				switch flags[k][i] {
				case -1:
					if _, ok := a.nulls[k][m]; !ok {
						a.nulls[k][m] = row0 + i
					}
					continue
				case 1:
					a.vals[k].set(int(p), off)
				}
				a.hist[k].add(int(m), row0+i)
				if !a.has[k] {
					a.has[k], a.lo[k], a.hi[k] = true, m, m
				} else if m < a.lo[k] {
					a.lo[k] = m
				} else if m > a.hi[k] {
					a.hi[k] = m
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for k, nm := range a.names {
		if !a.has[k] {
			return dataErr(name, nm, -1, "outcome has no observed month (every value is missing)")
		}
		if g, ok := a.hist[k].isolated(gapLimit(l.opts.MaxGapMonths, DefaultMaxGapMonths)); ok {
			return dataErr(name, ColMonth, g.row, "month %v of outcome %s %s", panel.Month(g.unit), nm,
				g.describe("months", func(u int) string { return panel.Month(u).String() }, "MaxGapMonths", gapLimit(l.opts.MaxGapMonths, DefaultMaxGapMonths)))
		}
		bad := -1
		var badM panel.Month
		for m, row := range a.nulls[k] {
			if m >= a.lo[k] && m <= a.hi[k] && (bad < 0 || row < bad) {
				bad, badM = row, m
			}
		}
		if bad >= 0 {
			h := &a.hist[k]
			return dataErr(name, nm, bad, "missing value in month %v, inside the outcome's observed months %v..%v (missing is allowed only before the first or after the last observed month; the first observed month is from row %d, the last from row %d)",
				badM, a.lo[k], a.hi[k], h.first[int(a.lo[k])-h.origin], h.first[int(a.hi[k])-h.origin])
		}
		span := int(a.hi[k]-a.lo[k]) + 1
		moved := a.vals[k].moved(a.n, span, -int(a.lo[k]-a.origin))
		l.reg.Outcomes = append(l.reg.Outcomes, panel.Outcome{Name: nm, FirstMonth: a.lo[k], Months: span, Bits: moved.bits})
		a.vals[k] = bitRows{}
	}
	return nil
}

func (l *Loader) readOutcomesWide(rr array.RecordReader, name string, cols map[string]int) error {
	type ocol struct {
		col int
		m   panel.Month
	}
	groups := map[string][]ocol{}
	var order []string
	for i, f := range rr.Schema().Fields() {
		if f.Name == ColID {
			continue
		}
		nm, m, ok := wideOutcomeColumn(f.Name)
		if !ok {
			return dataErr(name, f.Name, -1, "unexpected column: wide outcome columns are named <outcome>_YYYY-MM; long outcomes have id, month and one column per outcome")
		}
		if _, ok := groups[nm]; !ok {
			order = append(order, nm)
		}
		groups[nm] = append(groups[nm], ocol{i, m})
	}
	if len(order) == 0 {
		return dataErr(name, "", -1, "no outcome columns (wide outcomes need columns named <outcome>_YYYY-MM)")
	}
	n := len(l.reg.IDs)
	type target struct {
		o   int // outcome index
		off int // month offset
	}
	targets := make([]target, len(rr.Schema().Fields()))
	for i := range targets {
		targets[i].o = -1
	}
	// the months of all outcomes share the long layout's month column, so
	// together they must fit in the long reader's span
	var lo, hi ocol
	for _, nm := range order {
		for _, c := range groups[nm] {
			if lo.col == 0 || c.m < lo.m {
				lo = c
			}
			if hi.col == 0 || c.m > hi.m {
				hi = c
			}
		}
	}
	if int(hi.m-lo.m) >= maxMonthSpan {
		return dataErr(name, rr.Schema().Field(hi.col).Name, -1, "the outcome months span %v..%v, more than %d months; check the column names", lo.m, hi.m, maxMonthSpan)
	}
	base := len(l.reg.Outcomes)
	for oi, nm := range order {
		g := groups[nm]
		sort.Slice(g, func(a, b int) bool { return g[a].m < g[b].m })
		for k := 1; k < len(g); k++ {
			cn := rr.Schema().Field(g[k].col).Name
			if g[k].m == g[k-1].m {
				return dataErr(name, cn, -1, "outcome month column appears twice")
			}
			if g[k].m != g[k-1].m+1 {
				return dataErr(name, cn, -1, "outcome %q has no column for month %v: the months of an outcome must be consecutive", nm, g[k-1].m+1)
			}
		}
		if len(g) > maxMonthSpan {
			return dataErr(name, nm, -1, "more than %d months", maxMonthSpan)
		}
		l.reg.Outcomes = append(l.reg.Outcomes, panel.NewOutcome(nm, n, g[0].m, len(g)))
		for _, c := range g {
			targets[c.col] = target{base + oi, int(c.m - g[0].m)}
		}
	}
	seen := make([]int32, n)
	for i := range seen {
		seen[i] = -1
	}
	var (
		ids   []int64
		pidx  []int32
		flags []int8
	)
	err := l.forEachRecord(rr, name, func(rec arrow.Record, row0 int) error {
		var err error
		iloc := colLoc{name, ColID, row0}
		if ids, err = readInt64s(ids, rec.Column(cols[ColID]), iloc); err != nil {
			return err
		}
		if pidx, err = l.idx.persons(pidx, ids, iloc); err != nil {
			return err
		}
		for i, p := range pidx {
			if seen[p] >= 0 {
				return iloc.err(i, "second row for person %d (first at row %d)", ids[i], seen[p])
			}
			seen[p] = int32(row0 + i)
		}
		for c, t := range targets {
			if t.o < 0 {
				continue
			}
			loc := colLoc{name, rr.Schema().Field(c).Name, row0}
			if flags, err = readFlags(flags, rec.Column(c), loc); err != nil {
				return err
			}
			o := &l.reg.Outcomes[t.o]
			W := o.Words()
			word, bit := t.off/64, uint64(1)<<(uint(t.off)%64)
			for i, f := range flags {
				switch f {
				case -1:
					return loc.err(i, "missing value (in wide outcomes every month column of an outcome must be 0 or 1)")
				case 1:
					o.Bits[int(pidx[i])*W+word] |= bit
				}
			}
		}
		return nil
	})
	if err != nil {
		l.reg.Outcomes = l.reg.Outcomes[:base]
	}
	return err
}
