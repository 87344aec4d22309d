package psm

import (
	"bytes"
	"encoding"
	"errors"
	"testing"
)

// overWire encodes v and decodes the bytes into a new T, as a value
// sent to another process would arrive there.
func overWire[T any, PT interface {
	*T
	encoding.BinaryUnmarshaler
}](v encoding.BinaryMarshaler) (PT, error) {
	b, err := v.MarshalBinary()
	if err != nil {
		return nil, err
	}
	out := PT(new(T))
	return out, out.UnmarshalBinary(b)
}

// decodeAny decodes b as the partial-result type of its kind byte ('S'
// logit scan partial, 'P' logit pass partial, 'L' logit plan, 'Q' match
// query, 'M' match moments, 'C' match candidates) and encodes it again.
func decodeAny(kind byte, b []byte) ([]byte, error) {
	var v interface {
		encoding.BinaryMarshaler
		encoding.BinaryUnmarshaler
	}
	switch kind {
	case 'S':
		v = &LogitScanPartial{}
	case 'P':
		v = &LogitPartial{}
	case 'L':
		v = &LogitPlan{}
	case 'Q':
		v = &MatchQuery{}
	case 'M':
		v = &MatchMoments{}
	default:
		v = &MatchCandidates{}
	}
	if err := v.UnmarshalBinary(b); err != nil {
		return nil, err
	}
	return v.MarshalBinary()
}

// decodesExactly decodes b as kind (see decodeAny) for a fuzzer: a
// failure must be an encoding error (false), and what decodes must encode
// to the same bytes (true).
func decodesExactly(t *testing.T, kind byte, b []byte) bool {
	t.Helper()
	got, err := decodeAny(kind, b)
	if err != nil {
		var ie *InputError
		if !errors.As(err, &ie) || ie.Err != ErrBadEncoding {
			t.Fatalf("kind %c: error %v is not an encoding error", kind, err)
		}
		return false
	}
	if !bytes.Equal(got, b) {
		t.Fatalf("kind %c: re-encoding differs", kind)
	}
	return true
}
