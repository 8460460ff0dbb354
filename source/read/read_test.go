package read

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/model"
)

type inner struct {
	Pattern string `yaml:"pattern"`
}

type base struct {
	Name string `yaml:"name"`
}

type testSettings struct {
	Mapping struct {
		base    `yaml:",inline"`
		Replace []inner `yaml:"replace"`
	} `yaml:"mapping"`
	Files string `yaml:"files"`
}

func TestSettings(t *testing.T) {
	text := `kind: test
path: [x]
allowEmpty: true
files: a.csv
ldap: {url: x}
mapping:
  name: n
  replace:
    - pattern: p
      with: w
  groups: {baseDN: x}
`
	var src config.Source
	if err := yaml.Unmarshal([]byte(text), &src); err != nil {
		t.Fatal(err)
	}
	src.Origin = model.Origin{File: "scimsync.yaml", Line: 1, Column: 1}
	var got testSettings
	diags := Settings(src, &got)
	var msgs []string
	for _, d := range diags {
		msgs = append(msgs, d.String())
	}
	want := []string{
		"scimsync.yaml:5:1: error: ldap is not used by test sources (they read files, mapping here) [unused-setting]",
		"scimsync.yaml:10:7: error: mapping.replace[0].with is not used by test sources (they read pattern here) [unused-setting]",
		"scimsync.yaml:11:3: error: mapping.groups is not used by test sources (they read name, replace here) [unused-setting]",
	}
	if diff := cmp.Diff(want, msgs); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
	if got.Files != "a.csv" || got.Mapping.Name != "n" || len(got.Mapping.Replace) != 1 || got.Mapping.Replace[0].Pattern != "p" {
		t.Errorf("decoded %+v", got)
	}
	if src.Kind != "test" || len(src.Paths) != 1 || !src.AllowEmpty {
		t.Errorf("common settings %+v", src)
	}
}

func TestSettingsInCode(t *testing.T) {
	got := testSettings{Files: "kept"}
	if diags := Settings(config.Source{Kind: "test"}, &got); len(diags) != 0 || got.Files != "kept" {
		t.Errorf("a source without a config entry: %v, %+v", diags, got)
	}
}

func TestSkipped(t *testing.T) {
	var s Skipped
	s.Add(Guests, 2)
	s.Add(NoUserName, 1)
	s.Add(Guests, 0)
	if got := s.String(); got != "2 guests, 1 without userName" {
		t.Errorf("got %q", got)
	}
	s.Add(Guests, -1)
	s.Add(Excluded, 1)
	if got := s.String(); got != "2 guests, 1 without userName, 1 excluded group" {
		t.Errorf("got %q", got)
	}
}
