package main

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/psmeval/psmeval/internal/leakcheck"
)

// TestPsmatchCancel: a context cancelled while the model is fitted (at
// its first poll, and after a few) stops the program with
// context.Canceled and leaves no goroutine behind.
func TestPsmatchCancel(t *testing.T) {
	data := filepath.Join("..", "..", "testdata", "match", "cont.csv")
	for _, k := range []int{1, 3} {
		t.Run(fmt.Sprintf("poll %d", k), func(t *testing.T) {
			defer leakcheck.Check(t)()
			var out bytes.Buffer
			err := run(leakcheck.CancelAfter(context.Background(), k),
				[]string{"-data", data, "-treatment", "tr", "-covariates", "x1,x2,x3", "-outcomes", "y1", "-workers", "2"}, &out, &out)
			require.ErrorIs(t, err, context.Canceled)
		})
	}
}
