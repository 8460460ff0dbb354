package cli

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"
)

// fileKind is what a file given on the command line holds, as far as its top-level keys
// tell: enough to say "this is a manifest, not a plan file" instead of a parse error.
type fileKind string

const (
	kindUnknown  fileKind = "unknown"
	kindPlan     fileKind = "plan file"
	kindManifest fileKind = "manifest"
	kindConfig   fileKind = "config file"
	kindSnapshot fileKind = "snapshot file"
	kindDrift    fileKind = "drift report"
)

// sniffLimit is the most of a file sniff reads; a larger file is judged by its extension.
const sniffLimit = 16 << 20

// sniff says what path holds. A directory, and a CSV or LDIF file, are manifest sources;
// other files are told by their top-level keys (a plan has changes and fingerprints, even
// when damaged; a drift report a formatVersion and its own keys, a snapshot a formatVersion and a state, a config a
// target or sources, a manifest users, groups, servicePrincipals or workspaces).
// Anything else, including a file that cannot be read, is kindUnknown.
func sniff(path string) fileKind {
	info, err := os.Stat(path)
	if err != nil {
		return kindUnknown
	}
	if info.IsDir() {
		return kindManifest
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".csv", ".ldif":
		return kindManifest
	}
	f, err := os.Open(path)
	if err != nil {
		return kindUnknown
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, sniffLimit+1))
	if err != nil || len(data) > sniffLimit {
		return kindUnknown
	}
	var top map[string]any
	if json.Unmarshal(data, &top) != nil && yaml.Unmarshal(data, &top) != nil {
		return kindUnknown
	}
	has := func(keys ...string) bool {
		for _, k := range keys {
			if _, ok := top[k]; ok {
				return true
			}
		}
		return false
	}
	switch {
	case has("changes", "fingerprints"):
		// A plan, perhaps damaged (no formatVersion): plan.Decode says what is wrong.
		return kindPlan
	case has("formatVersion") && has("objects", "summary") && !has("changes"):
		return kindDrift
	case has("formatVersion") && has("state"):
		return kindSnapshot
	case has("target", "sources", "policy", "apply"):
		return kindConfig
	case has("users", "groups", "servicePrincipals", "workspaces"):
		return kindManifest
	}
	return kindUnknown
}
