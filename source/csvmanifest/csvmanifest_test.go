package csvmanifest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/sourcetest"
)

var cfgOrigin = model.Origin{File: "scimsync.yaml", Line: 4, Column: 5}

func TestReadGolden(t *testing.T) {
	td := "testdata"
	tests := []struct {
		name string
		src  config.Source
	}{
		{"full", config.Source{Paths: []string{filepath.Join(td, "full")}}},
		{"implicit", config.Source{Paths: []string{filepath.Join(td, "implicit")}}},
		{"errors", config.Source{Paths: []string{filepath.Join(td, "errors")}}},
		{"explicit", config.Source{
			Settings: sourcetest.Node(t, Settings{
				Users:  filepath.Join(td, "explicit", "people.csv"),
				Groups: filepath.Join(td, "explicit", "teams.csv"),
			}),
			// The directory's users.csv is replaced by people.csv; its other files are read.
			Paths: []string{filepath.Join(td, "implicit")},
		}},
		{"files-by-name", config.Source{Paths: []string{
			filepath.Join(td, "full", "groups.csv"), filepath.Join(td, "full", "users.csv"),
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.Kind, tt.src.Origin = config.SourceCSV, cfgOrigin
			res, diags := Read(context.Background(), tt.src)
			sourcetest.Golden(t, filepath.Join(td, tt.name), td, res.State, diags)
		})
	}
}

func TestReadProblems(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := write("users.csv", "userName,displayName\n")
	header := write("headeronly.csv", "")
	odd := write("people.csv", "userName\nx@y.z\n")
	tests := []struct {
		name  string
		src   config.Source
		diags []string
	}{
		{"no files", config.Source{}, []string{
			"scimsync.yaml:4:5: error: the csv source names no file: set path to a directory, or users, servicePrincipals, groups or memberships to a file [csv-files]"}},
		{"empty users file", config.Source{Settings: users(t, empty)}, nil},
		{"file without header", config.Source{Settings: users(t, header)}, []string{
			header + ": error: the file is empty; its first line must be a header naming the columns (userName, displayName, givenName, familyName, active, externalId, groups, entitlements, roles) [csv-header]"}},
		{"file of unknown role", config.Source{Paths: []string{odd}}, []string{
			odd + ": error: cannot tell what people.csv holds: name it users.csv, servicePrincipals.csv, groups.csv or memberships.csv, or name it in the source's users, servicePrincipals, groups or memberships field [csv-files]"}},
		{"missing directory", config.Source{Paths: []string{filepath.Join(dir, "nope")}}, []string{
			"scimsync.yaml:4:5: error: read " + filepath.Join(dir, "nope") + ": no such file or directory [read]"}},
		{"settings of other kinds", config.Source{Settings: sourcetest.YAML(t, "kind: csv\nusers: "+odd+"\nmapping: {userName: mail}\nldap: {url: ldaps://h}\n")}, []string{
			"scimsync.yaml:3:1: error: mapping is not used by csv sources (they read groups, memberships, servicePrincipals, users here) [unused-setting]",
			"scimsync.yaml:4:1: error: ldap is not used by csv sources (they read groups, memberships, servicePrincipals, users here) [unused-setting]"}},
		{"directory without manifest files", config.Source{Paths: []string{t.TempDir()}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.src.Kind, tt.src.Origin = config.SourceCSV, cfgOrigin
			_, diags := Read(context.Background(), tt.src)
			got := strs(diags)
			if tt.name == "directory without manifest files" {
				if len(got) != 1 || !strings.Contains(got[0], "holds none of users.csv") {
					t.Errorf("got %q, want one error saying the directory holds no manifest file", got)
				}
				return
			}
			if diff := cmp.Diff(tt.diags, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, diags := Read(ctx, config.Source{Kind: config.SourceCSV, Paths: []string{filepath.Join("testdata", "full")}, Origin: cfgOrigin})
	if !diags.HasErrors() || !strings.Contains(diags[0].Message, "context canceled") {
		t.Errorf("got %v, want a cancellation error", diags)
	}
}

// users returns the settings of a csv source that names its users file.
func users(t *testing.T, path string) *yaml.Node {
	return sourcetest.Node(t, Settings{Users: path})
}

func strs(diags diag.List) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.String())
	}
	return out
}
