package policy

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// allowedImports is everything the non-test code of this package may import. Each entry is either
// pure computation or, for time and sync, used only as a value type and a lock: neither reaches the
// outside world. Anything that could open a socket, resolve a name, read a file, run a program or
// call into C is absent on purpose.
var allowedImports = map[string]bool{
	"bytes":         true,
	"encoding/json": true,
	"errors":        true,
	"fmt":           true,
	"math":          true,
	"net/netip":     true,
	"slices":        true,
	"sort":          true,
	"strconv":       true,
	"strings":       true,
	"sync":          true,
	"time":          true,
	"unicode":       true,
	"unicode/utf8":  true,
}

// forbiddenTimeFuncs read or wait on the clock; time is allowed only as a value type.
var forbiddenTimeFuncs = map[string]bool{
	"Now": true, "Since": true, "Until": true, "Sleep": true, "After": true, "AfterFunc": true,
	"Tick": true, "NewTicker": true, "NewTimer": true,
}

// TestPolicyIsPure fails if the package's own code imports anything that could touch the network,
// the file system, other processes or the clock. Purity is what makes every decision reproducible,
// so it is enforced here rather than left to review.
func TestPolicyIsPure(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	checked := 0
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, path, src, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		timeName := ""
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			if !allowedImports[p] {
				t.Errorf("%s imports %q, which is not on the purity allow-list", path, p)
			}
			if p == "time" {
				timeName = "time"
				if imp.Name != nil {
					timeName = imp.Name.Name
				}
			}
			if imp.Name != nil && imp.Name.Name == "." {
				t.Errorf("%s dot-imports %q, which would hide calls from this check", path, p)
			}
		}
		// Build constraints could swap in a different file on another platform; this package has
		// none, and cgo directives must never appear.
		for _, cg := range f.Comments {
			for _, c := range cg.List {
				if strings.HasPrefix(c.Text, "//go:build") || strings.HasPrefix(c.Text, "// +build") ||
					strings.HasPrefix(c.Text, "//go:linkname") || strings.HasPrefix(c.Text, "//export") {
					t.Errorf("%s has directive %q", path, c.Text)
				}
			}
		}
		if timeName == "" {
			continue
		}
		ast.Inspect(f, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			if id, ok := sel.X.(*ast.Ident); ok && id.Name == timeName && forbiddenTimeFuncs[sel.Sel.Name] {
				t.Errorf("%s: %s uses time.%s; time must be passed in", path, fset.Position(sel.Pos()), sel.Sel.Name)
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source files found; the test must run in the package directory")
	}
}

// TestPurityCheckerCatchesForbiddenImports makes sure the allow-list is not accidentally permissive.
func TestPurityCheckerCatchesForbiddenImports(t *testing.T) {
	for _, p := range []string{"net", "os", "os/exec", "net/http", "syscall", "C", "io/ioutil", "io/fs",
		"unsafe", "runtime", "plugin", "reflect", "math/rand", "crypto/rand", "log", "context", "io"} {
		if allowedImports[p] {
			t.Errorf("%q must not be allowed", p)
		}
	}
}
