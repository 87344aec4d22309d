package synth

// Report figures of docs/method.md §4 (SFI, Evaluering af mentorordningen,
// 2015), in percent unless noted. "Treated" figures are the 2012 starters
// measured at their start; "pop" are all aged 18–64 at the start of 2013;
// "pub" all aged 16–64 on public support (SU excluded) in March 2013.

// Age bands of the report (completed years at the reference date).
var ageBandNames = []string{"16-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49", "50-54", "55-59", "60-64"}
var ageBandLo = []int{16, 20, 25, 30, 35, 40, 45, 50, 55, 60}

func ageBand(age int) int {
	for b := len(ageBandLo) - 1; b >= 0; b-- {
		if age >= ageBandLo[b] {
			return b
		}
	}
	return 0
}

// Attribute levels.
var (
	sexLevels    = []string{"female", "male"}
	originLevels = []string{"danish", "descendant", "western_immigrant", "non_western_immigrant"}
	eduLevels    = []string{"unknown", "primary", "upper_secondary", "vocational", "short_tertiary", "medium_tertiary", "long_tertiary"}
	matchLevels  = []string{"none", "group_1", "group_2", "group_3"}
	cohabLevels  = []string{"single", "married", "cohabiting"}
)

const (
	eduUnknown = iota
	eduPrimary
	eduUpper
	eduVocational
	eduShort
	eduMedium
	eduLong
	nEdu
)

const (
	orDanish = iota
	orDescendant
	orWestern
	orNonWestern
	nOrigin
)

// Treated (2012 starters at start).
var (
	tgtTreatedAge    = []float64{11.9, 22.4, 14.4, 10.1, 10.1, 9.7, 8.8, 6.7, 4.7, 0.9}
	tgtTreatedMenPct = 50.4
	tgtTreatedOrigin = []float64{83.6, 2.7, 1.8, 12.0}
	tgtTreatedEdu    = []float64{10.6, 58.4, 4.9, 19.2, 1.4, 4.5, 0.9}
	tgtTreatedMatch  = []float64{6.1, 31.7, 56.6, 5.6}
	// Benefit at start, in startBenefitNames order.
	tgtTreatedBenefit = []float64{5.6, 2.2, 6.1, 61.0, 4.3, 11.1, 4.3, 4.5, 0.6, 0.3}
	// Activation at start, in startActNames order.
	tgtTreatedAct         = []float64{26.8, 22.3, 8.8, 3.9, 2.5, 4.5, 22.9, 7.9}
	tgtTreatedSupport     = []float64{2.8, 16.8, 17.4, 16.5, 16.6, 20.3, 9.6}
	tgtTreatedSupportMean = 2.8
	tgtTreatedWage        = []float64{27.9, 29.5, 18.7, 13.4, 7.9, 2.6}
	tgtTreatedWageMean    = 13.7
	// The report's wage income in the start month (16 %), the generator's
	// target for wage income in the month before the start month (the
	// start month carries the programme's effect; see the selection
	// features).
	tgtTreatedWagePrev  = 16.0
	tgtTreatedAgeMean   = 32.9
	tgtTreatedAgeMedian = 30.0
)

// Population ("pop" and "pub").
var (
	tgtPopMenPct          = 50.4
	tgtPopOrigin          = []float64{87.4, 1.5, 4.1, 6.9}
	tgtPopEdu             = []float64{8.1, 25.7, 9.1, 30.3, 4.4, 14.8, 7.7}
	tgtPopSupportNone     = 42.9
	tgtPopSupportMean     = 1.0
	tgtPopWageMean        = 32.9
	tgtPopWageAll         = 39.3
	tgtPubMenPct          = 44.1
	tgtPubAgeMean         = 45.7
	tgtPubMatch           = []float64{40.4, 39.4, 12.2, 8.1}
	popAgeWeights2012     = []float64{285, 345, 318, 329, 382, 413, 409, 370, 346, 365} // thousands, Statistics Denmark 2012 (rounded)
	startBenefitNames     = []string{SelfSupporting, SU, UnemploymentInsurance, CashBenefit, Rehabilitation, Sickness, FlexJobBenefit, FlexJob, DisabilityPension, Other}
	startBenefitIndex     = []int{bSE, bSU, bUI, bCash, bRehab, bSick, bFlexBen, bFlexJob, bDP, bOther}
	startActNames         = []string{guidanceInst, privatePracticeInst, publicPracticeInst, ordinaryEducationInst, wageSubsidyInst, FlexJob, "passive", "self_supporting_or_su"}
	supportBinNames       = []string{"none", "0-1", "1-2", "2-3", "3-4", "4-5", "all 5"}
	wageBinNames          = []string{"0", "1-12", "13-24", "25-36", "37-47", "48"}
	defaultTreatedWindow  = [2][3]int{{2012, 2, 1}, {2012, 7, 31}}
	popReference          = [3]int{2013, 1, 1}
	pubReference          = [3]int{2013, 3, 1}
	startVolumeFirstMonth = [2]int{2012, 1}
	// startVolume is the number of persons (at Scale 1) whose first mentor
	// spell starts in each calendar month from January 2012: 1,900 in
	// January, 6,487 in February–July, 7,600 in August–December (about
	// 16,000 in 2012), then 1,300 a month; June 2014 is cut at the 15th.
	startVolume = []float64{1900,
		1000, 1040, 1080, 1100, 1120, 1147,
		1450, 1500, 1550, 1550, 1550,
		1300, 1300, 1300, 1300, 1300, 1300, 1300, 1300, 1300, 1300, 1300, 1300,
		1300, 1300, 1300, 1300, 1300, 650}
)
