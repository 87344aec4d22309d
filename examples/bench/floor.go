package main

// The physical floor of each stage: the bytes it must read or write at
// least once, over the machine's streaming memory bandwidth (measured
// here), so that a stage can be reported as a multiple of its floor.

import (
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/psmeval/psmeval/examples/internal/benchdata"
)

// floorStage is one stage's floor.
type floorStage struct {
	Stage string `json:"stage"`
	// Bytes is what the stage must touch at least once (see stageBytes).
	Bytes float64 `json:"bytes"`
	// Seconds is Bytes over the bandwidth; Multiple the stage's wall time
	// over it.
	Seconds  float64 `json:"floor_s"`
	Multiple float64 `json:"multiple"`
}

// reportFloor is the "floor" object of the report.
type reportFloor struct {
	// BandwidthGBs is the streaming read bandwidth of this machine in
	// GB/s: the best of three passes summing a 512 MiB array on
	// GOMAXPROCS goroutines.
	BandwidthGBs float64      `json:"bandwidth_gb_s"`
	Stages       []floorStage `json:"stages"`
}

// streamBandwidth measures the streaming read bandwidth in bytes per
// second (best of three passes over 512 MiB already in memory).
func streamBandwidth() float64 {
	const n = 64 << 20 // float64s: 512 MiB
	buf := make([]float64, n)
	for i := range buf {
		buf[i] = float64(i & 7)
	}
	w := runtime.GOMAXPROCS(0)
	best := math.Inf(1)
	var sink float64
	for range 3 {
		start := time.Now()
		sums := make([]float64, w)
		var wg sync.WaitGroup
		for k := range w {
			wg.Add(1)
			go func() {
				defer wg.Done()
				s := 0.0
				for _, v := range buf[k*n/w : (k+1)*n/w] {
					s += v
				}
				sums[k] = s
			}()
		}
		wg.Wait()
		best = math.Min(best, time.Since(start).Seconds())
		for _, s := range sums {
			sink += s
		}
	}
	if sink < 0 { // keep the sums alive
		return 0
	}
	return 8 * n / best
}

// stageBytes are the bytes each stage must touch at least once:
//
//   - panel: the status weeks the design reads (the longest history
//     window per unit, one byte per week), the covariate matrix written
//     (units × covariates × 8) and the outcome bytes written (units ×
//     outcomes × months);
//   - logit: the covariate matrix read once per pass (iterations + 1);
//   - match: the scores read once (units × 8);
//   - effects: the outcome rows of the matched treated and of their
//     distinct controls (outcomes × months bytes each);
//   - bootstrap: those rows read once per replicate.
func stageBytes(p *pipeline) map[string]float64 {
	units := float64(p.panel.Len())
	cov := float64(len(p.xNames))
	months := 0.0
	for _, o := range p.sample.Outcomes {
		months += float64(o.H + 1)
	}
	rows := float64(p.matching.NMatched+p.matching.NDistinctControls) * months
	return map[string]float64{
		stagePanel:     units*float64(slices.Max(benchdata.HistoryWindows)) + units*cov*8 + units*months,
		stageLogit:     float64(p.logit.Iterations+1) * units * cov * 8,
		stageMatch:     units * 8,
		stageEffects:   rows,
		stageBootstrap: float64(p.cfg.replicates) * rows,
	}
}

// newFloor measures the bandwidth and relates every measured stage to
// its floor.
func newFloor(p *pipeline, stages []stageResult) *reportFloor {
	bw := streamBandwidth()
	f := &reportFloor{BandwidthGBs: bw / 1e9}
	by := stageBytes(p)
	for _, s := range stages {
		b, ok := by[s.Stage]
		if !ok {
			continue
		}
		sec := b / bw
		f.Stages = append(f.Stages, floorStage{Stage: s.Stage, Bytes: b, Seconds: sec, Multiple: s.Wall / sec})
	}
	return f
}
