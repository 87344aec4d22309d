package psm

import "encoding"

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
