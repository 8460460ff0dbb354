// Package sources_test checks that every example of examples/sources validates: its
// config loads and its sources read, merge and check without an error. The ldap example
// is served by a slapd started for the test (see source/ldap/ldaptest).
package sources_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/source"
	"github.com/scimsync/scimsync/source/ldap/ldaptest"
)

func TestExamplesValidate(t *testing.T) {
	want := map[string]struct{ users, groups int }{
		"csv":       {3, 3},
		"ldif":      {3, 3},
		"ldap":      {3, 3},
		"entra":     {2, 0},
		"okta":      {3, 0},
		"jumpcloud": {2, 2},
		"google":    {2, 0},
	}
	dirs, err := filepath.Glob("*/scimsync.yaml")
	if err != nil || len(dirs) != len(want) {
		t.Fatalf("found %v, want an example for each of the %d kinds: %v", dirs, len(want), err)
	}
	for kind, counts := range want {
		t.Run(kind, func(t *testing.T) {
			cfg, diags := config.Load(filepath.Join(kind, "scimsync.yaml"))
			if diags.HasErrors() {
				t.Fatalf("config: %v", diags)
			}
			if len(cfg.Sources) != 1 || cfg.Sources[0].Kind != kind {
				t.Fatalf("sources %+v, want one of kind %s", cfg.Sources, kind)
			}
			if kind == config.SourceLDAP {
				serve(t, cfg)
			}
			state, diags := source.Load(context.Background(), cfg, nil)
			if diags.HasErrors() || state == nil {
				t.Fatalf("diagnostics: %v", diags)
			}
			if len(state.Users) != counts.users || len(state.Groups) != counts.groups {
				t.Errorf("got %d users and %d groups, want %d and %d", len(state.Users), len(state.Groups), counts.users, counts.groups)
			}
		})
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
