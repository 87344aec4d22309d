package registerio

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/psmeval/psmeval/panel"
)

// Table names one of the four tables of a register directory. Its value
// is also the base name of the table's file (persons.csv, status.parquet,
// ...). The file schema is described in the package documentation.
type Table string

// The tables of a register directory.
const (
	TablePersons  Table = "persons"
	TableStatus   Table = "status"
	TableOutcomes Table = "outcomes"
	TableSpells   Table = "spells"
)

// Tables lists the tables in the order they are read.
var Tables = []Table{TablePersons, TableStatus, TableOutcomes, TableSpells}

func (t Table) valid() bool {
	switch t {
	case TablePersons, TableStatus, TableOutcomes, TableSpells:
		return true
	}
	return false
}

// Format is a file format for register tables.
type Format int

const (
	// FormatAuto: reading, detect from the file name (".csv", ".csv.gz",
	// ".parquet") or, for a stream, from its first bytes; writing, Parquet.
	FormatAuto Format = iota
	// FormatCSV is comma-separated text with a header row, UTF-8 (a BOM is
	// accepted), LF or CRLF line ends, RFC 4180 quoting; gzip-compressed
	// input is detected from its magic bytes.
	FormatCSV
	// FormatParquet is Apache Parquet with flat columns.
	FormatParquet
)

func (f Format) String() string {
	switch f {
	case FormatAuto:
		return "auto"
	case FormatCSV:
		return "csv"
	case FormatParquet:
		return "parquet"
	}
	return fmt.Sprintf("Format(%d)", int(f))
}

// Layout is the shape of the status or outcomes table.
type Layout int

const (
	// LayoutAuto: reading, detect from the column names (a "week" or
	// "month" column means long); writing, wide status and long outcomes.
	LayoutAuto Layout = iota
	// LayoutLong has one row per person and week (status: id, week, code)
	// or person and month (outcomes: id, month, one column per outcome).
	LayoutLong
	// LayoutWide has one row per person and one column per week (status,
	// named by the week's first day "YYYY-MM-DD", as DREAM ships it) or per
	// outcome and month (outcomes, named "<outcome>_YYYY-MM").
	LayoutWide
)

func (l Layout) String() string {
	switch l {
	case LayoutAuto:
		return "auto"
	case LayoutLong:
		return "long"
	case LayoutWide:
		return "wide"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// Column names of the file schema.
const (
	ColID    = "id"
	ColBirth = "birth"
	ColWeek  = "week"
	ColCode  = "code"
	ColMonth = "month"
	ColStart = "start"
	ColEnd   = "end"
	ColHours = "hours"
)

// isMissingToken reports whether a text value means "missing" in a
// persons attribute, an outcome indicator, hours, or any column where a
// missing value is an error: the empty string, "NA", "NaN", "NULL" and
// "null". Status codes are the exception: there "" is the no-benefit level
// and other strings are taken literally.
func isMissingToken(s string) bool {
	switch s {
	case "", "NA", "NaN", "NULL", "null":
		return true
	}
	return false
}

// sortedLevels returns the distinct levels in byte-wise ascending order
// (so "" sorts first) and the map from a provisional code (index into
// levels as first seen) to the code in the sorted order.
func sortedLevels(levels []string) (sorted []string, remap []int) {
	sorted = append([]string(nil), levels...)
	sort.Strings(sorted)
	pos := make(map[string]int, len(sorted))
	for i, l := range sorted {
		pos[l] = i
	}
	remap = make([]int, len(levels))
	for i, l := range levels {
		remap[i] = pos[l]
	}
	return sorted, remap
}

// parseISODay parses "YYYY-MM-DD" without allocating. It accepts exactly
// what time.Parse("2006-01-02", s) accepts for years 0000..9999.
func parseISODay(s string) (panel.Day, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return 0, false
	}
	y, ok1 := digits(s[0:4])
	m, ok2 := digits(s[5:7])
	d, ok3 := digits(s[8:10])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return 0, false
	}
	return panel.Day(daysFromCivil(y, m, d)), true
}

// parseISOMonth parses "YYYY-MM", or "YYYY-MM-01" (the month's first day).
func parseISOMonth(s string) (panel.Month, bool) {
	switch len(s) {
	case 7:
		if s[4] != '-' {
			return 0, false
		}
		y, ok1 := digits(s[0:4])
		m, ok2 := digits(s[5:7])
		if !ok1 || !ok2 || m < 1 || m > 12 {
			return 0, false
		}
		return panel.Month((y-1970)*12 + m - 1), true
	case 10:
		d, ok := parseISODay(s)
		if !ok || s[8:10] != "01" {
			return 0, false
		}
		return panel.MonthOf(d), true
	}
	return 0, false
}

func digits(s string) (int, bool) {
	v := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the days since 1970-01-01 of a proleptic Gregorian
// date (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// wideOutcomeColumn splits a wide outcome column name "<outcome>_YYYY-MM"
// at its last underscore.
func wideOutcomeColumn(name string) (outcome string, m panel.Month, ok bool) {
	k := strings.LastIndexByte(name, '_')
	if k <= 0 {
		return "", 0, false
	}
	m, ok = parseISOMonth(name[k+1:])
	if !ok || len(name)-k-1 != 7 {
		return "", 0, false
	}
	// header names are trimmed, so the outcome name is too: a long
	// table's header could not hold it otherwise
	outcome = strings.TrimSpace(name[:k])
	return outcome, m, outcome != ""
}

// wideOutcomeName is the column name of outcome name in month m.
func wideOutcomeName(name string, m panel.Month) string { return name + "_" + m.String() }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = strconv.Quote(n)
	}
	return strings.Join(q, ", ")
}
