package registerio

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// endless yields prefix and then fill bytes up to size bytes in all,
// counting what was read, without holding them.
type endless struct {
	prefix   string
	fill     byte
	size, at int64
}

func (e *endless) Read(p []byte) (int, error) {
	if e.at >= e.size {
		return 0, io.EOF
	}
	n := int64(len(p))
	if n > e.size-e.at {
		n = e.size - e.at
	}
	for i := range p[:n] {
		if k := e.at + int64(i); k < int64(len(e.prefix)) {
			p[i] = e.prefix[k]
		} else {
			p[i] = e.fill
		}
	}
	e.at += n
	return int(n), nil
}

// TestReadHostileCSV: a header or record without its end, or NUL bytes,
// fail after reading little more than the limit (here 64 KiB, set low),
// not the whole 256 MiB stream, with an *Error naming the file (and the
// row for a record).
func TestReadHostileCSV(t *testing.T) {
	const size = 256 << 20
	opts := &ReadOptions{MaxHeaderBytes: 64 << 10, MaxRecordBytes: 64 << 10, MaxFieldBytes: 64 << 10}
	cases := []struct {
		name   string
		src    *endless
		row    int
		msg    string
		status bool // the stream is the status table (after a good persons table)
	}{
		{"header without end", &endless{prefix: "id,", fill: 'x', size: size}, -1, "header longer than 65536 bytes", false},
		{"NUL bytes", &endless{fill: 0, size: size}, -1, "NUL byte at byte 0", false},
		{"record without end", &endless{prefix: "id,week,code\n1,2007-01-01,a\n1,2007-01-08,", fill: 'y', size: size}, 1, "record longer than 65536 bytes", true},
		{"field without end", &endless{prefix: "id,week,code\n1,2007-01-01,a\n1,2007-01-08,\"", fill: ',', size: size}, 1, "longer than 65536 bytes", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			l := NewLoader(opts)
			var err error
			if c.status {
				require.NoError(t, l.Read(TablePersons, strings.NewReader("id\n1\n"), FormatCSV, "persons.csv"))
				err = l.Read(TableStatus, c.src, FormatCSV, "status.csv")
			} else {
				err = l.Read(TablePersons, c.src, FormatCSV, "persons.csv")
			}
			require.Error(t, err)
			var de *panel.Error
			require.True(t, errors.As(err, &de), "%T %v", err, err)
			assert.Equal(t, c.row, de.Row, "%v", err)
			assert.Contains(t, err.Error(), c.msg)
			assert.Less(t, c.src.at, int64(1<<20), "bytes read before the error")
		})
	}
}

// TestReadLimitsRaised: the limits are options; a long field reads with a
// raised limit and fails with the default.
func TestReadLimitsRaised(t *testing.T) {
	long := strings.Repeat("z", 100<<10)
	persons := "id,label\n1," + long + "\n"
	err := NewLoader(nil).Read(TablePersons, strings.NewReader(persons), FormatCSV, "persons.csv")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MaxFieldBytes")
	require.NoError(t, NewLoader(&ReadOptions{MaxFieldBytes: 1 << 20}).Read(TablePersons, strings.NewReader(persons), FormatCSV, "persons.csv"))
	require.NoError(t, NewLoader(&ReadOptions{MaxFieldBytes: -1}).Read(TablePersons, strings.NewReader(persons), FormatCSV, "persons.csv"))
}
