package panel

// Test helpers of this package for its external tests (package
// panel_test), which may import packages that import panel.
var (
	TinyRegister = tinyRegister
	TinyDesign   = tinyDesign
)

// RequireSamePanel is requireSamePanel.
var RequireSamePanel = requireSamePanel

// SynthRegister is synthRegister.
var SynthRegister = synthRegister

// SynthDesign is synthDesign.
var SynthDesign = synthDesign
