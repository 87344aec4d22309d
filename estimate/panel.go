package estimate

import (
	"fmt"

	"github.com/psmeval/psmeval/panel"
)

// FromPanel returns the Sample of a panel: its units, their person ids
// (the resampling unit), every outcome up to its common horizon HCommon
// (the months observed for every unit; the matrix is shared, not
// copied), and one subgroup attribute per name in subgroups, looked up
// among the panel's descriptor columns, then its covariates (levels: the
// distinct values, see SubgroupsOf).
func FromPanel(p *panel.Panel, subgroups ...string) (*Sample, error) {
	s := &Sample{Treated: p.Treated, Person: p.ID}
	for _, o := range p.Outcomes {
		s.Outcomes = append(s.Outcomes, Outcome{Name: o.Name, H: o.HCommon, Stride: o.H + 1, Binary: o.Y})
	}
	for _, name := range subgroups {
		v := p.DescCol(name)
		if v == nil {
			v = p.Col(name)
		}
		if v == nil {
			return nil, fmt.Errorf("%w: subgroup column %q is neither a descriptor nor a covariate of the panel", ErrInvalid, name)
		}
		s.Subgroups = append(s.Subgroups, SubgroupsOf(name, v))
	}
	return s, s.validate()
}
