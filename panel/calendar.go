package panel

import (
	"fmt"
	"time"
)

// Day is a calendar date counted in days since 1970-01-01 (UTC). Register
// data store dates as Days: four bytes, no time zone, cheap to compare.
type Day int32

// DayOf returns the Day of t's calendar date in t's location.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	return Day(time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400)
}

// DayFromDate returns the Day of the given calendar date. Months and days
// outside their ranges are normalized as time.Date does (day 0 is the last
// day of the month before).
func DayFromDate(year int, month time.Month, day int) Day {
	if month < time.January || month > time.December || day < 1 || day > 28 {
		return DayOf(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
	}
	return Day(daysFromCivil(year, int(month), day))
}

// daysFromCivil returns the days since 1970-01-01 of the proleptic
// Gregorian date y-m-d (1 <= m <= 12, d a day of that month), by the
// integer algorithm of H. Hinnant ("chrono-compatible low-level date
// algorithms"): years counted from March, in 400-year eras of 146,097
// days. It equals time.Date's count and costs a few integer operations.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400 // [0, 399]
	mp := (m + 9) % 12 // March = 0
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy // [0, 146096]
	return era*146097 + doe - 719468
}

// civilFromDays is the inverse of daysFromCivil: the year, month (1..12)
// and day of the month of the day z days after 1970-01-01.
func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := floorDiv(z, 146097)
	doe := z - era*146097                                  // [0, 146096]
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365 // [0, 399]
	doy := doe - (365*yoe + yoe/4 - yoe/100)               // [0, 365]
	mp := (5*doy + 2) / 153                                // March = 0
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	y = yoe + era*400
	if m <= 2 {
		y++
	}
	return y, m, d
}

// ParseDay parses an ISO date "2006-01-02".
func ParseDay(s string) (Day, error) {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		return 0, fmt.Errorf("panel: date %q is not of the form YYYY-MM-DD", s)
	}
	return DayOf(t), nil
}

// Time returns midnight UTC of d.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String formats d as YYYY-MM-DD.
func (d Day) String() string { return d.Time().Format("2006-01-02") }

// Weekday returns the day of the week of d.
func (d Day) Weekday() time.Weekday { return time.Weekday((int(d)%7 + 7 + 4) % 7) } // 1970-01-01 was a Thursday

// Month is a calendar month counted from January 1970 (0 = 1970-01).
type Month int32

// MonthOf returns the calendar month containing d.
func MonthOf(d Day) Month {
	y, m, _ := civilFromDays(int(d))
	return MonthFromDate(y, time.Month(m))
}

// MonthFromDate returns the Month of year and month.
func MonthFromDate(year int, month time.Month) Month {
	return Month((year-1970)*12 + int(month) - 1)
}

// ParseMonth parses "2006-01".
func ParseMonth(s string) (Month, error) {
	t, err := time.Parse("2006-01", s)
	if err != nil {
		return 0, fmt.Errorf("panel: month %q is not of the form YYYY-MM", s)
	}
	return MonthFromDate(t.Year(), t.Month()), nil
}

// Year returns the calendar year and month of m.
func (m Month) Date() (int, time.Month) {
	mm := int(m)
	y := 1970 + floorDiv(mm, 12)
	return y, time.Month(mm - (y-1970)*12 + 1)
}

// FirstDay returns the first day of m.
func (m Month) FirstDay() Day {
	y, mo := m.Date()
	return DayFromDate(y, mo, 1)
}

// String formats m as YYYY-MM.
func (m Month) String() string {
	y, mo := m.Date()
	return fmt.Sprintf("%04d-%02d", y, int(mo))
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
