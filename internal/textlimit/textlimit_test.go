package textlimit

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func read(s string, l Limits) error {
	_, err := io.ReadAll(NewReader(strings.NewReader(s), l))
	return err
}

// TestQuotes: quoted commas and newlines do not end a field or record,
// so a quoted field counts whole against the field limit, and records
// end only at unquoted newlines.
func TestQuotes(t *testing.T) {
	l := Limits{HeaderBytes: 10, RecordBytes: 12, FieldBytes: 6}
	for _, ok := range []string{"a,b\n123456,1\r\n", "a\n\"1,2\"\n", "a\n\"1\n2\"\n", "a,b\n1,2"} {
		if err := read(ok, l); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for s, want := range map[string]Error{
		"0123456789ab\n":          {0, "header", ""},
		"a\n1234567\n":            {1, "field", ""},
		"a\n\"1,2,3,4\"\n":        {1, "field", ""},
		"a\n1,2\n1,2,3,4,5,6,7\n": {2, "record", ""},
		"a\n1\x00\n":              {1, "", ""},
	} {
		err := read(s, l)
		var e *Error
		if !errors.As(err, &e) || e.Record != want.Record || e.Limit != want.Limit {
			t.Errorf("%q: error %#v, want record %d limit %q", s, err, want.Record, want.Limit)
		}
	}
	if err := read("0123456789ab\n", Limits{HeaderBytes: -1}); err != nil {
		t.Errorf("no header limit: %v", err)
	}
}
