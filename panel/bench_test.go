package panel

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"testing"
	"time"
)

// synthLevels are the status levels of the cheap synthetic register.
var synthLevels = []string{
	"none", "su", "ui", "cash", "cash_act", "edu_ben", "rehab", "sick",
	"flexben", "flexjob", "disab", "pension", "efterloen", "vus", "service", "other",
}

// synthRegister fills a register with cheap deterministic synthetic data
// (not calibrated; the real generator lives in panel/synth): n persons
// with ascending ids, 390 weekly status codes from 2006-01-02 in runs,
// four monthly outcomes from 2006-01 (education to 2013-09, the others
// to 2014-04), and a spell for every treatedEvery-th person starting
// between 2011-10 and 2012-12 (some split in two consecutive
// sub-spells), plus earlier spells for a few others.
func synthRegister(n, treatedEvery int, seed uint64) *Register {
	const weeks = 390
	first := DayFromDate(2006, time.January, 2)
	r := &Register{IDs: make([]int64, n), Birth: make([]Day, n)}
	sex := Attribute{Name: "sex", Codes: make([]uint16, n), Levels: []string{"woman", "man"}}
	edu := Attribute{Name: "edu", Codes: make([]uint16, n), Levels: []string{"unknown", "primary", "upper", "vocational", "short", "medium", "long"}}
	origin := Attribute{Name: "origin", Codes: make([]uint16, n), Levels: []string{"danish", "descendant", "immigrant"}}
	match := Attribute{Name: "match", Codes: make([]uint16, n), Levels: []string{"none", "1", "2", "3"}}
	income := Attribute{Name: "income", Values: make([]float64, n)}
	r.Status = NewStatusGrid(n, first, weeks, synthLevels)
	m0 := MonthFromDate(2006, time.January)
	outs := []Outcome{
		NewOutcome("emp", n, m0, int(MonthFromDate(2014, time.April)-m0)+1),
		NewOutcome("emp_nb", n, m0, int(MonthFromDate(2014, time.April)-m0)+1),
		NewOutcome("educ", n, m0, int(MonthFromDate(2013, time.September)-m0)+1),
		NewOutcome("su", n, m0, int(MonthFromDate(2014, time.April)-m0)+1),
	}
	birth0 := DayFromDate(1945, time.January, 1)
	spellFrom := DayFromDate(2011, time.October, 1)
	nblk := (n + 65535) / 65536
	spells := make([][]Spell, nblk)
	var wg sync.WaitGroup
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	for blk := range nblk {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			rng := rand.New(rand.NewPCG(seed, uint64(blk)))
			for i := blk * 65536; i < min(n, (blk+1)*65536); i++ {
				r.IDs[i] = int64(i)*3 + 1000
				r.Birth[i] = birth0 + Day(rng.IntN(52*365))
				sex.Codes[i] = uint16(rng.IntN(2))
				edu.Codes[i] = uint16(rng.IntN(7))
				origin.Codes[i] = uint16(rng.IntN(3))
				match.Codes[i] = uint16(rng.IntN(4))
				income.Values[i] = float64(rng.IntN(500000))
				row := r.Status.Row(i)
				if rng.IntN(10) < 4 && (treatedEvery == 0 || i%treatedEvery != 0) { // never on a benefit
					clear(row)
				} else {
					for w := 0; w < weeks; {
						l := 1 + rng.IntN(40)
						c := byte(0)
						if rng.IntN(2) == 0 {
							c = byte(1 + rng.IntN(len(synthLevels)-1))
						}
						for k := w; k < min(weeks, w+l); k++ {
							row[k] = c
						}
						w += l
					}
				}
				p := rng.Float64()
				for o := range outs {
					words := outs[o].Bits[i*outs[o].Words() : (i+1)*outs[o].Words()]
					for k := range words {
						x := rng.Uint64()
						if p < 0.5 {
							x &= rng.Uint64()
						}
						words[k] = x
					}
					if rem := outs[o].Months % 64; rem != 0 {
						words[len(words)-1] &= 1<<uint(rem) - 1
					}
				}
				switch {
				case treatedEvery > 0 && i%treatedEvery == 0:
					s := spellFrom + Day(rng.IntN(450))
					e := s + Day(30+rng.IntN(200))
					if rng.IntN(3) == 0 { // two consecutive sub-spells
						mid := s + (e-s)/2
						spells[blk] = append(spells[blk], Spell{Person: int32(i), Start: s, End: mid, Hours: 3},
							Spell{Person: int32(i), Start: mid + 1, End: e, Hours: 5})
					} else {
						spells[blk] = append(spells[blk], Spell{Person: int32(i), Start: s, End: e, Hours: 4})
					}
				case i%97 == 5: // an earlier spell
					s := DayFromDate(2010, time.January, 1) + Day(rng.IntN(700))
					spells[blk] = append(spells[blk], Spell{Person: int32(i), Start: s, End: s + 60, Hours: 2})
				}
			}
		}()
	}
	wg.Wait()
	for _, s := range spells {
		r.Spells = append(r.Spells, s...)
	}
	r.Attrs = []Attribute{sex, edu, origin, match, income}
	r.Outcomes = outs
	return r
}

// synthDesign is an SFI-like design with 41 covariates for synthRegister.
func synthDesign() *Design {
	groups := []LevelGroup{
		{Name: "su", Levels: []string{"su"}},
		{Name: "ui", Levels: []string{"ui"}},
		{Name: "cash", Levels: []string{"cash", "cash_act", "edu_ben"}},
		{Name: "rehab", Levels: []string{"rehab"}},
		{Name: "sick", Levels: []string{"sick"}},
		{Name: "flex", Levels: []string{"flexben", "flexjob"}},
		{Name: "public", Levels: []string{"ui", "cash", "cash_act", "edu_ben", "rehab", "sick", "flexben", "flexjob", "disab", "other"}},
	}
	benefits := synthLevels[1:]
	return &Design{
		WindowStart: DayFromDate(2012, time.February, 1),
		WindowEnd:   DayFromDate(2012, time.July, 31),
		Eligibility: []Rule{
			AgeBetween(16, 64, DayFromDate(2012, time.January, 1)),
			AnyWeekIn(benefits...),
			StatusNotIn("efterloen", "flexben", "pension", "vus", "service"),
			NoSpellActive(DayFromDate(2012, time.January, 1), DayFromDate(2012, time.January, 31)),
		},
		Covariates: []Covariate{
			WeeksIn("weeks_", groups, 52, 104, 260),                 // 21
			MonthsWith("emp", 12, 48),                               // 2
			Dummies("sex", "woman"),                                 // 1
			Dummies("edu", "primary"),                               // 6
			Dummies("origin", "danish"),                             // 2
			Dummies("match", "1"),                                   // 3
			AgeAtStart("age"),                                       // 1
			StatusAtStart("start", groups[2], groups[4], groups[1]), // 3
			ActivationAtStart("activated", "cash_act"),              // 1
			Numeric("income"),                                       // 1
		},
		Descriptors: []Covariate{Dummies("edu", "")},
		Seed:        1,
	}
}

var (
	benchMu   sync.Mutex
	benchRegs = map[int]*Register{}
)

func benchRegister(n int) *Register {
	benchMu.Lock()
	defer benchMu.Unlock()
	if r, ok := benchRegs[n]; ok {
		return r
	}
	// A treated share like SFI's (6,487 of 3.3 million): one in 500 has
	// a spell starting 2011-10..2012-12, about 40% of them in the window.
	r := synthRegister(n, 500, 42)
	benchRegs[n] = r
	return r
}

// BenchmarkBuild builds the SFI-like panel (4 rules, 41 covariates, 4
// outcomes of 22/15 event months) from the synthetic register at 33,000,
// 330,000 and 3.3 million persons (390 weeks). The register is built
// once outside the timer; the 3.3 million size needs about 1.4 GB for it
// plus the panel, and is skipped with -short.
//
//	go test ./panel/ -run '^$' -bench BenchmarkBuild -benchtime 3x
func BenchmarkBuild(b *testing.B) {
	for _, n := range []int{33_000, 330_000, 3_300_000} {
		b.Run(fmt.Sprintf("N=%d", n), func(b *testing.B) {
			if testing.Short() && n > 330_000 {
				b.Skip("large size skipped with -short")
			}
			r := benchRegister(n)
			d := synthDesign()
			b.ReportAllocs()
			cpu0 := cpuSeconds()
			b.ResetTimer()
			var p *Panel
			for b.Loop() {
				var err error
				p, err = Build(context.Background(), r, d)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			// CPU time (user+sys, all goroutines incl. GC) per build: less
			// sensitive than wall time to other processes on a shared machine.
			b.ReportMetric((cpuSeconds()-cpu0)/float64(b.N), "cpu-s/op")
			b.ReportMetric(float64(maxRSS())/(1<<20), "maxRSS-MiB")
			b.ReportMetric(float64(p.Counts.Treated), "treated")
			b.ReportMetric(float64(p.Counts.Controls), "controls")
			b.ReportMetric(float64(len(p.CovNames)), "covariates")
		})
	}
}

// BenchmarkHistory measures the shared week-window pass alone (3 windows
// up to 260 weeks) per unit.
func BenchmarkHistory(b *testing.B) {
	r := synthRegister(4096, 0, 7)
	g := &r.Status
	windows := []int{52, 104, 260}
	cnt := make([]int32, 256)
	groups := [][]uint8{{1}, {2}, {3, 4, 5}, {6}, {7}, {8, 9}, {2, 3, 4, 5, 6, 7, 8, 9, 10, 15}}
	hist := make([]int32, len(windows)*len(groups))
	hs := newHistSlots(groups)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		history(g.Row(i%4096), 330, windows, hs, cnt, hist)
		i++
	}
}
