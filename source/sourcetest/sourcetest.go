// Package sourcetest compares what a source reader returns with golden files, for the
// tests of the source packages. A reader's result is kept in two files next to its input:
// NAME.golden.json holds the model.State as indented JSON, and NAME.origins.golden lists
// the diagnostics and the origin of every object, one per line, so that file:line
// positions are checked as well. Run the tests with -update to rewrite the golden files
// from the current results, then review the difference.
//
// Package sourcetest is for tests only; it imports model, diag, internal/golden and yaml.v3.
package sourcetest

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/model"
)

// Golden compares a state and its diagnostics with the golden files base+".golden.json"
// and base+".origins.golden". File names in origins are written relative to dir, so that
// the golden files do not depend on where the repository is.
func Golden(t *testing.T, base, dir string, state *model.State, diags diag.List) {
	t.Helper()
	if state == nil {
		state = &model.State{}
	}
	js, err := json.MarshalIndent(state, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden.Check(t, base+".golden.json", append(js, '\n'))
	golden.Check(t, base+".origins.golden", []byte(Origins(dir, state, diags)))
}

// Origins lists the diagnostics and the origins of the objects of a state as text, with
// file names relative to dir.
func Origins(dir string, state *model.State, diags diag.List) string {
	rel := func(o model.Origin) model.Origin {
		if r, err := filepath.Rel(dir, o.File); err == nil && !strings.HasPrefix(r, "..") {
			o.File = filepath.ToSlash(r)
		}
		return o
	}
	var b strings.Builder
	b.WriteString("# diagnostics\n")
	sorted := append(diag.List(nil), diags...)
	sorted.Sort()
	for _, d := range sorted {
		d.Origin = rel(d.Origin)
		if d.Related != nil {
			r := rel(*d.Related)
			d.Related = &r
		}
		b.WriteString(d.String() + "\n")
	}
	b.WriteString("# origins\n")
	for _, u := range state.Users {
		fmt.Fprintf(&b, "user %s: %s\n", u.Key(), rel(u.Origin))
	}
	for _, p := range state.ServicePrincipals {
		fmt.Fprintf(&b, "servicePrincipal %s: %s\n", p.Key(), rel(p.Origin))
	}
	for _, g := range state.Groups {
		fmt.Fprintf(&b, "group %s: %s\n", g.Key(), rel(g.Origin))
	}
	return b.String()
}

// Node returns the settings struct v of a source kind encoded as the YAML node of the
// source's config entry, as config.Load keeps it in config.Source.Settings.
func Node(t testing.TB, v any) *yaml.Node {
	t.Helper()
	var n yaml.Node
	if err := n.Encode(v); err != nil {
		t.Fatal(err)
	}
	return &n
}

// YAML parses the text of a source's config entry into the node config.Load keeps in
// config.Source.Settings; lines count from 1 at the start of text.
func YAML(t testing.TB, text string) *yaml.Node {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(text), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Content) == 0 {
		return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	}
	return doc.Content[0]
}
