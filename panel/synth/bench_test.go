package synth

import (
	"context"
	"runtime"
	"testing"
)

// BenchmarkGenerate measures Generate at Scale 1 (3.3 million persons)
// and smaller; run with
//
//	go test ./panel/synth -run '^$' -bench Generate -benchtime 1x
//
// peak-heap-MB is the live heap after generation (the Population).
func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name  string
		scale float64
	}{{"scale=0.1", 0.1}, {"scale=1", 1}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				p, err := Generate(context.Background(), &Options{Scale: bc.scale, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				var ms runtime.MemStats
				runtime.ReadMemStats(&ms)
				b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
				b.ReportMetric(float64(p.Register.Len()), "persons")
				p = nil
				runtime.GC()
				b.StartTimer()
			}
		})
	}
}
