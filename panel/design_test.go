package panel

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBuildErrors: bad designs and data give errors that name the option,
// column or row, never a panic.
func TestBuildErrors(t *testing.T) {
	day := func(s string) Day { return mustDay(t, s) }
	cases := []struct {
		name   string
		modify func(r *Register, d *Design)
		is     error  // errors.Is target
		option string // Error.Option prefix, if a design error
		msg    string // substring of the message
	}{
		{"empty window", func(r *Register, d *Design) {
			d.WindowStart, d.WindowEnd = day("2012-04-01"), day("2012-04-30") // F's spell started 03-19
		}, ErrEmptyWindow, "", "no merged spell starts in the window 2012-04-01..2012-04-30"},
		{"no eligible starter", func(r *Register, d *Design) {
			d.Eligibility = append(d.Eligibility, RuleFunc("nobody", func(*UnitView) bool { return false }))
		}, ErrEmptyWindow, "", "all 3 persons starting in the window"},
		{"no eligible control", func(r *Register, d *Design) {
			d.Eligibility = append(d.Eligibility, RuleFunc("treated only", func(u *UnitView) bool { return u.Treated }))
		}, ErrNoControls, "", "none of 42 control draws (7 persons)"},
		{"window end before start", func(r *Register, d *Design) { d.WindowEnd = day("2012-01-31") },
			ErrDesign, "WindowEnd", "before window start"},
		{"window before grid", func(r *Register, d *Design) { d.WindowStart = day("2011-11-01") },
			ErrDesign, "WindowStart", "outside the status grid"},
		{"window after grid", func(r *Register, d *Design) { d.WindowEnd = day("2012-08-01") },
			ErrDesign, "WindowEnd", "outside the status grid"},
		{"negative merge gap", func(r *Register, d *Design) { d.MergeGapDays = -1 }, ErrDesign, "MergeGapDays", "must be >= 0"},
		{"negative draws", func(r *Register, d *Design) { d.DrawsPerControl = -2 }, ErrDesign, "DrawsPerControl", "must be >= 0"},
		{"negative workers", func(r *Register, d *Design) { d.Workers = -1 }, ErrDesign, "Workers", "must be >= 0"},
		{"zero rule", func(r *Register, d *Design) { d.Eligibility = append(d.Eligibility, Rule{}) }, ErrDesign, "Eligibility[4]", "zero Rule"},
		{"zero covariate", func(r *Register, d *Design) { d.Covariates = append(d.Covariates, Covariate{}) }, ErrDesign, "Covariates[8]", "zero Covariate"},
		{"unknown numeric attribute", func(r *Register, d *Design) { d.Covariates[0] = Numeric("wealth") },
			ErrDesign, "Covariates[0] wealth", `unknown attribute "wealth"`},
		{"numeric of a categorical", func(r *Register, d *Design) { d.Covariates[0] = Numeric("edu") },
			ErrDesign, "Covariates[0] edu", "categorical"},
		{"unknown reference level", func(r *Register, d *Design) { d.Covariates[1] = Dummies("edu", "phd") },
			ErrDesign, "Covariates[1] edu", `no reference level "phd"`},
		{"dummies of a numeric", func(r *Register, d *Design) { d.Covariates[1] = Dummies("income", "") },
			ErrDesign, "Covariates[1] income", "numeric"},
		{"week window before the grid", func(r *Register, d *Design) {
			d.Covariates[2] = WeeksIn("w_", []LevelGroup{tinyCash}, 4, 9) // first start week 8
		}, ErrDesign, "Covariates[2]", "window of 9 weeks before the start week 8 (2012-01-30) reaches before the status grid starts (2011-12-05)"},
		{"unknown outcome in MonthsWith", func(r *Register, d *Design) { d.Covariates[3] = MonthsWith("income", 3) },
			ErrDesign, "Covariates[3] MonthsWith(income)", `unknown outcome "income"`},
		{"months before the data", func(r *Register, d *Design) { d.Covariates[3] = MonthsWith("wage", 6) },
			ErrDesign, "Covariates[3]", "the 6 months before the first cohort 2012-02 start at 2011-08"},
		{"nil CovFunc", func(r *Register, d *Design) { d.Covariates[7] = CovFunc("f", nil) }, ErrDesign, "Covariates[7] f", "nil function"},
		{"unknown descriptor attribute", func(r *Register, d *Design) { d.Descriptors[0] = Dummies("band", "") },
			ErrDesign, "Descriptors[0] band", `unknown attribute "band"`},
		{"subgroup code of a numeric", func(r *Register, d *Design) { d.Descriptors[2] = AttrCode("income") },
			ErrDesign, "Descriptors[2] income", "numeric"},
		{"unknown rule attribute", func(r *Register, d *Design) { d.Eligibility[1] = AttrIn("dream", "yes") },
			ErrDesign, "Eligibility[1]", `unknown attribute "dream"`},
		{"age rule without birth", func(r *Register, d *Design) { r.Birth = nil; d.Covariates = d.Covariates[:6] },
			ErrDesign, "Eligibility[0] age 16-64 at 2012-01-01", "needs Register.Birth"},
		{"age covariate without birth", func(r *Register, d *Design) { r.Birth = nil; d.Eligibility = d.Eligibility[1:] },
			ErrDesign, "Covariates[6] age", "needs Register.Birth"},
		{"unknown outcome", func(r *Register, d *Design) { d.Outcomes = []string{"emp", "su"} },
			ErrDesign, "Outcomes", `unknown outcome "su"`},
		{"outcome named twice", func(r *Register, d *Design) { d.Outcomes = []string{"emp", "emp"} },
			ErrDesign, "Outcomes", "named twice"},
		{"horizon beyond the data", func(r *Register, d *Design) {
			// educ observed to 2012-05; a window to 2012-06-30 needs month 0 of June
			r.Outcomes[1] = NewOutcome("educ", r.Len(), mustMonth(t, "2011-09"), 9)
			d.WindowEnd = day("2012-06-30")
		}, ErrHorizon, "Outcomes", `outcome "educ" ends 2012-05, before the last start month 2012-06`},
		{"outcome starting after the window", func(r *Register, d *Design) {
			r.Outcomes[0] = NewOutcome("emp", r.Len(), mustMonth(t, "2012-03"), 4)
		}, ErrHorizon, "Outcomes", `observed from 2012-03, after the first start month 2012-02`},
		{"missing category in X", func(r *Register, d *Design) { d.Covariates[1] = Dummies("edu", "primary") },
			ErrInvalid, "", `persons column "edu=upper" row 0: covariate is NaN for person id 105`},
		{"missing numeric in X", func(r *Register, d *Design) { r.Attrs[0].Values[6] = math.NaN() }, // D
			ErrInvalid, "", `persons column "income" row 6: covariate is NaN for person id 104`},
		{"infinite user covariate", func(r *Register, d *Design) {
			d.Covariates[7] = CovFunc("inv", func(u *UnitView) float64 { return 1 / float64(u.ID-101) })
		}, ErrInvalid, "", `column "inv" row 1: covariate is +Inf for person id 101`},
		{"invalid register", func(r *Register, d *Design) { r.Spells[0].End = r.Spells[0].Start - 1 },
			ErrInvalid, "", "spells column \"end\" row 0"},
		{"duplicate id", func(r *Register, d *Design) { r.IDs[3] = 101 },
			ErrInvalid, "", "duplicate person id 101"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := tinyRegister(t)
			d := tinyDesign(t)
			c.modify(r, d)
			var p *Panel
			var err error
			require.NotPanics(t, func() { p, err = Build(context.Background(), r, d) })
			require.Error(t, err)
			assert.Nil(t, p)
			assert.ErrorIs(t, err, c.is)
			assert.Contains(t, err.Error(), c.msg)
			var de *Error
			if c.option != "" {
				require.True(t, errors.As(err, &de), "%v is not an *Error", err)
				assert.Contains(t, de.Option, c.option)
			}
		})
	}
	_, err := Build(context.Background(), nil, &Design{})
	assert.ErrorIs(t, err, ErrDesign)
	_, err = Build(context.Background(), tinyRegister(t), nil)
	assert.ErrorIs(t, err, ErrDesign)
}

func TestBuildCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Build(ctx, tinyRegister(t), tinyDesign(t))
	require.ErrorIs(t, err, context.Canceled)
}

func TestBuildProgress(t *testing.T) {
	var stages []string
	last := map[string][2]int{}
	d := tinyDesign(t)
	d.Workers = 3
	d.Progress = func(stage string, done, total int) {
		if len(stages) == 0 || stages[len(stages)-1] != stage {
			stages = append(stages, stage)
		}
		prev := last[stage]
		assert.GreaterOrEqual(t, done, prev[0], "progress of %s goes back", stage)
		last[stage] = [2]int{done, total}
	}
	_, err := Build(context.Background(), tinyRegister(t), d)
	require.NoError(t, err)
	assert.Equal(t, []string{"spells", "treated", "controls", "units"}, stages)
	for s, v := range last {
		assert.Equal(t, v[1], v[0], "stage %s not finished", s)
	}
}

// TestCodeScanStart checks the 32- and eight-codes-at-a-time scan used by
// Register.Validate against a byte loop.
func TestCodeScanStart(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	for range 2000 {
		levels := 1 + rng.IntN(140)
		codes := make([]byte, rng.IntN(200))
		for i := range codes {
			codes[i] = byte(rng.IntN(levels))
		}
		if rng.IntN(2) == 0 && len(codes) > 0 {
			codes[rng.IntN(len(codes))] = byte(levels + rng.IntN(256-levels))
		}
		first := len(codes)
		for i, c := range codes {
			if int(c) >= levels {
				first = i
				break
			}
		}
		k := codeScanStart(codes, levels)
		require.LessOrEqual(t, k, first, "levels %d codes %v", levels, codes)
		if levels > 128 {
			require.Zero(t, k)
		} else {
			require.Greater(t, k, first-8, "scan stopped too early")
		}
	}
}

// TestFirstCodeAbove checks the chunked parallel scan of
// Register.Validate against a byte loop on grids of several chunks: the
// first code without a level is found wherever it lies (first and last
// chunk, across a chunk boundary, with a later one in another chunk).
func TestFirstCodeAbove(t *testing.T) {
	n := 3*validateChunk + 17
	codes := make([]byte, n)
	for i := range codes {
		codes[i] = byte(i % 5)
	}
	byteLoop := func(levels int) int {
		for i, c := range codes {
			if int(c) >= levels {
				return i
			}
		}
		return len(codes)
	}
	require.Equal(t, n, firstCodeAbove(codes, 5))
	for _, levels := range []int{5, 200} {
		for _, at := range [][]int{{0}, {n - 1}, {validateChunk - 1}, {validateChunk}, {2*validateChunk + 3, validateChunk + 40}, {n - 20, 7}} {
			for _, k := range at {
				codes[k] = 250
			}
			require.Equal(t, byteLoop(levels), firstCodeAbove(codes, levels), "levels %d bad codes at %v", levels, at)
			for _, k := range at {
				codes[k] = byte(k % 5)
			}
		}
	}
}

// TestAbsentStatusLevels: rules and covariates naming a status level the
// register lacks build, with a note naming the level: the rule "not in it
// at start" drops nobody and covariates over only that level are zero.
func TestAbsentStatusLevels(t *testing.T) {
	cases := []struct {
		name, level string
		modify      func(d *Design)
		check       func(t *testing.T, p *Panel)
	}{
		{"weeks in a group with an absent level", "dole", func(d *Design) {
			d.Covariates[2] = WeeksIn("w_", []LevelGroup{{Name: "x", Levels: []string{"cash", "dole"}}}, 4)
		}, nil},
		{"status at start, absent level", "nope", func(d *Design) {
			d.Covariates[4] = StatusAtStart("s", LevelGroup{Name: "x", Levels: []string{"nope"}})
		}, func(t *testing.T, p *Panel) {
			for j, n := range p.CovNames {
				if strings.HasPrefix(n, "s") && strings.Contains(n, "x") {
					for u := 0; u < p.Len(); u++ {
						require.Zero(t, p.X.At(u, j), "%s unit %d", n, u)
					}
				}
			}
		}},
		{"status group, absent level", "dole", func(d *Design) {
			d.Descriptors[3] = StatusGroupAtStart("b", LevelGroup{Name: "x", Levels: []string{"dole"}})
		}, nil},
		{"rule over an absent level", "efterloen", func(d *Design) { d.Eligibility[2] = StatusNotIn("efterloen") },
			func(t *testing.T, p *Panel) {
				assert.Zero(t, p.Counts.Dropped[2].Treated+p.Counts.Dropped[2].Controls, "the rule holds for everyone")
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, d := tinyRegister(t), tinyDesign(t)
			c.modify(d)
			p, err := Build(context.Background(), r, d)
			require.NoError(t, err)
			require.Len(t, p.Notes, 1)
			assert.Contains(t, p.Notes[0], `status level "`+c.level+`" is not in the register`)
			if c.check != nil {
				c.check(t, p)
			}
		})
	}
}
