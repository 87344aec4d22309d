package psm

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// relClose asserts |got - want| <= tol * max(|want|, 1e-300).
func relClose(t *testing.T, want, got, tol float64, msg string, args ...any) {
	t.Helper()
	if math.Abs(got-want) > tol*math.Abs(want) {
		t.Errorf("%s: got %.17g, want %.17g (rel. diff %.3g > %g)", fmt.Sprintf(msg, args...),
			got, want, math.Abs(got-want)/math.Abs(want), tol)
	}
}

// TestMatchAgainstRMatching compares Match + ATT with R
// Matching::Match(Y, Tr, X, estimand = "ATT", M, ties = TRUE,
// replace = TRUE, distance.tolerance = 1e-12, caliper) as run by
// testdata/match/make_reference.R (R and package versions recorded in
// reference.json). Tolerances: ATT 1e-9 relative, standard errors 1e-6
// relative, matched control weights per control 1e-9 relative.
func TestMatchAgainstRMatching(t *testing.T) {
	ref := readMatchReference(t)
	t.Logf("reference: %s, Matching %s", ref.RVersion, ref.MatchingVersion)
	cont := readMatchData(t, "cont.csv")
	disc := readMatchData(t, "discrete.csv")
	require.NotEmpty(t, ref.Cases)
	for name, c := range ref.Cases {
		t.Run(name, func(t *testing.T) {
			if strings.HasPrefix(name, "discrete") && testing.Short() {
				t.Skip("large data set")
			}
			d := cont
			if strings.HasPrefix(name, "discrete") {
				d = disc
			}
			pt, pc := d.split(c.Score)
			opts := &MatchOptions{K: c.M, Caliper: c.Caliper, TieRule: TieRMatching, TieTolerance: 1e-12}
			// the discrete sets hold ~1,000 tied controls per treated unit
			opts.SkipSets = strings.HasPrefix(name, "discrete")
			if c.Logit { // R was given qlogis(score)
				opts.Distance = LogitDistance
			}
			if c.Weights != "" { // R was given each row w times
				opts.TreatedWeights, opts.ControlWeights = d.split(c.Weights)
			}
			m, err := Match(pt, pc, opts)
			require.NoError(t, err)
			assert.InDelta(t, c.WNobs, m.WeightedControls, 1e-9*c.WNobs, "weighted matched controls")
			nTreated := 0.0
			for i := range pt {
				if opts.TreatedWeights == nil {
					nTreated++
				} else {
					nTreated += opts.TreatedWeights[i]
				}
			}
			assert.InDelta(t, c.NDrops, nTreated-m.WeightedControls, 1e-6, "dropped treated")

			if c.ControlID != nil {
				_, cid := d.ids()
				pos := map[int]int{}
				for j, id := range cid {
					pos[id] = j
				}
				want := make([]float64, len(pc))
				for k, id := range c.ControlID {
					want[pos[id]] = c.ControlWeight[k]
				}
				n := 0
				for j := range want {
					if want[j] > 0 {
						n++
					}
					if math.Abs(m.ControlWeight[j]-want[j]) > 1e-9*math.Max(want[j], 1) {
						t.Errorf("control %d (id %d): weight %.17g, R %.17g", j, cid[j], m.ControlWeight[j], want[j])
					}
				}
				assert.Equal(t, n, m.NDistinctControls, "distinct matched controls")
			}
			if c.TreatedDropped != nil || c.NDrops > 0 {
				tid, _ := d.ids()
				var dropped []int
				for i, st := range m.Status {
					if st == StatusCaliper || st == StatusNoControls {
						dropped = append(dropped, tid[i])
					}
				}
				assert.ElementsMatch(t, c.TreatedDropped, dropped, "treated dropped by the caliper")
			}

			for _, yc := range []struct {
				col string
				r   refOutcome
			}{{"y1", c.Y1}, {"y2", c.Y2}} {
				yt, ycon := d.split(yc.col)
				res, err := ATT(yt, ycon, m, &ATTOptions{MatchingCaliperQuirk: true})
				require.NoError(t, err)
				relClose(t, yc.r.Est, res.ATT, 1e-9, "%s ATT", yc.col)
				relClose(t, yc.r.SE, res.SE, 1e-6, "%s se (Matching quirk)", yc.col)
				relClose(t, yc.r.SEStandard, res.SEStandard, 1e-6, "%s se.standard", yc.col)
				relClose(t, res.TreatedMean-res.ControlMean, res.ATT, 1e-12, "%s ATT = difference of means", yc.col)

				def, err := ATT(yt, ycon, m, nil)
				require.NoError(t, err)
				relClose(t, yc.r.SEMatchedOnly, def.SE, 1e-6, "%s se over matched treated", yc.col)
				assert.Equal(t, res.ATT, def.ATT)
			}
		})
	}
}
