package psm

import (
	"bufio"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestTieRMatchingHiddenTOL checks the tie threshold of TieRMatching
// against R Matching::Match on controls whose squared standardized
// distance from the nearest tie lies just inside or outside
// distance.tolerance + 1e-10 (Matching's C code adds TOL = 1e-10 to every
// comparison). Reference: testdata/match/r_tie_tol.R and its output
// r_tie_tol.txt (R 4.2.2, Matching 4.10.8): the number of controls Match
// uses, compared exactly.
func TestTieRMatchingHiddenTOL(t *testing.T) {
	f, err := os.Open("../testdata/match/r_tie_tol.txt")
	require.NoError(t, err)
	defer f.Close()
	co := make([]float64, 200)
	for i := range co { // R: seq(0.5, 0.99, length.out = 200)
		co[i] = 0.5 + float64(i)*(0.99-0.5)/199
	}
	sc := bufio.NewScanner(f)
	cases := 0
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) != 4 || fs[0] == "#" || fs[0] == "tolerance" {
			continue
		}
		tol, err1 := strconv.ParseFloat(fs[0], 64)
		d, err2 := strconv.ParseFloat(fs[2], 64)
		want, err3 := strconv.Atoi(fs[3])
		require.NoError(t, err1)
		require.NoError(t, err2)
		require.NoError(t, err3)
		control := append([]float64{0.3, 0.3 - d}, co...)
		m, err := Match([]float64{0.3}, control, &MatchOptions{TieRule: TieRMatching, TieTolerance: tol})
		require.NoError(t, err)
		require.Equal(t, want, m.Start[1]-m.Start[0], "distance.tolerance %v, z2 %s", tol, fs[1])
		cases++
	}
	require.NoError(t, sc.Err())
	require.Equal(t, 21, cases)
}
