package registerio

import (
	"fmt"

	"github.com/psmeval/psmeval/panel"
)

// dataErr returns a *panel.Error about the data: table (or file), column
// and 0-based data row (-1: not about one row).
func dataErr(table, column string, row int, format string, args ...any) error {
	return &panel.Error{Table: table, Column: column, Row: row, Msg: fmt.Sprintf(format, args...)}
}
