package psmbeam

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/psmeval/psmeval/panel"
)

// shardLayout is what a shard tells the driver in pass 1 (its record in
// the merged byShard): its unit counts, covariate and outcome layout,
// the treated units' outcome rows, every unit's stratum (with strata),
// the range of its person ids and its build counts. Size: about
// treated·Σ(Pre+H+1) bytes plus 4 per unit with strata.
type shardLayout struct {
	treated, controls int
	covNames          []string
	outcomes          []outcomeLayout
	strata            []int32  // one per unit (panel order), nil without strata
	treatedIDs        [2]int64 // smallest and largest person id of the treated (when any)
	controlIDs        [2]int64 // and of the controls
	counts            []byte   // panel.Counts as JSON
	notes             []string // panel.Panel.Notes
}

// outcomeLayout is one outcome of a shard's sample: months −Pre..H, and
// the treated units' rows (treated × (Pre+H+1) bytes: 0, 1 or
// panel.Missing).
type outcomeLayout struct {
	name     string
	pre, h   int
	treatedY []byte
}

const layoutMagic = "psmbeam.layout.1"

func (l *shardLayout) encode() []byte {
	e := enc{b: []byte(layoutMagic)}
	e.u64(l.treated)
	e.u64(l.controls)
	e.strs(l.covNames)
	e.u64(len(l.outcomes))
	for _, o := range l.outcomes {
		e.str(o.name)
		e.u64(o.pre)
		e.u64(o.h)
		e.bytes(o.treatedY)
	}
	e.bool(l.strata != nil)
	e.int32s(l.strata)
	for _, v := range [...]int64{l.treatedIDs[0], l.treatedIDs[1], l.controlIDs[0], l.controlIDs[1]} {
		e.i64(v)
	}
	e.bytes(l.counts)
	e.strs(l.notes)
	return e.b
}

func decodeLayout(b []byte) (*shardLayout, error) {
	d := dec{b: b}
	if string(d.take(len(layoutMagic))) != layoutMagic {
		return nil, fmt.Errorf("not a psmbeam shard layout")
	}
	l := &shardLayout{treated: d.u64(), controls: d.u64(), covNames: d.strs()}
	n := d.count(24)
	for range n {
		o := outcomeLayout{name: d.str(), pre: d.u64(), h: d.u64(), treatedY: d.bytes()}
		if d.err == nil && len(o.treatedY) != l.treated*(o.pre+o.h+1) {
			return nil, fmt.Errorf("shard layout: outcome %q has %d treated bytes, want %d", o.name, len(o.treatedY), l.treated*(o.pre+o.h+1))
		}
		l.outcomes = append(l.outcomes, o)
	}
	has := d.bool()
	l.strata = d.int32s()
	if !has {
		l.strata = nil
	} else if d.err == nil && len(l.strata) != l.treated+l.controls {
		return nil, fmt.Errorf("shard layout: %d strata for %d units", len(l.strata), l.treated+l.controls)
	}
	l.treatedIDs = [2]int64{d.i64(), d.i64()}
	l.controlIDs = [2]int64{d.i64(), d.i64()}
	l.counts = d.bytes()
	l.notes = d.strs()
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("shard layout: %w", err)
	}
	return l, nil
}

// shardData is a shard's panel as the later passes use it, cached in the
// work directory by pass 1 (shard-K.bin): units in panel order (treated
// 0..treated−1, then the controls), the covariates, every outcome's
// months −Pre..H and the strata. Size: 8p + Σ(Pre+H+1) (+ 4 with strata)
// bytes per unit.
type shardData struct {
	treated, n, p int
	x             []float64 // n×p, row-major
	outcomes      []cachedOutcome
	strata        []int32 // n, nil without strata
}

// cachedOutcome is one outcome: y holds n rows of Pre+H+1 bytes.
type cachedOutcome struct {
	name   string
	pre, h int
	y      []byte
}

func (o *cachedOutcome) width() int { return o.pre + o.h + 1 }

const shardMagic = "psmbeam.shard.1"

func (s *shardData) encode() []byte {
	size := len(shardMagic) + 64 + 8*len(s.x) + 4*len(s.strata)
	for _, o := range s.outcomes {
		size += 32 + len(o.name) + len(o.y)
	}
	e := enc{b: make([]byte, 0, size)}
	e.b = append(e.b, shardMagic...)
	e.u64(s.treated)
	e.u64(s.n)
	e.u64(s.p)
	e.floats(s.x)
	e.u64(len(s.outcomes))
	for _, o := range s.outcomes {
		e.str(o.name)
		e.u64(o.pre)
		e.u64(o.h)
		e.bytes(o.y)
	}
	e.bool(s.strata != nil)
	e.int32s(s.strata)
	return e.b
}

func decodeShard(b []byte) (*shardData, error) {
	d := dec{b: b}
	if string(d.take(len(shardMagic))) != shardMagic {
		return nil, fmt.Errorf("not a psmbeam shard cache")
	}
	s := &shardData{treated: d.u64(), n: d.u64(), p: d.u64()}
	s.x = d.floats()
	if d.err == nil && (s.treated > s.n || len(s.x) != s.n*s.p) {
		return nil, fmt.Errorf("shard cache: %d covariate values for %d units × %d covariates (%d treated)", len(s.x), s.n, s.p, s.treated)
	}
	no := d.count(24)
	for range no {
		o := cachedOutcome{name: d.str(), pre: d.u64(), h: d.u64(), y: d.bytes()}
		if d.err == nil && len(o.y) != s.n*o.width() {
			return nil, fmt.Errorf("shard cache: outcome %q has %d bytes, want %d", o.name, len(o.y), s.n*o.width())
		}
		s.outcomes = append(s.outcomes, o)
	}
	has := d.bool()
	s.strata = d.int32s()
	if !has {
		s.strata = nil
	} else if d.err == nil && len(s.strata) != s.n {
		return nil, fmt.Errorf("shard cache: %d strata for %d units", len(s.strata), s.n)
	}
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("shard cache: %w", err)
	}
	return s, nil
}

// newShard makes a shard's cache and layout from its panel: every
// outcome in months −Pre..HCommon as estimate.FromPanel takes it, cut at
// month months−1 (months 0: not cut), and the strata (nil without).
func newShard(pan *panel.Panel, months int, strata []int32) (*shardData, *shardLayout, error) {
	n, t := pan.Len(), pan.NTreated()
	p := len(pan.CovNames)
	sd := &shardData{treated: t, n: n, p: p, strata: strata}
	if p > 0 && n > 0 {
		sd.x = make([]float64, n*p)
		pan.X.Rows(sd.x, 0, n)
	}
	lay := &shardLayout{treated: t, controls: n - t, covNames: pan.CovNames, strata: strata, notes: pan.Notes}
	for _, o := range pan.Outcomes {
		h := o.HCommon
		if months > 0 {
			h = min(h, months-1)
		}
		co := cachedOutcome{name: o.Name, pre: o.Pre, h: h}
		w, stride := co.width(), o.Pre+o.H+1
		co.y = make([]byte, 0, n*w)
		for u := range n {
			co.y = append(co.y, o.Y[u*stride:u*stride+w]...)
		}
		sd.outcomes = append(sd.outcomes, co)
		lay.outcomes = append(lay.outcomes, outcomeLayout{name: o.Name, pre: o.Pre, h: h, treatedY: co.y[:t*w]})
	}
	lay.treatedIDs = idRange(pan.ID[:t])
	lay.controlIDs = idRange(pan.ID[t:])
	var err error
	if lay.counts, err = json.Marshal(pan.Counts); err != nil {
		return nil, nil, err
	}
	return sd, lay, nil
}

// idRange returns the smallest and largest id (MaxInt64, MinInt64 when
// there is none).
func idRange(ids []int64) [2]int64 {
	r := [2]int64{math.MaxInt64, math.MinInt64}
	for _, id := range ids {
		r[0], r[1] = min(r[0], id), max(r[1], id)
	}
	return r
}
