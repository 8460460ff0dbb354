// Package sources_test checks that every example of examples/sources validates: its
// config loads and its sources read, merge and check without an error, and what it reads
// (warnings, read summary, identities) is its expected.txt, rewritten with -update. The
// ldap example is served by a slapd started for the test (see source/ldap/ldaptest).
package sources_test

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source"
	"github.com/scimsync/scimsync/source/ldap/ldaptest"
)

var update = flag.Bool("update", false, "rewrite the expected.txt of every example")

func TestExamplesValidate(t *testing.T) {
	want := map[string]struct {
		kind          string
		users, groups int
	}{
		"csv":       {"csv", 3, 3},
		"ldif":      {"ldif", 3, 3},
		"ldap":      {"ldap", 3, 3},
		"entra":     {"entra", 2, 0},
		"okta":      {"okta", 3, 0},
		"jumpcloud": {"jumpcloud", 2, 2},
		"google":    {"google", 2, 0},
		"templates": {"ldif", 3, 1},
		"cycles":    {"ldif", 2, 3},
		"exclude":   {"ldif", 2, 1},
		"scope":     {"ldif", 2, 3},
	}
	dirs, err := filepath.Glob("*/scimsync.yaml")
	if err != nil || len(dirs) != len(want) {
		t.Fatalf("found %v, want the %d examples listed here: %v", dirs, len(want), err)
	}
	for dir, ex := range want {
		t.Run(dir, func(t *testing.T) {
			cfg, diags := config.Load(filepath.Join(dir, "scimsync.yaml"))
			if diags.HasErrors() {
				t.Fatalf("config: %v", diags)
			}
			if len(cfg.Sources) != 1 || cfg.Sources[0].Kind != ex.kind {
				t.Fatalf("sources %+v, want one of kind %s", cfg.Sources, ex.kind)
			}
			if ex.kind == config.SourceLDAP {
				serve(t, cfg)
			}
			state, summaries, diags := source.LoadWithSummaries(context.Background(), cfg, nil)
			if diags.HasErrors() || state == nil {
				t.Fatalf("diagnostics: %v", diags)
			}
			if len(state.Users) != ex.users || len(state.Groups) != ex.groups {
				t.Errorf("got %d users and %d groups, want %d and %d", len(state.Users), len(state.Groups), ex.users, ex.groups)
			}
			if ex.kind != config.SourceLDAP {
				golden(t, filepath.Join(dir, "expected.txt"), report(state, summaries, diags))
			}
		})
	}
}

// report is what validate shows of an example: its warnings, the read summary of its
// source, and the identities declared.
func report(s *model.State, summaries []source.Summary, diags diag.List) string {
	var b strings.Builder
	for _, d := range diags {
		b.WriteString(d.String() + "\n")
	}
	for _, sum := range summaries {
		b.WriteString(sum.String() + "\n")
	}
	for _, u := range s.Users {
		fmt.Fprintf(&b, "user %s (active %v)\n", u.UserName, u.Active)
	}
	for _, g := range s.Groups {
		fmt.Fprintf(&b, "group %s: users %v, groups %v\n", g.DisplayName, g.Members.Users, g.Members.Groups)
	}
	return b.String()
}

// golden compares got with a file, or rewrites the file under -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run the test with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", path, diff)
	}
}

// serve starts slapd with the ldap example's directory and points the config at it.
func serve(t *testing.T, cfg *config.Config) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("ldap", "directory.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	srv := ldaptest.Start(t, ldaptest.Options{Suffix: "dc=example,dc=org", LDIF: string(data)})
	setting(t, cfg.Sources[0].Settings, "ldap", "url").Value = srv.URL
	t.Setenv("LDAP_BIND_DN", srv.RootDN)
	t.Setenv("LDAP_BIND_PASSWORD", srv.RootPassword)
}

// setting returns the node of a setting in a source's config entry, by its path of keys.
func setting(t *testing.T, n *yaml.Node, keys ...string) *yaml.Node {
	t.Helper()
	for _, k := range keys {
		var found *yaml.Node
		for i := 0; n != nil && n.Kind == yaml.MappingNode && i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				found = n.Content[i+1]
			}
		}
		if found == nil {
			t.Fatalf("the source has no setting %s", strings.Join(keys, "."))
		}
		n = found
	}
	return n
}
