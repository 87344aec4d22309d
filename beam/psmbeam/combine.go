package psmbeam

import (
	"encoding"
	"fmt"
	"reflect"
	"slices"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"
)

// kind names what a pipeline computes on every shard and merges: one
// kind of partial result, merged by its own Merge.
type kind uint8

const (
	kindStarts     kind = iota + 1 // pass 0: panel.StartCounts
	kindLayout                     // pass 1: the shards' layouts (byShard)
	kindScan                       // pass 2: psm.LogitScanPartial
	kindPass                       // pass 2: psm.LogitPartial
	kindScores                     // pass 3: the treated units' scores (byShard)
	kindMoments                    // pass 3: psm.MatchMoments
	kindCandidates                 // pass 3: psm.MatchCandidates
	kindSums                       // pass 4: estimate.EffectSums
	kindEnd
)

// partialValue is a mergeable partial result with a binary encoding.
type partialValue interface {
	encoding.BinaryMarshaler
	encoding.BinaryUnmarshaler
}

// kinds holds, per kind, its name (in Round and errors), a new empty
// value to decode into, and its merge (a.Merge(b), which leaves b
// unchanged).
var kinds = [kindEnd]struct {
	name  string
	new   func() partialValue
	merge func(a, b partialValue) error
}{
	kindStarts: {"start counts", func() partialValue { return &panel.StartCounts{} },
		func(a, b partialValue) error { return a.(*panel.StartCounts).Merge(b.(*panel.StartCounts)) }},
	kindLayout: {"layout", func() partialValue { return &byShard{} },
		func(a, b partialValue) error { return a.(*byShard).Merge(b.(*byShard)) }},
	kindScan: {"logit scan", func() partialValue { return &psm.LogitScanPartial{} },
		func(a, b partialValue) error { return a.(*psm.LogitScanPartial).Merge(b.(*psm.LogitScanPartial)) }},
	kindPass: {"logit pass", func() partialValue { return &psm.LogitPartial{} },
		func(a, b partialValue) error { return a.(*psm.LogitPartial).Merge(b.(*psm.LogitPartial)) }},
	kindScores: {"treated scores", func() partialValue { return &byShard{} },
		func(a, b partialValue) error { return a.(*byShard).Merge(b.(*byShard)) }},
	kindMoments: {"match moments", func() partialValue { return &psm.MatchMoments{} },
		func(a, b partialValue) error { return a.(*psm.MatchMoments).Merge(b.(*psm.MatchMoments)) }},
	kindCandidates: {"match candidates", func() partialValue { return &psm.MatchCandidates{} },
		func(a, b partialValue) error { return a.(*psm.MatchCandidates).Merge(b.(*psm.MatchCandidates)) }},
	kindSums: {"effect sums", func() partialValue { return &estimate.EffectSums{} },
		func(a, b partialValue) error { return a.(*estimate.EffectSums).Merge(b.(*estimate.EffectSums)) }},
}

func (k kind) valid() bool { return k > 0 && k < kindEnd && kinds[k].new != nil }

func (k kind) String() string {
	if k.valid() {
		return kinds[k].name
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// partial is the accumulator of mergeFn: a decoded partial result of one
// kind, or none yet (v nil). Its Beam coder is the library's encoding of
// v after one byte for the kind (encodePartial), so a runner that moves
// accumulators between workers to merge them as a tree moves the
// library's encodings.
type partial struct {
	kind kind
	v    partialValue
}

// encodePartial is the Beam coder's encoder of partial: the kind, then
// v's MarshalBinary (nothing for an empty accumulator).
func encodePartial(p partial) ([]byte, error) {
	if p.v == nil {
		return []byte{byte(p.kind)}, nil
	}
	b, err := p.v.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("psmbeam: encoding a %v accumulator: %w", p.kind, err)
	}
	return append([]byte{byte(p.kind)}, b...), nil
}

// decodePartial is the Beam coder's decoder of partial.
func decodePartial(b []byte) (partial, error) {
	if len(b) == 0 || !kind(b[0]).valid() {
		return partial{}, fmt.Errorf("psmbeam: decoding an accumulator: no valid kind")
	}
	p := partial{kind: kind(b[0])}
	if len(b) == 1 {
		return p, nil
	}
	p.v = kinds[p.kind].new()
	if err := p.v.UnmarshalBinary(b[1:]); err != nil {
		return partial{}, fmt.Errorf("psmbeam: decoding a %v accumulator: %w", p.kind, err)
	}
	return p, nil
}

// mergeFn is the Beam CombineFn of every pass: it decodes each shard's
// encoded partial result (AddInput), merges accumulators with the
// library's Merge (MergeAccumulators: associative and commutative, so a
// runner may combine per bundle and then as a tree), and encodes the
// merged result (ExtractOutput; nil when there was no input).
type mergeFn struct {
	Kind kind
}

// CreateAccumulator returns an empty accumulator.
func (f *mergeFn) CreateAccumulator() partial { return partial{kind: f.Kind} }

// AddInput merges one shard's encoded partial into a.
func (f *mergeFn) AddInput(a partial, in []byte) (partial, error) {
	if !f.Kind.valid() {
		return a, fmt.Errorf("psmbeam: merge of %v", f.Kind)
	}
	v := kinds[f.Kind].new()
	if err := v.UnmarshalBinary(in); err != nil {
		return a, fmt.Errorf("psmbeam: decoding a shard's %v: %w", f.Kind, err)
	}
	return f.MergeAccumulators(a, partial{kind: f.Kind, v: v})
}

// MergeAccumulators merges b into a and returns a.
func (f *mergeFn) MergeAccumulators(a, b partial) (partial, error) {
	if a.kind != f.Kind || b.kind != f.Kind {
		return a, fmt.Errorf("psmbeam: merging a %v and a %v accumulator in a merge of %v", a.kind, b.kind, f.Kind)
	}
	switch {
	case b.v == nil:
		return a, nil
	case a.v == nil:
		return b, nil
	}
	if err := kinds[f.Kind].merge(a.v, b.v); err != nil {
		return a, fmt.Errorf("psmbeam: merging %v: %w", f.Kind, err)
	}
	return a, nil
}

// ExtractOutput returns the encoding of the merged result (nil when
// empty).
func (f *mergeFn) ExtractOutput(a partial) ([]byte, error) {
	if a.v == nil {
		return nil, nil
	}
	b, err := a.v.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("psmbeam: encoding the merged %v: %w", f.Kind, err)
	}
	return b, nil
}

// byShard is the partial result of the passes whose answers do not add
// up but sit side by side: one record per shard (its layout in pass 1,
// its treated units' scores in pass 3), kept in shard order. Merge is
// the union; a shard in both is an error.
type byShard struct {
	recs []shardRec
}

type shardRec struct {
	shard int
	data  []byte
}

// Merge adds o's records to b (o unchanged).
func (b *byShard) Merge(o *byShard) error {
	for _, r := range o.recs {
		i, found := slices.BinarySearchFunc(b.recs, r.shard, func(x shardRec, k int) int { return x.shard - k })
		if found {
			return fmt.Errorf("shard %d answered twice", r.shard)
		}
		b.recs = slices.Insert(b.recs, i, r)
	}
	return nil
}

const byShardMagic = "psmbeam.byShard.1"

// MarshalBinary encodes the records: a header, then per record the shard
// and its bytes.
func (b *byShard) MarshalBinary() ([]byte, error) {
	e := enc{b: []byte(byShardMagic)}
	e.u64(len(b.recs))
	for _, r := range b.recs {
		e.u64(r.shard)
		e.bytes(r.data)
	}
	return e.b, nil
}

// UnmarshalBinary decodes an encoding of MarshalBinary into b.
func (b *byShard) UnmarshalBinary(data []byte) error {
	d := dec{b: data}
	if string(d.take(len(byShardMagic))) != byShardMagic {
		return fmt.Errorf("not a psmbeam shard list")
	}
	n := d.count(16)
	recs := make([]shardRec, 0, n)
	for range n {
		r := shardRec{shard: d.u64(), data: d.bytes()}
		if d.err == nil && len(recs) > 0 && r.shard <= recs[len(recs)-1].shard {
			return fmt.Errorf("shard list out of order at shard %d", r.shard)
		}
		recs = append(recs, r)
	}
	if err := d.end(); err != nil {
		return fmt.Errorf("shard list: %w", err)
	}
	b.recs = recs
	return nil
}

func init() {
	beam.RegisterCoder(reflect.TypeOf(partial{}), encodePartial, decodePartial)
	register.Combiner3[partial, []byte, []byte](&mergeFn{})
}
