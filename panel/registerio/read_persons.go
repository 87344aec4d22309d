package registerio

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/psmeval/psmeval/panel"
)

// maxCategoricalLevels is the largest number of levels of a categorical
// attribute (codes are uint16 and MissingCode is reserved).
const maxCategoricalLevels = panel.MissingCode

// attrAcc accumulates one persons attribute column. A text column is
// tracked both as numbers (while every value parses) and as categories
// (while there are at most maxCategoricalLevels distinct values), so the
// decision needs no second pass and does not depend on row order.
type attrAcc struct {
	name     string
	forceCat bool

	numeric  bool // still a candidate for numeric
	values   []float64
	badRow   int    // first row that is not a number
	badValue string // and its text

	cat    bool // still a candidate for categorical
	dict   map[string]uint16
	levels []string
	codes  []uint16
}

func (a *attrAcc) addNumbers(vs []float64) {
	a.values = append(a.values, vs...)
}

// addText adds one text value (valid false for NULL) at file row.
func (a *attrAcc) addText(s string, valid bool, row int) {
	missing := !valid || isMissingToken(s)
	if a.numeric {
		v := math.NaN()
		if !missing {
			f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
			if err != nil || math.IsInf(f, 0) {
				a.numeric, a.values = false, nil
				a.badRow, a.badValue = row, s
			} else {
				v = f
			}
		}
		if a.numeric {
			a.values = append(a.values, v)
		}
	}
	if a.cat {
		c := uint16(panel.MissingCode)
		if !missing {
			k, ok := a.dict[s]
			if !ok {
				if len(a.levels) >= maxCategoricalLevels {
					a.cat, a.dict, a.levels, a.codes = false, nil, nil, nil
					return
				}
				k = uint16(len(a.levels))
				s = strings.Clone(s)
				a.dict[s] = k
				a.levels = append(a.levels, s)
			}
			c = k
		}
		a.codes = append(a.codes, c)
	}
}

func (a *attrAcc) finish(name string) (panel.Attribute, error) {
	if a.numeric && !a.forceCat {
		return panel.Attribute{Name: a.name, Values: a.values}, nil
	}
	if !a.cat {
		if a.forceCat {
			return panel.Attribute{}, dataErr(name, a.name, -1, "categorical attribute has more than %d distinct values", maxCategoricalLevels)
		}
		return panel.Attribute{}, dataErr(name, a.name, a.badRow,
			"%q is not a number, and the column has more than %d distinct values so it cannot be categorical", a.badValue, maxCategoricalLevels)
	}
	if !a.forceCat && allNumbers(a.levels) {
		// every value is a number, some infinite: not a categorical
		// column but a numeric one with a bad value
		return panel.Attribute{}, dataErr(name, a.name, a.badRow,
			"%q is infinite or out of range: a numeric attribute must be finite (write NA for a missing value)", a.badValue)
	}
	sorted, remap := sortedLevels(a.levels)
	for i, c := range a.codes {
		if c != panel.MissingCode {
			a.codes[i] = uint16(remap[c])
		}
	}
	if a.codes == nil {
		a.codes = []uint16{}
	}
	return panel.Attribute{Name: a.name, Codes: a.codes, Levels: sorted}, nil
}

// allNumbers reports whether every level parses as a number (possibly
// infinite or out of the float64 range).
func allNumbers(levels []string) bool {
	for _, l := range levels {
		if _, err := strconv.ParseFloat(strings.TrimSpace(l), 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return false
		}
	}
	return len(levels) > 0
}

// readPersons reads the persons table: id (integer, unique), birth
// (optional date) and attributes.
func (l *Loader) readPersons(rr array.RecordReader, name string) error {
	cols, err := columnIndex(rr.Schema(), name)
	if err != nil {
		return err
	}
	idCol, ok := cols[ColID]
	if !ok {
		return dataErr(name, ColID, -1, "missing column (persons needs %q)", ColID)
	}
	birthCol, hasBirth := cols[ColBirth]
	if !hasBirth {
		birthCol = -1
	}
	force := map[string]bool{}
	for _, c := range l.opts.Categorical {
		if _, ok := cols[c]; !ok || c == ColID || c == ColBirth {
			return dataErr(name, c, -1, "ReadOptions.Categorical names a column that is not an attribute of the persons table")
		}
		force[c] = true
	}
	var attrs []*attrAcc
	attrCol := []int{}
	for i, f := range rr.Schema().Fields() {
		if i == idCol || i == birthCol {
			continue
		}
		attrs = append(attrs, &attrAcc{name: f.Name, forceCat: force[f.Name], numeric: !force[f.Name], cat: true, dict: map[string]uint16{}})
		attrCol = append(attrCol, i)
	}
	var ids []int64
	var birth []panel.Day
	var fbuf []float64
	err = l.forEachRecord(rr, name, func(rec arrow.Record, row0 int) error {
		chunk, err := readInt64s(nil, rec.Column(idCol), colLoc{name, ColID, row0})
		if err != nil {
			return err
		}
		ids = append(ids, chunk...)
		if hasBirth {
			days, err := readDays(nil, rec.Column(birthCol), colLoc{name, ColBirth, row0})
			if err != nil {
				return err
			}
			birth = append(birth, days...)
		}
		for k, a := range attrs {
			arr := rec.Column(attrCol[k])
			loc := colLoc{name, a.name, row0}
			if get, isText := strGetter(arr); isText {
				for i := 0; i < arr.Len(); i++ {
					s, valid := get(i)
					a.addText(s, valid, row0+i)
				}
				if !a.numeric && !a.cat {
					_, err := a.finish(name)
					return err
				}
				continue
			}
			if !a.numeric && !a.forceCat {
				return loc.typeErr(arr, "the same type in every chunk")
			}
			fbuf, err = readFloats(fbuf, arr, loc, true)
			if err != nil {
				return err
			}
			if a.forceCat {
				for i, v := range fbuf {
					s := ""
					if !math.IsNaN(v) {
						s = strconv.FormatFloat(v, 'g', -1, 64)
					}
					a.addText(s, true, row0+i)
				}
				if !a.cat {
					_, err := a.finish(name)
					return err
				}
			} else {
				a.addNumbers(fbuf)
				a.cat, a.dict, a.levels, a.codes = false, nil, nil, nil
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(ids) == 0 {
		return dataErr(name, ColID, -1, "no persons (the table has no rows)")
	}
	if err := l.idx.build(ids, name); err != nil {
		return err
	}
	reg := &l.reg
	reg.IDs = ids
	if hasBirth {
		reg.Birth = birth
		if reg.Birth == nil {
			reg.Birth = []panel.Day{}
		}
	}
	for _, a := range attrs {
		at, err := a.finish(name)
		if err != nil {
			return err
		}
		if at.Values == nil && at.Codes == nil {
			at.Values = []float64{}
		}
		reg.Attrs = append(reg.Attrs, at)
	}
	return nil
}
