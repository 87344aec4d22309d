package estimate

import (
	"github.com/psmeval/psmeval/psm"
)

// EffectSums is one shard's part of the control sums of Effects, for
// effects computed with the units split over shards (the match sets
// broadcast to every shard, each shard holding the outcomes of some
// control units): for every treated unit k of the matching (in the
// order of psm.UnitMatching.TreatedUnits) and every column j of the
// outcomes (outcome by outcome, months −Pre..H),
//
//	C[k][j] = Σ_{p in k's set, control c_p in the shard} w_p · y_{c_p}(j)
//
// summed in set order, with w_p the set weight psm.Matching.Weight[p].
// Merge adds the parts of several shards; EffectsFromSums turns the
// merged sums of all shards into Effects' Result. Memory and encoding:
// treated × columns float64 (dense; a treated unit without a control in
// the shard has a row of zeros).
//
// Summation: Effects sums a set's terms in set order. The merged sums
// are the shards' sums added in the order of the merges, so EffectsFromSums
// equals Effects bit for bit when every match set lies within one shard
// (x + 0 = x), for example with K = 1 and no ties across shards, and
// otherwise agrees to rounding (a set's terms are added in another
// order: about 1e-16 relative per set).
type EffectSums struct {
	treated int   // treated units of the matching
	entries int   // entries of all match sets
	covered int   // entries whose control is in the parts merged
	widths  []int // Pre+H+1 of each outcome
	pres    []int // Pre of each outcome
	cols    int
	sums    []float64 // treated × cols
}

// NewEffectSums returns the sums of the shard holding the control units
// lo..hi-1 of s (0 <= lo <= hi <= s.Len()): only their outcomes are read.
// m is the matching of all units (psm.MatchUnits or
// psm.MatchUnitsShards, with its sets). Errors (*Error): s or m invalid
// (as Effects), a bad range (ErrInvalid), a NaN or infinite outcome of
// one of the shard's matched controls inside the horizon
// (ErrNaNOutcome). Cost: O(set entries · columns) for the shard's
// entries, O(set entries) to find them, and treated × columns float64.
func NewEffectSums(s *Sample, m *psm.UnitMatching, lo, hi int) (*EffectSums, error) {
	ms, err := setsFromUnits(s, m, "NewEffectSums")
	if err != nil {
		return nil, err
	}
	if err := ms.validate(s); err != nil {
		return nil, err
	}
	if lo < 0 || hi < lo || hi > s.Len() {
		return nil, invalid("units", "%d to %d, want 0 <= lo <= hi <= %d (units of the sample)", lo, hi, s.Len())
	}
	es := newEffectSums(s, len(ms.Treated), len(ms.Control))
	if err := es.addControls(s, ms, lo, hi, 0); err != nil {
		return nil, err
	}
	return es, nil
}

// addControls adds to es, in set order, the terms of the set entries
// whose control is one of the units lo..hi-1; their outcomes are those
// of unit c−off of src. An error names the unit of src.
func (es *EffectSums) addControls(src *Sample, ms *matchSets, lo, hi, off int) error {
	l := src.layout()
	checked := map[int32]bool{}
	for k := range ms.Treated {
		row := es.sums[k*es.cols : (k+1)*es.cols]
		for p := ms.Start[k]; p < ms.Start[k+1]; p++ {
			c := ms.Control[p]
			if int(c) < lo || int(c) >= hi {
				continue
			}
			if !checked[c] {
				if err := src.checkUnit(int(c) - off); err != nil {
					return err
				}
				checked[c] = true
			}
			src.addRow(row, int(c)-off, ms.Weight[p], &l)
			es.covered++
		}
	}
	return nil
}

// newEffectSums returns zero sums for the layout of s.
func newEffectSums(s *Sample, treated, entries int) *EffectSums {
	es := &EffectSums{treated: treated, entries: entries}
	for _, o := range s.Outcomes {
		es.widths = append(es.widths, o.width())
		es.pres = append(es.pres, o.Pre)
		es.cols += o.width()
	}
	es.sums = make([]float64, treated*es.cols)
	return es
}

// Merge adds o's sums into e (e += o, term by term; o is not changed).
// The zero EffectSums is the identity: merged into, it takes o's shape
// and values; merged, it changes nothing. It is an error (*Error, ErrInvalid)
// when o is nil, has another shape (treated units, set entries, outcome
// months), or the parts cover more set entries than there are (shards
// overlapping).
func (e *EffectSums) Merge(o *EffectSums) error {
	if o == nil {
		return invalid("EffectSums", "merge of nil")
	}
	if o.isZero() {
		return nil
	}
	if e.isZero() {
		e.treated, e.entries, e.cols = o.treated, o.entries, o.cols
		e.widths, e.pres = append([]int(nil), o.widths...), append([]int(nil), o.pres...)
		e.sums = make([]float64, len(o.sums))
	}
	if err := e.sameShape(o); err != nil {
		return err
	}
	if e.covered+o.covered > e.entries {
		return invalid("EffectSums", "the parts cover %d set entries, the matching has %d (shards overlapping)", e.covered+o.covered, e.entries)
	}
	for i, v := range o.sums {
		e.sums[i] += v
	}
	e.covered += o.covered
	return nil
}

// isZero reports whether e is the zero EffectSums.
func (e *EffectSums) isZero() bool {
	return e.treated == 0 && e.entries == 0 && e.widths == nil && e.sums == nil
}

// sameShape reports whether o has e's shape.
func (e *EffectSums) sameShape(o *EffectSums) error {
	if e.treated != o.treated || e.entries != o.entries || len(e.widths) != len(o.widths) {
		return invalid("EffectSums", "sums of %d treated units, %d set entries and %d outcomes, merged with %d, %d and %d",
			o.treated, o.entries, len(o.widths), e.treated, e.entries, len(e.widths))
	}
	for k := range e.widths {
		if e.widths[k] != o.widths[k] || e.pres[k] != o.pres[k] {
			return invalid("EffectSums", "outcome %d has months -%d..%d, merged with -%d..%d",
				k, o.pres[k], o.widths[k]-o.pres[k]-1, e.pres[k], e.widths[k]-e.pres[k]-1)
		}
	}
	return nil
}

// EffectsFromSums returns Effects(s, m, opts) from the merged sums of all
// shards (see EffectSums for when it is bit-identical): the treated
// means from the treated units' outcomes in s, the control means from
// sums, the counts from m's sets. Errors (*Error): s or m invalid (as
// Effects); sums nil, of another shape than s and m, or not covering
// every set entry (a shard missing) (ErrInvalid); a NaN outcome of a
// treated unit (ErrNaNOutcome); no matched treated unit (ErrNoMatches).
// Cost: O((treated + set entries) · (1 + subgroup attributes) ·
// columns).
func EffectsFromSums(s *Sample, m *psm.UnitMatching, sums *EffectSums, opts *EffectOptions) (*Result, error) {
	ms, err := setsFromUnits(s, m, "EffectsFromSums")
	if err != nil {
		return nil, err
	}
	if err := ms.validate(s); err != nil {
		return nil, err
	}
	if sums == nil {
		return nil, invalid("EffectSums", "nil")
	}
	if err := newEffectSums(s, len(ms.Treated), len(ms.Control)).sameShape(sums); err != nil {
		return nil, err
	}
	if sums.covered != sums.entries {
		return nil, invalid("EffectSums", "the parts cover %d of the %d set entries (a shard missing)", sums.covered, sums.entries)
	}
	rows := func(k int) []float64 { return sums.sums[k*sums.cols : (k+1)*sums.cols] }
	return effectsResult(s, ms, rows, opts)
}
