// Package badinput is the index of the bad-input suite: for
// every kind of bad input the issue lists, which table-driven test cases
// of which packages check that it gets a clear error (or, where the
// input is accepted, what the API does with it). The cases themselves
// live beside the code they test (badinput_test.go and the older error
// tests of each package); the catalogue in catalogue_test.go refers to
// them by test function and case name, and its test fails when a
// referenced case disappears or an item of the list has no case.
package badinput

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Items is the list of bad inputs, in the order of the list.
var Items = []string{
	"missing columns",
	"wrong column types",
	"NaN/Inf/NULL in covariates",
	"NaN/Inf/NULL in outcomes (policy beyond the cut-off)",
	"NaN/Inf/NULL in weights",
	"negative or non-integer frequency weights",
	"duplicate person ids",
	"spells ending before they start",
	"spells outside the week grid",
	"start dates outside the data",
	"an empty treatment window",
	"no eligible controls",
	"all units treated",
	"a single covariate value",
	"perfect separation",
	"collinear dummies",
	"no common support",
	"a caliper that leaves no match",
	"k larger than the number of controls",
	"a horizon beyond the data",
	"corrupt or truncated Parquet",
	"corrupt or truncated CSV",
	"a file with a BOM, CRLF line ends or quoted newlines",
	"mismatched lengths of slices passed to the API",
}

// Ref points at test cases: in the test files of package directory Dir
// (relative to the module root), the function Test, whose body holds each
// of Cases as a string literal (the case's name in its table, or the
// name of a t.Run subtest). A Ref without Cases points at the whole test.
type Ref struct {
	Item  string
	Dir   string
	Test  string
	Cases []string
}

// Check returns one error per Ref whose test function or case literal is
// not found under root, and per item of Items without a Ref, and per Ref
// whose Item is not in Items.
func Check(root string, refs []Ref) []error {
	var errs []error
	known := map[string]bool{}
	for _, it := range Items {
		known[it] = true
	}
	covered := map[string]bool{}
	funcs := map[string]map[string]map[string]bool{} // dir -> test -> literals
	for _, r := range refs {
		if !known[r.Item] {
			errs = append(errs, fmt.Errorf("ref %s.%s: unknown item %q", r.Dir, r.Test, r.Item))
		}
		covered[r.Item] = true
		if _, ok := funcs[r.Dir]; !ok {
			fs, err := testFuncs(filepath.Join(root, r.Dir))
			if err != nil {
				errs = append(errs, err)
			}
			funcs[r.Dir] = fs
		}
		lits, ok := funcs[r.Dir][r.Test]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: no test function %s (item %q)", r.Dir, r.Test, r.Item))
			continue
		}
		for _, c := range r.Cases {
			if !lits[c] {
				errs = append(errs, fmt.Errorf("%s %s: no case %q (item %q)", r.Dir, r.Test, c, r.Item))
			}
		}
	}
	for _, it := range Items {
		if !covered[it] {
			errs = append(errs, fmt.Errorf("item %q has no test case", it))
		}
	}
	return errs
}

// testFuncs parses the _test.go files of dir and returns, per top-level
// function, the set of its string literals.
func testFuncs(dir string) (map[string]map[string]bool, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := map[string]map[string]bool{}
	fset := token.NewFileSet()
	for _, e := range ents {
		if e.IsDir() || !strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil || fd.Recv != nil {
				continue
			}
			lits := map[string]bool{}
			ast.Inspect(fd.Body, func(n ast.Node) bool {
				if bl, ok := n.(*ast.BasicLit); ok && bl.Kind == token.STRING {
					if s, err := strconv.Unquote(bl.Value); err == nil {
						lits[s] = true
					}
				}
				return true
			})
			out[fd.Name.Name] = lits
		}
	}
	return out, nil
}
