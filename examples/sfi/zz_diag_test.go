package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"testing"

	"github.com/psmeval/psmeval/panel/synth"
	"github.com/psmeval/psmeval/psm"
)

// temporary diagnostic (helper); deleted before the report
func TestZZDiag(t *testing.T) {
	sc, _ := strconv.ParseFloat(os.Getenv("ZZSCALE"), 64)
	if sc == 0 {
		t.Skip()
	}
	c := &config{scale: sc, seed: 2015, workers: 2, scenario: "observables", confounding: -1, out: t.TempDir(), noFigures: true}
	a := &analysis{cfg: c, watch: &stopwatch{log: io.Discard}}
	ctx := context.Background()
	if err := a.load(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := a.buildPanel(ctx, io.Discard); err != nil {
		t.Fatal(err)
	}
	if err := a.fitAndMatch(ctx); err != nil {
		t.Fatal(err)
	}
	p := a.panel
	nt := p.NTreated()
	m := a.matching
	later := func(u int) bool { return a.pop.FirstStart[p.Person[u]] != synth.NoStart }
	nLater := 0
	for u := nt; u < p.N(); u++ {
		if later(u) {
			nLater++
		}
	}
	fmt.Printf("treated %d controls %d later-starter controls %d (%.3f)\n", nt, p.N()-nt, nLater, float64(nLater)/float64(p.N()-nt))
	for _, o := range p.Outcomes {
		H := o.HCommon
		acc := func(u int) float64 {
			s := 0.0
			for k := 1; k <= H; k++ {
				s += o.At(u, k)
			}
			return s
		}
		tm, tn := 0.0, 0.0
		for u := 0; u < nt; u++ {
			if m.Matched[u] {
				tm += acc(u)
				tn++
			}
		}
		var w [2]float64
		var s [2]float64
		for _, j := range m.MatchedControls {
			u := nt + int(j)
			k := 0
			if later(u) {
				k = 1
			}
			w[k] += m.ControlWeight[j]
			s[k] += m.ControlWeight[j] * acc(u)
		}
		fmt.Printf("%s: treated %.3f  matched controls %.3f (never %.3f w=%.0f, later %.3f w=%.0f)\n", o.Name, tm/tn, (s[0]+s[1])/(w[0]+w[1]), s[0]/w[0], w[0], s[1]/w[1], w[1])
	}
	// re-match without later starters among controls
	var tr, co []float64
	var cu []int
	for u := 0; u < p.N(); u++ {
		if p.Treated[u] {
			tr = append(tr, a.scores[u])
		} else if !later(u) {
			co = append(co, a.scores[u])
			cu = append(cu, u)
		}
	}
	m2, err := psm.Match(tr, co, &psm.MatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range p.Outcomes {
		H := o.HCommon
		acc := func(u int) float64 {
			s := 0.0
			for k := 1; k <= H; k++ {
				s += o.At(u, k)
			}
			return s
		}
		tm, tn := 0.0, 0.0
		for u := 0; u < nt; u++ {
			if m2.Matched[u] {
				tm += acc(u)
				tn++
			}
		}
		cs, cw := 0.0, 0.0
		for _, j := range m2.MatchedControls {
			cs += m2.ControlWeight[j] * acc(cu[j])
			cw += m2.ControlWeight[j]
		}
		fmt.Printf("no-later-starters %s: effect %.3f\n", o.Name, tm/tn-cs/cw)
	}
}
