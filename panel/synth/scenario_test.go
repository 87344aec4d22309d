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

// The persistent trait person by person: for persons who do not start
// in the window (their path does not depend on U), the monthly
// probabilities of wage income and education with UnobservedPersistent
// are (1 − r) p + r z(U), z(U) = 1/(1 + exp(β U)), of those without the
// trait (the default scenario before 2012, where U does not act), in
// every month before the pause (February 2008 to January 2012), and equal
// to them in the pause; the uniforms are the same. Employment without
// benefit is V < p' in months without benefit and V < r z(U) in the
// others where the trait acts. With r and β not at
// their defaults, to check that the options reach the formula.
func TestPersistentTrait(t *testing.T) {
	const r, beta = 0.35, 0.8
	mk := func(persistent bool) *sim {
		o, err := (&Options{Seed: 5, Confounding: 1, UnobservedPersistent: persistent, UnobservedShare: r, UnobservedEffect: beta}).resolved()
		require.NoError(t, err)
		return newSim(&o)
	}
	a, b := mk(false), mk(true)
	pauseFirst := int(panel.MonthFromDate(2008, 2) - OutcomeFirstMonth)
	pauseLast := int(panel.MonthFromDate(2012, 1) - OutcomeFirstMonth)
	month2012 := int(panel.MonthFromDate(2012, 1) - OutcomeFirstMonth)
	var persons, before, zero, one int
	for k := 0; persons < 200; k++ {
		a.simulate(k)
		b.simulate(k)
		if a.starter {
			continue
		}
		persons++
		require.Equal(t, a.u, b.u)
		require.Equal(t, a.row, b.row, "person %d", k)
		require.Equal(t, a.vEmp, b.vEmp)
		require.Equal(t, a.vEdu, b.vEdu)
		z := 1 / (1 + math.Exp(beta*b.u))
		for m := 0; m < month2012; m++ {
			wantE, wantD := a.pEmp[m], a.pEdu[m]
			if m < pauseFirst || m > pauseLast {
				wantE = (1-r)*wantE + r*z
				wantD = (1-r)*wantD + r*z
				before++
				switch a.pEmp[m] {
				case 0:
					zero++
				case 1:
					one++
				}
			}
			require.InDelta(t, wantE, b.pEmp[m], 1e-15, "person %d month %d", k, m)
			require.InDelta(t, wantD, b.pEdu[m], 1e-15, "person %d month %d", k, m)
		}
		// employment without benefit: the months the trait sets count
		// whatever the benefit, so its gap is r·z(U) as employment's
		y := b.outcomes(-1, &b.o.Effect)
		for m := 0; m < month2012; m++ {
			pn := 0.0
			if a.nb[m] {
				pn = b.pEmp[m]
			} else if m < pauseFirst || m > pauseLast {
				pn = r * z
			}
			require.Equal(t, b.vEmp[m] < pn, y.get(1, m), "person %d month %d", k, m)
			require.True(t, !y.get(1, m) || y.get(0, m), "employment without benefit implies employment")
		}
	}
	// the trait moves probabilities of 0 and 1 too
	require.Greater(t, before, 1000)
	require.Greater(t, zero+one, 0)
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
