package manifest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/read"
)

const appID = "6f8e3c1a-1b2c-4d5e-8f90-123456789abc"

func origin(file string, line, col int) model.Origin {
	return model.Origin{File: file, Line: line, Column: col}
}

func strs(diags diag.List) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.String())
	}
	return out
}

func TestParse(t *testing.T) {
	in := `users:
  - userName: Ann.Lee@Example.com
    displayName: Ann Lee
    groups: [eng]
  - userName: bob@example.com
    active: false
    roles: [account_admin]
servicePrincipals:
  - displayName: etl
    applicationId: ` + appID + `
    groups: [eng]
  - displayName: ci
groups:
  - displayName: eng
    previously: [engineering]
    members:
      users: [BOB@example.com]
      servicePrincipals: [ci]
      groups: [platform]
  - displayName: platform
workspaces:
  - id: 1234567890
    host: https://dbc-1.cloud.databricks.com
    assignments:
      - {group: eng, permission: USER}
      - {servicePrincipal: etl, permission: ADMIN}
    entitlements:
      - user: ann.lee@example.com
        entitlements: [workspace-access]
`
	got, diags := Parse([]byte(in), "m.yaml")
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", strs(diags))
	}
	want := &model.State{
		Users: []model.User{
			{UserName: "Ann.Lee@Example.com", DisplayName: "Ann Lee", Active: true, Origin: origin("m.yaml", 2, 5)},
			{UserName: "bob@example.com", Active: false, Roles: []string{"account_admin"}, Origin: origin("m.yaml", 5, 5)},
		},
		ServicePrincipals: []model.ServicePrincipal{
			{DisplayName: "etl", ApplicationID: appID, Active: true, Origin: origin("m.yaml", 9, 5)},
			{DisplayName: "ci", Active: true, Origin: origin("m.yaml", 12, 5)},
		},
		Groups: []model.Group{
			{
				DisplayName: "eng", Previously: []string{"engineering"},
				Members: model.Members{
					Users:             []string{"ann.lee@example.com", "bob@example.com"},
					Groups:            []string{"platform"},
					ServicePrincipals: []string{appID, "ci"},
				},
				Origin: origin("m.yaml", 14, 5),
			},
			{DisplayName: "platform", Origin: origin("m.yaml", 20, 5)},
		},
		Workspaces: []model.Workspace{{
			ID: "1234567890", Host: "https://dbc-1.cloud.databricks.com", Origin: origin("m.yaml", 22, 5),
			Assignments: []model.Assignment{
				{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: "USER", Origin: origin("m.yaml", 25, 9)},
				{Principal: model.Ref{Kind: model.KindServicePrincipal, Key: appID}, Permission: "ADMIN", Origin: origin("m.yaml", 26, 9)},
			},
			Entitlements: []model.PrincipalEntitlements{
				{Principal: model.Ref{Kind: model.KindUser, Key: "ann.lee@example.com"}, Entitlements: []string{"workspace-access"}, Origin: origin("m.yaml", 28, 9)},
			},
		}},
	}
	want.Normalize()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}

func TestParseProblems(t *testing.T) {
	tests := map[string]struct {
		in   string
		want []string
	}{
		"schema errors stop that document only": {
			in: "users:\n  - userName: a@x.io\n    bogus: 1\n---\nusers:\n  - userName: b@x.io\n    groups: [nope]\n",
			want: []string{
				"m.yaml:3:5: error: users[0].bogus: unknown field (known fields: active, displayName, entitlements, externalId, familyName, givenName, groups, roles, userName) [schema]",
				`m.yaml:7:14: error: user "b@x.io" lists group "nope", which is not declared in this source [unknown-reference]`,
			},
		},
		"redeclaration with different attributes": {
			in: "users:\n  - userName: a@x.io\n    displayName: A\n  - userName: A@x.io\n    displayName: B\n",
			want: []string{
				`m.yaml:4:5: error: user "a@x.io" is declared twice with different attributes: displayName "A" and "B" [duplicate-username] (see m.yaml:2:5)`,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, diags := Parse([]byte(tc.in), "m.yaml")
			diags.Sort()
			if diff := cmp.Diff(tc.want, strs(diags)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func write(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadDirectory(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "b/users.yml", "users:\n  - userName: b@x.io\n    groups: [eng]\n")
	write(t, dir, "a.yaml", "users:\n  - userName: a@x.io\n")
	write(t, dir, "groups.yaml", "groups:\n  - displayName: eng\n    members: {users: [a@x.io]}\n")
	write(t, dir, "notes.txt", "not yaml")
	write(t, dir, ".hidden/x.yaml", "this: is not read")
	write(t, dir, ".skip.yaml", "nor: this")

	files, diags := Files([]string{dir})
	if len(diags) > 0 {
		t.Fatal(strs(diags))
	}
	wantFiles := []string{filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b/users.yml"), filepath.Join(dir, "groups.yaml")}
	if diff := cmp.Diff(wantFiles, files); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}

	s, diags := Read(context.Background(), []string{dir})
	if len(diags) > 0 {
		t.Fatal(strs(diags))
	}
	if diff := cmp.Diff([]string{"a@x.io", "b@x.io"}, s.Groups[0].Members.Users); diff != "" {
		t.Errorf("members folded across files (-want +got):\n%s", diff)
	}
	if got := s.Users[1].Origin; got != origin(filepath.Join(dir, "b/users.yml"), 2, 5) {
		t.Errorf("origin = %v", got)
	}
}

func TestReadMissingPath(t *testing.T) {
	_, diags := Read(context.Background(), []string{"does-not-exist"})
	want := []string{"does-not-exist: error: read manifests: no such file or directory [read]"}
	if diff := cmp.Diff(want, strs(diags)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestReadStopsWhenCancelled(t *testing.T) {
	dir := t.TempDir()
	p := write(t, dir, "a.yaml", "users: []\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, diags := ReadFiles(ctx, []string{p}, 0)
	if len(diags) != 1 || diags[0].Rule != RuleRead {
		t.Fatalf("got %v, want one read error", strs(diags))
	}
}

// TestParseStopsPastTheLimits: a manifest with more identities than ten accounts hold is
// refused right after parsing, before schema validation and decoding.
func TestParseStopsPastTheLimits(t *testing.T) {
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range read.MaxRecords + 1 {
		fmt.Fprintf(&b, "  - u%d\n", i)
	}
	s, diags := Parse([]byte(b.String()), "big.yaml")
	if len(s.Users) != 0 || len(diags) != 1 || diags[0].Rule != read.RuleTooMany {
		t.Fatalf("got %d users and %v, want one too-many error", len(s.Users), diags)
	}
}
