package synth

import (
	"context"
	"testing"

	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/stretchr/testify/require"
)

// Generated data survive registerio.WriteDir / registerio.ReadDir (Parquet and
// gzip-compressed CSV) unchanged when the status levels are fixed with
// ReadOptions.StatusLevels (the categorical levels are sorted already).
func TestWriteReadRoundTrip(t *testing.T) {
	sc := 0.0005
	if testing.Short() {
		sc = 0.0002
	}
	p := gen(t, Options{Scale: sc, Seed: 9, Effect: LockIn(-0.05, 3, 3)})
	for _, wo := range []registerio.WriteOptions{{Format: registerio.FormatParquet}, {Format: registerio.FormatCSV, Gzip: true}} {
		dir := t.TempDir()
		require.NoError(t, registerio.WriteDir(dir, &p.Register, &wo))
		got, err := registerio.ReadDir(context.Background(), dir, &registerio.ReadOptions{StatusLevels: StatusLevels(), Categorical: []string{"municipality"}})
		require.NoError(t, err, "%v", wo.Format)
		want := p.Register
		require.Equal(t, want.IDs, got.IDs)
		require.Equal(t, want.Birth, got.Birth)
		// Levels no person has are not in the files: compare by name.
		require.Equal(t, decode(want.Attrs), decode(got.Attrs))
		require.Equal(t, want.Status, got.Status)
		require.Equal(t, want.Outcomes, got.Outcomes)
		require.ElementsMatch(t, want.Spells, got.Spells)
	}
}

func decode(attrs []panel.Attribute) map[string][]any {
	out := map[string][]any{}
	for _, a := range attrs {
		v := make([]any, a.Len())
		for i := range v {
			if a.IsCategorical() {
				v[i] = a.Levels[a.Codes[i]]
			} else {
				v[i] = a.Values[i]
			}
		}
		out[a.Name] = v
	}
	return out
}
