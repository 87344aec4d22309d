package synth

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"math"
	"os"
	"testing"

	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/require"
)

// fitAccept is the mean stage-2 acceptance the cap is set for.
const fitAccept = 0.02

var update = flag.Bool("update", false, "refit the selection weights and rewrite selection_weights.go")

// fitSelection draws n population candidates at start days of the SFI
// window (Feb–Jul 2012, by the start volumes) and rakes the log weights
// so that the weighted margins of the features equal the report's
// figures. It returns the weights, the achieved margins (percent) and
// the acceptance rates of the two stages.
func fitSelection(n int, seed uint64, refit bool) (sw selWeights, margins [nFeat][]float64, acc1, acc2 float64, t0 int) {
	o, _ := (&Options{Seed: seed}).resolved()
	s := newSim(&o)
	tgt := featureTargets()
	for j := range tgt {
		sw.logW[j] = make([]float64, len(tgt[j]))
		normalize(tgt[j])
	}
	var fs [][nFeat]int
	for k := 0; len(fs) < n; k++ {
		s.pcg.Seed(seed, splitmix64(uint64(k)<<2|streamPerson))
		s.pcB.Seed(seed, splitmix64(uint64(k)<<2|streamOutcomes))
		mi := 1 + pick(cumulative(startVolume[1:7]), s.r.Float64())
		s.start = startMonthFirst[mi] + dayN(s, startMonthLen[mi])
		s.u = s.r.NormFloat64()
		s.attributes()
		s.resetPath()
		s.nonStarterPath()
		s.monthly()
		if f, ok := s.features(s.start); ok {
			fs = append(fs, f)
		}
	}
	// Collapse equal feature vectors.
	idx := map[[nFeat]int]int{}
	var uf [][nFeat]int
	var cnt []float64
	for _, f := range fs {
		i, ok := idx[f]
		if !ok {
			i = len(uf)
			idx[f] = i
			uf = append(uf, f)
			cnt = append(cnt, 0)
		}
		cnt[i]++
	}
	x1 := make([]float64, len(uf))
	x2 := make([]float64, len(uf))
	a2 := make([]float64, len(uf))
	setCap := func() {
		lo, hi := -300.0, 300.0
		for it := 0; it < 50; it++ {
			sw.Cap = (lo + hi) / 2
			num, den := 0.0, 0.0
			for i := range uf {
				a := cnt[i] * math.Exp(x1[i])
				num += a * math.Min(1, math.Exp(x2[i]-sw.Cap))
				den += a
			}
			if num/den > fitAccept {
				lo = sw.Cap
			} else {
				hi = sw.Cap
			}
		}
	}
	eval := func() {
		for i := range uf {
			x1[i], x2[i] = sw.stage(&uf[i], true), sw.stage(&uf[i], false)
			a2[i] = cnt[i] * math.Exp(x1[i]) * math.Min(1, math.Exp(x2[i]-sw.Cap))
		}
	}
	if os.Getenv("PSMEVAL_SYNTH_FITDIAG") != "" {
		// P(level | stage-1 tilt) / target: the mean acceptance cannot
		// exceed the smallest ratio.
		eval()
		for j := 0; j < nFeat; j++ {
			cur := make([]float64, len(tgt[j]))
			tot := 0.0
			for i, f := range uf {
				w := cnt[i] * math.Exp(x1[i])
				cur[f[j]] += w
				tot += w
			}
			line := featureNames[j] + ":"
			for l := range cur {
				line += fmt.Sprintf(" %.3f/%.3f=%.2f", cur[l]/tot, tgt[j][l], cur[l]/tot/tgt[j][l])
			}
			fmt.Println(line)
		}
	}
	if !refit {
		// Evaluate the committed weights.
		for j := range sw.logW {
			sw.logW[j] = append([]float64(nil), selectionWeights.logW[j]...)
		}
		sw.Cap = selectionWeights.Cap
	}
	for it := 0; refit && it < 400; it++ {
		sw.normalize()
		eval()
		setCap()
		for j := 0; j < nFeat; j++ {
			eval()
			cur := make([]float64, len(tgt[j]))
			tot := 0.0
			for i, f := range uf {
				cur[f[j]] += a2[i]
				tot += a2[i]
			}
			for l := range cur {
				if cur[l] > 0 && tgt[j][l] > 0 {
					sw.logW[j][l] += math.Log(tgt[j][l] / (cur[l] / tot))
				}
			}
		}
	}
	if refit {
		sw.normalize()
		eval()
		setCap()
	}
	eval()
	var s1, s2, tot, s22 float64
	for j := range margins {
		margins[j] = make([]float64, len(tgt[j]))
	}
	for i, f := range uf {
		s1 += cnt[i] * math.Exp(x1[i])
		s2 += a2[i]
		s22 += a2[i] * a2[i] / cnt[i]
		tot += cnt[i]
		for j := range margins {
			margins[j][f[j]] += a2[i]
		}
	}
	for j := range margins {
		for l := range margins[j] {
			margins[j][l] *= 100 / s2
		}
	}
	t0 = int(s2 * s2 / s22) // effective number of accepted candidates
	return sw, margins, s1 / tot, s2 / s1, t0
}

func dayN(s *sim, n int) panel.Day { return panel.Day(s.r.IntN(n)) }

// TestFitSelection checks that the committed selection weights reproduce
// the report's 2012-starter margins (SFI-METHOD.md §4) on a fresh sample
// of 200,000 candidates (importance-weighted; within 4 standard errors
// plus 0.3 points), and with
// -update refits them on 1.5 million candidates and rewrites
// selection_weights.go (needed after any change to the population
// model). Slow: runs only with PSMEVAL_SYNTH_FIT=1 or -update.
//
//	go test ./panel/synth -run TestFitSelection -update -v
func TestFitSelection(t *testing.T) {
	n := 200_000
	if *update {
		n = 1_500_000
	}
	if os.Getenv("PSMEVAL_SYNTH_FIT") == "" && !*update {
		t.Skip("set PSMEVAL_SYNTH_FIT=1 to check the fit (slow)")
	}
	sw, margins, a1, a2, nu := fitSelection(n, 20150301+uint64(n), *update)
	t.Logf("effective sample size %d", nu)
	t.Logf("acceptance: stage 1 %.4f, stage 2 %.4f (expected candidates per starter %.0f)", a1, a2, 1/(a1*a2))
	tgt := featureTargets()
	for j := range margins {
		normalize(tgt[j])
		for l := range margins[j] {
			// 4 standard errors of the weighted share, plus 0.3 points.
			q := tgt[j][l]
			require.InDelta(t, 100*q, margins[j][l], 0.3+400*math.Sqrt(q*(1-q)/float64(nu)), "%s level %d", featureNames[j], l)
		}
	}
	if !*update {
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by TestFitSelection (go test ./panel/synth -run TestFitSelection -update); DO NOT EDIT.\n\npackage synth\n\n")
	fmt.Fprintf(&b, "// selectionWeights: log weights by feature and level, fitted on %d candidates\n// (stage acceptance %.4f and %.4f).\n", n, a1, a2)
	fmt.Fprintf(&b, "var selectionWeights = selWeights{logW: [nFeat][]float64{\n")
	for j := range sw.logW {
		fmt.Fprintf(&b, "\t{")
		for l, v := range sw.logW[j] {
			if l > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%.6f", v)
		}
		fmt.Fprintf(&b, "}, // %s\n", featureNames[j])
	}
	fmt.Fprintf(&b, "}, Cap: %.6f}\n", sw.Cap)
	src, err := format.Source(b.Bytes())
	require.NoError(t, err)
	require.NoError(t, os.WriteFile("selection_weights.go", src, 0o644))
}
