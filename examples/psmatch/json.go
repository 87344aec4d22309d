package main

import (
	"bytes"
	"math"
	"strconv"
)

// orderedObject writes a JSON object whose keys are names in the given
// order (encoding/json sorts map keys); value(i) is the JSON text of the
// value of names[i].
func orderedObject(names []string, value func(i int) string) []byte {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, n := range names {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.Quote(n))
		b.WriteByte(':')
		b.WriteString(value(i))
	}
	b.WriteByte('}')
	return b.Bytes()
}

// jsonFloat is v as JSON: shortest round-trip digits, null for NaN (an
// aliased term, an undefined statistic) and ±Inf.
func jsonFloat(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "null"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}
