package badinput

import (
	"path/filepath"
	"testing"
)

// catalogue maps every item of the list of bad inputs to the test
// cases that check it, across the public API (panel, psm, estimate) and
// the example programs (examples/psmatch, examples/sfi). Each case
// asserts the specific error: the sentinel (errors.Is), the typed error
// and its column/row/option (errors.As), and a piece of the message.
// Where an input is accepted by design the case says what the API does
// with it (policy cases are marked "accepted:" below).
var catalogue = []Ref{
	// missing columns
	{"missing columns", "panel/registerio", "TestReadErrors", []string{"persons missing id column", "status missing id", "long status missing code", "spell missing start column", "long outcomes without outcome columns"}},
	{"missing columns", "panel", "TestBadInputFilesToPanel", []string{"missing covariate column", "missing outcome column", "missing birth column for an age rule", "binary garbage instead of CSV"}},
	{"missing columns", "examples/psmatch", "TestBadInputPsmatch", []string{"missing covariate column", "missing outcome column"}},
	{"missing columns", "examples/sfi", "TestBadInputSFI", []string{"-data without the SFI columns"}},

	// wrong column types
	{"wrong column types", "panel/registerio", "TestReadRecordsTypeErrors", []string{"float id", "bool id", "huge uint id"}},
	{"wrong column types", "panel/registerio", "TestReadErrors", []string{"text in id", "fraction in id", "spell text hours", "unparseable birth", "outcome value 2"}},
	{"wrong column types", "panel", "TestBadInputWrongArrowTypes", []string{"float week", "string outcome", "float outcome 0.5", "date hours", "integer birth"}},
	{"wrong column types", "panel", "TestBadInputFilesToPanel", []string{"text in a numeric covariate", "categorical used as numeric", "outcome 0.5"}},
	{"wrong column types", "panel", "TestBuildErrors", []string{"numeric of a categorical", "dummies of a numeric"}},
	{"wrong column types", "examples/psmatch", "TestBadInputPsmatch", []string{"text in a covariate", "treatment 2"}},

	// NaN/Inf/NULL in covariates. Policy: missing is allowed in the
	// register, but a covariate that is NaN for a panel unit is an
	// error naming the person; infinite values are always errors.
	{"NaN/Inf/NULL in covariates", "panel", "TestBadInputFilesToPanel", []string{"Inf in a numeric covariate", "-inf in a numeric covariate", "out-of-range number in a numeric covariate", "NULL in a covariate of a panel unit", "NaN text in a covariate of a panel unit"}},
	{"NaN/Inf/NULL in covariates", "panel", "TestBadInputWrongArrowTypes", []string{"Inf in a float attribute"}},
	{"NaN/Inf/NULL in covariates", "panel", "TestBuildErrors", []string{"missing category in X", "missing numeric in X", "infinite user covariate"}},
	{"NaN/Inf/NULL in covariates", "panel/registerio", "TestReadErrors", []string{"NULL id", "NULL birth"}},
	{"NaN/Inf/NULL in covariates", "psm", "TestFitLogitInputErrors", []string{"NaN covariate", "Inf covariate", "NaN treatment", "bad value in a zero-weight row"}},
	{"NaN/Inf/NULL in covariates", "psm", "TestBadInputPSM", []string{"Balance Inf control value", "Match -Inf treated score", "NewIndex NaN score", "Index.Match NaN treated score"}},
	{"NaN/Inf/NULL in covariates", "psm", "TestBadInputPSM", []string{"BiasAdjustedATT NaN treated covariate", "BiasAdjustedATT Inf control covariate"}},
	{"NaN/Inf/NULL in covariates", "estimate", "TestBadInputEstimate", []string{"BiasAdjusted NaN covariate of a matched control"}},
	{"NaN/Inf/NULL in covariates", "examples/psmatch", "TestBadInputPsmatch", []string{"NULL in a covariate", "NaN in a covariate", "Inf in a covariate", "out-of-range number in a covariate"}},

	// NaN/Inf/NULL in outcomes. Policy: NULL inside an outcome's observed
	// months is a read error; after the cut-off the event matrix holds
	// NaN (Missing), allowed beyond the estimated horizon (HCommon),
	// an *estimate.Error wrapping ErrNaNOutcome inside it; Inf is an
	// error too.
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "panel/registerio", "TestReadErrors", []string{"outcome NULL inside observed months", "outcome all NULL", "wide outcome NULL"}},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "panel", "TestBadInputFilesToPanel", []string{"outcome NaN inside the observed months"}},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "panel", "TestBadInputWrongArrowTypes", []string{"Inf outcome"}},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "panel", "TestFullHorizon", nil},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "estimate", "TestBadInputHorizonPolicy", nil},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "estimate", "TestBadInputEstimate", []string{"NaN outcome of a treated unit", "Inf outcome of a matched control", "NaN outcome of a matched control in the bootstrap", "NaN outcome in Otsu-Rai"}},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "estimate", "TestEffectsNaNOutcome", nil},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "psm", "TestATTErrors", nil},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "psm", "TestBadInputPSM", []string{"ATT Inf treated outcome"}},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "psm", "TestBadInputPSM", []string{"BiasAdjustedATT NaN control outcome"}},
	{"NaN/Inf/NULL in outcomes (policy beyond the cut-off)", "examples/psmatch", "TestBadInputPsmatch", []string{"NA in an outcome", "Inf in the outcome of a treated unit"}},

	// NaN/Inf/NULL in weights
	{"NaN/Inf/NULL in weights", "psm", "TestFitLogitInputErrors", []string{"Inf weight"}},
	{"NaN/Inf/NULL in weights", "psm", "TestBadInputPSM", []string{"FitLogit NaN weight", "Match NaN control weight", "Match Inf treated weight", "Match treated weights all zero"}},
	{"NaN/Inf/NULL in weights", "estimate", "TestBadInputEstimate", []string{"Matches NaN set weight"}},
	{"NaN/Inf/NULL in weights", "examples/psmatch", "TestBadInputPsmatch", []string{"NULL weight"}},
	{"NaN/Inf/NULL in weights", "panel", "TestBadInputWrongArrowTypes", []string{"NaN hours read as unknown, Inf refused"}},

	// negative or non-integer frequency weights. Policy: non-integer
	// weights are accepted by FitLogit (as glm's prior weights) and by
	// Match with replacement (fractional copies), refused without
	// replacement.
	{"negative or non-integer frequency weights", "psm", "TestFitLogitInputErrors", []string{"negative weight"}},
	{"negative or non-integer frequency weights", "psm", "TestMatchErrors", []string{"negative weight", "all control weights 0", "all treated weights 0"}},
	{"negative or non-integer frequency weights", "psm", "TestBadInputPSM", []string{"Match fractional weight without replacement", "FitLogit all weights zero"}},
	{"negative or non-integer frequency weights", "psm", "TestBadInputAcceptedPSM", []string{"non-integer frequency weights are accepted in FitLogit", "non-integer weights are fractional copies in Match with replacement"}},
	{"negative or non-integer frequency weights", "examples/psmatch", "TestBadInputPsmatch", []string{"negative weight", "non-integer weight without replacement"}},
	{"negative or non-integer frequency weights", "examples/psmatch", "TestBadInputPsmatchAccepted", nil},
	{"negative or non-integer frequency weights", "panel/registerio", "TestReadErrors", []string{"spell negative hours"}},

	// duplicate person ids
	{"duplicate person ids", "panel/registerio", "TestReadErrors", []string{"duplicate person ids", "duplicate person-week", "wide duplicate person", "outcome duplicate person-month"}},
	{"duplicate person ids", "panel", "TestBuildErrors", []string{"duplicate id"}},
	{"duplicate person ids", "panel", "TestBadInputFilesToPanel", []string{"duplicate person id"}},
	{"duplicate person ids", "examples/sfi", "TestBadInputSFI", []string{"-data with a duplicate person id"}},

	// spells
	{"spells ending before they start", "panel/registerio", "TestReadErrors", []string{"spell ends before it starts"}},
	{"spells ending before they start", "panel", "TestBuildErrors", []string{"invalid register"}},
	{"spells ending before they start", "panel", "TestBadInputFilesToPanel", []string{"spell ending before it starts"}},
	{"spells ending before they start", "examples/sfi", "TestBadInputSFI", []string{"-data with a spell ending before it starts"}},
	{"spells outside the week grid", "panel/registerio", "TestReadErrors", []string{"spell outside the grid (Validate)", "week outside fixed grid", "week not on the grid"}},
	{"spells outside the week grid", "panel", "TestBadInputFilesToPanel", []string{"spell starting before the week grid", "spell starting after the week grid"}},

	// start dates outside the data, empty window, no controls, all treated
	{"start dates outside the data", "panel", "TestBuildErrors", []string{"window before grid", "window after grid", "window end before start", "outcome starting after the window", "week window before the grid", "months before the data"}},
	{"an empty treatment window", "panel", "TestBuildErrors", []string{"empty window", "no eligible starter"}},
	{"an empty treatment window", "panel", "TestBadInputFilesToPanel", []string{"no spells at all"}},
	{"an empty treatment window", "panel", "TestStartsErrors", []string{"zero Starts", "empty Starts"}},
	{"start dates outside the data", "panel", "TestStartsErrors", []string{"Starts outside the window", "Starts of another calendar"}},
	{"no eligible controls", "panel", "TestBuildErrors", []string{"no eligible control"}},
	{"no eligible controls", "psm", "TestMatchErrors", []string{"no controls", "no stratum with controls"}},
	{"no eligible controls", "psm", "TestBadInputPSM", []string{"NewIndex no controls"}},
	{"no eligible controls", "psm", "TestBadInputPSM", []string{"BiasAdjustedATT no controls"}},
	{"all units treated", "panel", "TestBadInputFilesToPanel", []string{"all units treated"}},
	{"all units treated", "psm", "TestBadInputPSM", []string{"FitLogit all units treated"}},
	{"all units treated", "psm", "TestFitLogitNoVariation", nil},
	{"all units treated", "estimate", "TestBadInputEstimate", []string{"all units treated", "no treated units"}},
	{"all units treated", "examples/psmatch", "TestBadInputPsmatch", []string{"all units treated"}},

	// the propensity model
	{"a single covariate value", "psm", "TestBadInputAcceptedPSM", []string{"single covariate value is aliased, not an error"}},
	{"a single covariate value", "psm", "TestFitLogitAliasedAndConstant", nil},
	{"a single covariate value", "examples/psmatch", "TestBadInputPsmatchAccepted", nil},
	{"perfect separation", "psm", "TestFitLogitSeparation", []string{"complete single", "quasi single", "complete joint", "quasi joint"}},
	{"perfect separation", "examples/psmatch", "TestBadInputPsmatch", []string{"perfect separation"}},
	{"collinear dummies", "psm", "TestBadInputAcceptedPSM", []string{"collinear dummies: the last is aliased"}},
	{"collinear dummies", "psm", "TestFitLogitAliasedAndConstant", nil},
	// accepted: the bias adjustment's regression gets R Match's ridge
	{"collinear dummies", "psm", "TestBiasAdjustedATTSingular", nil},
	{"collinear dummies", "psm", "TestBiasAdjustedATTConstantColumn", nil},
	{"collinear dummies", "psm", "TestBiasAdjustedATTAgainstRMatching", nil},
	{"collinear dummies", "examples/psmatch", "TestBadInputPsmatchAccepted", nil},

	// matching
	{"no common support", "psm", "TestMatchErrors", []string{"no common support"}},
	{"a caliper that leaves no match", "psm", "TestMatchErrors", []string{"caliper leaves no match"}},
	{"a caliper that leaves no match", "psm", "TestMatchCaliper", nil},
	{"a caliper that leaves no match", "estimate", "TestBadInputEstimate", []string{"caliper that leaves no match", "Otsu-Rai caliper that leaves no match"}},
	{"a caliper that leaves no match", "examples/psmatch", "TestBadInputPsmatch", []string{"caliper that leaves no match"}},
	{"k larger than the number of controls", "psm", "TestMatchErrors", []string{"K > controls", "negative K"}},
	{"k larger than the number of controls", "psm", "TestBadInputPSM", []string{"Match K above the weighted number of controls", "Match K above controls without replacement", "Index.Match K above controls"}},
	{"k larger than the number of controls", "estimate", "TestBadInputEstimate", []string{"K larger than the number of controls", "MatchUnits K larger than the number of controls"}},
	{"k larger than the number of controls", "examples/psmatch", "TestBadInputPsmatch", []string{"k larger than the number of controls"}},

	// horizon
	{"a horizon beyond the data", "panel", "TestBuildErrors", []string{"horizon beyond the data"}},
	{"a horizon beyond the data", "panel", "TestHorizon", nil},
	{"a horizon beyond the data", "estimate", "TestBadInputEstimate", []string{"horizon beyond the outcome matrix"}},
	{"a horizon beyond the data", "estimate", "TestBadInputHorizonPolicy", nil},

	// corrupt or truncated files
	{"corrupt or truncated Parquet", "panel/registerio", "TestReadCorruptParquet", []string{"truncated half", "truncated end", "magic only", "not parquet", "zeroed data"}},
	{"corrupt or truncated Parquet", "panel/registerio", "FuzzReadParquet", nil},
	{"corrupt or truncated Parquet", "examples/psmatch", "TestBadInputPsmatchFiles", []string{"truncated Parquet", "Parquet without footer", "Parquet magic only", "damaged Parquet footer", "CSV bytes named Parquet"}},
	{"corrupt or truncated Parquet", "examples/sfi", "TestBadInputSFI", []string{"-data with a truncated Parquet file"}},
	{"corrupt or truncated CSV", "panel/registerio", "TestReadErrors", []string{"row with too many fields", "row with too few fields", "bare quote", "unterminated quote", "truncated gzip", "not gzip after magic", "empty persons file"}},
	{"corrupt or truncated CSV", "panel", "TestBadInputFilesToPanel", []string{"CSV truncated inside a row", "CSV with a NUL byte", "binary garbage instead of CSV"}},
	{"corrupt or truncated CSV", "panel/registerio", "FuzzReadCSV", nil},
	{"corrupt or truncated CSV", "examples/psmatch", "TestBadInputPsmatch", []string{"CSV truncated inside a row", "CSV with a bare quote", "empty file", "header only"}},
	{"corrupt or truncated CSV", "examples/psmatch", "TestBadInputPsmatchFiles", []string{"truncated gzip", "not gzip"}},

	// BOM, CRLF, quoted newlines: accepted, read correctly
	{"a file with a BOM, CRLF line ends or quoted newlines", "panel/registerio", "TestCSVTextVariants", []string{"bom", "crlf", "bom+crlf+gzip", "quoted"}},
	{"a file with a BOM, CRLF line ends or quoted newlines", "panel", "TestBadInputTextVariantsGiveSamePanel", nil},
	{"a file with a BOM, CRLF line ends or quoted newlines", "examples/psmatch", "TestBadInputPsmatchFiles", nil},

	// mismatched lengths of slices passed to the API
	{"mismatched lengths of slices passed to the API", "panel", "TestBadInputRegisterShapes", []string{"short Birth", "short attribute", "status grid too short", "outcome bits too short", "spell of no person"}},
	{"mismatched lengths of slices passed to the API", "psm", "TestFitLogitArgs", []string{"short y", "short w", "names", "start"}},
	{"mismatched lengths of slices passed to the API", "psm", "TestMatchErrors", []string{"weights length", "treated weights length", "strata length"}},
	{"mismatched lengths of slices passed to the API", "psm", "TestBadInputPSM", []string{"FitLogit y shorter than x", "FitLogit w longer than x", "FitLogit too few names", "Match control strata length", "Index.Match weights length", "Balance control rows", "Balance treated rows", "Balance names vs columns", "Balance nil matching", "ATT nil matching"}},
	{"mismatched lengths of slices passed to the API", "psm", "TestATTErrors", nil},
	{"mismatched lengths of slices passed to the API", "psm", "TestBadInputPSM", []string{"BiasAdjustedATT zTreated rows", "BiasAdjustedATT zControl rows", "BiasAdjustedATT Z columns differ", "BiasAdjustedATT nil Z", "BiasAdjustedATT typed nil zControl", "BiasAdjustedATT names", "BiasAdjustedATT yControl length", "BiasAdjustedATT more covariates than treated"}},
	{"mismatched lengths of slices passed to the API", "estimate", "TestBadInputEstimate", []string{"BiasAdjusted nil z", "BiasAdjusted z rows", "BiasAdjusted more covariates than a subgroup's treated"}},
	{"mismatched lengths of slices passed to the API", "estimate", "TestBadInputEstimate", []string{"Person shorter than units", "outcome matrix too short", "subgroup codes too short", "sets.Start too short", "Bootstrap scores shorter than units", "MatchUnits scores longer than units", "re-fitted scores of the wrong length", "strata of the wrong length", "Matching with fewer treated than the sample", "Matching with fewer controls than the sample", "AbadieImbens with another sample's Matching"}},
	{"mismatched lengths of slices passed to the API", "estimate", "TestEffectsBadInput", []string{"short Y", "start"}},
}

func TestCatalogue(t *testing.T) {
	root := filepath.Join("..", "..")
	for _, err := range Check(root, catalogue) {
		t.Error(err)
	}
}

// TestCheckFindsGaps: Check reports a missing case, a missing test, an
// unknown item and an item without a case.
func TestCheckFindsGaps(t *testing.T) {
	root := filepath.Join("..", "..")
	refs := []Ref{
		{Items[0], "internal/badinput", "TestCatalogue", []string{"no such case literal"}},
		{Items[0], "internal/badinput", "TestNoSuchTest", nil},
		{"not an item", "internal/badinput", "TestCatalogue", nil},
	}
	errs := Check(root, refs)
	// 3 refs with problems + every item but the first without a case
	if got, want := len(errs), 3+len(Items)-1; got != want {
		t.Fatalf("Check found %d problems, want %d: %v", got, want, errs)
	}
}
