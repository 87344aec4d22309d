package estimate

import (
	"errors"
	"fmt"
	"slices"

	"github.com/psmeval/psmeval/psm"
)

// NewEffectSumsPart is NewEffectSums for a shard that holds only its own
// units: part is a Sample of the units lo..lo+part.Len()-1 of the whole
// sample (their treated flags and outcomes, in the whole sample's outcome
// layout; Person and Subgroups are not read), and m is the matching of
// all units (psm.MatchUnits or psm.MatchUnitsShards, with its sets). The
// sums equal NewEffectSums(whole, m, lo, lo+part.Len()) bit for bit, but
// only the shard's outcomes are in memory. A part without units is valid
// (its sums are zero).
//
// Errors (*Error; Unit is a unit of the whole sample): part or m invalid
// (as NewEffectSums), m's treated units not in unit order, part's treated
// flags not those of m on its units, lo out of range (ErrInvalid); a NaN
// or infinite outcome of one of the shard's matched controls inside the
// horizon (ErrNaNOutcome). Cost: NewEffectSums', plus O(log T) per set
// entry to check its control against m's T treated units.
func NewEffectSumsPart(part *Sample, lo int, m *psm.UnitMatching) (*EffectSums, error) {
	if part == nil || m == nil {
		return nil, invalid(nilField(part == nil, "Sample", "psm.UnitMatching"), "NewEffectSumsPart needs a Sample and a psm.UnitMatching (got nil)")
	}
	if err := part.validateShapes(true); err != nil {
		return nil, err
	}
	ms, n, isTreated, err := partSets(m)
	if err != nil {
		return nil, err
	}
	hi := lo + part.Len()
	if lo < 0 || hi > n {
		return nil, invalid("units", "%d to %d, want 0 <= lo <= hi <= %d (units of the matching)", lo, hi, n)
	}
	for u := lo; u < hi; u++ {
		if part.Treated[u-lo] != isTreated(int32(u)) {
			return nil, &Error{Field: "Sample.Treated", Unit: u, Person: -1, Err: ErrInvalid,
				Msg: fmt.Sprintf("treated %v in the part, %v in the matching (another sample, or lo %d wrong?)", part.Treated[u-lo], !part.Treated[u-lo], lo)}
		}
	}
	es := newEffectSums(part, len(ms.Treated), len(ms.Control))
	if err := es.addControls(part, ms, lo, hi, lo); err != nil {
		return nil, shiftUnit(err, func(u int) int { return u + lo })
	}
	return es, nil
}

// EffectsFromSumsTreated is EffectsFromSums for a coordinator that holds
// only the treated units: treated is a Sample of m's treated units, in
// the order of m.TreatedUnits (every flag true), with their outcomes and
// subgroup codes (Person is not read). The result equals
// EffectsFromSums(whole, m, sums, opts) bit for bit.
//
// Errors (*Error; Unit is a unit of the whole sample): treated or m
// invalid, or of other sizes (ErrInvalid); sums as EffectsFromSums'; a
// NaN outcome of a treated unit (ErrNaNOutcome); no matched treated unit
// (ErrNoMatches). Cost: EffectsFromSums', plus O(log T) per set entry.
func EffectsFromSumsTreated(treated *Sample, m *psm.UnitMatching, sums *EffectSums, opts *EffectOptions) (*Result, error) {
	if treated == nil || m == nil {
		return nil, invalid(nilField(treated == nil, "Sample", "psm.UnitMatching"), "EffectsFromSumsTreated needs a Sample and a psm.UnitMatching (got nil)")
	}
	if err := treated.validate(); err != nil {
		return nil, err
	}
	ms, _, _, err := partSets(m)
	if err != nil {
		return nil, err
	}
	if treated.Len() != len(ms.Treated) {
		return nil, invalid("Sample.Treated", "%d units for the %d treated units of the matching", treated.Len(), len(ms.Treated))
	}
	if k := slices.Index(treated.Treated, false); k >= 0 {
		return nil, &Error{Field: "Sample.Treated", Unit: int(ms.Treated[k]), Person: -1, Err: ErrInvalid,
			Msg: fmt.Sprintf("treated unit %d of the matching is not treated in the Sample", k)}
	}
	if sums == nil {
		return nil, invalid("EffectSums", "nil")
	}
	if err := newEffectSums(treated, len(ms.Treated), len(ms.Control)).sameShape(sums); err != nil {
		return nil, err
	}
	if sums.covered != sums.entries {
		return nil, invalid("EffectSums", "the parts cover %d of the %d set entries (a shard missing)", sums.covered, sums.entries)
	}
	global := ms.Treated
	local := *ms
	local.Treated = make([]int32, len(global))
	for k := range local.Treated {
		local.Treated[k] = int32(k)
	}
	rows := func(k int) []float64 { return sums.sums[k*sums.cols : (k+1)*sums.cols] }
	res, err := effectsResult(treated, &local, rows, opts)
	if err != nil {
		return nil, shiftUnit(err, func(k int) int { return int(global[k]) })
	}
	return res, nil
}

// partSets returns the match sets of m with unit indices, checked
// without the sample: the number of units n and their treated flags
// come from m itself (m.TreatedUnits, which must be in unit order, and
// m.ControlUnits).
func partSets(m *psm.UnitMatching) (ms *matchSets, n int, isTreated func(int32) bool, err error) {
	if m.Matching == nil {
		return nil, 0, nil, invalid("psm.UnitMatching", "no matching (got nil)")
	}
	if !slices.IsSorted(m.TreatedUnits) || !slices.IsSorted(m.ControlUnits) {
		return nil, 0, nil, invalid("psm.UnitMatching", "treated or control units not in unit order (not psm.MatchUnits' matching)")
	}
	if len(m.ControlWeight) != len(m.ControlUnits) {
		return nil, 0, nil, invalid("psm.UnitMatching", "%d control weights for %d control units", len(m.ControlWeight), len(m.ControlUnits))
	}
	n = len(m.TreatedUnits) + len(m.ControlUnits)
	ms, err = unitSets(m, m.Matching)
	if err != nil {
		return nil, 0, nil, err
	}
	isTreated = func(u int32) bool {
		_, found := slices.BinarySearch(m.TreatedUnits, int(u))
		return found
	}
	if err := ms.validateUnits(n, isTreated, nil); err != nil {
		return nil, 0, nil, err
	}
	return ms, n, isTreated, nil
}

// shiftUnit renumbers the unit of an *Error with to (a part's unit to
// the whole sample's); the person, a unit of the part, is dropped.
func shiftUnit(err error, to func(int) int) error {
	var e *Error
	if errors.As(err, &e) && e.Unit >= 0 {
		c := *e
		c.Unit, c.Person = to(e.Unit), -1
		return &c
	}
	return err
}
