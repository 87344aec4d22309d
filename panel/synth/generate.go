package synth

import (
	"context"
	"fmt"
	"math"
	"sort"
	"sync/atomic"

	"github.com/psmeval/psmeval/internal/pool"
	"github.com/psmeval/psmeval/internal/rng"
	"github.com/psmeval/psmeval/panel"
)

// Population is a generated register together with the truth behind it.
type Population struct {
	// Register holds the observable data: persons (IDs, Birth, Attrs),
	// the weekly status grid, the monthly outcomes and the mentor spells.
	// A person who starts a spell has the outcomes Y(1) of starting at
	// the first start (FirstStart); everyone else has Y(0).
	Register panel.Register
	// Untreated holds Y(0), the outcomes had the person never started a
	// spell, for every person (same shape as Register.Outcomes; equal to
	// it for persons who never start, and for everyone when the effect is
	// zero). The status grid is always the untreated path: treatment acts
	// on the monthly outcomes only.
	Untreated []panel.Outcome
	// U is the unobserved factor of each person (not in the Register).
	U []float64
	// FirstStart is each person's first spell start, NoStart if none.
	FirstStart []panel.Day
	// Options are the options used, with defaults filled in.
	Options Options

	gen []int32 // generation index of each person
}

// Outcome returns the observed outcome named name from the Register, or
// nil.
func (p *Population) Outcome(name string) *panel.Outcome {
	for i := range p.Register.Outcomes {
		if p.Register.Outcomes[i].Name == name {
			return &p.Register.Outcomes[i]
		}
	}
	return nil
}

// Starters returns the persons whose first spell starts on a day in
// [from, to] and the calendar months of those starts (their cohorts), in
// person order. With from = 2012-02-01 and to = 2012-07-31 these are the
// SFI treated (every generated starter is eligible at the start week).
func (p *Population) Starters(from, to panel.Day) (persons []int32, cohorts []panel.Month) {
	for i, d := range p.FirstStart {
		if d != NoStart && d >= from && d <= to {
			persons = append(persons, int32(i))
			cohorts = append(cohorts, panel.MonthOf(d))
		}
	}
	return persons, cohorts
}

const blockSize = 2048

// Generate draws a synthetic SFI-like population (see the package
// documentation for the model). Persons are generated from per-person
// random streams in fixed blocks, so the result depends on the options
// (Scale, Seed, Effect, Confounding, ...) but not on Workers.
//
// Cost: O(N·(weeks + months)) time on Workers goroutines; memory about
// N·(390 + 4·2·8·2 + 40) bytes (1.9 GB at Scale 1: the grid, observed and
// untreated outcomes, attributes); the grid's 390 become the weeks kept
// with Options.StatusFrom. Scale 1 takes about 24 s of CPU (12 s
// on 2 idle cores); each starter costs about 120 candidate simulations.
func Generate(ctx context.Context, opt *Options) (*Population, error) {
	o, err := opt.resolved()
	if err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	n := int(math.Round(SFIPersons * o.Scale))
	if n < 1 {
		return nil, fmt.Errorf("synth: Options.Scale %v gives no persons", o.Scale)
	}
	if n > math.MaxInt32 {
		return nil, fmt.Errorf("synth: Options.Scale %v gives too many persons (%d)", o.Scale, n)
	}
	getTables()

	// Pass 1: who is kept (cheap: the first draws of each person's stream).
	nBlocks := (n + blockSize - 1) / blockSize
	keep := make([]bool, n)
	kept := make([]int, nBlocks+1)
	err = parallelBlocks(ctx, o.Workers, nBlocks, func(s *sim, blk int) {
		c := 0
		for k := blk * blockSize; k < min(n, (blk+1)*blockSize); k++ {
			s.class(k)
			keep[k] = s.keep
			if s.keep {
				c++
			}
		}
		kept[blk+1] = c
	}, &o)
	if err != nil {
		return nil, err
	}
	for b := 0; b < nBlocks; b++ {
		kept[b+1] += kept[b]
	}
	m := kept[nBlocks]

	p := &Population{Options: o}
	r := &p.Register
	r.IDs = make([]int64, m)
	r.Birth = make([]panel.Day, m)
	lo := weekOf(o.StatusFrom)
	r.Status = panel.NewStatusGrid(m, GridFirstWeek+panel.Day(7*lo), GridWeeks-lo, StatusLevels())
	p.U = make([]float64, m)
	p.FirstStart = make([]panel.Day, m)
	p.gen = make([]int32, m)
	cat := func(name string, levels []string) panel.Attribute {
		sorted, _ := sortedLevels(levels)
		return panel.Attribute{Name: name, Codes: make([]uint16, m), Levels: sorted}
	}
	num := func(name string) panel.Attribute {
		return panel.Attribute{Name: name, Values: make([]float64, m)}
	}
	r.Attrs = []panel.Attribute{
		cat("sex", sexLevels), cat("origin", originLevels), cat("education", eduLevels),
		cat("match_group", matchLevels), cat("cohabitation", cohabLevels), num("children"),
		cat("municipality", municipalityLevels()), num("unemployment_rate"),
	}
	for k, name := range OutcomeNames {
		r.Outcomes = append(r.Outcomes, panel.NewOutcome(name, m, OutcomeFirstMonth, outcomeMonths[k]))
		p.Untreated = append(p.Untreated, panel.NewOutcome(name, m, OutcomeFirstMonth, outcomeMonths[k]))
	}
	blockSpells := make([][]panel.Spell, nBlocks)
	var done atomic.Int64
	err = parallelBlocks(ctx, o.Workers, nBlocks, func(s *sim, blk int) {
		i := kept[blk]
		var sp []panel.Spell
		for k := blk * blockSize; k < min(n, (blk+1)*blockSize); k++ {
			if !keep[k] {
				continue
			}
			s.simulate(k)
			p.store(s, i)
			if s.starter {
				s.spellsGen(int32(i))
				sp = append(sp, s.spells...)
			}
			i++
		}
		blockSpells[blk] = sp
		if o.Progress != nil {
			hi := min(n, (blk+1)*blockSize)
			o.Progress(int(done.Add(int64(hi-blk*blockSize))), n)
		}
	}, &o)
	if err != nil {
		return nil, err
	}
	ns := 0
	for _, b := range blockSpells {
		ns += len(b)
	}
	r.Spells = make([]panel.Spell, 0, ns)
	for _, b := range blockSpells {
		r.Spells = append(r.Spells, b...)
	}
	return p, nil
}

// simulate draws person k completely (class, U, attributes, status
// path, monthly probabilities and uniforms); spells are drawn after by
// spellsGen from the same stream.
func (s *sim) simulate(k int) {
	s.class(k)
	s.pcB.Seed(s.o.Seed, rng.SplitMix64(uint64(k)<<2|streamOutcomes))
	s.u = s.r.NormFloat64()
	s.attempts = 0
	s.candStart = NoStart
	if s.starter {
		s.u += s.o.Confounding
		s.starterDraw()
		return
	}
	s.attributes()
	s.resetPath()
	s.nonStarterPath()
	s.monthly()
}

// store writes the simulated person s as person i.
func (p *Population) store(s *sim, i int) {
	r := &p.Register
	r.IDs[i] = int64(s.k) + 1
	r.Birth[i] = s.birth
	a := r.Attrs
	sex := uint16(0)
	if s.male {
		sex = 1
	}
	a[0].Codes[i] = sexCode[sex]
	a[1].Codes[i] = originCode[s.origin]
	a[2].Codes[i] = eduCode[s.edu]
	a[3].Codes[i] = matchCode[s.match]
	a[4].Codes[i] = cohabCode[s.cohab]
	a[5].Values[i] = float64(s.children)
	a[6].Codes[i] = uint16(s.muni)
	a[7].Values[i] = s.t.muniRate[s.muni]
	copy(r.Status.Row(i), s.row[weekOf(r.Status.FirstWeek):]) // the weeks kept (Options.StatusFrom)
	p.U[i] = s.u
	p.FirstStart[i] = s.start
	p.gen[i] = int32(s.k)
	y0 := s.outcomes(-1, &p.Options.Effect)
	y1 := y0
	if s.starter {
		y1 = s.outcomes(s.startMon, &p.Options.Effect)
	}
	for k := range OutcomeNames {
		ob, ub := r.Outcomes[k].Bits, p.Untreated[k].Bits
		ob[2*i], ob[2*i+1] = y1[k][0], y1[k][1]
		ub[2*i], ub[2*i+1] = y0[k][0], y0[k][1]
	}
	// clear bits beyond each outcome's months (education ends earlier)
	for k := range OutcomeNames {
		if mo := outcomeMonths[k]; mo < 128 {
			mask := ^uint64(0) >> uint(128-mo)
			r.Outcomes[k].Bits[2*i+1] &= mask
			p.Untreated[k].Bits[2*i+1] &= mask
		}
	}
}

// parallelBlocks runs f on blocks 0..nBlocks-1 with up to workers
// goroutines, each with its own sim; it stops early when ctx is done.
func parallelBlocks(ctx context.Context, workers, nBlocks int, f func(s *sim, blk int), o *Options) error {
	err := pool.Run(ctx, workers, nBlocks, func() *sim { return newSim(o) }, func(s *sim, b int) error { f(s, b); return nil }, nil)
	if err != nil {
		return fmt.Errorf("synth: generation stopped: %w", err)
	}
	return nil
}

// sortedLevels returns levels sorted byte-wise (as registerio.ReadDir orders
// categorical levels, so that written data read back identically) and
// the code of each original level.
func sortedLevels(levels []string) ([]string, []uint16) {
	sorted := append([]string(nil), levels...)
	sort.Strings(sorted)
	code := make([]uint16, len(levels))
	for i, l := range levels {
		code[i] = uint16(sort.SearchStrings(sorted, l))
	}
	return sorted, code
}

var (
	_, sexCode    = sortedLevels(sexLevels)
	_, originCode = sortedLevels(originLevels)
	_, eduCode    = sortedLevels(eduLevels)
	_, matchCode  = sortedLevels(matchLevels)
	_, cohabCode  = sortedLevels(cohabLevels)
)
