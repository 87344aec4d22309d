package registerio_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/psmeval/psmeval/panel/registerio"
)

// Read a register directory (here the hand-made CSV files with wide
// status and outcomes), write it as Parquet and read that back.
func ExampleReadDir() {
	reg, err := registerio.ReadDir(context.Background(), "../../testdata/panel/tiny_wide", nil)
	if err != nil {
		log.Fatal(err)
	}
	g := &reg.Status
	fmt.Println(reg.Len(), "persons,", g.Weeks, "weeks from", g.FirstWeek)
	fmt.Printf("status levels %q\n", g.Levels)
	fmt.Printf("person %d, week of %v: %q\n", reg.IDs[1], g.WeekStart(5), g.Levels[g.Row(1)[5]])
	for _, o := range reg.Outcomes {
		fmt.Println("outcome", o.Name, "observed", o.FirstMonth, "to", o.LastMonth())
	}

	dir, err := os.MkdirTemp("", "register")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := registerio.WriteDir(dir, reg, nil); err != nil { // Parquet, wide status
		log.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	back, err := registerio.ReadDir(context.Background(), dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(back.Len(), "persons,", len(back.Spells), "spells read back")
	// Output:
	// 5 persons, 6 weeks from 2007-01-01
	// status levels ["" "111" "130" "651"]
	// person 101, week of 2007-02-05: "651"
	// outcome employed observed 2007-01 to 2007-04
	// outcome education observed 2007-01 to 2007-03
	// checksums.sha256
	// outcomes.parquet
	// persons.parquet
	// spells.parquet
	// status.parquet
	// 5 persons, 4 spells read back
}

// Bad data gives an *Error naming the file, column and row.
func ExampleReadDir_badData() {
	dir, err := os.MkdirTemp("", "register")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "persons.csv"), []byte("id,sex\n1,F\n2,M\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "status.csv"), []byte("id,week,code\n1,2012-01-02,111\n2,2012-01-09,\n3,2012-01-02,130\n"), 0o644)
	_, err = registerio.ReadDir(context.Background(), dir, nil)
	fmt.Println(err)
	// Output:
	// panel: status.csv column "id" row 2: person id 3 is not in the persons table
}
