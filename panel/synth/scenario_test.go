package synth

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"
	"testing"

	"github.com/psmeval/psmeval/panel"

	"github.com/stretchr/testify/assert"
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
