package config

import (
	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/model"
)

// Source kinds.
const (
	SourceYAML      = "yaml"      // native YAML manifests: files or directories
	SourceCSV       = "csv"       // CSV manifests: users.csv, groups.csv, memberships.csv
	SourceLDIF      = "ldif"      // LDIF export of a directory
	SourceLDAP      = "ldap"      // live LDAP search
	SourceEntra     = "entra"     // Microsoft Entra ID "Download users" CSV
	SourceOkta      = "okta"      // Okta user export CSV
	SourceJumpCloud = "jumpcloud" // JumpCloud user CSV
	SourceGoogle    = "google"    // Google Workspace "Download users" CSV
)

// Source is one source of desired state in the config. It holds the settings every kind
// of source has; the settings of one kind (a CSV manifest's file names, a directory's
// mapping, LDAP's connection) stay in Settings, which the reader of that kind decodes
// and checks itself (see package source/read), so that this package knows no kind's
// settings.
type Source struct {
	Kind string `yaml:"kind"`
	// Paths are files or directories, relative to the config file. A single string in the
	// file is accepted as a list of one.
	Paths []string `yaml:"path"`
	// AllowEmpty accepts a source that yields no users. Without it, an empty source is an
	// error, so that it never turns into mass removals.
	AllowEmpty bool `yaml:"allowEmpty"`
	// MaxFileSize is the largest file, in bytes, the source reads; 0 means the default of
	// package source/read.
	MaxFileSize int64 `yaml:"maxFileSize"`
	// Scope limits the users the source declares to members of some of its groups.
	Scope Scope `yaml:"scope"`
	// Cycles says what to do with membership cycles among the source's groups: "reject"
	// (the default) reports them as errors, "break" drops the membership that closes each
	// cycle with a warning.
	Cycles string `yaml:"cycles"`
	// Exclude lists regular expressions; the groups whose names match one of them are
	// left out of the source, with their memberships.
	Exclude []string `yaml:"exclude"`
	// Settings is the source's entry in the config file, every key included; nil for a
	// source built in code. The reader of the source's kind decodes its own settings
	// from it.
	Settings *yaml.Node `yaml:"-"`
	// Dir is the directory that relative paths in Settings are relative to: the
	// directory of the config file.
	Dir string `yaml:"-"`
	// Origin is where the source is declared in the config file.
	Origin model.Origin `yaml:"-"`
}

// Scope says which users of a source are desired.
type Scope struct {
	// Groups names groups of the source (by their Databricks name). When set, only the
	// users that are members of one of them, directly or through nested groups, are
	// desired; the other users are left out of the source, and out of its groups.
	Groups []string `yaml:"groups"`
}

// Cycle policies of a source.
const (
	CyclesReject = "reject"
	CyclesBreak  = "break"
)

// UnmarshalYAML decodes the settings every source has and keeps the whole entry in
// Settings for the reader of its kind.
func (s *Source) UnmarshalYAML(n *yaml.Node) error {
	type common Source // without this method
	var c common
	if err := n.Decode(&c); err != nil {
		return err
	}
	*s = Source(c)
	s.Settings = n
	return nil
}
