package registerio

import "fmt"

// Default gap limits of ReadOptions.MaxGapMonths and MaxGapWeeks.
const (
	DefaultMaxGapMonths = 24
	DefaultMaxGapWeeks  = 104
)

// unitHist counts the rows of a table per time unit (month or week) and
// remembers the first row of each, to find dates isolated from the rest
// of the table by a long stretch without any row: one stray row in 2099
// must not silently stretch an outcome's observed months or the status
// grid. It grows in both directions; memory is 12 bytes per unit between
// the first and the last unit seen.
type unitHist struct {
	origin int // unit of index 0
	count  []int64
	first  []int32 // first row with the unit (valid where count > 0)
}

func (h *unitHist) add(u, row int) {
	if h.count == nil {
		h.origin = u
		h.count, h.first = make([]int64, 16), make([]int32, 16)
	}
	k := u - h.origin
	if k < 0 {
		shift := -k + max(len(h.count)/2, 16)
		count, first := make([]int64, len(h.count)+shift), make([]int32, len(h.count)+shift)
		copy(count[shift:], h.count)
		copy(first[shift:], h.first)
		h.origin -= shift
		h.count, h.first, k = count, first, k+shift
	} else if k >= len(h.count) {
		n := k + 1 + max(len(h.count)/2, 16)
		count, first := make([]int64, n), make([]int32, n)
		copy(count, h.count)
		copy(first, h.first)
		h.count, h.first = count, first
	}
	if h.count[k] == 0 || int32(row) < h.first[k] {
		h.first[k] = int32(row)
	}
	h.count[k]++
}

// isolated looks for units separated from the bulk of the rows by more
// than maxGap units without any row (maxGap < 0: no check). The bulk is
// the block (run of units with gaps of at most maxGap) holding the most
// rows. It returns the first row of the other blocks (the lowest row
// number), that row's unit, the bulk's first and last unit and rows, the
// gap between the two blocks, and the rows outside the bulk; ok is false
// when every unit lies in one block.
func (h *unitHist) isolated(maxGap int) (g gapReport, ok bool) {
	if maxGap < 0 || h.count == nil {
		return g, false
	}
	type block struct {
		lo, hi int
		rows   int64
	}
	var blocks []block
	last := -1
	for k, c := range h.count {
		if c == 0 {
			continue
		}
		if last < 0 || k-last-1 > maxGap {
			blocks = append(blocks, block{lo: k})
		}
		b := &blocks[len(blocks)-1]
		b.hi, b.rows, last = k, b.rows+c, k
	}
	if len(blocks) < 2 {
		return g, false
	}
	bulk := 0
	for i, b := range blocks {
		if b.rows > blocks[bulk].rows {
			bulk = i
		}
	}
	g.row = -1
	for i, b := range blocks {
		if i == bulk {
			continue
		}
		g.outside += b.rows
		for k := b.lo; k <= b.hi; k++ {
			if h.count[k] > 0 && (g.row < 0 || int(h.first[k]) < g.row) {
				g.row, g.unit = int(h.first[k]), h.origin+k
				if k < blocks[bulk].lo {
					g.gap = blocks[bulk].lo - b.hi - 1
				} else {
					g.gap = b.lo - blocks[bulk].hi - 1
				}
			}
		}
	}
	b := blocks[bulk]
	g.bulkLo, g.bulkHi, g.bulkRows = h.origin+b.lo, h.origin+b.hi, b.rows
	return g, true
}

// gapReport describes rows isolated from the bulk of a table.
type gapReport struct {
	row            int   // first isolated row
	unit           int   // its unit
	gap            int   // units without any row between it and the bulk
	outside        int64 // rows outside the bulk
	bulkLo, bulkHi int   // the bulk's units
	bulkRows       int64 // and rows
}

// describe is the error message after "<what> <unit> ": where the
// isolated rows lie relative to the bulk, and what to do.
func (g gapReport) describe(units string, fmtUnit func(int) string, option string, limit int) string {
	return fmt.Sprintf("is separated from the other %d rows (%s..%s) by %d %s without any row; %d row(s) lie beyond that gap: "+
		"check the date, or raise ReadOptions.%s (%d) if the data are right",
		g.bulkRows, fmtUnit(g.bulkLo), fmtUnit(g.bulkHi), g.gap, units, g.outside, option, limit)
}

// gapLimit returns the limit set by an option: 0 means def, negative
// means no check.
func gapLimit(opt, def int) int {
	if opt == 0 {
		return def
	}
	return opt
}
