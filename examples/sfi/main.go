// Command sfi reproduces the effect analysis of the SFI evaluation of
// Danish mentor support on synthetic data. Until the pipeline lands it
// validates a small register built in memory and prints its size.
package main

import (
	"flag"
	"fmt"
	"log"

	"github.com/psmeval/psmeval/panel"
)

func main() {
	flag.String("out", "sfi-out", "output directory")
	flag.Parse()
	r := panel.Register{
		IDs:    []int64{1, 2, 3},
		Status: panel.NewStatusGrid(3, panel.DayFromDate(2012, 1, 2), 52, []string{"none", "cash"}),
	}
	if err := r.Validate(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("register: %d persons, %d weeks from %v\n", r.N(), r.Status.Weeks, r.Status.FirstWeek)
}
