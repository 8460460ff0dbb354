package idp

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/sourcetest"
)

var cfgOrigin = model.Origin{File: "scimsync.yaml", Line: 9, Column: 5}

func TestReadGolden(t *testing.T) {
	td := "testdata"
	tests := []struct {
		name       string
		kind       string
		files      []string
		mapping    string // the source's mapping setting, in YAML
		allowEmpty bool
	}{
		{name: "entra", kind: config.SourceEntra, files: []string{"entra/download-users.csv"}},
		{name: "entra-graph-style", kind: config.SourceEntra, files: []string{"entra/graph-style.csv"}},
		{name: "entra-with-guests", kind: config.SourceEntra, files: []string{"entra/download-users.csv", "entra/graph-style.csv"},
			mapping: "{includeGuests: true}"},
		{name: "entra-upn-as-username", kind: config.SourceEntra, files: []string{"entra/graph-style.csv"},
			mapping: "{userName: userPrincipalName, externalId: id, displayName: companyName}"},
		{name: "entra-bulk-template", kind: config.SourceEntra, files: []string{"entra/bulk-template.csv"}},
		{name: "entra-guests-only", kind: config.SourceEntra, files: []string{"entra/guests-only.csv"}},
		{name: "entra-guests-only-allowed", kind: config.SourceEntra, files: []string{"entra/guests-only.csv"}, allowEmpty: true},
		{name: "entra-bad-values", kind: config.SourceEntra, files: []string{"entra/bad-values.csv"}},
		{name: "okta", kind: config.SourceOkta, files: []string{"okta/export.csv"}},
		{name: "okta-minimal", kind: config.SourceOkta, files: []string{"okta/minimal.csv"}},
		{name: "okta-minimal-always-active", kind: config.SourceOkta, files: []string{"okta/minimal.csv"},
			mapping: "{active: {always: true}}"},
		{name: "okta-unknown-status", kind: config.SourceOkta, files: []string{"okta/unknown-status.csv"}},
		{name: "okta-status-mapped", kind: config.SourceOkta, files: []string{"okta/unknown-status.csv"},
			mapping: "{active: {activeValues: [ACTIVE, PASSWORD_EXPIRED, ''], inactiveValues: [SUSPNDED]}}"},
		{name: "okta-templates", kind: config.SourceOkta, files: []string{"okta/templates.csv"},
			mapping: `{userName: ["{email}", "{login}@Example.org"]}`},
		{name: "okta-semicolons", kind: config.SourceOkta, files: []string{"okta/semicolons.csv"}},
		{name: "google-upload-template", kind: config.SourceGoogle, files: []string{"google/upload-template.csv"}},
		{name: "entra-ext-members", kind: config.SourceEntra, files: []string{"entra/ext-members.csv"}},
		{name: "entra-no-usertype", kind: config.SourceEntra, files: []string{"entra/no-usertype.csv"}},
		{name: "entra-bulk-template-no-version", kind: config.SourceEntra, files: []string{"entra/bulk-template-no-version.csv"}},
		{name: "okta-active-override", kind: config.SourceOkta, files: []string{"okta/export.csv"},
			mapping: "{userName: email, externalId: costCenter, active: {activeValues: [ACTIVE, STAGED]}}"},
		{name: "jumpcloud", kind: config.SourceJumpCloud, files: []string{"jumpcloud/users.csv"}},
		{name: "jumpcloud-group-names", kind: config.SourceJumpCloud, files: []string{"jumpcloud/users.csv"},
			mapping: `{groups: {namePattern: "^(Data|Finance)"}, groupName: {prefix: jc-, lowercase: true, replace: [{pattern: '\s+', with: "-"}]}}`},
		{name: "google", kind: config.SourceGoogle, files: []string{"google/users.csv"}},
		{name: "google-missing-columns", kind: config.SourceGoogle, files: []string{"okta/minimal.csv"},
			mapping: "{givenName: Given}"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := config.Source{Kind: tt.kind, AllowEmpty: tt.allowEmpty, Origin: cfgOrigin}
			if tt.mapping != "" {
				src.Settings = sourcetest.YAML(t, "mapping: "+tt.mapping)
			}
			for _, f := range tt.files {
				src.Paths = append(src.Paths, filepath.Join(td, filepath.FromSlash(f)))
			}
			res, diags := Read(context.Background(), src)
			sourcetest.Golden(t, filepath.Join(td, tt.name), td, res.State, diags)
		})
	}
}

func TestNormalizeHeader(t *testing.T) {
	tests := map[string]string{
		"Email Address [Required]":             "email address",
		" Status [READ ONLY] ":                 "status",
		"userPrincipalName":                    "userprincipalname",
		"Name [displayName] Required":          "name [displayname] required",
		"Password Hash Function [UPLOAD ONLY]": "password hash function",
	}
	for in, want := range tests {
		if got := NormalizeHeader(in); got != want {
			t.Errorf("NormalizeHeader(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestReadProblems(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty.csv")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	headerOnly := filepath.Join(dir, "header.csv")
	if err := os.WriteFile(headerOnly, []byte("login,email,status\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		src      config.Source
		settings string
		diags    []string
	}{
		{"unknown kind", config.Source{Kind: "ping"}, "", []string{
			`scimsync.yaml:9:5: error: no identity-provider preset for source kind "ping" [unknown-source-kind]`}},
		{"no path", config.Source{Kind: config.SourceOkta}, "", []string{
			`scimsync.yaml:9:5: error: the okta source needs a path to the exported CSV file [required-field]`}},
		{"empty file", config.Source{Kind: config.SourceOkta, Paths: []string{empty}}, "", []string{
			empty + `: error: the file is empty; a okta export starts with a header line [csv-header]`}},
		{"header only", config.Source{Kind: config.SourceOkta, Paths: []string{headerOnly}}, "", nil},
		{"directory fields on an export", config.Source{Kind: config.SourceGoogle, Paths: []string{headerOnly}},
			"mapping:\n  users: {baseDN: dc=x}\n  includeGuests: true\n  groups: {namePattern: x}\n", []string{
				`scimsync.yaml:2:3: error: mapping.users is not used by google sources (they read active, displayName, externalId, familyName, givenName, userName here) [unused-setting]`,
				`scimsync.yaml:3:3: error: mapping.includeGuests is not used by google sources (they read active, displayName, externalId, familyName, givenName, userName here) [unused-setting]`,
				`scimsync.yaml:4:3: error: mapping.groups is not used by google sources (they read active, displayName, externalId, familyName, givenName, userName here) [unused-setting]`}},
		{"settings of other kinds", config.Source{Kind: config.SourceEntra, Paths: []string{headerOnly}},
			"memberships: m.csv\nldap: {pageSize: 10}\n", []string{
				"scimsync.yaml:1:1: error: memberships is not used by entra sources (they read mapping here) [unused-setting]",
				"scimsync.yaml:2:1: error: ldap is not used by entra sources (they read mapping here) [unused-setting]"}},
		{"group name attribute on jumpcloud", config.Source{Kind: config.SourceJumpCloud, Paths: []string{headerOnly}},
			"mapping: {groupName: {attribute: cn}}\n", []string{
				"scimsync.yaml:1:23: error: mapping.groupName.attribute is not used by jumpcloud sources (they read lowercase, prefix, replace, suffix here) [unused-setting]"}},
		{"bad pattern", config.Source{Kind: config.SourceJumpCloud, Paths: []string{headerOnly}},
			"mapping: {groups: {namePattern: (}}\n", []string{
				"scimsync.yaml:9:5: error: mapping.groups.namePattern: error parsing regexp: missing closing ): `(` [invalid-mapping]"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.Origin = cfgOrigin
			tt.src.Settings = sourcetest.YAML(t, tt.settings)
			_, diags := Read(context.Background(), tt.src)
			if diff := cmp.Diff(tt.diags, strs(diags)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func strs(diags diag.List) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.String())
	}
	return out
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, diags := Read(ctx, config.Source{Kind: config.SourceOkta, Paths: []string{"testdata/okta/export.csv"}, Origin: cfgOrigin})
	if len(diags) != 1 || !strings.Contains(diags[0].Message, "context canceled") {
		t.Errorf("got %v, want one cancellation error", diags)
	}
}
