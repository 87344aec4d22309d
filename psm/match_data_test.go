package psm

import (
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// matchData is a data set of testdata/match (written by
// make_reference.R): columns by name, one value per row.
type matchData struct {
	cols map[string][]float64
	n    int
}

func readMatchData(t testing.TB, name string) *matchData {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "testdata", "match", name))
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	d := &matchData{cols: map[string][]float64{}, n: len(rows) - 1}
	for c, h := range rows[0] {
		v := make([]float64, d.n)
		for r := range v {
			v[r], err = strconv.ParseFloat(rows[r+1][c], 64)
			require.NoError(t, err, "%s row %d column %s", name, r, h)
		}
		d.cols[h] = v
	}
	return d
}

// split returns the values of column col for treated and control rows,
// and the data ids of the controls.
func (d *matchData) split(col string) (tr, co []float64) {
	for r, t := range d.cols["tr"] {
		if t == 1 {
			tr = append(tr, d.cols[col][r])
		} else {
			co = append(co, d.cols[col][r])
		}
	}
	return tr, co
}

// ids returns the data ids (column id) of treated and control rows.
func (d *matchData) ids() (tr, co []int) {
	tr64, co64 := d.split("id")
	for _, v := range tr64 {
		tr = append(tr, int(v))
	}
	for _, v := range co64 {
		co = append(co, int(v))
	}
	return tr, co
}

type refOutcome struct {
	Est           float64 `json:"est"`
	SE            float64 `json:"se"`
	SEStandard    float64 `json:"se_standard"`
	SEMatchedOnly float64 `json:"se_matched_only"`
	Seconds       float64 `json:"seconds"`
}

type refCase struct {
	Name           string     `json:"name"`
	Score          string     `json:"score"`   // column of the data holding X
	Logit          bool       `json:"logit"`   // X = qlogis(score)
	Weights        string     `json:"weights"` // column of frequency weights ("" = none; R got the rows copied)
	M              int        `json:"M"`
	Caliper        float64    `json:"caliper"`
	Y1             refOutcome `json:"y1"`
	Y2             refOutcome `json:"y2"`
	WNobs          float64    `json:"wnobs"`
	NDrops         float64    `json:"ndrops"`
	ECaliper       float64    `json:"ecaliper"`
	TreatedDropped []int      `json:"treated_dropped"`
	ControlID      []int      `json:"control_id"`
	ControlWeight  []float64  `json:"control_weight"`
}

type refBalanceStats struct {
	MeansTreated float64  `json:"Means Treated"`
	MeansControl float64  `json:"Means Control"`
	SMD          float64  `json:"Std. Mean Diff."`
	VarRatio     *float64 `json:"Var. Ratio"`
	ECDFMean     float64  `json:"eCDF Mean"`
	ECDFMax      float64  `json:"eCDF Max"`
}

type refBalance struct {
	Variable    string           `json:"variable"`
	Denominator string           `json:"denominator"`
	Before      *refBalanceStats `json:"before"`
	After       *refBalanceStats `json:"after"`
}

type matchReference struct {
	RVersion        string                `json:"r_version"`
	MatchingVersion string                `json:"matching_version"`
	MatchItVersion  string                `json:"matchit_version"`
	Cases           map[string]refCase    `json:"cases"`
	Balance         map[string]refBalance `json:"balance"`
}

func readMatchReference(t testing.TB) *matchReference {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", "match", "reference.json"))
	require.NoError(t, err)
	var r matchReference
	require.NoError(t, json.Unmarshal(b, &r))
	return &r
}
