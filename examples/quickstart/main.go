// Command quickstart is the smallest complete use of psmeval: read the
// bundled register, build a panel with simulated start dates, fit the
// propensity logit, match one nearest neighbour with ties averaged, and
// print the accumulated effects with Abadie-Imbens intervals.
//
//	go run ./examples/quickstart [testdata/example/csv]
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/psm"
)

var out io.Writer = os.Stdout

func main() {
	dir := "testdata/example/parquet"
	if len(os.Args) > 1 {
		dir = os.Args[1]
	}
	// README: the library snippet is the text from here to "README end"
	// (TestREADMESnippet keeps the two the same).
	reg := must(registerio.ReadDir(context.Background(), dir, nil))
	day := panel.DayFromDate
	p := must(panel.Build(context.Background(), reg, &panel.Design{
		WindowStart: day(2012, 2, 1), WindowEnd: day(2012, 7, 31), // the SFI window
		Eligibility: []panel.Rule{panel.AgeBetween(16, 64, day(2012, 1, 1)), panel.NoSpellActive(day(2012, 1, 1), day(2012, 1, 31))},
		Covariates: []panel.Covariate{panel.Dummies("sex", "female"), panel.Dummies("match_group", "group_1"),
			panel.AgeAtStart("age"), panel.MonthsWith("employed", 12, 48)},
		Outcomes: []string{"employed", "employed_no_benefit"},
		Seed:     1, // simulated start dates of the controls
	}))
	fit := must(psm.FitLogit(context.Background(), p.X, p.TreatedIndicator(), nil, p.CovNames, nil)) // = R glm(family = binomial)
	s := must(estimate.FromPanel(p))
	m := must(psm.MatchUnits(fit.Predict(p.X, nil), s.Treated, nil)) // 1 neighbour, with replacement, ties averaged
	res := must(estimate.AbadieImbens(s, m, nil))
	// README end
	fmt.Fprintf(out, "%d treated, %d eligible controls, %d distinct matched controls\n", p.NTreated(), p.Len()-p.NTreated(), m.NDistinctControls)
	for _, se := range res.Series {
		H := len(se.Effects) - 1
		iv := se.Accumulated[H].Normal
		fmt.Fprintf(out, "%-20s months 1-%d: %+.2f months [%+.2f, %+.2f]\n", se.Outcome, H, se.Effects[H].Accumulated, iv.Lo, iv.Hi)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		log.Fatal(err)
	}
	return v
}
