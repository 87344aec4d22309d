package registerio

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/psmeval/psmeval/panel"
)

// TableRecords calls fn with the rows of table t of r as Arrow records of
// at most chunk rows (zero means 8192), in the file schema (see the
// package documentation) and the given layout (LayoutAuto: wide status,
// long outcomes). Each record is released after fn returns. Dates are
// date32, codes and categories strings, outcome indicators int8, missing
// values NULL. fn is called at least once, possibly with zero rows. r is
// not validated.
//
// Long status holds the cells whose level is not "", plus every week of
// person 0, so that the grid's extent survives and no stretch of weeks
// is without rows (the reader refuses long gaps, ReadOptions.MaxGapWeeks);
// long outcomes hold the (person, month) pairs with at least one 1, plus
// every month of person 0, so that every outcome's observed months
// survive without gaps.
func TableRecords(r *panel.Register, t Table, layout Layout, chunk int, fn func(arrow.Record) error) error {
	if chunk <= 0 {
		chunk = defaultChunkRows
	}
	switch t {
	case TablePersons:
		return personsRecords(r, chunk, fn)
	case TableStatus:
		if layout == LayoutLong {
			return statusLongRecords(r, chunk, fn)
		}
		return statusWideRecords(r, chunk, fn)
	case TableOutcomes:
		if layout == LayoutWide {
			return outcomesWideRecords(r, chunk, fn)
		}
		return outcomesLongRecords(r, chunk, fn)
	case TableSpells:
		return spellsRecords(r, chunk, fn)
	}
	return fmt.Errorf("panel: unknown table %q", t)
}

// emit builds a record from b and passes it to fn.
func emit(b *array.RecordBuilder, fn func(arrow.Record) error) error {
	rec := b.NewRecord()
	defer rec.Release()
	return fn(rec)
}

// chunker hands the rows appended to b to fn as records of chunk rows:
// call row after appending each row and flush at the end (which emits
// the last, partial record, or an empty one when there were no rows).
type chunker struct {
	b       *array.RecordBuilder
	fn      func(arrow.Record) error
	chunk   int
	rows    int
	emitted bool
}

func (c *chunker) row() error {
	if c.rows++; c.rows < c.chunk {
		return nil
	}
	c.rows, c.emitted = 0, true
	return emit(c.b, c.fn)
}

func (c *chunker) flush() error {
	if c.rows == 0 && c.emitted {
		return nil
	}
	return emit(c.b, c.fn)
}

func personsRecords(r *panel.Register, chunk int, fn func(arrow.Record) error) error {
	fields := []arrow.Field{{Name: ColID, Type: arrow.PrimitiveTypes.Int64}}
	if r.Birth != nil {
		fields = append(fields, arrow.Field{Name: ColBirth, Type: arrow.FixedWidthTypes.Date32})
	}
	for _, a := range r.Attrs {
		switch a.Name {
		case ColID, ColBirth:
			return dataErr(string(TablePersons), a.Name, -1, "an attribute may not be named %q", a.Name)
		}
		if a.IsCategorical() {
			for _, lv := range a.Levels {
				if isMissingToken(lv) {
					return dataErr(string(TablePersons), a.Name, -1, "level %q would be read back as a missing value", lv)
				}
			}
			fields = append(fields, arrow.Field{Name: a.Name, Type: arrow.BinaryTypes.String, Nullable: true})
		} else {
			fields = append(fields, arrow.Field{Name: a.Name, Type: arrow.PrimitiveTypes.Float64, Nullable: true})
		}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	n := r.Len()
	for lo := 0; lo < n || lo == 0; lo += chunk {
		hi := min(n, lo+chunk)
		b.Field(0).(*array.Int64Builder).AppendValues(r.IDs[lo:hi], nil)
		k := 1
		if r.Birth != nil {
			bb := b.Field(1).(*array.Date32Builder)
			for _, d := range r.Birth[lo:hi] {
				bb.Append(arrow.Date32(d))
			}
			k = 2
		}
		for j := range r.Attrs {
			a := &r.Attrs[j]
			if a.IsCategorical() {
				sb := b.Field(k + j).(*array.StringBuilder)
				for _, c := range a.Codes[lo:hi] {
					if c == panel.MissingCode {
						sb.AppendNull()
					} else {
						sb.Append(a.Levels[c])
					}
				}
			} else {
				fb := b.Field(k + j).(*array.Float64Builder)
				for _, v := range a.Values[lo:hi] {
					if math.IsNaN(v) {
						fb.AppendNull()
					} else {
						fb.Append(v)
					}
				}
			}
		}
		if err := emit(b, fn); err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	return nil
}

func statusWideRecords(r *panel.Register, chunk int, fn func(arrow.Record) error) error {
	return statusWide(r, chunk, false, fn)
}

// statusWide builds wide status records; with dict the week columns are
// dictionary arrays (uint8 indices = the grid's codes, the levels as the
// dictionary), which the Parquet writer encodes without hashing a string
// per cell.
func statusWide(r *panel.Register, chunk int, dict bool, fn func(arrow.Record) error) error {
	g := &r.Status
	codeType := arrow.DataType(arrow.BinaryTypes.String)
	var levels arrow.Array
	if dict {
		codeType = &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Uint8, ValueType: arrow.BinaryTypes.String}
		lb := array.NewStringBuilder(memory.DefaultAllocator)
		lb.AppendValues(g.Levels, nil)
		levels = lb.NewArray()
		lb.Release()
		defer levels.Release()
	}
	fields := make([]arrow.Field, 1+g.Weeks)
	fields[0] = arrow.Field{Name: ColID, Type: arrow.PrimitiveTypes.Int64}
	for w := 0; w < g.Weeks; w++ {
		fields[1+w] = arrow.Field{Name: g.WeekStart(w).String(), Type: codeType}
	}
	schema := arrow.NewSchema(fields, nil)
	n := r.Len()
	maxLen := 0
	for _, l := range g.Levels {
		maxLen = max(maxLen, len(l))
	}
	ib := array.NewInt64Builder(memory.DefaultAllocator)
	defer ib.Release()
	sb := array.NewStringBuilder(memory.DefaultAllocator)
	defer sb.Release()
	cols := make([]arrow.Array, 1+g.Weeks)
	for lo := 0; lo < n || lo == 0; lo += chunk {
		hi := min(n, lo+chunk)
		ib.AppendValues(r.IDs[lo:hi], nil)
		cols[0] = ib.NewArray()
		for w := 0; w < g.Weeks; w++ {
			if dict {
				idx := make([]byte, hi-lo)
				for p := lo; p < hi; p++ {
					idx[p-lo] = g.Codes[p*g.Weeks+w]
				}
				data := array.NewData(arrow.PrimitiveTypes.Uint8, hi-lo, []*memory.Buffer{nil, memory.NewBufferBytes(idx)}, nil, 0, 0)
				ia := array.NewUint8Data(data)
				data.Release()
				cols[1+w] = array.NewDictionaryArray(codeType, ia, levels)
				ia.Release()
				continue
			}
			sb.Reserve(hi - lo)
			sb.ReserveData((hi - lo) * maxLen)
			for p := lo; p < hi; p++ {
				sb.Append(g.Levels[g.Codes[p*g.Weeks+w]])
			}
			cols[1+w] = sb.NewArray()
		}
		rec := array.NewRecord(schema, cols, int64(hi-lo))
		for _, c := range cols {
			c.Release()
		}
		err := fn(rec)
		rec.Release()
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	return nil
}

func statusLongRecords(r *panel.Register, chunk int, fn func(arrow.Record) error) error {
	g := &r.Status
	schema := arrow.NewSchema([]arrow.Field{
		{Name: ColID, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColWeek, Type: arrow.FixedWidthTypes.Date32},
		{Name: ColCode, Type: arrow.BinaryTypes.String},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	ib := b.Field(0).(*array.Int64Builder)
	wb := b.Field(1).(*array.Date32Builder)
	cb := b.Field(2).(*array.StringBuilder)
	ck := chunker{b: b, fn: fn, chunk: chunk}
	for p := 0; p < r.Len(); p++ {
		row := g.Codes[p*g.Weeks : (p+1)*g.Weeks]
		for w, c := range row {
			lv := g.Levels[c]
			if lv == "" && p != 0 {
				continue
			}
			ib.Append(r.IDs[p])
			wb.Append(arrow.Date32(g.WeekStart(w)))
			cb.Append(lv)
			if err := ck.row(); err != nil {
				return err
			}
		}
	}
	return ck.flush()
}

func outcomesLongRecords(r *panel.Register, chunk int, fn func(arrow.Record) error) error {
	fields := []arrow.Field{
		{Name: ColID, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColMonth, Type: arrow.BinaryTypes.String},
	}
	if len(r.Outcomes) == 0 {
		return fmt.Errorf("panel: the register has no outcomes to write")
	}
	lo, hi := r.Outcomes[0].FirstMonth, r.Outcomes[0].LastMonth()
	for k := range r.Outcomes {
		o := &r.Outcomes[k]
		switch o.Name {
		case ColID, ColMonth:
			return dataErr(string(TableOutcomes), o.Name, -1, "an outcome may not be named %q", o.Name)
		}
		fields = append(fields, arrow.Field{Name: o.Name, Type: arrow.PrimitiveTypes.Int8, Nullable: true})
		lo, hi = min(lo, o.FirstMonth), max(hi, o.LastMonth())
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	ib := b.Field(0).(*array.Int64Builder)
	mb := b.Field(1).(*array.StringBuilder)
	monthName := make([]string, hi-lo+1)
	for m := lo; m <= hi; m++ {
		monthName[m-lo] = m.String()
	}
	ck := chunker{b: b, fn: fn, chunk: chunk}
	for p := 0; p < r.Len(); p++ {
		for m := lo; m <= hi; m++ {
			any1 := p == 0
			for k := 0; k < len(r.Outcomes) && !any1; k++ {
				v, ok := r.Outcomes[k].Get(p, m)
				any1 = ok && v
			}
			if !any1 {
				continue
			}
			ib.Append(r.IDs[p])
			mb.Append(monthName[m-lo])
			for k := range r.Outcomes {
				ob := b.Field(2 + k).(*array.Int8Builder)
				v, ok := r.Outcomes[k].Get(p, m)
				switch {
				case !ok:
					ob.AppendNull()
				case v:
					ob.Append(1)
				default:
					ob.Append(0)
				}
			}
			if err := ck.row(); err != nil {
				return err
			}
		}
	}
	return ck.flush()
}

func outcomesWideRecords(r *panel.Register, chunk int, fn func(arrow.Record) error) error {
	fields := []arrow.Field{{Name: ColID, Type: arrow.PrimitiveTypes.Int64}}
	if len(r.Outcomes) == 0 {
		return fmt.Errorf("panel: the register has no outcomes to write")
	}
	for k := range r.Outcomes {
		o := &r.Outcomes[k]
		if o.Name == ColID {
			return dataErr(string(TableOutcomes), o.Name, -1, "an outcome may not be named %q", o.Name)
		}
		for m := o.FirstMonth; m <= o.LastMonth(); m++ {
			fields = append(fields, arrow.Field{Name: wideOutcomeName(o.Name, m), Type: arrow.PrimitiveTypes.Int8})
		}
	}
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema(fields, nil))
	defer b.Release()
	n := r.Len()
	for lo := 0; lo < n || lo == 0; lo += chunk {
		hi := min(n, lo+chunk)
		b.Field(0).(*array.Int64Builder).AppendValues(r.IDs[lo:hi], nil)
		f := 1
		for k := range r.Outcomes {
			o := &r.Outcomes[k]
			for m := o.FirstMonth; m <= o.LastMonth(); m++ {
				ob := b.Field(f).(*array.Int8Builder)
				for p := lo; p < hi; p++ {
					v, _ := o.Get(p, m)
					if v {
						ob.Append(1)
					} else {
						ob.Append(0)
					}
				}
				f++
			}
		}
		if err := emit(b, fn); err != nil {
			return err
		}
		if n == 0 {
			break
		}
	}
	return nil
}

func spellsRecords(r *panel.Register, chunk int, fn func(arrow.Record) error) error {
	schema := arrow.NewSchema([]arrow.Field{
		{Name: ColID, Type: arrow.PrimitiveTypes.Int64},
		{Name: ColStart, Type: arrow.FixedWidthTypes.Date32},
		{Name: ColEnd, Type: arrow.FixedWidthTypes.Date32},
		{Name: ColHours, Type: arrow.PrimitiveTypes.Float32, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	ib := b.Field(0).(*array.Int64Builder)
	sb := b.Field(1).(*array.Date32Builder)
	eb := b.Field(2).(*array.Date32Builder)
	hb := b.Field(3).(*array.Float32Builder)
	ck := chunker{b: b, fn: fn, chunk: chunk}
	for _, s := range r.Spells {
		ib.Append(r.IDs[s.Person])
		sb.Append(arrow.Date32(s.Start))
		eb.Append(arrow.Date32(s.End))
		if math.IsNaN(float64(s.Hours)) {
			hb.AppendNull()
		} else {
			hb.Append(s.Hours)
		}
		if err := ck.row(); err != nil {
			return err
		}
	}
	return ck.flush()
}
