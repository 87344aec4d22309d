package main

import (
	"context"
	"errors"
	"io"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/psmeval/psmeval/internal/memguard"
)

// TestRefusesTooBig: with 256 MB available (a Go memory limit), a run of
// 10 million persons is refused before generation with the estimate and
// what to do instead; -no-memory-check lets it start (here stopped at
// once by a cancelled context).
func TestRefusesTooBig(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(256 << 20))
	c := defaultConfig()
	c.n, c.replicates = 10_000_000, 0
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	t0 := time.Now()
	err := run(ctx, &c, io.Discard, io.Discard)
	var me *memguard.Error
	if !errors.As(err, &me) {
		t.Fatalf("err = %v, want a *memguard.Error", err)
	}
	if d := time.Since(t0); d > 2*time.Second {
		t.Errorf("refused after %v, want at once", d)
	}
	if me.Need < 8e9 || me.Available > 256<<20 { // 8.6 GB: the register 3.9 GB (281 weeks), X 3.2 GB, the rest 1.5 GB
		t.Errorf("need %d, available %d", me.Need, me.Available)
	}
	for _, s := range []string{"-covariates", "shards", "-no-memory-check", "GOMEMLIMIT"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("message lacks %q: %v", s, err)
		}
	}
	c.noMemoryCheck = true
	cctx, ccancel := context.WithCancel(context.Background())
	ccancel()
	if err := run(cctx, &c, io.Discard, io.Discard); !errors.Is(err, context.Canceled) {
		t.Errorf("with -no-memory-check: %v, want the cancellation", err)
	}
}
