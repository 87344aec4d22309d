package synth

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/psmeval/psmeval/internal/rng"
	"github.com/psmeval/psmeval/panel"
)

// Row is one characteristic of a profile: the report's figure, the
// synthetic one, their difference and the tolerance of the calibration.
type Row struct {
	Characteristic string
	Report         float64 // NaN when the report has no figure
	Synthetic      float64
	Tolerance      float64
}

// Diff returns Synthetic − Report.
func (r Row) Diff() float64 { return r.Synthetic - r.Report }

// OK reports whether the row is within tolerance (true without a figure).
func (r Row) OK() bool { return math.IsNaN(r.Report) || math.Abs(r.Diff()) <= r.Tolerance+1e-9 }

// Profile is a table of characteristics of a group of persons.
type Profile struct {
	Name string
	N    int
	Rows []Row
}

// Failures returns the rows outside tolerance.
func (p *Profile) Failures() []Row {
	var out []Row
	for _, r := range p.Rows {
		if !r.OK() {
			out = append(out, r)
		}
	}
	return out
}

// Write prints the profile as a fixed-width table with the columns
// characteristic, report, synthetic, diff (and "!" beyond tolerance).
func (p *Profile) Write(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s (N = %d)\n", p.Name, p.N)
	fmt.Fprintf(&b, "%-44s %8s %9s %7s\n", "characteristic", "report", "synthetic", "diff")
	for _, r := range p.Rows {
		prec := 1
		if r.Tolerance > 0 && r.Tolerance < 0.5 {
			prec = 2
		}
		rep, diff, flag := "", "", ""
		if !math.IsNaN(r.Report) {
			rep = fmt.Sprintf("%.*f", prec, r.Report)
			diff = fmt.Sprintf("%+.*f", prec, r.Diff())
			if !r.OK() {
				flag = " !"
			}
		}
		fmt.Fprintf(&b, "%-44s %8s %9.*f %7s%s\n", r.Characteristic, rep, prec, r.Synthetic, diff, flag)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Tolerances of the calibration (docs/method.md §4 targets): 2 percentage
// points for shares; 1 year for ages; 0.1 years (2 points of the 5-year
// window) for mean years on support; 1 month (2 points of 48) for mean
// months with wage income.
const (
	TolPct         = 2.0
	TolAge         = 1.0
	TolSupportMean = 0.1
	TolWageMean    = 1.0
)

// measures are the per-person quantities behind a profile.
type measures struct {
	benefit  []float64 // start benefit group counts (startBenefitNames + "excluded")
	act      []float64
	ageBand  []float64
	ageSum   float64
	ages     []int
	men      float64
	origin   []float64
	edu      []float64
	match    []float64
	support  []float64
	supSum   float64
	wage     []float64
	wageSum  float64
	wagePrev float64
	n        int
}

type profiler struct {
	r                       *panel.Register
	sex, origin, edu, match *panel.Attribute
	// natural-order index of each attribute code
	originIdx, eduIdx, matchIdx []int
	male                        uint16
	emp                         *panel.Outcome
	benefitGroup                []int // by status code: index into startBenefitNames, -1 other
	actGroup                    []int // by status code: index into startActNames
	support                     []bool
}

func newProfiler(r *panel.Register) (*profiler, error) {
	pr := &profiler{r: r}
	get := func(name string, levels []string) (*panel.Attribute, error) {
		a := r.Attr(name)
		if a == nil {
			return nil, fmt.Errorf("synth: register has no attribute %q", name)
		}
		if !a.IsCategorical() {
			return nil, fmt.Errorf("synth: attribute %q is not categorical", name)
		}
		for _, l := range levels {
			if a.Level(l) < 0 {
				return nil, fmt.Errorf("synth: attribute %q lacks level %q", name, l)
			}
		}
		return a, nil
	}
	var err error
	if pr.sex, err = get("sex", sexLevels); err != nil {
		return nil, err
	}
	if pr.origin, err = get("origin", originLevels); err != nil {
		return nil, err
	}
	if pr.edu, err = get("education", eduLevels); err != nil {
		return nil, err
	}
	if pr.match, err = get("match_group", matchLevels); err != nil {
		return nil, err
	}
	idx := func(a *panel.Attribute, levels []string) []int {
		out := make([]int, len(a.Levels))
		for c, l := range a.Levels {
			out[c] = -1
			for k, n := range levels {
				if n == l {
					out[c] = k
				}
			}
		}
		return out
	}
	pr.originIdx = idx(pr.origin, originLevels)
	pr.eduIdx = idx(pr.edu, eduLevels)
	pr.matchIdx = idx(pr.match, matchLevels)
	pr.male = uint16(pr.sex.Level("male"))
	for i := range r.Outcomes {
		if r.Outcomes[i].Name == Employed {
			pr.emp = &r.Outcomes[i]
		}
	}
	if pr.emp == nil {
		return nil, fmt.Errorf("synth: register has no outcome %q", Employed)
	}
	if r.Birth == nil {
		return nil, fmt.Errorf("synth: register has no birth dates")
	}
	g := &r.Status
	pr.benefitGroup = make([]int, len(g.Levels))
	pr.actGroup = make([]int, len(g.Levels))
	pr.support = make([]bool, len(g.Levels))
	for c, l := range g.Levels {
		b, inst, ok := SplitLevel(l)
		if !ok {
			return nil, fmt.Errorf("synth: status level %q is not a synth level", l)
		}
		pr.benefitGroup[c] = len(startBenefitNames) - 1 // other
		for j, n := range startBenefitNames {
			if n == b {
				pr.benefitGroup[c] = j
			}
		}
		pr.support[c] = b != SelfSupporting && b != SU
		switch {
		case b == SelfSupporting || b == SU:
			pr.actGroup[c] = 7
		case b == FlexJob:
			pr.actGroup[c] = 5
		case inst == "" || inst == instrumentPassive:
			pr.actGroup[c] = 6
		default:
			for j, n := range Instruments {
				if n == inst {
					pr.actGroup[c] = j
				}
			}
		}
	}
	return pr, nil
}

// ageYears returns the completed years of age on day d (birthdays on
// 29 February count on 1 March in common years): panel.AgeYears.
func ageYears(birth, d panel.Day) int { return panel.AgeYears(birth, d) }

// measure accumulates person i at reference day d.
func (pr *profiler) measure(m *measures, i int, d panel.Day) error {
	g := &pr.r.Status
	w := g.WeekOf(d)
	if w < 260 || w >= g.Weeks {
		return fmt.Errorf("synth: reference day %v of person %d leaves no 260-week history in the grid", d, pr.r.IDs[i])
	}
	mo := panel.MonthOf(d)
	if mo-48 < pr.emp.FirstMonth || mo > pr.emp.LastMonth() {
		return fmt.Errorf("synth: reference day %v of person %d leaves no 48-month wage history", d, pr.r.IDs[i])
	}
	row := g.Row(i)
	c := row[w]
	m.n++
	m.benefit[pr.benefitGroup[c]]++
	m.act[pr.actGroup[c]]++
	a := ageYears(pr.r.Birth[i], d)
	m.ageBand[ageBand(a)]++
	m.ageSum += float64(a)
	m.ages = append(m.ages, a)
	if pr.sex.Codes[i] == pr.male {
		m.men++
	}
	countCode(m.origin, pr.originIdx, pr.origin.Codes[i])
	countCode(m.edu, pr.eduIdx, pr.edu.Codes[i])
	countCode(m.match, pr.matchIdx, pr.match.Codes[i])
	sup := 0
	for _, x := range row[w-260 : w] {
		if pr.support[x] {
			sup++
		}
	}
	switch {
	case sup == 0:
		m.support[0]++
	case sup == 260:
		m.support[6]++
	default:
		m.support[min(1+(sup-1)/52, 5)]++
	}
	m.supSum += float64(sup) / 52
	wm := pr.emp.Count(i, mo-48, mo-1)
	switch {
	case wm == 0:
		m.wage[0]++
	case wm == 48:
		m.wage[5]++
	default:
		m.wage[min(1+(wm-1)/12, 4)]++
	}
	m.wageSum += float64(wm)
	if v, _ := pr.emp.Get(i, mo-1); v {
		m.wagePrev++
	}
	return nil
}

// countCode counts code c (missing and unknown levels are not counted).
func countCode(counts []float64, idx []int, c uint16) {
	if int(c) < len(idx) && idx[c] >= 0 {
		counts[idx[c]]++
	}
}

func newMeasures() *measures {
	return &measures{
		benefit: make([]float64, len(startBenefitNames)), act: make([]float64, len(startActNames)),
		ageBand: make([]float64, len(ageBandNames)), origin: make([]float64, len(originLevels)),
		edu: make([]float64, len(eduLevels)), match: make([]float64, len(matchLevels)),
		support: make([]float64, len(supportBinNames)), wage: make([]float64, len(wageBinNames)),
	}
}

func pctRows(prefix string, names []string, counts []float64, n int, report []float64) []Row {
	rows := make([]Row, len(names))
	for k, name := range names {
		rep := math.NaN()
		if report != nil {
			rep = report[k]
		}
		rows[k] = Row{Characteristic: prefix + name, Report: rep, Synthetic: 100 * counts[k] / float64(max(n, 1)), Tolerance: TolPct}
	}
	return rows
}

// TreatedProfile returns the profile at start of persons (register
// indices) starting on the days start: benefit and activation at the
// start week, age (completed years at start), sex, origin, education,
// match group, years on public support (SU excluded) in the 260 weeks
// before the start week, months with wage income (outcome "employed") in
// the 48 months before the start month and in the month before it, next to
// the report's figures for the 2012 starters (docs/method.md §4).
// It needs a register with the synth attributes and status levels.
// Cost: O(len(persons)·260).
func TreatedProfile(r *panel.Register, persons []int32, start []panel.Day) (*Profile, error) {
	if len(persons) != len(start) {
		return nil, fmt.Errorf("synth: TreatedProfile has %d persons and %d start days", len(persons), len(start))
	}
	pr, err := newProfiler(r)
	if err != nil {
		return nil, err
	}
	m := newMeasures()
	for k, i := range persons {
		if err := pr.measure(m, int(i), start[k]); err != nil {
			return nil, err
		}
	}
	n := m.n
	p := &Profile{Name: "Treated at start (first spell start in the window)", N: n}
	p.Rows = append(p.Rows, pctRows("benefit at start: ", startBenefitNames, m.benefit, n, tgtTreatedBenefit)...)
	p.Rows = append(p.Rows, pctRows("activation at start: ", startActNames, m.act, n, tgtTreatedAct)...)
	p.Rows = append(p.Rows, pctRows("age ", ageBandNames, m.ageBand, n, tgtTreatedAge)...)
	sort.Ints(m.ages)
	med := math.NaN()
	if n > 0 {
		med = float64(m.ages[n/2])
	}
	p.Rows = append(p.Rows,
		Row{"age, mean (years)", tgtTreatedAgeMean, m.ageSum / float64(max(n, 1)), TolAge},
		Row{"age, median (years)", tgtTreatedAgeMedian, med, TolAge},
		Row{"men", tgtTreatedMenPct, 100 * m.men / float64(max(n, 1)), TolPct})
	p.Rows = append(p.Rows, pctRows("origin: ", originLevels, m.origin, n, tgtTreatedOrigin)...)
	p.Rows = append(p.Rows, pctRows("education: ", eduLevels, m.edu, n, tgtTreatedEdu)...)
	p.Rows = append(p.Rows, pctRows("match group: ", matchLevels, m.match, n, tgtTreatedMatch)...)
	p.Rows = append(p.Rows, pctRows("years on support in 5 before: ", supportBinNames, m.support, n, tgtTreatedSupport)...)
	p.Rows = append(p.Rows, Row{"years on support in 5 before, mean", tgtTreatedSupportMean, m.supSum / float64(max(n, 1)), TolSupportMean})
	p.Rows = append(p.Rows, pctRows("months with wage in 48 before: ", wageBinNames, m.wage, n, tgtTreatedWage)...)
	p.Rows = append(p.Rows,
		Row{"months with wage in 48 before, mean", tgtTreatedWageMean, m.wageSum / float64(max(n, 1)), TolWageMean},
		Row{"wage income in the month before the start month", tgtTreatedWagePrev, 100 * m.wagePrev / float64(max(n, 1)), TolPct})
	return p, nil
}

// PopulationProfile returns the population profile next to the report's
// "pop" figures (all aged 18–64 on 1 January 2013, measured at that day:
// sex, origin, education, years on support in the 260 weeks before, months
// with wage income in the 48 months before) and "pub" figures (all aged
// 16–64 on public support, SU excluded, in the week of 1 March 2013: men,
// mean age, match group). persons selects the persons (nil = all).
// Cost: O(N·260).
func PopulationProfile(r *panel.Register, persons []int32) (*Profile, error) {
	pr, err := newProfiler(r)
	if err != nil {
		return nil, err
	}
	popDay := panel.DayFromDate(popReference[0], time.Month(popReference[1]), popReference[2])
	pubDay := panel.DayFromDate(pubReference[0], time.Month(pubReference[1]), pubReference[2])
	pubW := r.Status.WeekOf(pubDay)
	if pubW < 0 || pubW >= r.Status.Weeks {
		return nil, fmt.Errorf("synth: status grid does not cover %v", pubDay)
	}
	m := newMeasures()
	pub := newMeasures()
	each := func(i int) error {
		a := ageYears(r.Birth[i], popDay)
		if a >= 18 && a <= 64 {
			if err := pr.measure(m, i, popDay); err != nil {
				return err
			}
		}
		if b := ageYears(r.Birth[i], pubDay); b >= 16 && b <= 64 && pr.support[r.Status.Row(i)[pubW]] {
			pub.n++
			pub.ageSum += float64(b)
			if pr.sex.Codes[i] == pr.male {
				pub.men++
			}
			countCode(pub.match, pr.matchIdx, pr.match.Codes[i])
		}
		return nil
	}
	if persons == nil {
		for i := 0; i < r.Len(); i++ {
			if err := each(i); err != nil {
				return nil, err
			}
		}
	} else {
		for _, i := range persons {
			if err := each(int(i)); err != nil {
				return nil, err
			}
		}
	}
	n := m.n
	p := &Profile{Name: fmt.Sprintf("Population: pop = aged 18-64 on %v; pub = aged 16-64 on public support in the week of %v (N pub = %d)", popDay, pubDay, pub.n), N: n}
	p.Rows = append(p.Rows, Row{"pop: men", tgtPopMenPct, 100 * m.men / float64(max(n, 1)), TolPct})
	p.Rows = append(p.Rows, pctRows("pop: origin: ", originLevels, m.origin, n, tgtPopOrigin)...)
	p.Rows = append(p.Rows, pctRows("pop: education: ", eduLevels, m.edu, n, tgtPopEdu)...)
	p.Rows = append(p.Rows,
		Row{"pop: no public support in 5 years before", tgtPopSupportNone, 100 * m.support[0] / float64(max(n, 1)), TolPct},
		Row{"pop: years on support in 5 before, mean", tgtPopSupportMean, m.supSum / float64(max(n, 1)), TolSupportMean},
		Row{"pop: months with wage in 48 before, mean", tgtPopWageMean, m.wageSum / float64(max(n, 1)), TolWageMean},
		Row{"pop: wage income in all 48 months", tgtPopWageAll, 100 * m.wage[5] / float64(max(n, 1)), TolPct},
		Row{"pub: men", tgtPubMenPct, 100 * pub.men / float64(max(pub.n, 1)), TolPct},
		Row{"pub: age, mean (years)", tgtPubAgeMean, pub.ageSum / float64(max(pub.n, 1)), TolAge})
	p.Rows = append(p.Rows, pctRows("pub: match group: ", matchLevels, pub.match, pub.n, tgtPubMatch)...)
	return p, nil
}

// Profiles returns the treated-at-start profile (persons whose first
// spell starts in the SFI window 1 Feb – 31 Jul 2012) and the population
// profile of a generated population.
func (p *Population) Profiles() (treated, population *Profile, err error) {
	w := defaultTreatedWindow
	from := panel.DayFromDate(w[0][0], time.Month(w[0][1]), w[0][2])
	to := panel.DayFromDate(w[1][0], time.Month(w[1][1]), w[1][2])
	persons, _ := p.Starters(from, to)
	days := make([]panel.Day, len(persons))
	for k, i := range persons {
		days[k] = p.FirstStart[i]
	}
	if treated, err = TreatedProfile(&p.Register, persons, days); err != nil {
		return nil, nil, err
	}
	var pop []int32
	if cf, wf := p.Options.ControlFraction, p.Options.WindowFraction; cf != wf {
		// Persons starting in the SFI window were kept with probability
		// wf (WindowFraction), the others with probability cf: thin the
		// group kept more often to the rate of the other.
		keepIn, keepOut := min(1, cf/wf), min(1, wf/cf)
		for i, d := range p.FirstStart {
			k := keepOut
			if d >= windowFirst && d <= windowLast {
				k = keepIn
			}
			if k >= 1 || float64(rng.SplitMix64(uint64(p.gen[i])^0x5eed)>>11)/(1<<53) < k {
				pop = append(pop, int32(i))
			}
		}
	}
	if population, err = PopulationProfile(&p.Register, pop); err != nil {
		return nil, nil, err
	}
	return treated, population, nil
}

// SpellProfile returns the mentor-spell figures of the population next
// to the report's (docs/method.md §4): persons starting a spell in 2012
// and spells (records) starting in 2012, both divided by Scale (and, with
// ControlFraction < 1, persons outside the window weighted up by
// 1/ControlFraction, and with WindowFraction < 1 persons in the window by
// 1/WindowFraction) so that they compare with the report's 16,000 and
// 24,800 at any size; the share of records that directly continue the
// previous one (sub-spells); the mean and median duration (days) of
// merged spells starting in 2012 (directly consecutive sub-spells
// joined); and the mean and median weekly hours of records starting in
// 2012. Counts have a 5 percent tolerance, durations 10 days, hours 0.3.
func (p *Population) SpellProfile() *Profile {
	cf, wf := p.Options.ControlFraction, p.Options.WindowFraction
	return spellProfile(&p.Register, p.Options.Scale, func(i int32) float64 {
		d := p.FirstStart[i]
		in := d >= windowFirst && d <= windowLast
		if cf < 1 && !in {
			return 1 / cf
		}
		if wf < 1 && in {
			return 1 / wf
		}
		return 1
	})
}

func spellProfile(r *panel.Register, scale float64, weight func(int32) float64) *Profile {
	sp := append([]panel.Spell(nil), r.Spells...)
	sort.Slice(sp, func(a, b int) bool {
		if sp[a].Person != sp[b].Person {
			return sp[a].Person < sp[b].Person
		}
		return sp[a].Start < sp[b].Start
	})
	y0, y1 := panel.DayFromDate(2012, 1, 1), panel.DayFromDate(2012, 12, 31)
	in2012 := func(d panel.Day) bool { return d >= y0 && d <= y1 }
	persons, records, cont := 0.0, 0.0, 0
	var durs, hours []float64
	for k := 0; k < len(sp); {
		// one person
		j := k
		for j < len(sp) && sp[j].Person == sp[k].Person {
			j++
		}
		counted := false
		for a := k; a < j; {
			b := a + 1
			for b < j && sp[b].Start == sp[b-1].End+1 {
				b++
			}
			// merged spell sp[a..b)
			if in2012(sp[a].Start) {
				durs = append(durs, float64(sp[b-1].End-sp[a].Start+1))
				if !counted {
					persons += weight(sp[k].Person)
					counted = true
				}
			}
			cont += b - a - 1
			a = b
		}
		for a := k; a < j; a++ {
			if in2012(sp[a].Start) {
				records += weight(sp[a].Person)
				hours = append(hours, float64(sp[a].Hours))
			}
		}
		k = j
	}
	sort.Float64s(durs)
	sort.Float64s(hours)
	mean := func(x []float64) float64 {
		s := 0.0
		for _, v := range x {
			s += v
		}
		return s / float64(max(len(x), 1))
	}
	med := func(x []float64) float64 {
		if len(x) == 0 {
			return math.NaN()
		}
		return x[len(x)/2]
	}
	return &Profile{Name: fmt.Sprintf("Mentor spells (counts divided by Scale %g)", scale), N: len(sp), Rows: []Row{
		{"persons starting a spell in 2012", 16000, persons / scale, 800},
		{"spell records starting in 2012", 24800, records / scale, 1240},
		{"records directly continuing the previous (%)", math.NaN(), 100 * float64(cont) / float64(max(len(sp), 1)), 0},
		{"merged 2012 spells, mean duration (days)", 163, mean(durs), 10},
		{"merged 2012 spells, median duration (days)", 91, med(durs), 10},
		{"weekly hours, mean", 4.0, mean(hours), 0.3},
		{"weekly hours, median", 3.0, med(hours), 0.3},
	}}
}
