package panel

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/psmeval/psmeval/internal/pool"
	"gonum.org/v1/gonum/mat"
)

var nanValue = math.NaN()

// Block sizes of the parallel passes. They are fixed (not derived from
// the worker count) so that the work split never changes a result.
const (
	treatedBlock = 1024
	controlBlock = 8192
	unitBlock    = CovChunk // a block of units packs one chunk of Panel.X
)

// Build turns register data into an event-time panel (docs/design.md steps
// 2–4):
//
//  1. r.Validate; check the design; merge sub-spells (MergeSpells with
//     d.MergeGapDays).
//  2. Starters: persons with a merged spell that starts in
//     [WindowStart, WindowEnd]; their start is the first such start (a
//     merged spell that started before the window and runs into it is not
//     a new start). Everyone else is a potential control: later starts are
//     allowed, and earlier spells are a matter for an eligibility rule
//     such as NoSpellActive (SFI rule 4).
//  3. Treated units: starters that pass every eligibility rule at their
//     actual start week. Steps 1–3 are CountStarts (pass 0 of a sharded
//     run), on the same code.
//  4. Simulated starts: each potential control draws d.DrawsPerControl
//     start days uniformly from the eligible treated units' start days
//     (the empirical distribution of treated starts; DrawIndex), or from
//     d.Starts when set (the treated of all shards of a sharded run), so
//     its start week and cohort month follow that distribution;
//     eligibility is re-checked at the simulated week and ineligible
//     draws are dropped (not redrawn).
//  5. Covariates, descriptors and event-time outcomes of every kept unit,
//     relative to its start.
//
// The panel is identical for any d.Workers and any order of the input
// rows (persons, spells): units are in canonical order (treated, then
// controls, each by person id and draw) and each draw depends only on
// (d.Seed, person id, draw, the number of treated start days).
//
// Sharded runs: split the persons of a register into shards (each
// person with all its rows, every shard with the same status-grid
// calendar and levels), merge the shards' CountStarts and Build each
// shard with d.Starts set to the merged counts. Then the units of the
// shards are exactly the units of Build on the whole register: the same
// (id, draw, treated) with bit-identical start, covariates, descriptors
// and outcomes, and every field of Counts (Dropped element by element)
// is the sum of the shards' (TestShardedBuild). Only the order differs:
// each shard's panel has its treated first, so the shards' panels
// concatenated in shard order are not in the whole panel's order (all
// treated, then all controls, by id). Results that sum over units in
// order (the logit's 4,096-row blocks) then agree to rounding, not bit
// for bit, unless the units are put back in canonical order.
//
// Errors: a data *Error from r.Validate or for a missing (NaN) covariate
// value in X, a design *Error (errors.Is ErrDesign) for a bad option,
// unknown attribute/level/outcome or an outcome horizon beyond the data
// (also ErrHorizon), and, without d.Starts, ErrEmptyWindow when no
// person starts in the window or no starter is eligible and
// ErrNoControls when no control draw is eligible; ctx.Err() on
// cancellation.
//
// Cost: O(N·D·(rules + max W + covariate columns + outcome months)) for N
// persons and D draws, in parallel over fixed blocks of persons and
// units; memory: the panel itself (X in a CovStore: 1 byte per unit and
// column of small integers, 2 or 8 for others; 8 bytes per unit and
// column of Desc; a byte per unit and event month of each outcome; about
// 30 bytes per unit of index columns), 8·4096 bytes per covariate and
// worker of scratch, plus 12 bytes per kept control draw and per treated start day
// (of d.Starts when set) while building. Ids that are not in ascending
// order cost one O(N log N) sort (16 bytes per person).
func Build(ctx context.Context, r *Register, d *Design) (*Panel, error) {
	bs, err := newBuildState(r, d)
	if err != nil {
		return nil, err
	}
	if err := bs.findTreated(ctx); err != nil {
		return nil, err
	}
	// Without Starts the register's own treated are the distribution of
	// the simulated starts, so they must exist; a shard of a sharded run
	// may have none.
	if c, dd := &bs.counts, bs.d; dd.Starts == nil {
		if c.Starters == 0 {
			return nil, fmt.Errorf("panel: no merged spell starts in the window %v..%v: %w", dd.WindowStart, dd.WindowEnd, ErrEmptyWindow)
		}
		if c.Treated == 0 {
			return nil, fmt.Errorf("panel: all %d persons starting in the window %v..%v fail the eligibility rules: %w",
				c.Starters, dd.WindowStart, dd.WindowEnd, ErrEmptyWindow)
		}
	}
	if err := bs.startDist(); err != nil {
		return nil, err
	}
	ctrl, err := bs.controls(ctx)
	if err != nil {
		return nil, err
	}
	return bs.units(ctx, ctrl)
}

type buildState struct {
	r    *Register
	d    *Design
	prog *progress

	si       *spellIndex
	b        *binder
	rules    []func(*UnitView) bool
	names    []string // rule names
	covs     boundCovs
	descs    boundCovs
	outs     []eventOutcome
	dist     startDist
	counts   Counts
	starters []starter // in id order
	tStart   []starter // eligible treated, by id
	tWeek    []int32
	tCohort  []Month
}

type boundCovs struct {
	names []string
	fills []fillFunc
	offs  []int // column offset of each fill
}

func bindCovs(b *binder, cs []Covariate, option string, taken map[string]string) (boundCovs, error) {
	var bc boundCovs
	for i, c := range cs {
		names, fill, err := c.bind(b)
		opt := fmt.Sprintf("%s[%d] %s", option, i, c.name)
		if err != nil {
			return bc, designErr(opt, "%v", err)
		}
		for _, n := range names {
			if prev, dup := taken[n]; dup {
				return bc, designErr(opt, "column %q already made by %s", n, prev)
			}
			taken[n] = opt
		}
		bc.offs = append(bc.offs, len(bc.names))
		bc.names = append(bc.names, names...)
		bc.fills = append(bc.fills, fill)
	}
	return bc, nil
}

// newBuildState is the first step of Build and CountStarts: it checks the
// register and the design, merges the spells and binds the rules,
// covariates, descriptors and outcomes to the register.
func newBuildState(r *Register, d *Design) (*buildState, error) {
	if r == nil {
		return nil, designErr("Register", "nil register")
	}
	if d == nil {
		return nil, designErr("Design", "nil design")
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	dn, err := d.normalized(r)
	if err != nil {
		return nil, err
	}
	bs := &buildState{r: r, d: &dn, prog: newProgress(dn.Progress)}
	n := r.Len()
	bs.prog.report("spells", 0, 1)
	bs.si = &spellIndex{merged: MergeSpells(r.Spells, dn.MergeGapDays)}
	bs.prog.report("spells", 1, 1)
	bs.b = newBinder(r, &dn, bs.si)
	for i, rule := range dn.Eligibility {
		f, err := rule.bind(bs.b)
		if err != nil {
			return nil, designErr(fmt.Sprintf("Eligibility[%d] %s", i, rule.name), "%v", err)
		}
		bs.rules = append(bs.rules, f)
		bs.names = append(bs.names, rule.name)
	}
	if bs.covs, err = bindCovs(bs.b, dn.Covariates, "Covariates", map[string]string{}); err != nil {
		return nil, err
	}
	if bs.descs, err = bindCovs(bs.b, dn.Descriptors, "Descriptors", map[string]string{}); err != nil {
		return nil, err
	}
	if bs.outs, err = bindOutcomes(r, &dn); err != nil {
		return nil, err
	}
	c := &bs.counts
	c.Persons = n
	c.Spells = len(r.Spells)
	c.MergedSpells = len(bs.si.merged)
	c.Dropped = make([]RuleCount, len(bs.rules))
	for k := range c.Dropped {
		c.Dropped[k].Rule = bs.names[k]
	}
	return bs, nil
}

// findTreated finds the starters (in id order) and evaluates the rules
// for them at their start week: the eligible ones are the treated units.
func (bs *buildState) findTreated(ctx context.Context) error {
	r, d, c := bs.r, bs.d, &bs.counts
	bs.starters = bs.si.starters(d.WindowStart, d.WindowEnd)
	starters := bs.starters
	c.Starters = len(starters)
	c.PotentialControls = r.Len() - len(starters)
	c.Draws = c.PotentialControls * d.DrawsPerControl
	ids := r.IDs
	slices.SortFunc(starters, func(a, b starter) int { return cmp.Compare(ids[a.person], ids[b.person]) })
	g := &r.Status
	keep := make([]bool, len(starters))
	nb := (len(starters) + treatedBlock - 1) / treatedBlock
	drops := make([][]int, nb)
	views := make([]UnitView, d.Workers)
	err := runBlocks(ctx, d.Workers, nb, bs.prog.stage("treated", nb), func(w, blk int) error {
		u := &views[w]
		u.Register = r
		u.Treated, u.Draw = true, 0
		dr := make([]int, len(bs.rules))
		for k := blk * treatedBlock; k < min(len(starters), (blk+1)*treatedBlock); k++ {
			s := starters[k]
			u.Person, u.ID = int(s.person), r.IDs[s.person]
			u.Start, u.Week, u.Cohort = s.day, g.WeekOf(s.day), MonthOf(s.day)
			if ri := bs.check(u); ri >= 0 {
				dr[ri]++
			} else {
				keep[k] = true
			}
		}
		drops[blk] = dr
		return nil
	})
	if err != nil {
		return err
	}
	for _, dr := range drops {
		for k, v := range dr {
			c.Dropped[k].Treated += v
		}
	}
	for k, s := range starters {
		if keep[k] {
			bs.tStart = append(bs.tStart, s)
			bs.tWeek = append(bs.tWeek, int32(g.WeekOf(s.day)))
			bs.tCohort = append(bs.tCohort, MonthOf(s.day))
		}
	}
	c.Treated = len(bs.tStart)
	return nil
}

// startDist sets the distribution the controls draw their starts from:
// the start days of the eligible treated of this register, or
// Design.Starts when set (after checking that it holds this register's
// treated).
func (bs *buildState) startDist() error {
	g := &bs.r.Status
	own := bs.ownStarts()
	days, counts := own.days, own.counts
	if s := bs.d.Starts; s != nil {
		if err := s.covers(own); err != nil {
			return err
		}
		days, counts = s.days, s.counts
	}
	n := int64(0)
	for _, k := range counts {
		n += k
	}
	bs.dist = startDist{day: make([]Day, 0, n), week: make([]int32, 0, n), cohort: make([]Month, 0, n)}
	for j, day := range days {
		w, m := int32(g.WeekOf(day)), MonthOf(day)
		for range counts[j] {
			bs.dist.day = append(bs.dist.day, day)
			bs.dist.week = append(bs.dist.week, w)
			bs.dist.cohort = append(bs.dist.cohort, m)
		}
	}
	return nil
}

// check returns the index of the first rule u fails, or -1.
func (bs *buildState) check(u *UnitView) int {
	for k, f := range bs.rules {
		if !f(u) {
			return k
		}
	}
	return -1
}

// ctrlRec is an eligible control draw: person, draw and index into the
// start distribution.
type ctrlRec struct {
	person, draw, di int32
}

// controls draws the simulated starts of all potential controls and
// keeps the eligible draws, in canonical (id, draw) order.
func (bs *buildState) controls(ctx context.Context) ([]ctrlRec, error) {
	r, d, c := bs.r, bs.d, &bs.counts
	n := r.Len()
	isStarter := make([]uint64, (n+63)/64)
	for _, s := range bs.starters {
		isStarter[s.person/64] |= 1 << (uint(s.person) % 64)
	}
	order := canonicalOrder(r.IDs)
	nb := (n + controlBlock - 1) / controlBlock
	recs := make([][]ctrlRec, nb)
	drops := make([][]int, nb)
	views := make([]UnitView, d.Workers)
	bufs := make([][]ctrlRec, d.Workers) // a block's draws, copied to recs at its end
	nd := len(bs.dist.day)
	D := d.DrawsPerControl
	err := runBlocks(ctx, d.Workers, nb, bs.prog.stage("controls", nb), func(w, blk int) error {
		u := &views[w]
		u.Register = r
		u.Treated = false
		dr := make([]int, len(bs.rules))
		out := bufs[w][:0]
		for p := blk * controlBlock; p < min(n, (blk+1)*controlBlock); p++ {
			i := int32(p)
			if order != nil {
				i = order[p]
			}
			if bitGet(isStarter, i) {
				continue
			}
			u.Person, u.ID = int(i), r.IDs[i]
			for k := range D {
				di := DrawIndex(d.Seed, u.ID, k, nd)
				u.Draw = k
				u.Start, u.Week, u.Cohort = bs.dist.day[di], int(bs.dist.week[di]), bs.dist.cohort[di]
				if ri := bs.check(u); ri >= 0 {
					dr[ri]++
					continue
				}
				out = append(out, ctrlRec{person: i, draw: int32(k), di: int32(di)})
			}
		}
		recs[blk], drops[blk] = slices.Clone(out), dr
		bufs[w] = out
		return nil
	})
	if err != nil {
		return nil, err
	}
	total := 0
	for blk := range recs {
		total += len(recs[blk])
		for k, v := range drops[blk] {
			c.Dropped[k].Controls += v
		}
	}
	if total == 0 && d.Starts == nil {
		return nil, fmt.Errorf("panel: none of %d control draws (%d persons) is eligible: %w", c.Draws, c.PotentialControls, ErrNoControls)
	}
	all := make([]ctrlRec, 0, total)
	for blk := range recs {
		all = append(all, recs[blk]...)
		recs[blk] = nil
	}
	c.Controls = total
	for k := range all {
		if k == 0 || all[k].person != all[k-1].person {
			c.ControlPersons++
		}
	}
	return all, nil
}

// canonicalOrder returns person indices sorted by id, or nil when the ids
// are already ascending.
func canonicalOrder(ids []int64) []int32 {
	if slices.IsSorted(ids) {
		return nil
	}
	type pair struct {
		id int64
		i  int32
	}
	ps := make([]pair, len(ids))
	for i, id := range ids {
		ps[i] = pair{id, int32(i)}
	}
	slices.SortFunc(ps, func(a, b pair) int { return cmp.Compare(a.id, b.id) })
	order := make([]int32, len(ids))
	for k, p := range ps {
		order[k] = p.i
	}
	return order
}

// units allocates the panel and fills every unit's row.
func (bs *buildState) units(ctx context.Context, ctrl []ctrlRec) (*Panel, error) {
	r, d := bs.r, bs.d
	g := &r.Status
	nT := len(bs.tStart)
	nU := nT + len(ctrl)
	p := &Panel{
		Person: make([]int32, nU), ID: make([]int64, nU), Draw: make([]int32, nU),
		Treated: make([]bool, nU), StartDay: make([]Day, nU), StartWeek: make([]int32, nU),
		Cohort: make([]Month, nU), CovNames: bs.covs.names, DescNames: bs.descs.names,
		Counts: bs.counts, Notes: bs.b.notes,
	}
	nx, nd := len(bs.covs.names), len(bs.descs.names)
	var ds []float64
	if nx > 0 && nU > 0 {
		p.X = newCovStore(nU, nx)
	}
	if nd > 0 {
		ds = make([]float64, nU*nd)
	}
	p.Outcomes = make([]EventOutcome, len(bs.outs))
	for k, eo := range bs.outs {
		p.Outcomes[k] = EventOutcome{Name: eo.o.Name, H: eo.h, HCommon: eo.hCommon, Pre: eo.pre, LastMonth: eo.o.LastMonth(),
			Y: make([]uint8, nU*(eo.pre+eo.h+1))}
	}
	hs := newHistSlots(bs.b.groups)
	W := bs.b.windows
	type scratch struct {
		u    UnitView
		cnt  []int32
		hist []int32
		x    *xFill // the block's covariate rows, packed into p.X
	}
	sc := make([]scratch, d.Workers)
	for w := range sc {
		sc[w].cnt = make([]int32, 256)
		sc[w].hist = make([]int32, len(W)*len(bs.b.groups))
		sc[w].u.hist = sc[w].hist
		sc[w].u.Register = r
		if p.X != nil {
			sc[w].x = newXFill(nx)
		}
	}
	nb := (nU + unitBlock - 1) / unitBlock
	err := runBlocks(ctx, d.Workers, nb, bs.prog.stage("units", nb), func(w, blk int) error {
		s := &sc[w]
		u := &s.u
		k0, k1 := blk*unitBlock, min(nU, (blk+1)*unitBlock)
		if s.x != nil {
			s.x.reset()
		}
		prefault(ds[k0*nd : k1*nd])
		for o, eo := range bs.outs {
			prefault(p.Outcomes[o].Y[k0*(eo.pre+eo.h+1) : k1*(eo.pre+eo.h+1)])
		}
		for k := k0; k < k1; k++ {
			if k < nT {
				t := bs.tStart[k]
				u.Person, u.Draw, u.Treated = int(t.person), 0, true
				u.Start, u.Week, u.Cohort = t.day, int(bs.tWeek[k]), bs.tCohort[k]
			} else {
				cr := ctrl[k-nT]
				u.Person, u.Draw, u.Treated = int(cr.person), int(cr.draw), false
				u.Start, u.Week, u.Cohort = bs.dist.day[cr.di], int(bs.dist.week[cr.di]), bs.dist.cohort[cr.di]
			}
			u.ID = r.IDs[u.Person]
			p.Person[k], p.ID[k], p.Draw[k], p.Treated[k] = int32(u.Person), u.ID, int32(u.Draw), u.Treated
			p.StartDay[k], p.StartWeek[k], p.Cohort[k] = u.Start, int32(u.Week), u.Cohort
			if len(W) > 0 {
				history(g.Codes[u.Person*g.Weeks:(u.Person+1)*g.Weeks], u.Week, W, hs, s.cnt, s.hist)
			}
			if nx > 0 {
				fillRow(&bs.covs, u, s.x.next())
				if s.x.full() || k == k1-1 {
					if err := bs.flushX(s.x, p, k+1); err != nil {
						return err
					}
				}
			}
			if nd > 0 {
				fillRow(&bs.descs, u, ds[k*nd:(k+1)*nd])
			}
			for o, eo := range bs.outs {
				h1 := eo.pre + eo.h + 1
				fillEvent(eo.o, u.Person, u.Cohort, eo.pre, p.Outcomes[o].Y[k*h1:(k+1)*h1])
			}
		}
		if p.X != nil {
			s.x.finish(p.X, blk)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if nd > 0 && nU > 0 {
		p.Desc = mat.NewDense(nU, nd, ds)
	}
	return p, nil
}

// flushX moves the staged covariate rows of units end−f.nt..end−1 to
// f's columns, and returns the data *Error for the first of them (in
// unit and column order) with a NaN or infinite value.
func (bs *buildState) flushX(f *xFill, p *Panel, end int) error {
	nt := f.nt
	f.flush()
	if !f.bad {
		return nil
	}
	i, j := f.firstBad(nt)
	k := end - nt + i
	v := f.tile[i*f.nx+j]
	return &Error{Table: "persons", Column: bs.covs.names[j], Row: int(p.Person[k]),
		Msg: fmt.Sprintf("covariate is %v for person id %d at start %v (a missing value; X must be finite)", v, p.ID[k], p.StartDay[k])}
}

func fillRow(bc *boundCovs, u *UnitView, row []float64) {
	for f, fill := range bc.fills {
		end := len(row)
		if f+1 < len(bc.offs) {
			end = bc.offs[f+1]
		}
		fill(u, row[bc.offs[f]:end])
	}
}

// runBlocks runs work(worker, block) for blocks 0..nb-1 on up to workers
// goroutines. It returns ctx.Err() when cancelled, else the error of the
// lowest-numbered failing block (blocks after a failed one are skipped),
// so the error does not depend on scheduling.
func runBlocks(ctx context.Context, workers, nb int, done func(), work func(w, blk int) error) error {
	if nb == 0 {
		return nil
	}
	var ids atomic.Int32 // worker numbers 0, 1, ...
	err := pool.Run(ctx, workers, nb, func() int { return int(ids.Add(1) - 1) }, work,
		func(int, int) { done() })
	if ctx.Err() != nil {
		return fmt.Errorf("panel: build cancelled: %w", err)
	}
	return err
}

// progress serializes calls of the user's progress callback.
type progress struct {
	mu sync.Mutex
	f  func(stage string, done, total int)
}

func newProgress(f func(string, int, int)) *progress { return &progress{f: f} }

func (p *progress) report(stage string, done, total int) {
	if p.f == nil {
		return
	}
	p.mu.Lock()
	p.f(stage, done, total)
	p.mu.Unlock()
}

// stage returns a function to call after each finished block.
func (p *progress) stage(name string, total int) func() {
	if p.f == nil {
		return func() {}
	}
	n := 0
	p.report(name, 0, total)
	return func() {
		p.mu.Lock()
		n++
		p.f(name, n, total)
		p.mu.Unlock()
	}
}
