package psmbeam

import (
	"fmt"
	"sort"
	"sync"

	"github.com/psmeval/psmeval/panel"
)

// A DesignFunc makes the panel.Design of one person shard's register.
// It is called on the workers, once per shard in pass 1, and must give
// the same design for every shard: the same covariates (in order, with
// the same columns: name levels, as panel.LevelIn does, rather than
// relying on the levels a shard happens to hold, as panel.Dummies does),
// the same outcomes, eligibility rules, window and Seed. The pipeline
// checks the covariate and outcome names of every shard. Design.Starts is
// set by the pipeline (pass 0); Workers and Progress are the design's.
type DesignFunc func(r *panel.Register) (*panel.Design, error)

// A StrataFunc gives every unit of a shard's panel its stratum for exact
// matching (psm.UnitOptions.Strata), one code per unit in panel order.
// Like a DesignFunc it runs on the workers and must be the same function
// of a unit on every shard.
type StrataFunc func(p *panel.Panel) ([]int32, error)

// The registries of named designs and strata. Code that runs on Beam
// workers is named, not passed as a value: a worker is the same binary
// started anew (on Flink, Spark or Dataflow, on another machine), so the
// functions must be registered in an init function or at the top of main
// before beam.Init, where the worker finds them under the same name.
var registry = struct {
	sync.Mutex
	designs map[string]DesignFunc
	strata  map[string]StrataFunc
}{
	designs: map[string]DesignFunc{},
	strata:  map[string]StrataFunc{"cohort": CohortStrata},
}

// RegisterDesign registers f under name for Options.Design. Call it from
// an init function (or before beam.Init in main) so that the workers of
// a distributed runner, which run the same binary, find it too. It panics
// when name is empty or already registered, or f is nil (programmer
// mistakes).
func RegisterDesign(name string, f DesignFunc) {
	registry.Lock()
	defer registry.Unlock()
	if name == "" || f == nil || registry.designs[name] != nil {
		panic(fmt.Sprintf("psmbeam.RegisterDesign(%q): empty name, nil function or registered twice", name))
	}
	registry.designs[name] = f
}

// RegisterStrata registers f under name for Options.Strata, as
// RegisterDesign. "cohort" (CohortStrata) is registered by this package.
func RegisterStrata(name string, f StrataFunc) {
	registry.Lock()
	defer registry.Unlock()
	if name == "" || f == nil || registry.strata[name] != nil {
		panic(fmt.Sprintf("psmbeam.RegisterStrata(%q): empty name, nil function or registered twice", name))
	}
	registry.strata[name] = f
}

// CohortStrata is the strata "cohort": every unit's start month
// (panel.Panel.Cohort), so that treated units are matched only to
// controls with a simulated start in the same month.
func CohortStrata(p *panel.Panel) ([]int32, error) {
	s := make([]int32, p.Len())
	for u, c := range p.Cohort {
		s[u] = int32(c)
	}
	return s, nil
}

// lookupDesign returns the design registered under name.
func lookupDesign(name string) (DesignFunc, error) {
	registry.Lock()
	defer registry.Unlock()
	if f := registry.designs[name]; f != nil {
		return f, nil
	}
	return nil, fmt.Errorf("Options.Design %q: no design registered under that name (RegisterDesign; registered: %v)", name, keys(registry.designs))
}

// lookupStrata returns the strata registered under name.
func lookupStrata(name string) (StrataFunc, error) {
	registry.Lock()
	defer registry.Unlock()
	if f := registry.strata[name]; f != nil {
		return f, nil
	}
	return nil, fmt.Errorf("Options.Strata %q: no strata registered under that name (RegisterStrata; registered: %v)", name, keys(registry.strata))
}

func keys[V any](m map[string]V) []string {
	k := make([]string, 0, len(m))
	for n := range m {
		k = append(k, n)
	}
	sort.Strings(k)
	return k
}
