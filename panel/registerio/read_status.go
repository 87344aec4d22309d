package registerio

import (
	"bytes"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/psmeval/psmeval/panel"
)

// maxWeekSpan bounds the weeks a status grid inferred from the data may
// span (100 years), so that one mistyped date cannot make the reader
// allocate a grid of centuries.
const maxWeekSpan = 5218

// levelMap assigns provisional status codes 1..255 to code strings in the
// order first seen (0 means "no data for this cell"). NULL counts as "".
type levelMap struct {
	fixed  bool
	index  map[string]byte
	levels []string // levels[c-1] has provisional code c
	// one-entry cache: runs of equal codes are common
	lastS  string
	lastC  byte
	lastOK bool
}

func newLevelMap(fixed []string) (*levelMap, error) {
	m := &levelMap{index: map[string]byte{}}
	if fixed != nil {
		if len(fixed) > 255 {
			return nil, dataErr("ReadOptions", "StatusLevels", -1, "has %d levels; at most 255 are supported", len(fixed))
		}
		for _, s := range fixed {
			if _, dup := m.index[s]; dup {
				return nil, dataErr("ReadOptions", "StatusLevels", -1, "level %q is listed twice", s)
			}
			m.levels = append(m.levels, s)
			m.index[s] = byte(len(m.levels))
		}
		m.fixed = true
	}
	return m, nil
}

// code returns the provisional code of s.
func (m *levelMap) code(s string, loc colLoc, i int) (byte, error) {
	if m.lastOK && s == m.lastS {
		return m.lastC, nil
	}
	c, ok := m.index[s]
	if !ok {
		if m.fixed {
			return 0, loc.err(i, "status code %q is not in ReadOptions.StatusLevels", s)
		}
		if len(m.levels) == 255 {
			return 0, loc.err(i, "more than 255 distinct status codes (at code %q)", s)
		}
		s = strings.Clone(s)
		m.levels = append(m.levels, s)
		c = byte(len(m.levels))
		m.index[s] = c
	}
	// keep the library's copy: s may be a view into an Arrow buffer
	m.lastS, m.lastC, m.lastOK = m.levels[c-1], c, true
	return c, nil
}

// codes converts a column of status codes to provisional codes.
func (m *levelMap) codes(dst []byte, arr arrow.Array, loc colLoc) ([]byte, error) {
	n := arr.Len()
	dst = dst[:0]
	if d, ok := arr.(*array.Dictionary); ok {
		dget, ok := strGetter(d.Dictionary())
		if !ok {
			return nil, loc.typeErr(arr, "text")
		}
		// Map dictionary entries lazily, so that unused entries add no
		// level; -1 marks an entry not yet mapped.
		dmap := make([]int16, d.Dictionary().Len())
		for k := range dmap {
			dmap[k] = -1
		}
		var i32 []int32
		if ix, ok := d.Indices().(*array.Int32); ok {
			i32 = ix.Int32Values()
		}
		hasNull := d.NullN() > 0
		for i := 0; i < n; i++ {
			if hasNull && d.IsNull(i) {
				c, err := m.code("", loc, i)
				if err != nil {
					return nil, err
				}
				dst = append(dst, c)
				continue
			}
			var k int
			if i32 != nil {
				k = int(i32[i])
			} else {
				k = d.GetValueIndex(i)
			}
			if k < 0 || k >= len(dmap) {
				return nil, loc.err(i, "dictionary index %d out of range", k)
			}
			if c := dmap[k]; c >= 0 {
				dst = append(dst, byte(c))
				continue
			}
			s, _ := dget(k)
			c, err := m.code(s, loc, i)
			if err != nil {
				return nil, err
			}
			dmap[k] = int16(c)
			dst = append(dst, c)
		}
		return dst, nil
	}
	get, ok := strGetter(arr)
	if !ok {
		return nil, loc.typeErr(arr, "text")
	}
	for i := 0; i < n; i++ {
		s, _ := get(i) // NULL gives ""
		c, err := m.code(s, loc, i)
		if err != nil {
			return nil, err
		}
		dst = append(dst, c)
	}
	return dst, nil
}

// statusAcc accumulates the status grid with provisional codes.
type statusAcc struct {
	name  string
	n     int
	fixed bool
	first panel.Day // first day of buffer week 0 (valid once started)
	weeks int       // weeks in the buffer
	codes []byte
	start bool
	lo    int // lowest and highest buffer week with data
	hi    int
	lv    *levelMap
}

func newStatusAcc(n int, opts *ReadOptions, name string) (*statusAcc, error) {
	lv, err := newLevelMap(opts.StatusLevels)
	if err != nil {
		return nil, err
	}
	g := &statusAcc{name: name, n: n, lv: lv, lo: 1 << 30, hi: -1}
	if opts.Weeks < 0 {
		return nil, dataErr("ReadOptions", "Weeks", -1, "is negative (%d)", opts.Weeks)
	}
	if opts.Weeks > 0 {
		g.fixed, g.start = true, true
		g.first, g.weeks = opts.FirstWeek, opts.Weeks
		g.codes = make([]byte, n*g.weeks)
	}
	return g, nil
}

// startAt allocates the buffer around day d (weeks weeks from d).
func (g *statusAcc) startAt(d panel.Day, weeks int) {
	g.first, g.weeks, g.start = d, weeks, true
	g.codes = make([]byte, g.n*weeks)
}

// week returns the buffer week of day d, growing the buffer if needed.
func (g *statusAcc) week(d panel.Day, loc colLoc, i int) (int, error) {
	if !g.start {
		g.startAt(d, 64)
	}
	off := int(d - g.first)
	if off%7 != 0 {
		return 0, loc.err(i, "week %v is not on the weekly grid (weeks start on %ss, such as %v)", d, g.first.Weekday(), g.first)
	}
	w := floorDiv(off, 7)
	if w >= 0 && w < g.weeks {
		return w, nil
	}
	if g.fixed {
		return 0, loc.err(i, "week %v is outside the status grid %v..%v (ReadOptions.FirstWeek, Weeks)", d, g.first, g.lastWeekStart())
	}
	lo, hi := min(g.lo, w), max(g.hi, w)
	if g.hi < 0 {
		lo, hi = w, w
	}
	if hi-lo+1 > maxWeekSpan {
		return 0, loc.err(i, "week %v makes the status weeks span more than %d weeks (%v..%v); check the dates or set ReadOptions.FirstWeek and Weeks",
			d, maxWeekSpan, g.first+panel.Day(7*lo), g.first+panel.Day(7*hi))
	}
	g.grow(w)
	return floorDiv(int(d-g.first), 7), nil
}

// lastWeekStart returns the first day of the last buffer week.
func (g *statusAcc) lastWeekStart() panel.Day { return g.first + panel.Day(7*(g.weeks-1)) }

// grow re-lays the buffer so that week w fits, with slack so that a file
// sorted by week causes few re-layouts.
func (g *statusAcc) grow(w int) {
	slack := max(g.weeks/4, 16)
	newFirst, newWeeks, shift := g.first, g.weeks, 0
	if w < 0 {
		shift = -w + slack
		newFirst = g.first - panel.Day(7*shift)
		newWeeks += shift
	} else {
		newWeeks = w + 1 + slack
	}
	g.relayout(newFirst, newWeeks, shift)
}

// relayout copies the buffer into one of newWeeks weeks in which old week
// w is week w+shift (shift may be negative when trimming).
func (g *statusAcc) relayout(newFirst panel.Day, newWeeks, shift int) {
	codes := make([]byte, g.n*newWeeks)
	// old weeks [a, b) land in new weeks [a+shift, b+shift)
	a, b := max(0, -shift), min(g.weeks, newWeeks-shift)
	if a < b {
		for p := 0; p < g.n; p++ {
			copy(codes[p*newWeeks+a+shift:p*newWeeks+b+shift], g.codes[p*g.weeks+a:p*g.weeks+b])
		}
	}
	g.codes, g.first, g.weeks = codes, newFirst, newWeeks
	if g.hi >= 0 {
		g.lo += shift
		g.hi += shift
	}
}

func (g *statusAcc) mark(w int) {
	if w < g.lo {
		g.lo = w
	}
	if w > g.hi {
		g.hi = w
	}
}

// finish trims the grid, fixes the levels and stores the grid in reg.
func (g *statusAcc) finish(reg *panel.Register) error {
	if !g.start {
		return dataErr(g.name, "", -1, "no rows: the status grid has no weeks (set ReadOptions.FirstWeek and Weeks for an empty table)")
	}
	if !g.fixed && (g.lo != 0 || g.hi != g.weeks-1) {
		g.relayout(g.first+panel.Day(7*g.lo), g.hi-g.lo+1, -g.lo)
	}
	// Provisional code 0 (no data) is the level "".
	empty := bytes.IndexByte(g.codes, 0) >= 0
	var levels []string
	var lut [256]byte
	if g.lv.fixed {
		levels = g.lv.levels
		for c := range levels {
			lut[c+1] = byte(c)
		}
		if empty {
			k, ok := g.lv.index[""]
			if !ok {
				return dataErr(g.name, "", -1, "some persons or weeks have no status data (level \"\"), but ReadOptions.StatusLevels does not list \"\"")
			}
			lut[0] = k - 1
		}
	} else {
		all := g.lv.levels
		if _, ok := g.lv.index[""]; !ok && empty {
			all = append(all[:len(all):len(all)], "")
		}
		if len(all) > 256 {
			return dataErr(g.name, "", -1, "more than 256 status levels")
		}
		sorted, remap := sortedLevels(all)
		for c := range g.lv.levels {
			lut[c+1] = byte(remap[c])
		}
		if k := indexOf(sorted, ""); k >= 0 {
			lut[0] = byte(k)
		}
		levels = sorted
	}
	identity := true
	for c := 0; c <= len(g.lv.levels); c++ {
		if lut[c] != byte(c) {
			identity = false
			break
		}
	}
	if !identity {
		remapCodes(g.codes, &lut)
	}
	if levels == nil {
		levels = []string{""}
	}
	reg.Status = panel.StatusGrid{FirstWeek: g.first, Weeks: g.weeks, Codes: g.codes, Levels: levels}
	g.codes = nil
	return nil
}

func remapCodes(codes []byte, lut *[256]byte) {
	for i, c := range codes {
		codes[i] = lut[c]
	}
}

func indexOf(xs []string, s string) int {
	for i, x := range xs {
		if x == s {
			return i
		}
	}
	return -1
}

// longOrWide indexes the columns of a table that comes long or wide,
// requires the id column, and resolves LayoutAuto: long when the column
// only the long form has (key: week or month) is present, else wide.
func longOrWide(schema *arrow.Schema, name string, t Table, layout Layout, key string) (map[string]int, Layout, error) {
	cols, err := columnIndex(schema, name)
	if err != nil {
		return nil, 0, err
	}
	if _, ok := cols[ColID]; !ok {
		return nil, 0, dataErr(name, ColID, -1, "missing column (%s needs %q)", t, ColID)
	}
	if layout == LayoutAuto {
		layout = LayoutWide
		if _, ok := cols[key]; ok {
			layout = LayoutLong
		}
	}
	return cols, layout, nil
}

// readStatus reads the status table, long (id, week, code) or wide (id,
// one column per week named by its first day).
func (l *Loader) readStatus(rr array.RecordReader, name string) error {
	cols, layout, err := longOrWide(rr.Schema(), name, TableStatus, l.opts.StatusLayout, ColWeek)
	if err != nil {
		return err
	}
	g, err := newStatusAcc(len(l.reg.IDs), &l.opts, name)
	if err != nil {
		return err
	}
	switch layout {
	case LayoutLong:
		err = l.readStatusLong(rr, name, cols, g)
	case LayoutWide:
		err = l.readStatusWide(rr, name, cols, g)
	default:
		err = dataErr("ReadOptions", "StatusLayout", -1, "unknown layout %v", layout)
	}
	if err != nil {
		return err
	}
	l.status = g
	return nil
}

func (l *Loader) readStatusLong(rr array.RecordReader, name string, cols map[string]int, g *statusAcc) error {
	for _, c := range []string{ColWeek, ColCode} {
		if _, ok := cols[c]; !ok {
			return dataErr(name, c, -1, "missing column (long status needs id, week, code)")
		}
	}
	for _, f := range rr.Schema().Fields() {
		if f.Name != ColID && f.Name != ColWeek && f.Name != ColCode {
			return dataErr(name, f.Name, -1, "unexpected column (long status has exactly id, week, code)")
		}
	}
	var (
		ids   []int64
		pidx  []int32
		days  []panel.Day
		codes []byte
		err   error
		hist  unitHist
	)
	err = l.forEachRecord(rr, name, func(rec arrow.Record, row0 int) error {
		if ids, err = readInt64s(ids, rec.Column(cols[ColID]), colLoc{name, ColID, row0}); err != nil {
			return err
		}
		if pidx, err = l.idx.persons(pidx, ids, colLoc{name, ColID, row0}); err != nil {
			return err
		}
		wloc := colLoc{name, ColWeek, row0}
		if days, err = readDays(days, rec.Column(cols[ColWeek]), wloc); err != nil {
			return err
		}
		if codes, err = g.lv.codes(codes, rec.Column(cols[ColCode]), colLoc{name, ColCode, row0}); err != nil {
			return err
		}
		for i, p := range pidx {
			w, err := g.week(days[i], wloc, i)
			if err != nil {
				return err
			}
			k := int(p)*g.weeks + w
			if g.codes[k] != 0 {
				return wloc.err(i, "second row for person %d in week %v", ids[i], days[i])
			}
			g.codes[k] = codes[i]
			g.mark(w)
			if !g.fixed {
				hist.add(floorDiv7(days[i]), row0+i)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	limit := gapLimit(l.opts.MaxGapWeeks, DefaultMaxGapWeeks)
	if gr, ok := hist.isolated(limit); ok {
		onGrid := func(u int) string { return (g.first + panel.Day(7*(u-floorDiv7(g.first)))).String() }
		return dataErr(name, ColWeek, gr.row, "week %v %s (or fix the grid with ReadOptions.FirstWeek and Weeks)",
			onGrid(gr.unit), gr.describe("weeks", onGrid, "MaxGapWeeks", limit))
	}
	return nil
}

// floorDiv7 is the number of the 7-day period holding d (periods start on
// the weekday of day 0, rounding down for days before 1970).
func floorDiv7(d panel.Day) int {
	q := int(d) / 7
	if int(d)%7 < 0 {
		q--
	}
	return q
}

func (l *Loader) readStatusWide(rr array.RecordReader, name string, cols map[string]int, g *statusAcc) error {
	type weekCol struct {
		col int
		day panel.Day
	}
	var wcols []weekCol
	for i, f := range rr.Schema().Fields() {
		if f.Name == ColID {
			continue
		}
		d, ok := parseISODay(f.Name)
		if !ok {
			return dataErr(name, f.Name, -1, "unexpected column: wide status columns are id and one column per week named by its first day (YYYY-MM-DD); long status has id, week, code")
		}
		wcols = append(wcols, weekCol{i, d})
	}
	if len(wcols) == 0 {
		return dataErr(name, "", -1, "no week columns (wide status needs columns named YYYY-MM-DD)")
	}
	sort.Slice(wcols, func(a, b int) bool { return wcols[a].day < wcols[b].day })
	for k := 1; k < len(wcols); k++ {
		name2 := rr.Schema().Field(wcols[k].col).Name
		switch gap := wcols[k].day - wcols[k-1].day; {
		case gap == 0:
			return dataErr(name, name2, -1, "week column appears twice")
		case gap != 7:
			return dataErr(name, name2, -1, "week columns must be 7 days apart with none missing: %v follows %v", wcols[k].day, wcols[k-1].day)
		}
	}
	if !g.start {
		if len(wcols) > maxWeekSpan {
			return dataErr(name, "", -1, "%d week columns; at most %d are supported", len(wcols), maxWeekSpan)
		}
		g.startAt(wcols[0].day, len(wcols))
	}
	// buffer week of each column
	widx := make([]int, len(wcols))
	for k, wc := range wcols {
		w, err := g.week(wc.day, colLoc{name, rr.Schema().Field(wc.col).Name, -1}, 0)
		if err != nil {
			return err
		}
		widx[k] = w
		g.mark(w)
	}
	seen := make([]int32, len(l.reg.IDs))
	for i := range seen {
		seen[i] = -1
	}
	var (
		ids        []int64
		pidx       []int32
		codes      []byte
		chunkCodes []byte
		err        error
	)
	idCol := cols[ColID]
	return l.forEachRecord(rr, name, func(rec arrow.Record, row0 int) error {
		iloc := colLoc{name, ColID, row0}
		if ids, err = readInt64s(ids, rec.Column(idCol), iloc); err != nil {
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
		// Convert every week column of the chunk (sequential writes),
		// then scatter into the grid in blocks of rows, so that a block of
		// grid rows stays in cache while its weeks are filled.
		nr := len(pidx)
		if cap(chunkCodes) < nr*len(wcols) {
			chunkCodes = make([]byte, nr*len(wcols))
		}
		chunkCodes = chunkCodes[:nr*len(wcols)]
		for k, wc := range wcols {
			arr := rec.Column(wc.col)
			if codes, err = g.lv.codes(codes, arr, colLoc{name, rr.Schema().Field(wc.col).Name, row0}); err != nil {
				return err
			}
			copy(chunkCodes[k*nr:(k+1)*nr], codes)
		}
		W, grid := g.weeks, g.codes
		const block = 64
		for b0 := 0; b0 < nr; b0 += block {
			b1 := min(nr, b0+block)
			for i, p := range pidx[b0:b1] {
				row := grid[int(p)*W : int(p)*W+W]
				src := chunkCodes[b0+i:]
				for k, w := range widx {
					row[w] = src[k*nr]
				}
			}
		}
		return nil
	})
}
