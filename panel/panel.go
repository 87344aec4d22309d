package panel

import (
	"fmt"
	"slices"

	"gonum.org/v1/gonum/mat"
)

// Panel is the event-time panel built by Build: one row ("unit") per
// treated person and per (potential control person, draw), with the start
// (actual for the treated, simulated for controls), the covariate matrix
// X measured at the start, descriptive variables, and per outcome the
// indicator in event months 0..H.
//
// Units are in a canonical order that does not depend on the input row
// order or on the number of workers: the treated first, then the
// controls, each group sorted by (person id, draw).
//
// Only eligible units are kept (see Design.Eligibility); Counts says how
// many were dropped at each step.
type Panel struct {
	// Person is the unit's person index into the Register (Register.IDs).
	Person []int32
	// ID is the unit's person id (Register.IDs[Person[u]]).
	ID []int64
	// Draw is 0 for treated units and 0..DrawsPerControl-1 for controls.
	// With several draws per control the person, not the unit, is the
	// resampling unit of a bootstrap: group rows by ID.
	Draw []int32
	// Treated reports whether the unit is treated.
	Treated []bool
	// StartDay is the start day: the first day of the person's first new
	// merged spell in the window (treated), or the start day drawn from the
	// treated start days (controls; those of Design.Starts when set).
	StartDay []Day
	// StartWeek is the index of the status-grid week containing StartDay.
	StartWeek []int32
	// Cohort is the calendar month of StartDay: event month 0.
	Cohort []Month

	// CovNames names the columns of X.
	CovNames []string
	// X holds the covariates, units × len(CovNames), each chunk of 4096
	// units and column in the narrowest exact type (see CovStore: 1 byte
	// per value for 0/1 dummies and counts up to 255); nil when there are
	// no covariates or no units (a shard built with Design.Starts may
	// have none). All values are finite. It is a mat.Matrix;
	// psm.FitLogit reads it block by block without a float64 copy.
	X *CovStore
	// DescNames names the columns of Desc.
	DescNames []string
	// Desc holds descriptive per-unit variables that are not in X (for
	// balance tables and subgroups), units × len(DescNames), nil when there
	// are none or no units. NaN marks a missing value. It stays float64:
	// descriptors are few, mostly fractions or missing, and read as
	// whole columns.
	Desc *mat.Dense

	// Outcomes holds one event-time matrix per outcome, in the order of
	// Design.Outcomes (register order when that is nil).
	Outcomes []EventOutcome

	// Counts records the sizes at every step of the build.
	Counts Counts
	// Notes are remarks on how the design met the register, such as a
	// status level named by a rule or covariate that the register lacks
	// (it matches no week). Nil when there are none.
	Notes []string
}

// Missing marks an event month after an outcome's data cut-off in
// EventOutcome.Y (At returns NaN for it).
const Missing uint8 = 255

// EventOutcome is one outcome in event time: Y[u*(Pre+H+1)+Pre+m] is unit
// u's indicator (0 or 1) in calendar month Cohort[u]+m, m = −Pre..H, and
// Missing when that month is after the outcome's data cut-off (months
// before the start are always observed: Build checks it). With Pre = 0
// (the default) this is Y[u*(H+1)+m], m = 0..H. Register outcomes
// are monthly indicators, so one byte per unit-month holds them: at the
// SFI size (3.3 million units, 4 outcomes × 22 months) that is 290 MB
// where float64 would take 2.3 GB.
type EventOutcome struct {
	Name string
	// H is the last event month in Y (see Design.FullHorizon).
	H int
	// Pre is the number of event months before the start in Y
	// (Design.PreMonths): the first month is −Pre.
	Pre int
	// HCommon is the last event month observed for every unit:
	// LastMonth − month of Design.WindowEnd. It equals H unless
	// Design.FullHorizon is set; Y has no NaN in months 0..HCommon.
	HCommon int
	// LastMonth is the outcome's data cut-off (Outcome.LastMonth).
	LastMonth Month
	// Y is units × (Pre+H+1), row-major: 0, 1 or Missing.
	Y []uint8
}

// At returns unit u's value at event month m (−Pre <= m <= H): 0, 1, or
// NaN when missing.
func (e *EventOutcome) At(u, m int) float64 {
	v := e.Y[u*(e.Pre+e.H+1)+e.Pre+m]
	if v == Missing {
		return nanValue
	}
	return float64(v)
}

// Row returns unit u's event-time row, months −Pre..H (a view; Missing
// marks months after the cut-off).
func (e *EventOutcome) Row(u int) []uint8 {
	w := e.Pre + e.H + 1
	return e.Y[u*w : (u+1)*w]
}

// Counts records the sizes at every step of Build, for reporting the
// sample flow. Every field is additive over person shards: the Counts of
// the shards of a sharded run (Design.Starts) add up, field by field and
// Dropped rule by rule, to the Counts of Build on the whole register.
type Counts struct {
	// Persons is the number of persons in the register.
	Persons int
	// Spells is the number of input spells; MergedSpells the number after
	// merging sub-spells (Design.MergeGapDays).
	Spells, MergedSpells int
	// Starters is the number of persons whose merged spell starts in the
	// window (treated before eligibility).
	Starters int
	// PotentialControls is the number of persons without a merged-spell
	// start in the window; Draws = PotentialControls × DrawsPerControl.
	PotentialControls, Draws int
	// Treated is the number of eligible treated units.
	Treated int
	// Controls is the number of eligible control rows, ControlPersons the
	// number of distinct persons among them.
	Controls, ControlPersons int
	// Dropped lists, for each eligibility rule in Design order, how many
	// treated units and control rows it dropped. Rules are applied in
	// order and a unit is counted under the first rule it fails, so
	// Starters − Σ Dropped.Treated = Treated and
	// Draws − Σ Dropped.Controls = Controls.
	Dropped []RuleCount
}

// RuleCount is the number of units an eligibility rule dropped.
type RuleCount struct {
	Rule     string
	Treated  int
	Controls int
}

// Len returns the number of units.
func (p *Panel) Len() int { return len(p.Person) }

// TreatedIndicator returns 1 for each treated unit and 0 for each
// control: the response of the propensity model (psm.FitLogit's y).
func (p *Panel) TreatedIndicator() []float64 {
	y := make([]float64, len(p.Treated))
	for u, t := range p.Treated {
		if t {
			y[u] = 1
		}
	}
	return y
}

// NTreated returns the number of treated units (they come first).
func (p *Panel) NTreated() int { return p.Counts.Treated }

// Outcome returns the event-time outcome with the given name, or nil.
func (p *Panel) Outcome(name string) *EventOutcome {
	for i := range p.Outcomes {
		if p.Outcomes[i].Name == name {
			return &p.Outcomes[i]
		}
	}
	return nil
}

// Col returns a copy of covariate column name, or nil when there is none.
func (p *Panel) Col(name string) []float64 {
	return colOf(p.X, p.CovNames, name)
}

// DescCol returns a copy of descriptor column name, or nil.
func (p *Panel) DescCol(name string) []float64 {
	return colOf(p.Desc, p.DescNames, name)
}

// Cols returns copies of the named columns, each a covariate (X) or a
// descriptor (Desc) column, or an error naming the first name that is
// neither. It reads each matrix once, row by row, so extracting k
// columns costs one pass over the rows instead of k strided passes.
func (p *Panel) Cols(names ...string) ([][]float64, error) {
	out := make([][]float64, len(names))
	var xj, xk, dj, dk []int // source column and output index, per matrix
	for k, name := range names {
		var rows int
		if j := slices.Index(p.CovNames, name); j >= 0 {
			xj, xk = append(xj, j), append(xk, k)
			rows, _ = p.X.Dims()
		} else if j := slices.Index(p.DescNames, name); j >= 0 {
			dj, dk = append(dj, j), append(dk, k)
			rows, _ = p.Desc.Dims()
		} else {
			return nil, fmt.Errorf("panel: column %q is neither a covariate nor a descriptor of the panel", name)
		}
		out[k] = make([]float64, rows)
	}
	gather(out, p.X, xj, xk)
	gather(out, p.Desc, dj, dk)
	return out, nil
}

// gather copies column js[t] of m to out[ks[t]] in one pass over the
// rows (a *mat.Dense, or column by column from a CovStore).
func gather(out [][]float64, m mat.Matrix, js, ks []int) {
	if len(js) == 0 {
		return
	}
	if s, ok := m.(*CovStore); ok {
		for t, j := range js {
			s.Col(out[ks[t]], j)
		}
		return
	}
	raw := m.(*mat.Dense).RawMatrix()
	for i := 0; i < raw.Rows; i++ {
		row := raw.Data[i*raw.Stride : i*raw.Stride+raw.Cols]
		for t, j := range js {
			out[ks[t]][i] = row[j]
		}
	}
}

func colOf(m mat.Matrix, names []string, name string) []float64 {
	if j := slices.Index(names, name); j >= 0 {
		r, _ := m.Dims()
		out := make([]float64, r)
		gather([][]float64{out}, m, []int{j}, []int{0})
		return out
	}
	return nil
}
