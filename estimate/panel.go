package estimate

import (
	"slices"

	"github.com/psmeval/psmeval/panel"
)

// FromPanel returns the Sample of a panel: its units, their person ids
// (the resampling unit), every outcome from month −Pre
// (panel.Design.PreMonths) up to its common horizon HCommon (the months
// observed for every unit; the matrix is shared, not copied), and one subgroup attribute per name in subgroups, looked up
// among the panel's descriptor columns, then its covariates (levels: the
// distinct values, see SubgroupsOf).
func FromPanel(p *panel.Panel, subgroups ...string) (*Sample, error) {
	s := &Sample{Treated: p.Treated, Person: p.ID}
	for _, o := range p.Outcomes {
		s.Outcomes = append(s.Outcomes, EventOutcome{Name: o.Name, H: o.HCommon, Pre: o.Pre, Stride: o.Pre + o.H + 1, Binary: o.Y})
	}
	// descriptors first, as the documentation says
	var descs, covs []string
	for _, name := range subgroups {
		switch {
		case slices.Contains(p.DescNames, name):
			descs = append(descs, name)
		case slices.Contains(p.CovNames, name):
			covs = append(covs, name)
		default:
			return nil, invalid("subgroups", "subgroup column %q is neither a descriptor nor a covariate of the panel", name)
		}
	}
	dv, err := descCols(p, descs)
	if err != nil {
		return nil, err
	}
	cv, err := p.Cols(covs...)
	if err != nil {
		return nil, err
	}
	for _, name := range subgroups {
		var v []float64
		if k := slices.Index(descs, name); k >= 0 {
			v = dv[k]
		} else {
			v = cv[slices.Index(covs, name)]
		}
		s.Subgroups = append(s.Subgroups, SubgroupsOf(name, v))
	}
	return s, s.validate()
}

// descCols returns the named descriptor columns in one pass (a name that
// is also a covariate is taken from Desc, unlike Panel.Cols).
func descCols(p *panel.Panel, names []string) ([][]float64, error) {
	sub := &panel.Panel{DescNames: p.DescNames, Desc: p.Desc}
	return sub.Cols(names...)
}
