package psmbeam

import (
	"fmt"

	"github.com/psmeval/psmeval/psm"
)

// request is what the driver broadcasts to every shard in one round (the
// file round-IIII.in of the work directory): the kind of partial result
// wanted, the numbering of the units (from pass 2 on) and the kind's
// arguments.
type request struct {
	kind kind
	// treated is the number of treated units of all shards, and
	// firstTreated and firstControl the numbers of every shard's first
	// treated and first control unit (Shard.FirstTreated,
	// Shard.FirstControl). Not set in pass 1.
	treated                    int
	firstTreated, firstControl []int

	// kindLayout: the merged start counts of pass 0 (their encoding).
	starts []byte

	// kindScan and kindPass: whether the scan sets R's starting values
	// (psm.LogitShard.Scan), and for a pass the previous pass's
	// coefficients (nil: none, or the start values), the plan and the
	// coefficients (nil: at the start values).
	start bool
	prev  []float64
	plan  []byte
	beta  []float64

	// kindScores, kindMoments and kindCandidates: the fitted model; the
	// distance scale of the moments; the query's encoding.
	model model
	dist  psm.Distance
	query []byte

	// kindSums: the match sets.
	sets *compactSets
}

// model is the fitted logit that the matching rounds broadcast: the
// shards score their units with it (psm.Logit.Predict).
type model struct {
	intercept bool
	coef      []float64
}

const requestMagic = "psmbeam.request.1"

func (r *request) encode() []byte {
	e := enc{b: []byte(requestMagic)}
	e.u8(uint8(r.kind))
	e.u64(r.treated)
	e.ints(r.firstTreated)
	e.ints(r.firstControl)
	switch r.kind {
	case kindLayout:
		e.bytes(r.starts)
	case kindScan:
		e.bool(r.start)
	case kindPass:
		e.bool(r.start)
		e.optFloats(r.prev)
		e.bytes(r.plan)
		e.optFloats(r.beta)
	case kindScores, kindMoments, kindCandidates:
		e.bool(r.model.intercept)
		e.floats(r.model.coef)
		e.u8(uint8(r.dist))
		e.bytes(r.query)
	case kindSums:
		r.sets.encode(&e)
	}
	return e.b
}

func decodeRequest(b []byte) (*request, error) {
	d := dec{b: b}
	if string(d.take(len(requestMagic))) != requestMagic {
		return nil, fmt.Errorf("not a psmbeam request")
	}
	r := &request{kind: kind(d.u8())}
	if d.err == nil && !r.kind.valid() {
		return nil, fmt.Errorf("request of %v", r.kind)
	}
	r.treated = d.u64()
	r.firstTreated = d.ints()
	r.firstControl = d.ints()
	switch r.kind {
	case kindLayout:
		r.starts = d.bytes()
	case kindScan:
		r.start = d.bool()
	case kindPass:
		r.start = d.bool()
		r.prev = d.optFloats()
		r.plan = d.bytes()
		r.beta = d.optFloats()
	case kindScores, kindMoments, kindCandidates:
		r.model.intercept = d.bool()
		r.model.coef = d.floats()
		r.dist = psm.Distance(d.u8())
		r.query = d.bytes()
	case kindSums:
		r.sets = decodeCompactSets(&d)
	}
	if err := d.end(); err != nil {
		return nil, fmt.Errorf("%v request: %w", r.kind, err)
	}
	return r, nil
}
