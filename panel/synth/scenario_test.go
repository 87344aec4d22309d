package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/psmeval/psmeval/panel"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// popHash is a SHA-256 of everything Generate returns: ids, birth days,
// attributes, the status grid, observed and untreated outcomes, spells,
// U and first starts.
func popHash(p *Population) string {
	h := sha256.New()
	w := func(v any) { _ = binary.Write(h, binary.LittleEndian, v) }
	r := &p.Register
	w(r.IDs)
	w(r.Birth)
	for _, a := range r.Attrs {
		h.Write([]byte(a.Name))
		if a.Values != nil {
			w(a.Values)
		}
		if a.Codes != nil {
			w(a.Codes)
		}
		for _, l := range a.Levels {
			h.Write([]byte(l))
		}
	}
	h.Write(r.Status.Codes)
	for _, os := range [][]panel.Outcome{r.Outcomes, p.Untreated} {
		for _, o := range os {
			h.Write([]byte(o.Name))
			w(int64(o.FirstMonth))
			w(int64(o.Months))
			w(o.Bits)
		}
	}
	for _, s := range r.Spells {
		w(s.Person)
		w(s.Start)
		w(s.End)
		w(math.Float32bits(s.Hours))
	}
	w(p.U)
	w(p.FirstStart)
	return hex.EncodeToString(h.Sum(nil))
}

// hashOptions are the populations whose hashes were recorded with the
// generator before the persistent scenario existed (commit e11e94d of
// main): no confounding, the default shape, a shape of its own.
var hashOptions = []struct {
	name string
	o    Options
	hash string
}{
	{"no confounding", Options{Scale: 0.002, Seed: 3, Effect: LockIn(-0.04, 6, 6)}, "bb38e1e5f9e313c50b609debd632557d7ad61ec91687d7611054b3c2be2d368e"},
	{"default shape", Options{Scale: 0.002, Seed: 4, Confounding: 1, Effect: LockIn(-0.04, 6, 6)}, "32efbee07c8a80cdc85e387da3f8d44e371cc4e5271c14c3590cb181f581ed8a"},
	{"own shape", Options{Scale: 0.002, Seed: 5, Confounding: 0.5, UnobservedEffect: 0.8, UnobservedShape: []float64{0, 0.5, 1}}, "9e25d2364e4b996505d8ecd92a287bfe38b205bc7511c41d43677093e6a2fee4"},
}

// Adding the persistent scenario changes no number of the existing
// scenarios for a given seed.
func TestScenarioHashes(t *testing.T) {
	for _, c := range hashOptions {
		for _, workers := range []int{1, 2} {
			o := c.o
			o.Workers = workers
			assert.Equal(t, c.hash, popHash(gen(t, o)), "%s, %d workers", c.name, workers)
		}
	}
}

// The persistent scenario against the default, same seed and
// Confounding: U and the status grid of every person who never starts
// are unchanged; from January 2013 (default weight 1) their untreated
// outcomes are bit-identical; before 2012 (default weight 0) U can only
// remove employment when U > 0 and only add it when U < 0. Window
// starters' employment in 2007, before the 48 months of wage history the
// selection sees, falls clearly below the default's (where U does not
// act before 2012), given the Confounding shift of U.
func TestPersistentScenario(t *testing.T) {
	base := Options{Scale: 0.05, Seed: 8, ControlFraction: 0.02, Confounding: 1}
	a := gen(t, base)
	po := base
	po.UnobservedPersistent = true
	b := gen(t, po)
	require.Equal(t, a.Register.IDs, b.Register.IDs)
	jan2013 := panel.MonthFromDate(2013, 1)
	dec2011 := panel.MonthFromDate(2011, 12)
	var changed, never int
	var preA, preB, nw int
	for i := range a.Register.IDs {
		if a.FirstStart[i] == NoStart && b.FirstStart[i] == NoStart {
			never++
			require.Equal(t, a.U[i], b.U[i])
			require.Equal(t, a.Register.Status.Row(i), b.Register.Status.Row(i))
			for k := range OutcomeNames {
				if k == 1 {
					continue // employed_no_benefit follows employed
				}
				ya, yb := &a.Untreated[k], &b.Untreated[k]
				for m := jan2013; m <= ya.LastMonth(); m++ {
					va, _ := ya.Get(i, m)
					vb, _ := yb.Get(i, m)
					require.Equal(t, va, vb, "person %d outcome %s month %v", i, OutcomeNames[k], m)
				}
				for m := OutcomeFirstMonth; m <= dec2011; m++ {
					va, _ := ya.Get(i, m)
					vb, _ := yb.Get(i, m)
					if va != vb {
						changed++
						if k != 3 { // su is not moved by U
							require.Equal(t, a.U[i] < 0, vb, "person %d (U = %v) outcome %s month %v", i, a.U[i], OutcomeNames[k], m)
						}
					}
				}
			}
		}
		for _, p := range []*Population{a, b} {
			if d := p.FirstStart[i]; d >= windowFirst && d <= windowLast {
				c := p.Untreated[0].Count(i, panel.MonthFromDate(2007, 1), panel.MonthFromDate(2007, 12))
				if p == a {
					preA += c
					nw++
				} else {
					preB += c
				}
			}
		}
	}
	require.Greater(t, never, 1000)
	require.Greater(t, changed, 100)
	require.Greater(t, nw, 50)
	// U ~ N(1, 1) among starters lowers the log-odds by 0.5 per SD: the
	// 2007 employment share of the window starters drops by 2 to 4 points
	// (measured 0.290 -> 0.255 for seed 8, 321 starters; seeds 9 and 10:
	// 2.2 and 3.5 points); the bound 1.5 points leaves room for that
	// seed-to-seed spread.
	sa, sb := float64(preA)/float64(12*nw), float64(preB)/float64(12*nw)
	t.Logf("window starters' employment share 2007: default %.3f, persistent %.3f (%d starters)", sa, sb, nw)
	assert.Less(t, sb, sa-0.015)
}

// TrueATT stays exact in the persistent scenario: with no effect it is
// exactly 0; with an effect, for the observed start months and the
// never-start counterfactual, it equals the mean of the observed minus
// the untreated outcomes of the window starters, exactly (integer counts
// over the same persons).
func TestPersistentTrueATT(t *testing.T) {
	for _, eff := range []EffectCurves{Zero(), LockIn(-0.05, 4, 4)} {
		p := gen(t, Options{Scale: 0.01, Seed: 9, ControlFraction: 0.02, Confounding: 1, UnobservedPersistent: true, Effect: eff})
		var persons []int32
		var cohort []panel.Month
		for i, d := range p.FirstStart {
			if d >= windowFirst && d <= windowLast {
				persons = append(persons, int32(i))
				cohort = append(cohort, panel.MonthOf(d))
			}
		}
		require.Greater(t, len(persons), 20)
		const H = 12
		att, err := p.TrueATT(Employed, persons, cohort, H, NeverStart)
		require.NoError(t, err)
		obs, un := p.Outcome(Employed), &p.Untreated[0]
		for m := 0; m <= H; m++ {
			sum := 0
			for j, i := range persons {
				vo, _ := obs.Get(int(i), cohort[j]+panel.Month(m))
				vu, _ := un.Get(int(i), cohort[j]+panel.Month(m))
				if vo {
					sum++
				}
				if vu {
					sum--
				}
			}
			want := float64(sum) / float64(len(persons))
			assert.Equal(t, want, att[m], "effect %v month %d", !eff.IsZero(), m)
			if eff.IsZero() {
				assert.Equal(t, 0.0, att[m])
			}
		}
	}
}
