package arch

import (
	"bufio"
	"bytes"
	"os/exec"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const module = "github.com/scimsync/scimsync"

// rule says which packages of the project a package, and the packages under it, may
// import besides its own subpackages.
type rule struct {
	pkg string
	may []string
	any bool // may import every package of the project
	// never lists packages it must not depend on even indirectly.
	never []string
}

// rules are the arrows of the project's layout. Packages without a rule may import
// anything but cli; nobody but cmd/scimsync imports cli.
//
// audit is a leaf like model: it records what apply did, and both plan (change records)
// and scim (request traces) write to it without importing each other. policy is a leaf
// too, so that config and the sources name a Policy without depending on the planner.
// redact is a leaf as well: the SCIM client redacts the error bodies it parses with it.
var rules = []rule{
	{pkg: "model"},
	{pkg: "audit"},
	{pkg: "redact"},
	{pkg: "policy", may: []string{"model"}},
	{pkg: "diag", may: []string{"model"}},
	{pkg: "schemas", may: []string{"diag", "model"}},
	{pkg: "source", may: []string{"model", "diag", "schemas", "config"}, never: []string{"plan", "scim"}},
	{pkg: "source/sourcetest", may: []string{"model", "diag", "internal/golden"}},
	{pkg: "internal/golden"},
	{pkg: "scim", may: []string{"model", "audit", "redact"}},
	{pkg: "emulator", may: []string{"scim", "model"}},
	{pkg: "plan", may: []string{"model", "policy", "audit"}},
	{pkg: "snapshot", may: []string{"model"}},
	{pkg: "render", may: []string{"plan", "model"}},
	{pkg: "config", may: []string{"model", "diag", "schemas", "policy"}, never: []string{"plan"}},
	{pkg: "synth", may: []string{"model"}},
	{pkg: "cli", any: true},
	{pkg: "cmd/scimsync", may: []string{"cli"}},
}

// under reports whether pkg is dir or a package below it.
func under(pkg, dir string) bool { return pkg == dir || strings.HasPrefix(pkg, dir+"/") }

// ruleFor returns the most specific rule for a package, or nil.
func ruleFor(pkg string) *rule {
	var best *rule
	for i := range rules {
		if under(pkg, rules[i].pkg) && (best == nil || len(rules[i].pkg) > len(best.pkg)) {
			best = &rules[i]
		}
	}
	return best
}

// violations returns the imports that break the rules, as "pkg imports dep", sorted. The
// graph maps each package of the project, by path relative to the module, to the
// project's packages it imports directly.
func violations(graph map[string][]string) []string {
	var out []string
	for pkg, deps := range graph {
		r := ruleFor(pkg)
		for _, dep := range deps {
			switch {
			case under(dep, "cli") && !under(pkg, "cli") && pkg != "cmd/scimsync":
				out = append(out, pkg+" imports "+dep)
			case r == nil || r.any || under(dep, r.pkg):
			default:
				ok := false
				for _, m := range r.may {
					ok = ok || under(dep, m)
				}
				if !ok {
					out = append(out, pkg+" imports "+dep)
				}
			}
		}
	}
	for pkg := range graph {
		r := ruleFor(pkg)
		if r == nil {
			continue
		}
		for _, dep := range reachable(graph, pkg) {
			for _, n := range r.never {
				if under(dep, n) && !under(pkg, n) {
					out = append(out, pkg+" depends on "+dep)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// reachable returns every package pkg depends on, directly or not, sorted.
func reachable(graph map[string][]string, pkg string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(p string) {
		for _, d := range graph[p] {
			if !seen[d] {
				seen[d] = true
				walk(d)
			}
		}
	}
	walk(pkg)
	out := make([]string, 0, len(seen))
	for d := range seen {
		out = append(out, d)
	}
	sort.Strings(out)
	return out
}

func TestViolations(t *testing.T) {
	graph := map[string][]string{
		"model":            {"diag"},
		"diag":             {"model"},
		"source":           {"model", "config", "source/manifest", "scim"},
		"source/manifest":  {"schemas", "source/merge"},
		"scim/scimtest":    {"scim", "model"},
		"emulator":         {"scim", "model", "plan"},
		"render":           {"plan", "cli"},
		"cmd/scimsync":     {"cli"},
		"cli":              {"source", "plan", "render", "scim"},
		"synth":            {"model"},
		"internal/whatnot": {"cli"},
		"config":           {"model", "plan"},
		"source/ldif":      {"config"},
		"plan":             {"model", "policy"},
		"policy":           {"model"},
	}
	want := []string{
		"config depends on plan",
		"config imports plan",
		"emulator imports plan",
		"internal/whatnot imports cli",
		"model imports diag",
		"render imports cli",
		"source depends on plan",
		"source depends on scim",
		"source imports scim",
		"source/ldif depends on plan",
	}
	if diff := cmp.Diff(want, violations(graph)); diff != "" {
		t.Errorf("violations (-want +got):\n%s", diff)
	}
}

// TestImports checks the real import graph of the module with go list. Packages that do
// not exist yet are simply absent from it.
func TestImports(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	cmd := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}{{range .Imports}} {{.}}{{end}}", module+"/...")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	graph := make(map[string][]string)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		pkg, ok := relative(fields[0])
		if !ok {
			continue
		}
		graph[pkg] = nil
		for _, imp := range fields[1:] {
			if dep, ok := relative(imp); ok {
				graph[pkg] = append(graph[pkg], dep)
			}
		}
	}
	if _, ok := graph["model"]; !ok {
		t.Fatalf("go list did not list model; output:\n%s", out)
	}
	for _, v := range violations(graph) {
		t.Error(v)
	}
}

// relative returns an import path relative to the module, for the module's packages.
func relative(path string) (string, bool) {
	if path == module {
		return ".", true
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	return rel, ok
}
