package panel

import (
	"math/rand/v2"
	"testing"
	"time"
)

// TestCalendarMatchesTime checks the integer date arithmetic of
// DayFromDate and MonthOf against package time (the reference) for every
// day from 1600 to 2400, and DayFromDate's normalization of days and
// months outside their ranges (handed to time.Date).
func TestCalendarMatchesTime(t *testing.T) {
	first := time.Date(1600, time.January, 1, 0, 0, 0, 0, time.UTC)
	last := time.Date(2400, time.December, 31, 0, 0, 0, 0, time.UTC)
	for tm := first; !tm.After(last); tm = tm.AddDate(0, 0, 1) {
		want := Day(tm.Unix() / 86400)
		y, m, d := tm.Date()
		if got := DayFromDate(y, m, d); got != want {
			t.Fatalf("DayFromDate(%d, %d, %d) = %d, time gives %d", y, m, d, got, want)
		}
		if got, want := MonthOf(want), Month((y-1970)*12+int(m)-1); got != want {
			t.Fatalf("MonthOf(%v) = %d, want %d", tm, got, want)
		}
		if cy, cm, cd := civilFromDays(int(want)); cy != y || cm != int(m) || cd != d {
			t.Fatalf("civilFromDays(%d) = %d-%d-%d, want %v", want, cy, cm, cd, tm)
		}
	}
	for _, c := range []struct {
		y    int
		m    time.Month
		d    int
		want string
	}{
		{2012, time.March, 0, "2012-02-29"},
		{2011, time.March, 0, "2011-02-28"},
		{2012, time.December, 32, "2013-01-01"},
		{2012, 13, 1, "2013-01-01"},
		{2012, 0, 31, "2011-12-31"},
		{2012, time.February, 30, "2012-03-01"},
		{1969, time.December, 31, "1969-12-31"},
	} {
		if got := DayFromDate(c.y, c.m, c.d).String(); got != c.want {
			t.Errorf("DayFromDate(%d, %d, %d) = %s, want %s", c.y, c.m, c.d, got, c.want)
		}
	}
}

// TestAgeYearsMatchesTime checks AgeYears (integer calendar fields)
// against the same rule on package time's fields over random pairs of
// days, with births on 29 February and ages at their birthdays included.
func TestAgeYearsMatchesTime(t *testing.T) {
	ref := func(birth, at Day) int {
		by, bm, bd := birth.Time().Date()
		ay, am, ad := at.Time().Date()
		age := ay - by
		if am < bm || (am == bm && ad < bd) {
			age--
		}
		return age
	}
	rng := rand.New(rand.NewPCG(11, 12))
	lo, hi := DayFromDate(1900, 1, 1), DayFromDate(2100, 12, 31)
	leap := DayFromDate(1996, 2, 29)
	for range 200000 {
		birth := lo + Day(rng.IntN(int(hi-lo)))
		if rng.IntN(10) == 0 {
			birth = leap
		}
		at := birth + Day(rng.IntN(40000))
		if rng.IntN(5) == 0 { // a birthday
			y, m, d := birth.Time().Date()
			at = DayFromDate(y+rng.IntN(90), m, d)
		}
		if got, want := AgeYears(birth, at), ref(birth, at); got != want {
			t.Fatalf("AgeYears(%v, %v) = %d, want %d", birth, at, got, want)
		}
	}
}
