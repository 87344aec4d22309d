package synth

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"math"
	"os"
	"testing"

	"github.com/psmeval/psmeval/internal/rng"
	"github.com/psmeval/psmeval/panel"
	"github.com/stretchr/testify/require"
)

// fitAccept is the mean stage-2 acceptance the cap is set for.
const fitAccept = 0.02

var update = flag.Bool("update", false, "refit the selection weights and rewrite selection_weights.go")

// fitSample is a weighted sample of candidate feature vectors, equal
// vectors collapsed: cnt is the sum of the draws' weights, cnt2 the sum
// of their squares (for the effective sample size).
type fitSample struct {
	uf               [][nFeat]int
	cnt, cnt2, later []float64 // later: the part of cnt from later starters
	supY             []float64 // weighted sum of years on support in the 260 weeks before
	idx              map[[nFeat]int]int
}

func (fs *fitSample) add(f [nFeat]int, w float64, later bool, supY float64) {
	if fs.idx == nil {
		fs.idx = map[[nFeat]int]int{}
	}
	i, ok := fs.idx[f]
	if !ok {
		i = len(fs.uf)
		fs.idx[f] = i
		fs.uf = append(fs.uf, f)
		fs.cnt = append(fs.cnt, 0)
		fs.cnt2 = append(fs.cnt2, 0)
		fs.later = append(fs.later, 0)
		fs.supY = append(fs.supY, 0)
	}
	fs.supY[i] += w * supY
	fs.cnt[i] += w
	fs.cnt2[i] += w * w
	if later {
		fs.later[i] += w
	}
}

// supportYears returns the weeks on public support in the 260 weeks
// before the week of d, in years (as Profile's mean).
func supportYears(row []byte, d panel.Day) float64 {
	w := weekOf(d)
	n := 0
	for _, x := range row[max(w-260, 0):w] {
		if codeSupport[x] {
			n++
		}
	}
	return float64(n) / 52
}

// laterStream offsets the draw index of the fit's later-starter
// candidates (their PCG streams differ from the population candidates').
const laterStream = 1 << 40

// drawCandidates draws the candidates of window starters as the
// generator does (acceptedAt with mix): nPop population candidates
// (weight (1 − laterP)/nPop each) and nLater later starters through
// laterCandidate, selected at their own start day with the weights sw
// (weight laterP/nLater each; nLater/(nPop+nLater) may exceed laterP:
// the later starters are over-sampled and weighted down). Each start day
// is drawn from the window's start volumes (Feb–Jul 2012). Candidates not
// eligible at their start day count in the weights but are not stored
// (their acceptance is 0).
func drawCandidates(seed uint64, nPop, nLater int, sw *selWeights) *fitSample {
	o, _ := (&Options{Seed: seed}).resolved()
	s := newSim(&o)
	s.sel = sw
	fs := &fitSample{}
	day := func(k uint64) panel.Day {
		s.pcg.Seed(seed, rng.SplitMix64(k<<2|streamPerson))
		s.pcB.Seed(seed, rng.SplitMix64(k<<2|streamOutcomes))
		mi := 1 + pick(cumulative(startVolume[1:7]), s.r.Float64())
		return startMonthFirst[mi] + dayN(s, startMonthLen[mi])
	}
	wPop := (1 - s.t.laterP) / float64(nPop)
	for k := 0; k < nPop; k++ {
		s.start = day(uint64(k))
		s.u = s.r.NormFloat64()
		s.attributes()
		s.resetPath()
		s.nonStarterPath()
		s.monthly()
		if f, ok := s.features(s.start); ok {
			fs.add(f, wPop, false, supportYears(s.row[:], s.start))
		}
	}
	wLater := s.t.laterP / float64(nLater)
	for k := 0; k < nLater; k++ {
		s.start = day(uint64(k) + laterStream)
		s.u = s.r.NormFloat64() + o.Confounding // as a window starter's U (simulate)
		if f, ok, _ := s.laterCandidate(s.start); ok {
			fs.add(f, wLater, true, supportYears(s.row[:], s.start))
		}
	}
	return fs
}

// fitSelection draws window starters' candidates (drawCandidates:
// population persons and, with probability laterP, later starters) and,
// with refit, rakes the log weights so that the weighted margins of the
// accepted candidates' features equal the report's figures. The later
// starters are themselves selected with the weights, so the fit is
// iterated: draw the later starters with the current weights, rake,
// redraw with the new weights, ... (outer rounds, warm-started from the
// committed weights). The returned margins (percent), acceptance rates
// of the two stages and effective number of accepted candidates are
// evaluated on a final draw of the later starters with the returned
// weights (without refit: with the committed weights).
func fitSelection(fitLog func(string, ...any), n int, seed uint64, refit bool) (sw selWeights, margins [nFeat][]float64, acc1, acc2 float64, t0 int, laterShare float64) {
	nLater := n / fitLaterDiv
	for j := range sw.logW {
		sw.logW[j] = append([]float64(nil), selectionWeights.logW[j]...)
	}
	sw.Cap = selectionWeights.Cap
	if refit {
		for round := 0; round < fitRounds; round++ {
			fs := drawCandidates(seed, n, nLater, &sw)
			if os.Getenv("PSMEVAL_SYNTH_FITDIAG") != "" {
				// The fixed point: the previous round's weights on the
				// later starters they select.
				m, _, _, _, _ := evalFit(fs, &sw)
				fmt.Printf("round %d: largest margin gap on the redrawn candidates %.3f points\n", round, maxGap(m))
			}
			rake(fs, &sw, fitRakeIter)
		}
	}
	fs := drawCandidates(seed, n, nLater, &sw)
	margins, acc1, acc2, t0, laterShare = evalFit(fs, &sw)
	x1, x2 := stageX(fs, &sw)
	capped, all := 0.0, 0.0
	for i := range fs.uf {
		a := fs.cnt[i] * math.Exp(x1[i]) * math.Min(1, math.Exp(x2[i]-sw.Cap))
		all += a
		if x2[i] >= sw.Cap {
			capped += a
		}
	}
	fitLog("accepted candidates with stage-2 weight at the cap: %.1f%%", 100*capped/all)
	sm, st := supportMean(fs, &sw)
	fitLog("years on support in 5 before, mean of the accepted: %.3f, with the bins at the report's shares %.3f (report %.2f)", sm, st, tgtTreatedSupportMean)
	return sw, margins, acc1, acc2, t0, laterShare
}

// Fit sizes: later starters drawn per population candidate (1/fitLaterDiv,
// about 4 times their share laterP), outer rounds and raking iterations
// per round.
const (
	fitLaterDiv = 8
	fitRounds   = 4
	fitRakeIter = 300
)

// maxGap returns the largest |margin − target| in points.
func maxGap(m [nFeat][]float64) float64 {
	tgt := featureTargets()
	g := 0.0
	for j := range m {
		normalize(tgt[j])
		for l := range m[j] {
			g = math.Max(g, math.Abs(m[j][l]-100*tgt[j][l]))
		}
	}
	return g
}

// stageX returns the stage-1 and stage-2 log weights of every vector.
func stageX(fs *fitSample, sw *selWeights) (x1, x2 []float64) {
	x1 = make([]float64, len(fs.uf))
	x2 = make([]float64, len(fs.uf))
	for i := range fs.uf {
		x1[i], x2[i] = sw.stage(&fs.uf[i], true), sw.stage(&fs.uf[i], false)
	}
	return x1, x2
}

// setCap sets sw.Cap so that the mean stage-2 acceptance of the stage-1
// accepted candidates is fitAccept (bisection).
func setCap(fs *fitSample, sw *selWeights) {
	x1, x2 := stageX(fs, sw)
	lo, hi := -300.0, 300.0
	for it := 0; it < 50; it++ {
		sw.Cap = (lo + hi) / 2
		num, den := 0.0, 0.0
		for i := range fs.uf {
			a := fs.cnt[i] * math.Exp(x1[i])
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

// accepted returns the weight of accepted candidates of every vector.
func accepted(fs *fitSample, sw *selWeights) []float64 {
	x1, x2 := stageX(fs, sw)
	a2 := make([]float64, len(fs.uf))
	for i := range fs.uf {
		a2[i] = fs.cnt[i] * math.Exp(x1[i]) * math.Min(1, math.Exp(x2[i]-sw.Cap))
	}
	return a2
}

// rake runs iter rounds of iterative proportional fitting of the log
// weights to the report's margins (with the cap reset each round).
func rake(fs *fitSample, sw *selWeights, iter int) {
	tgt := featureTargets()
	for j := range tgt {
		normalize(tgt[j])
	}
	if os.Getenv("PSMEVAL_SYNTH_FITDIAG") != "" {
		// P(level | stage-1 tilt) / target: the mean acceptance cannot
		// exceed the smallest ratio.
		x1, _ := stageX(fs, sw)
		for j := 0; j < nFeat; j++ {
			cur := make([]float64, len(tgt[j]))
			tot := 0.0
			for i, f := range fs.uf {
				w := fs.cnt[i] * math.Exp(x1[i])
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
	for it := 0; it < iter; it++ {
		sw.normalize()
		setCap(fs, sw)
		for j := 0; j < nFeat; j++ {
			a2 := accepted(fs, sw)
			cur := make([]float64, len(tgt[j]))
			tot := 0.0
			for i, f := range fs.uf {
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
	sw.normalize()
	setCap(fs, sw)
}

// supportMean returns the accepted candidates' mean years on support in
// the five years before (a profile row the raking does not target: its
// within-bin part comes from the population model), and the same with
// the bins at the report's shares (the within-bin part only).
func supportMean(fs *fitSample, sw *selWeights) (mean, atTarget float64) {
	a2 := accepted(fs, sw)
	var num, den [7]float64
	for i, f := range fs.uf {
		num[f[fSupport]] += a2[i] * fs.supY[i] / fs.cnt[i]
		den[f[fSupport]] += a2[i]
	}
	tgt := normalize(append([]float64(nil), tgtTreatedSupport...))
	var n, d float64
	for b := range num {
		n += num[b]
		d += den[b]
		if den[b] > 0 {
			atTarget += tgt[b] * num[b] / den[b]
		}
	}
	return n / d, atTarget
}

// evalFit returns the accepted candidates' margins (percent), the
// acceptance rates of the two stages (among eligible candidates) and the
// effective number of accepted candidates and the share of later
// starters among the accepted.
func evalFit(fs *fitSample, sw *selWeights) (margins [nFeat][]float64, acc1, acc2 float64, t0 int, laterShare float64) {
	tgt := featureTargets()
	x1, _ := stageX(fs, sw)
	a2 := accepted(fs, sw)
	var s1, s2, tot, s22, sl float64
	for j := range margins {
		margins[j] = make([]float64, len(tgt[j]))
	}
	for i, f := range fs.uf {
		s1 += fs.cnt[i] * math.Exp(x1[i])
		s2 += a2[i]
		sl += a2[i] * fs.later[i] / fs.cnt[i]
		// Each draw of vector i carries weight w·a2[i]/cnt[i].
		s22 += a2[i] * a2[i] / (fs.cnt[i] * fs.cnt[i]) * fs.cnt2[i]
		tot += fs.cnt[i]
		for j := range margins {
			margins[j][f[j]] += a2[i]
		}
	}
	for j := range margins {
		for l := range margins[j] {
			margins[j][l] *= 100 / s2
		}
	}
	return margins, s1 / tot, s2 / s1, int(s2 * s2 / s22), sl / s2
}

func dayN(s *sim, n int) panel.Day { return panel.Day(s.r.IntN(n)) }

// TestFitSelection checks that the committed selection weights reproduce
// the report's 2012-starter margins (docs/method.md §4) on a fresh sample
// of window starters' candidates (200,000 population persons and 25,000
// later starters, drawn as the generator draws them; importance-weighted;
// within 4 standard errors plus 0.3 points), and with -update refits
// them on 1.5 million population and 187,500 later-starter candidates in
// fitRounds fixed-point rounds and rewrites selection_weights.go (needed
// after any change to the population or selection model; 6-25
// minutes). The check takes about 5 s and runs in the test suite.
//
//	go test ./panel/synth -run TestFitSelection -update -v
func TestFitSelection(t *testing.T) {
	n := 200_000
	if *update {
		n = 1_500_000
	}
	if testing.Short() && !*update {
		t.Skip("draws 200,000 candidates")
	}
	sw, margins, a1, a2, nu, ls := fitSelection(t.Logf, n, 20150301+uint64(n), *update)
	t.Logf("effective sample size %d; later starters among the accepted %.1f%%; largest margin gap %.3f points", nu, 100*ls, maxGap(margins))
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
	fmt.Fprintf(&b, "// selectionWeights: log weights by feature and level, fitted on %d population\n// and %d later-starter candidates (stage acceptance %.4f and %.4f).\n", n, n/fitLaterDiv, a1, a2)
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
