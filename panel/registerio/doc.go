// Package registerio reads and writes a panel.Register: four tables
// (persons, status, outcomes, spells) as CSV or Parquet files in a
// directory, as streams, or as Arrow records. It is the only part of
// psmeval that depends on Arrow and Parquet.
//
// # Schema of the register data
//
// ReadDir reads, and WriteDir writes, a register as a directory of four
// tables, each in one file named after the table: persons, status,
// outcomes and spells, as CSV (.csv, or gzip-compressed .csv.gz) or
// Parquet (.parquet). persons and status are required; without an
// outcomes or spells file the Register has none. Column names are
// case-sensitive. Loader reads the same tables from streams or Arrow
// records (RegisterFromRecords); TableRecords gives a Register's tables as
// Arrow records.
//
// Values. Integers are decimal text in CSV and any integer type in
// Parquet/Arrow. Dates are ISO "YYYY-MM-DD" text in CSV, and date32 (or
// the same text) in Parquet. Months are "YYYY-MM" text (also "YYYY-MM-01",
// or a date32 that is the first of a month). 0/1 indicators are 0 and 1
// (also true/false; booleans, integers and floats in Parquet). A missing
// value is NULL, or in text the empty string, "NA", "NaN", "NULL" or
// "null"; where a column does not allow it, that is an error.
//
// CSV: a header row of column names, comma-separated, UTF-8 with an
// optional byte order mark, LF or CRLF line ends, RFC 4180 quoting (a
// quoted field may hold commas, quotes doubled, and newlines). Rows are
// numbered from 0, the first row after the header, in every error. A row
// with too few or too many fields, a stray or unterminated quote, and a
// truncated gzip stream are errors; but a plain CSV file cut between two
// rows, or inside the last field of a row, cannot be told from a complete
// one (Parquet and gzip can: they end with a footer or a checksum).
//
// persons: one row per person.
//   - id: integer, unique, not missing.
//   - birth (optional): date of birth, not missing (Register.Birth).
//   - every other column is a static attribute, in column order
//     (Register.Attrs). A column is numeric (Attribute.Values, missing =
//     NaN) when every non-missing value is a finite number (so a Parquet
//     text column of numbers is numeric too; "Inf" or an out-of-range
//     number such as 1e999 in a column of numbers is an error naming its
//     row, in CSV as in Parquet), unless it is listed in
//     ReadOptions.Categorical; otherwise it is categorical
//     (Attribute.Codes, missing = MissingCode) with Levels the distinct
//     values sorted byte-wise, so codes do not depend on row order. At
//     most 65,535 levels; a categorical level cannot be one of the
//     missing-value spellings.
//
// status: the weekly benefit/activity code per person (DREAM). Week w is
// the seven days from its first day; all weeks lie on one 7-day grid.
//   - long: columns id, week, code; one row per person and week. week is
//     the week's first day; code is text.
//   - wide (DREAM style): column id and one text column per week, named
//     by the week's first day ("2007-01-01"), in any order but with no
//     week missing between the first and the last.
//
// Codes are text; "" (and NULL) is the level "" (no public benefit,
// self-supporting). A person without status rows (long) or without a row
// (wide), and a (person, week) pair without a row in long form, has ""
// in that week; if presence in the register matters, record it as a
// persons attribute. Register.Status.Levels are the distinct codes,
// sorted byte-wise (so "" is code 0 when present), unless
// ReadOptions.StatusLevels fixes them. At most 255 distinct codes in the
// data (256 levels counting ""). The grid runs from the first to the last
// week in the table, unless ReadOptions.FirstWeek and Weeks fix it (then
// a week outside is an error). A second row for the same person and week
// (long) or person (wide) is an error.
//
// outcomes: monthly 0/1 indicators (employed, employed without benefit,
// in education, on SU, ...). Each outcome has its own observed months,
// from its first to its last (the data cut-off) month.
//   - long: columns id, month, and one column per outcome, named by the
//     outcome; one row per person and month. A missing value means "not
//     observed": an outcome's observed months run from the first to the
//     last month in which its column is not missing, and inside that
//     range a missing value is an error. A (person, month) without a row
//     is 0 for every outcome. A second row for a person and month is an
//     error.
//   - wide: column id and one column per outcome and month, named
//     "<outcome>_YYYY-MM" (the outcome name may hold underscores; the
//     suffix after the last one is the month). An outcome's columns must
//     cover consecutive months; they are its observed months. Values may
//     not be missing; a person without a row is 0 everywhere.
//
// Outcomes are in the order of their first column.
//
// spells: treatment spells, one row each, in any order (kept in file
// order).
//   - id, start, end: the person and the first and last day (dates, not
//     missing, end >= start, start inside the status grid).
//   - hours (optional): weekly hours, non-negative; missing (or no
//     column) is NaN.
//
// In status, outcomes and spells an id that is not in persons is an
// error. A column the schema does not name is an error in status, wide
// outcomes and spells (in long outcomes every other column is an
// outcome, in persons an attribute).
//
// Writing: WriteDir writes Parquet (FormatAuto) or CSV, wide status and
// long outcomes by default. Long status lists the cells whose level is
// not "" plus person 0's first and last week; long outcomes list the
// (person, month) pairs with a 1 plus person 0's rows in each outcome's
// first and last month, so that the grid and the observed months survive
// the round trip. Parquet is written with Snappy compression, dictionary
// encoding and row groups of 65,536 rows; dates as date32, outcome
// indicators as int8. Reading back gives the same Register when its level
// lists are sorted and all used (and, in CSV, no categorical attribute
// has only numeric levels).
//
// Errors name the file (or table), the column and the 0-based row in a
// *panel.Error; errors.Is(err, panel.ErrInvalid) holds for every data error.
package registerio
