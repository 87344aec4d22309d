package synth

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/psmeval/psmeval/panel"
)

// crude stratification check of residual bias at Confounding = c.
func TestDevBias(t *testing.T) {
	c, err := strconv.ParseFloat(os.Getenv("DEV_CONF"), 64)
	if err != nil {
		t.Skip()
	}
	p, _ := Generate(context.Background(), &Options{Scale: 0.5, ControlFraction: 0.1, Seed: 3, Confounding: c})
	r := &p.Register
	pr, _ := newProfiler(r)
	from, to := panel.DayFromDate(2012, 2, 1), panel.DayFromDate(2012, 7, 31)
	tr, _ := p.Starters(from, to)
	emp := &p.Untreated[0]
	key := func(i int, d panel.Day) (int, bool) {
		g := &r.Status
		w := g.WeekOf(d)
		c := g.Row(i)[w]
		b, _, _ := SplitLevel(g.Levels[c])
		for _, x := range ExcludedAtStartLevels() {
			if x == b {
				return 0, false
			}
		}
		sup := 0
		for _, x := range g.Row(i)[w-260 : w] {
			if pr.support[x] {
				sup++
			}
		}
		mo := panel.MonthOf(d)
		wm := emp.Count(i, mo-48, mo-1)
		a := ageYears(r.Birth[i], d)
		ag := 0
		switch {
		case a >= 50:
			ag = 3
		case a >= 30:
			ag = 2
		case a >= 25:
			ag = 1
		}
		s52, s13 := 0, 0
		for _, x := range g.Row(i)[w-52 : w] {
			if pr.support[x] {
				s52++
			}
		}
		for _, x := range g.Row(i)[w-13 : w] {
			if pr.support[x] {
				s13++
			}
		}
		w12 := emp.Count(i, mo-12, mo-1)
		k := ((pr.actGroup[c]*16+pr.benefitGroup[c])*8+sup/40)*16*8 + (wm/4)*8 + ag
		if os.Getenv("DEV_FINE") != "" {
			k = k*1000 + (s52/9)*100 + (s13/4)*10 + w12/3
		}
		return k, true
	}
	type cell struct {
		nt, nc, yt, yc, pit, pic, et, ec, ut, uc float64
		bg                                       int
	}
	sm := newSim(&p.Options)
	lat := func(i int) (float64, float64) {
		sm.simulate(int(p.gen[i]))
		return sm.g.pi, sm.e
	}
	cells := map[int]*cell{}
	days := []panel.Day{}
	for _, i := range tr {
		days = append(days, p.FirstStart[i])
	}
	// controls: non-starters in window with a simulated start day
	const H0, H1 = 6, 18
	out := func(i int, d panel.Day) float64 {
		mo := panel.MonthOf(d)
		if os.Getenv("DEV_SUP") != "" {
			w := r.Status.WeekOf(d)
			n := 0
			for _, x := range r.Status.Row(i)[w+26 : w+78] {
				if pr.support[x] {
					n++
				}
			}
			return float64(n) / 52
		}
		return float64(emp.Count(i, mo+H0, mo+H1)) / float64(H1-H0+1)
	}
	for k, i := range tr {
		kk, ok := key(int(i), days[k])
		if !ok {
			continue
		}
		if cells[kk] == nil {
			cells[kk] = &cell{}
		}
		cells[kk].nt++
		cells[kk].bg = pr.benefitGroup[r.Status.Row(int(i))[r.Status.WeekOf(days[k])]]
		cells[kk].yt += out(int(i), days[k])
		a, b := lat(int(i))
		cells[kk].pit += a
		cells[kk].et += b
	}
	for i := 0; i < r.N(); i++ {
		if fs := p.FirstStart[i]; fs >= from && fs <= to {
			continue
		}
		d := days[(i*7919)%len(days)]
		kk, ok := key(i, d)
		if !ok || cells[kk] == nil {
			continue
		}
		cells[kk].nc++
		cells[kk].yc += out(i, d)
		a, b := lat(i)
		cells[kk].pic += a
		cells[kk].ec += b
	}
	byB := map[int][3]float64{}
	var nt, yt, yc, pit, pic, et, ec float64
	unmatched := 0.0
	for key, c := range cells {
		_ = key
		if c.nc == 0 {
			unmatched += c.nt
			continue
		}
		nt += c.nt
		yt += c.yt
		yc += c.nt * c.yc / c.nc
		pit += c.pit
		bg := c.bg
		v := byB[bg]
		v[0] += c.nt
		v[1] += c.yt
		v[2] += c.nt * c.yc / c.nc
		byB[bg] = v
		et += c.et
		pic += c.nt * c.pic / c.nc
		ec += c.nt * c.ec / c.nc
	}
	for b, v := range byB {
		t.Logf("benefit %-25s n=%5.0f t %.3f c %.3f diff %+.3f", startBenefitNames[b], v[0], v[1]/v[0], v[2]/v[0], (v[1]-v[2])/v[0])
	}
	t.Logf("pi t %.4f c %.4f; e t %.4f c %.4f", pit/nt, pic/nt, et/nt, ec/nt)
	t.Logf("conf=%v treated %d matched %v unmatched %v: treated Y0 %.4f controls %.4f diff %.4f", c, len(tr), nt, unmatched, yt/nt, yc/nt, (yt-yc)/nt)
}
