// Package plot draws the figures of a PSM effect evaluation with
// gonum.org/v1/plot: monthly outcome curves for treated and matched
// controls with the difference and its confidence band (the layout of
// Fig. 5.1–5.3 in the SFI mentor-support report), accumulated effects,
// propensity-score overlap before and after matching, and a love plot of
// standardized mean differences.
//
// The figures take plain slices, so any estimate can be drawn;
// SeriesCurve and SeriesAccumulated adapt a series of an estimate.Result.
// Shares are fractions (0.2 = 20 %) and are drawn in
// percent; differences of shares are drawn in percentage points;
// accumulated effects are in months. NaN marks a missing value (for
// example an event month beyond the data cut-off): lines and bands are
// broken there. Infinite values, mismatched slice lengths and other bad
// input give an *ArgError naming the argument, never a panic.
//
// Every constructor returns a *Figure: one or more gonum plots stacked
// vertically, with their data areas aligned, a common title, and legends
// placed at draw time in a corner that no data cover (the y axis is
// extended upwards when no corner is free). The panels are ordinary
// *plot.Plot values and can be restyled before saving.
//
// Save writes SVG, PNG or PDF by file extension, atomically (a failing
// write leaves no partial file). PNGs are rendered at DPI (96) dots per
// inch, so Pixels(800), Pixels(600) gives an 800×600 pixel image; the
// figures are designed to be readable at that size.
package plot
