// Command gendata writes the bundled example data: a small synthetic
// SFI-like population (package panel/synth) in Parquet and in
// gzip-compressed CSV, with the options that made it (params.json) and
// its true effects (truth.csv) beside it. With -profile it prints the
// treated-at-start, population and spell profiles next to the report's
// figures instead (use -scale 1 for the calibration table).
//
//	go run ./examples/gendata                    # rewrites testdata/example
//	go run ./examples/gendata -profile -scale 1  # the calibration table
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/psmeval/psmeval/internal/atomicfile"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/panel/registerio"
	"github.com/psmeval/psmeval/panel/synth"
)

// params is what params.json records.
type params struct {
	Generator       string               `json:"generator"`
	Command         string               `json:"command"`
	Scale           float64              `json:"scale"`
	Seed            uint64               `json:"seed"`
	ControlFraction float64              `json:"control_fraction"`
	Confounding     float64              `json:"confounding"`
	UnobservedEff   float64              `json:"unobserved_effect"`
	UnobservedShape []float64            `json:"unobserved_shape"`
	Effect          map[string][]float64 `json:"effect"`
	Persons         int                  `json:"persons"`
	Treated         int                  `json:"treated_feb_jul_2012"`
	Spells          int                  `json:"spells"`
	StatusLevels    []string             `json:"status_levels"`
}

func main() {
	out := flag.String("out", "testdata/example", "output directory (parquet/ and csv/ are written below it)")
	scale := flag.Float64("scale", 0.05, "size relative to the SFI population (1 = 3.3 million persons)")
	seed := flag.Uint64("seed", 20150301, "random seed")
	cf := flag.Float64("control-fraction", 0.04, "share kept of the persons not starting in Feb-Jul 2012")
	conf := flag.Float64("confounding", 0.5, "mean of the unobserved factor U among starters (SD units); 0.5 is the SFI scenario of examples/sfi")
	effect := flag.String("effect", "none", `true effect: "none" or "lockin:DEPTH,MONTHS,RECOVERY" (e.g. lockin:-0.03,6,6)`)
	profile := flag.Bool("profile", false, "print the calibration profiles instead of writing data")
	workers := flag.Int("workers", 0, "goroutines (0 = GOMAXPROCS)")
	flag.Parse()

	eff, err := parseEffect(*effect)
	if err != nil {
		log.Fatal(err)
	}
	opt := synth.Options{Scale: *scale, Seed: *seed, ControlFraction: *cf, Confounding: *conf, Effect: eff, Workers: *workers}
	if *profile {
		// The calibration table is for the whole population unless
		// -control-fraction is given.
		opt.ControlFraction = 0
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "control-fraction" {
				opt.ControlFraction = *cf
			}
		})
	}
	t0 := time.Now()
	p, err := synth.Generate(context.Background(), &opt)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "generated %d persons in %v\n", p.Register.Len(), time.Since(t0).Round(time.Millisecond))
	if *profile {
		tr, pop, err := p.Profiles()
		if err != nil {
			log.Fatal(err)
		}
		for _, pr := range []*synth.Profile{tr, pop, p.SpellProfile()} {
			if err := pr.Write(os.Stdout); err != nil {
				log.Fatal(err)
			}
			fmt.Println()
		}
		return
	}
	if err := write(*out, p, os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

func parseEffect(s string) (synth.EffectCurves, error) {
	if s == "none" || s == "" {
		return synth.Zero(), nil
	}
	rest, ok := strings.CutPrefix(s, "lockin:")
	f := strings.Split(rest, ",")
	if !ok || len(f) != 3 {
		return synth.EffectCurves{}, fmt.Errorf("-effect %q: want none or lockin:DEPTH,MONTHS,RECOVERY", s)
	}
	d, err1 := strconv.ParseFloat(f[0], 64)
	m, err2 := strconv.Atoi(f[1])
	r, err3 := strconv.Atoi(f[2])
	if err1 != nil || err2 != nil || err3 != nil {
		return synth.EffectCurves{}, fmt.Errorf("-effect %q: bad number", s)
	}
	return synth.LockIn(d, m, r), nil
}

func write(out string, p *synth.Population, args []string) error {
	for _, sub := range []string{"parquet", "csv"} {
		if err := os.RemoveAll(filepath.Join(out, sub)); err != nil {
			return err
		}
	}
	wide := registerio.WriteOptions{OutcomesLayout: registerio.LayoutWide}
	pq := wide
	pq.Format = registerio.FormatParquet
	if err := registerio.WriteDir(filepath.Join(out, "parquet"), &p.Register, &pq); err != nil {
		return err
	}
	csv := wide
	csv.Format, csv.Gzip = registerio.FormatCSV, true
	if err := registerio.WriteDir(filepath.Join(out, "csv"), &p.Register, &csv); err != nil {
		return err
	}
	from, to := panel.DayFromDate(2012, 2, 1), panel.DayFromDate(2012, 7, 31)
	persons, cohorts := p.Starters(from, to)
	o := p.Options
	prm := params{
		Generator: "github.com/psmeval/psmeval/panel/synth", Command: strings.TrimSpace("go run ./examples/gendata " + strings.Join(args, " ")),
		Scale: o.Scale, Seed: o.Seed, ControlFraction: o.ControlFraction, Confounding: o.Confounding,
		UnobservedEff: o.UnobservedEffect, UnobservedShape: o.UnobservedShape,
		Effect:  map[string][]float64{},
		Persons: p.Register.Len(), Treated: len(persons), Spells: len(p.Register.Spells),
		StatusLevels: synth.StatusLevels(),
	}
	for _, name := range synth.OutcomeNames {
		prm.Effect[name] = o.Effect.Curve(name)
	}
	b, err := json.MarshalIndent(prm, "", "  ")
	if err != nil {
		return err
	}
	if err := writeAtomic(filepath.Join(out, "params.json"), append(b, '\n')); err != nil {
		return err
	}
	// truth.csv: the true ATT of the persons starting in the window, by
	// outcome and event month (from their actual start months): against
	// not starting in the window (the design's estimand) and against never
	// starting.
	var sb strings.Builder
	sb.WriteString("outcome,event_month,true_att,true_att_never_start,persons\n")
	for _, name := range synth.OutcomeNames {
		att, err := p.TrueATT(name, persons, cohorts, 30, synth.NotInWindow)
		if err != nil {
			return err
		}
		never, err := p.TrueATT(name, persons, cohorts, 30, synth.NeverStart)
		if err != nil {
			return err
		}
		oc := p.Outcome(name)
		for m, v := range att {
			if v != v { // NaN: beyond the cut-off for everyone
				continue
			}
			n := 0
			for _, c := range cohorts {
				if c+panel.Month(m) <= oc.LastMonth() {
					n++
				}
			}
			fmt.Fprintf(&sb, "%s,%d,%.6f,%.6f,%d\n", name, m, v, never[m], n)
		}
	}
	return writeAtomic(filepath.Join(out, "truth.csv"), []byte(sb.String()))
}

// writeAtomic writes b to path through a temporary file and a rename.
func writeAtomic(path string, b []byte) error {
	return atomicfile.Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
