package main

import (
	"context"
	"io"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
)

// benchSizes returns the population sizes of BenchmarkStages: 33,000
// persons by default; with PSMEVAL_BENCH_BIG=1 also 330,000, 1 million
// and 3.3 million; PSMEVAL_BENCH_SIZES=n1,n2,... sets the list (e.g.
// 10000000 on a machine with 24 GiB).
func benchSizes(b *testing.B) []int {
	if s := os.Getenv("PSMEVAL_BENCH_SIZES"); s != "" {
		var out []int
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 {
				b.Fatalf("PSMEVAL_BENCH_SIZES: %q is not a positive integer", f)
			}
			out = append(out, n)
		}
		return out
	}
	if os.Getenv("PSMEVAL_BENCH_BIG") == "1" {
		return []int{33000, 330000, 1000000, 3300000}
	}
	return []int{33000}
}

// BenchmarkStages times each pipeline stage of the program (the same
// functions, design and defaults: K = 40 covariates, 4 outcomes, H = 21,
// 999 fixed-score replicates) on synthetic populations of each size, with
// the treated in proportion (6,487·n/3.3M). The population and the earlier
// stages are made once per size, outside the timings; each iteration runs
// one stage again. Reported: ns/op, B/op, allocs/op and peak-RSS-MB, the
// peak resident set during the timed iterations (reset before them).
//
//	go test ./examples/bench -run XXX -bench Stages -benchtime 3x
//	PSMEVAL_BENCH_BIG=1 nice -n 15 go test ./examples/bench -run XXX -bench Stages -benchtime 1x -timeout 1h
//
// Names: BenchmarkStages/{panel,logit,match,effects,bootstrap}/n=N.
func BenchmarkStages(b *testing.B) {
	ctx := context.Background()
	for _, n := range benchSizes(b) {
		c := defaultConfig()
		c.n = n
		p, err := newPipeline(&c, io.Discard)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.generate(ctx); err != nil {
			b.Fatal(err)
		}
		stages := p.stages()
		done := -1 // stages[:done+1] have current results for this size
		for i, s := range stages {
			b.Run(s.name+"/n="+strconv.Itoa(n), func(b *testing.B) {
				// run the stages before s once, outside the timing
				for j := done + 1; j < i; j++ {
					if err := stages[j].run(ctx); err != nil {
						b.Fatal(err)
					}
				}
				done = max(done, i-1)
				runtime.GC()
				debug.FreeOSMemory()
				reset := resetPeak()
				b.ReportAllocs()
				b.ResetTimer()
				for k := 0; k < b.N; k++ {
					if err := s.run(ctx); err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				done = i
				if reset {
					b.ReportMetric(statusKB("VmHWM")/1024, "peak-RSS-MB")
				}
			})
		}
		p = nil
		runtime.GC()
	}
}
