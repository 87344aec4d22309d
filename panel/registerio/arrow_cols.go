package registerio

import (
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/psmeval/psmeval/panel"
)

// colLoc says where a column chunk lies, for error messages: the table or
// file name, the column name, and the file row of the chunk's first value.
type colLoc struct {
	table string
	col   string
	row0  int
}

func (l colLoc) err(i int, format string, args ...any) error {
	return dataErr(l.table, l.col, l.row0+i, format, args...)
}

func (l colLoc) typeErr(arr arrow.Array, want string) error {
	return dataErr(l.table, l.col, -1, "has type %s, want %s", arr.DataType(), want)
}

// strGetter returns a function giving value i of a text column (string,
// large string, binary, or a dictionary of those) and whether it is
// non-NULL; ok is false if arr holds no text. The returned strings are
// views into Arrow buffers: clone them before keeping them.
func strGetter(arr arrow.Array) (get func(i int) (string, bool), ok bool) {
	switch a := arr.(type) {
	case *array.String:
		return func(i int) (string, bool) {
			if a.IsNull(i) {
				return "", false
			}
			return a.Value(i), true
		}, true
	case *array.LargeString:
		return func(i int) (string, bool) {
			if a.IsNull(i) {
				return "", false
			}
			return a.Value(i), true
		}, true
	case *array.Binary:
		return func(i int) (string, bool) {
			if a.IsNull(i) {
				return "", false
			}
			return a.ValueString(i), true
		}, true
	case *array.LargeBinary:
		return func(i int) (string, bool) {
			if a.IsNull(i) {
				return "", false
			}
			return string(a.Value(i)), true
		}, true
	case *array.Dictionary:
		dget, ok := strGetter(a.Dictionary())
		if !ok {
			return nil, false
		}
		return func(i int) (string, bool) {
			if a.IsNull(i) {
				return "", false
			}
			return dget(a.GetValueIndex(i))
		}, true
	}
	return nil, false
}

// isIntType reports whether arr holds integers.
func isIntType(arr arrow.Array) bool {
	switch arr.DataType().ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64,
		arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return true
	}
	return false
}

// intValue returns element i of an integer array as int64 (ok false when
// it does not fit).
func intValue(arr arrow.Array, i int) (int64, bool) {
	switch a := arr.(type) {
	case *array.Int64:
		return a.Value(i), true
	case *array.Int32:
		return int64(a.Value(i)), true
	case *array.Int16:
		return int64(a.Value(i)), true
	case *array.Int8:
		return int64(a.Value(i)), true
	case *array.Uint64:
		v := a.Value(i)
		return int64(v), v <= math.MaxInt64
	case *array.Uint32:
		return int64(a.Value(i)), true
	case *array.Uint16:
		return int64(a.Value(i)), true
	case *array.Uint8:
		return int64(a.Value(i)), true
	}
	return 0, false
}

// readInt64s converts an integer (or integer text) column; NULL is an
// error.
func readInt64s(dst []int64, arr arrow.Array, loc colLoc) ([]int64, error) {
	n := arr.Len()
	dst = dst[:0]
	if id := arr.DataType().ID(); id == arrow.INT64 && arr.NullN() == 0 {
		return append(dst, arr.(*array.Int64).Int64Values()...), nil
	}
	if isIntType(arr) {
		for i := 0; i < n; i++ {
			if arr.IsNull(i) {
				return nil, loc.err(i, "missing value (NULL)")
			}
			v, ok := intValue(arr, i)
			if !ok {
				return nil, loc.err(i, "value does not fit in int64")
			}
			dst = append(dst, v)
		}
		return dst, nil
	}
	get, ok := strGetter(arr)
	if !ok {
		return nil, loc.typeErr(arr, "an integer type")
	}
	for i := 0; i < n; i++ {
		s, valid := get(i)
		if !valid || isMissingToken(s) {
			return nil, loc.err(i, "missing value")
		}
		v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			return nil, loc.err(i, "%q is not an integer", s)
		}
		dst = append(dst, v)
	}
	return dst, nil
}

// readDays converts a date column (date32, date64, or "YYYY-MM-DD" text);
// NULL is an error.
func readDays(dst []panel.Day, arr arrow.Array, loc colLoc) ([]panel.Day, error) {
	n := arr.Len()
	dst = dst[:0]
	switch a := arr.(type) {
	case *array.Date32:
		for i := 0; i < n; i++ {
			if a.IsNull(i) {
				return nil, loc.err(i, "missing date (NULL)")
			}
			dst = append(dst, panel.Day(a.Value(i)))
		}
		return dst, nil
	case *array.Date64:
		for i := 0; i < n; i++ {
			if a.IsNull(i) {
				return nil, loc.err(i, "missing date (NULL)")
			}
			dst = append(dst, panel.Day(floorDiv(int64(a.Value(i)), 86400000)))
		}
		return dst, nil
	}
	get, ok := strGetter(arr)
	if !ok {
		return nil, loc.typeErr(arr, "date32 or text YYYY-MM-DD")
	}
	for i := 0; i < n; i++ {
		s, valid := get(i)
		if !valid || isMissingToken(s) {
			return nil, loc.err(i, "missing date")
		}
		d, ok := parseISODay(strings.TrimSpace(s))
		if !ok {
			return nil, loc.err(i, "%q is not a date of the form YYYY-MM-DD", s)
		}
		dst = append(dst, d)
	}
	return dst, nil
}

// readMonths converts a month column ("YYYY-MM" or "YYYY-MM-01" text, or a
// date that is the first of a month); NULL is an error.
func readMonths(dst []panel.Month, arr arrow.Array, loc colLoc) ([]panel.Month, error) {
	n := arr.Len()
	dst = dst[:0]
	switch arr.(type) {
	case *array.Date32, *array.Date64:
		days, err := readDays(nil, arr, loc)
		if err != nil {
			return nil, err
		}
		for i, d := range days {
			m := panel.MonthOf(d)
			if m.FirstDay() != d {
				return nil, loc.err(i, "month date %v is not the first day of a month", d)
			}
			dst = append(dst, m)
		}
		return dst, nil
	}
	get, ok := strGetter(arr)
	if !ok {
		return nil, loc.typeErr(arr, "text YYYY-MM or date32")
	}
	for i := 0; i < n; i++ {
		s, valid := get(i)
		if !valid || isMissingToken(s) {
			return nil, loc.err(i, "missing month")
		}
		m, ok := parseISOMonth(strings.TrimSpace(s))
		if !ok {
			return nil, loc.err(i, "%q is not a month of the form YYYY-MM", s)
		}
		dst = append(dst, m)
	}
	return dst, nil
}

// readFloats converts a numeric column; NULL, NaN and missing-value text
// become NaN. Infinite values are errors. A boolean column reads as 1/0
// when bools is set (an indicator attribute) and is a type error
// otherwise (a quantity such as hours).
func readFloats(dst []float64, arr arrow.Array, loc colLoc, bools bool) ([]float64, error) {
	n := arr.Len()
	dst = dst[:0]
	switch a := arr.(type) {
	case *array.Float64:
		for i := 0; i < n; i++ {
			v := math.NaN()
			if a.IsValid(i) {
				v = a.Value(i)
			}
			dst = append(dst, v)
		}
	case *array.Float32:
		for i := 0; i < n; i++ {
			v := math.NaN()
			if a.IsValid(i) {
				v = float64(a.Value(i))
			}
			dst = append(dst, v)
		}
	case *array.Boolean:
		if !bools {
			return nil, loc.typeErr(arr, "a numeric type")
		}
		for i := 0; i < n; i++ {
			v := math.NaN()
			if a.IsValid(i) {
				v = 0
				if a.Value(i) {
					v = 1
				}
			}
			dst = append(dst, v)
		}
	default:
		if isIntType(arr) {
			for i := 0; i < n; i++ {
				v := math.NaN()
				if arr.IsValid(i) {
					if u, isU := arr.(*array.Uint64); isU {
						v = float64(u.Value(i))
					} else {
						x, _ := intValue(arr, i)
						v = float64(x)
					}
				}
				dst = append(dst, v)
			}
			break
		}
		get, ok := strGetter(arr)
		if !ok {
			return nil, loc.typeErr(arr, "a numeric type")
		}
		for i := 0; i < n; i++ {
			s, valid := get(i)
			v := math.NaN()
			if valid && !isMissingToken(s) {
				var err error
				v, err = strconv.ParseFloat(strings.TrimSpace(s), 64)
				if err != nil {
					return nil, loc.err(i, "%q is not a number", s)
				}
			}
			dst = append(dst, v)
		}
	}
	for i, v := range dst {
		if math.IsInf(v, 0) {
			return nil, loc.err(i, "infinite value")
		}
	}
	return dst, nil
}

// readFlags converts a 0/1 indicator column to -1 (missing), 0 or 1.
// Accepted: booleans; integers and floats 0 and 1; text "0", "1", "true",
// "false" (as strconv.ParseBool); NULL, NaN and missing-value text are
// missing.
func readFlags(dst []int8, arr arrow.Array, loc colLoc) ([]int8, error) {
	n := arr.Len()
	dst = dst[:0]
	bad := func(i int, v any) error { return loc.err(i, "value %v is not 0 or 1", v) }
	switch a := arr.(type) {
	case *array.Boolean:
		for i := 0; i < n; i++ {
			var f int8 = -1
			if a.IsValid(i) {
				f = 0
				if a.Value(i) {
					f = 1
				}
			}
			dst = append(dst, f)
		}
		return dst, nil
	case *array.Int8:
		for i, v := range a.Int8Values() {
			switch {
			case a.IsNull(i):
				dst = append(dst, -1)
			case v == 0 || v == 1:
				dst = append(dst, v)
			default:
				return nil, bad(i, v)
			}
		}
		return dst, nil
	case *array.Float64, *array.Float32:
		fs, err := readFloats(nil, arr, loc, false)
		if err != nil {
			return nil, err
		}
		for i, v := range fs {
			switch {
			case math.IsNaN(v):
				dst = append(dst, -1)
			case v == 0 || v == 1:
				dst = append(dst, int8(v))
			default:
				return nil, bad(i, v)
			}
		}
		return dst, nil
	}
	if isIntType(arr) {
		for i := 0; i < n; i++ {
			if arr.IsNull(i) {
				dst = append(dst, -1)
				continue
			}
			v, _ := intValue(arr, i)
			if v != 0 && v != 1 {
				return nil, bad(i, v)
			}
			dst = append(dst, int8(v))
		}
		return dst, nil
	}
	get, ok := strGetter(arr)
	if !ok {
		return nil, loc.typeErr(arr, "0/1 integers, booleans or text")
	}
	for i := 0; i < n; i++ {
		s, valid := get(i)
		if !valid || isMissingToken(s) {
			dst = append(dst, -1)
			continue
		}
		switch strings.TrimSpace(s) {
		case "0":
			dst = append(dst, 0)
		case "1":
			dst = append(dst, 1)
		default:
			b, err := strconv.ParseBool(strings.TrimSpace(s))
			if err != nil {
				return nil, loc.err(i, "%q is not 0 or 1", s)
			}
			if b {
				dst = append(dst, 1)
			} else {
				dst = append(dst, 0)
			}
		}
	}
	return dst, nil
}

// floorDiv is a/b rounded towards −∞ (b ≠ 0).
func floorDiv[T ~int | ~int64](a, b T) T {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
