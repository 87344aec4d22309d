package synth

import "strings"

// Benefit types of the weekly status grid, in code order of their first
// level. Benefits in ActivatedBenefits have one passive level
// ("<benefit>_passive") and one level per activation instrument
// ("<benefit>_<instrument>"); the others have a single level named after
// the benefit.
const (
	SelfSupporting        = "self_supporting"        // no public benefit (code 0)
	SU                    = "su"                     // student grant (SU)
	UnemploymentInsurance = "unemployment_insurance" // a-dagpenge
	CashBenefit           = "cash_benefit"           // kontanthjælp / uddannelseshjælp
	Rehabilitation        = "rehabilitation"         // revalidering (incl. forrevalidering)
	Sickness              = "sickness"               // sygedagpenge
	FlexJobBenefit        = "flex_job_benefit"       // ledighedsydelse (waiting for a flex job)
	FlexJob               = "flex_job"               // fleksjob (wage income)
	DisabilityPension     = "disability_pension"     // førtidspension
	FlexBenefit           = "flex_benefit"           // fleksydelse (early retirement of flex-job holders)
	EarlyRetirement       = "early_retirement"       // efterløn
	StatePension          = "state_pension"          // folkepension
	VUS                   = "vus"                    // adult-education support (VUS/SVU)
	ServiceJob            = "service_job"            // servicejob
	AdultApprentice       = "adult_apprentice"       // voksenlærling
	Other                 = "other"                  // leave (maternity, parental) and other transfers
	instrumentPassive     = "passive"                // suffix of the passive level
	levelSep              = "_"                      // between benefit and instrument
	ordinaryEducationInst = "ordinary_education"     // instrument counted as education
	wageSubsidyInst       = "wage_subsidy"           // instrument with wage income
	guidanceInst          = "guidance_upskilling"    // vejledning og opkvalificering
	privatePracticeInst   = "private_work_practice"  // virksomhedspraktik, private employer
	publicPracticeInst    = "public_work_practice"   // virksomhedspraktik, public employer
)

// Instruments are the activation instruments of activated benefits, in
// level order after the passive level.
var Instruments = []string{guidanceInst, privatePracticeInst, publicPracticeInst, ordinaryEducationInst, wageSubsidyInst}

// ActivatedBenefits have a passive level and one level per instrument.
var ActivatedBenefits = []string{UnemploymentInsurance, CashBenefit, Rehabilitation, Sickness, FlexJobBenefit}

// Benefits lists every benefit type in code order.
var Benefits = []string{SelfSupporting, SU, UnemploymentInsurance, CashBenefit, Rehabilitation, Sickness,
	FlexJobBenefit, FlexJob, DisabilityPension, FlexBenefit, EarlyRetirement, StatePension, VUS,
	ServiceJob, AdultApprentice, Other}

// benefit indices (b*), in Benefits order.
const (
	bSE = iota
	bSU
	bUI
	bCash
	bRehab
	bSick
	bFlexBen
	bFlexJob
	bDP
	bFlexRet
	bEarlyRet
	bStatePen
	bVUS
	bService
	bApprentice
	bOther
	nBenefits
)

// instrument indices: 0 passive, 1.. Instruments.
const (
	iPassive = iota
	iGuidance
	iPrivate
	iPublic
	iOrdEdu
	iWageSub
	nInstr
)

var (
	statusLevels []string
	// codeOf[b][i] is the code of benefit b with instrument i (i = 0 for
	// non-activated benefits).
	codeOf [nBenefits][nInstr]byte
	// benefitOf and instrOf invert codeOf.
	benefitOf []uint8
	instrOf   []uint8
)

func isActivated(b int) bool {
	return b == bUI || b == bCash || b == bRehab || b == bSick || b == bFlexBen
}

func init() {
	initLevels()
	codeSE, codeSU, codeDP, codeFlexJob = codeOf[bSE][0], codeOf[bSU][0], codeOf[bDP][0], codeOf[bFlexJob][0]
	initCodeTables()
	initFeatureTables()
}

func initLevels() {
	for b, name := range Benefits {
		if isActivated(b) {
			for i := 0; i < nInstr; i++ {
				inst := instrumentPassive
				if i > 0 {
					inst = Instruments[i-1]
				}
				codeOf[b][i] = byte(len(statusLevels))
				statusLevels = append(statusLevels, name+levelSep+inst)
				benefitOf = append(benefitOf, uint8(b))
				instrOf = append(instrOf, uint8(i))
			}
			continue
		}
		c := byte(len(statusLevels))
		for i := 0; i < nInstr; i++ {
			codeOf[b][i] = c
		}
		statusLevels = append(statusLevels, name)
		benefitOf = append(benefitOf, uint8(b))
		instrOf = append(instrOf, iPassive)
	}
}

// StatusLevels returns the levels of the weekly status grid (a copy), code
// 0 being "self_supporting". For each benefit in ActivatedBenefits there
// are six levels, "<benefit>_passive" and "<benefit>_<instrument>" for
// each of Instruments; every other benefit is one level named after it.
func StatusLevels() []string { return append([]string(nil), statusLevels...) }

// BenefitLevels returns the status levels of the named benefit type (all
// its activation variants), or nil for an unknown name. Use it to build
// panel.LevelGroup values, for example
// panel.LevelGroup{Name: "cash", Levels: synth.BenefitLevels(synth.CashBenefit)}.
func BenefitLevels(benefit string) []string {
	var out []string
	for c, l := range statusLevels {
		if Benefits[benefitOf[c]] == benefit {
			out = append(out, l)
		}
	}
	return out
}

// InstrumentLevels returns the status levels with the named activation
// instrument (over all activated benefits), or the passive levels for
// "passive"; nil for an unknown name.
func InstrumentLevels(instrument string) []string {
	var out []string
	for c, l := range statusLevels {
		if !isActivated(int(benefitOf[c])) {
			continue
		}
		if strings.HasSuffix(l, levelSep+instrument) {
			out = append(out, l)
		}
	}
	return out
}

// SplitLevel returns the benefit type and the activation instrument of a
// status level ("passive" for passive levels, "" for benefits without
// activation variants); ok is false for an unknown level.
func SplitLevel(level string) (benefit, instrument string, ok bool) {
	for c, l := range statusLevels {
		if l != level {
			continue
		}
		b := int(benefitOf[c])
		if !isActivated(b) {
			return Benefits[b], "", true
		}
		if instrOf[c] == iPassive {
			return Benefits[b], instrumentPassive, true
		}
		return Benefits[b], Instruments[instrOf[c]-1], true
	}
	return "", "", false
}

// PublicSupportLevels returns the levels counted as "public support" in
// the report's history measures (weeks on public support in the 260
// weeks before start): every level except self_supporting and su.
func PublicSupportLevels() []string {
	var out []string
	for c, l := range statusLevels {
		if b := benefitOf[c]; b != bSE && b != bSU {
			out = append(out, l)
		}
	}
	return out
}

// ExcludedAtStartLevels returns the levels of docs/method.md §1 (footnote 25 of the report)
// rule 3 (not eligible in the start week): early_retirement, flex_benefit,
// state_pension, vus, service_job and adult_apprentice.
func ExcludedAtStartLevels() []string {
	return []string{EarlyRetirement, FlexBenefit, StatePension, VUS, ServiceJob, AdultApprentice}
}
