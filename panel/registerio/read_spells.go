package registerio

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/psmeval/psmeval/panel"
)

// readSpells reads the spells table: id, start, end (dates, end >= start)
// and optionally hours (weekly hours; missing is NaN).
func (l *Loader) readSpells(rr array.RecordReader, name string) error {
	cols, err := columnIndex(rr.Schema(), name)
	if err != nil {
		return err
	}
	for _, c := range []string{ColID, ColStart, ColEnd} {
		if _, ok := cols[c]; !ok {
			return dataErr(name, c, -1, "missing column (spells need id, start, end and optionally hours)")
		}
	}
	for _, f := range rr.Schema().Fields() {
		switch f.Name {
		case ColID, ColStart, ColEnd, ColHours:
		default:
			return dataErr(name, f.Name, -1, "unexpected column (spells have id, start, end and optionally hours)")
		}
	}
	hoursCol, hasHours := cols[ColHours]
	var (
		ids        []int64
		pidx       []int32
		start, end []panel.Day
		hours      []float64
		spells     []panel.Spell
	)
	err = l.forEachRecord(rr, name, func(rec arrow.Record, row0 int) error {
		var err error
		iloc := colLoc{name, ColID, row0}
		if ids, err = readInt64s(ids, rec.Column(cols[ColID]), iloc); err != nil {
			return err
		}
		if pidx, err = l.idx.persons(pidx, ids, iloc); err != nil {
			return err
		}
		if start, err = readDays(start, rec.Column(cols[ColStart]), colLoc{name, ColStart, row0}); err != nil {
			return err
		}
		eloc := colLoc{name, ColEnd, row0}
		if end, err = readDays(end, rec.Column(cols[ColEnd]), eloc); err != nil {
			return err
		}
		hloc := colLoc{name, ColHours, row0}
		if hasHours {
			if hours, err = readFloats(hours, rec.Column(hoursCol), hloc, false); err != nil {
				return err
			}
		}
		for i, p := range pidx {
			if end[i] < start[i] {
				return eloc.err(i, "spell of person %d ends %v before it starts %v", ids[i], end[i], start[i])
			}
			h := float32(math.NaN())
			if hasHours {
				if hours[i] < 0 || math.IsInf(float64(float32(hours[i])), 0) {
					return hloc.err(i, "hours %v must be non-negative and finite", hours[i])
				}
				h = float32(hours[i])
			}
			spells = append(spells, panel.Spell{Person: p, Start: start[i], End: end[i], Hours: h})
		}
		return nil
	})
	if err != nil {
		return err
	}
	l.reg.Spells = spells
	return nil
}
