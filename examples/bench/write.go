package main

import (
	"context"
	"math"
	"strconv"

	"github.com/psmeval/psmeval/estimate"
	"github.com/psmeval/psmeval/internal/flatfile"
	"github.com/psmeval/psmeval/panel"
	"github.com/psmeval/psmeval/psm"

	"gonum.org/v1/gonum/mat"
)

// flatColumns returns the column names of the flat matched-analysis file:
// id, treatment, the logit's covariates, then for each outcome its event
// months 0..H as <outcome>_m0, <outcome>_m1, ...
func (p *pipeline) flatColumns() []string {
	names := []string{"id", "treatment"}
	names = append(names, p.xNames...)
	for _, o := range p.sample.Outcomes {
		for m := 0; m <= o.H; m++ {
			names = append(names, o.Name+"_m"+strconv.Itoa(m))
		}
	}
	return names
}

// writeFlat writes the flat matched-analysis file, one row per unit in
// panel order (treated first): the person id, treatment 0/1, the
// covariates the logit used (the design's K less any dropped for
// separation), and the outcomes in event months 0..H (H = min(-horizon,
// the outcome's common horizon)). CSV, gzip-compressed CSV or Parquet by
// the extension (flatfile.Create); it streams, holding one row (64Ki rows
// for Parquet) and 256 rows of covariates.
func (p *pipeline) writeFlat(ctx context.Context, path string) error {
	names := p.flatColumns()
	w, err := flatfile.Create(path, names)
	if err != nil {
		return err
	}
	row := make([]float64, len(names))
	pan, s := p.panel, p.sample
	k := len(p.xNames)
	// the covariates are read flatBlock rows at a time through Rows when
	// p.x has it (a panel.CovStore or a selection of its columns)
	rb, _ := p.x.(psm.RowBlocker)
	var xb []float64
	if rb != nil {
		xb = make([]float64, flatBlock*k)
	}
	for u := 0; u < pan.Len(); u++ {
		if u%65536 == 0 && ctx.Err() != nil {
			w.Abort() // no truncated file
			return ctx.Err()
		}
		row[0] = float64(pan.ID[u])
		row[1] = 0
		if pan.Treated[u] {
			row[1] = 1
		}
		if rb != nil {
			if u%flatBlock == 0 {
				rb.Rows(xb, u, min(u+flatBlock, pan.Len()))
			}
			copy(row[2:2+k], xb[u%flatBlock*k:])
		} else {
			mat.Row(row[2:2+k], u, p.x)
		}
		j := 2 + k
		for i := range s.Outcomes {
			j += outcomeRow(row[j:], &s.Outcomes[i], u)
		}
		if err := w.Write(row); err != nil {
			w.Abort()
			return err
		}
	}
	return w.Close()
}

// flatBlock is the number of rows of covariates writeFlat reads at a
// time.
const flatBlock = 256

// outcomeRow copies unit u's months 0..H of o into dst and returns H+1.
// It reads either form of estimate.EventOutcome: Y (float64) or Binary (bytes,
// panel.Missing read as NaN).
func outcomeRow(dst []float64, o *estimate.EventOutcome, u int) int {
	stride := o.Stride
	if stride == 0 {
		stride = o.H + 1
	}
	lo := u * stride
	if o.Binary == nil {
		return copy(dst, o.Y[lo:lo+o.H+1])
	}
	for m, v := range o.Binary[lo : lo+o.H+1] {
		if v == panel.Missing {
			dst[m] = math.NaN()
		} else {
			dst[m] = float64(v)
		}
	}
	return o.H + 1
}
