// Package manifest reads scimsync's native YAML manifests: users, service principals,
// groups and workspaces, validated against schemas/manifest.schema.json. One file, several
// files, or directories of *.yaml and *.yml files are read in a fixed order and merged (see
// package merge) into one normalised model.State in which every object carries the
// file:line:column it was declared at.
//
// Package manifest imports model, diag, schemas and source/merge.
package manifest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/merge"
)

// The rule identifiers of the diagnostics this package reports, besides those of package
// schemas and package merge.
const (
	// RuleRead is a file or directory that cannot be read.
	RuleRead = "read"
	// RuleUnknownReference is a reference to an identity that is not declared.
	RuleUnknownReference = "unknown-reference"
)

// DidYouMeanPath returns a "did you mean" hint for a path that does not exist, naming the
// entry of its directory with the closest name, or "".
func DidYouMeanPath(p string) string {
	dir := filepath.Dir(p)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			names = append(names, e.Name())
		}
	}
	if s := diag.Suggest(filepath.Base(p), names); s != "" {
		return fmt.Sprintf(" (did you mean %s?)", filepath.Join(dir, s))
	}
	return ""
}

// Files lists the manifest files named by paths, in order: a file is taken as it is,
// whatever its name; a directory contributes its *.yaml and *.yml files, recursively, in
// lexical order, skipping files and directories whose names start with a dot. A path that
// cannot be read is reported under rule "read".
func Files(paths []string) ([]string, diag.List) {
	var files []string
	var diags diag.List
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			hint := ""
			if errors.Is(err, fs.ErrNotExist) {
				hint = DidYouMeanPath(p)
			}
			diags.Errorf(model.Origin{File: p}, RuleRead, "read manifests: %v%s", unwrapPath(err), hint)
			continue
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		var found []string
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				diags.Errorf(model.Origin{File: path}, RuleRead, "read manifests: %v", unwrapPath(err))
				return nil
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			if ext := filepath.Ext(path); !d.IsDir() && (ext == ".yaml" || ext == ".yml") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			diags.Errorf(model.Origin{File: p}, RuleRead, "read manifests: %v", err)
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, diags
}

// unwrapPath drops the operation and path of a *fs.PathError, which the diagnostic
// already names.
func unwrapPath(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// Read reads the manifests named by paths (see Files) and merges them.
func Read(ctx context.Context, paths []string) (*model.State, diag.List) {
	files, diags := Files(paths)
	s, more := ReadFiles(ctx, files)
	return s, append(diags, more...)
}

// ReadFiles reads manifest files and merges them into one normalised state. Every problem
// in every file is reported; the state is returned even when there are problems, but it
// is only complete when the list holds no error. It stops early only when ctx is done.
func ReadFiles(ctx context.Context, files []string) (*model.State, diag.List) {
	var diags diag.List
	var docs []*document
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			diags.Errorf(model.Origin{File: f}, RuleRead, "read manifests: %v", err)
			break
		}
		data, err := os.ReadFile(f)
		if err != nil {
			diags.Errorf(model.Origin{File: f}, RuleRead, "read manifest: %v", unwrapPath(err))
			continue
		}
		d, more := parse(data, f)
		diags = append(diags, more...)
		docs = append(docs, d...)
	}
	s, more := combine(docs)
	return s, append(diags, more...)
}

// Parse reads the manifest documents of one file's content; file names it in diagnostics
// and origins.
func Parse(data []byte, file string) (*model.State, diag.List) {
	docs, diags := parse(data, file)
	s, more := combine(docs)
	return s, append(diags, more...)
}

// combine merges decoded documents and folds the memberships users and service
// principals declare (their groups field) into the groups they name.
func combine(docs []*document) (*model.State, diag.List) {
	states := make([]*model.State, len(docs))
	for i, d := range docs {
		states[i] = &d.state
	}
	s, diags := merge.States(states...)
	groups := make(map[string]*model.Group, len(s.Groups))
	for i := range s.Groups {
		groups[s.Groups[i].Key()] = &s.Groups[i]
	}
	for _, d := range docs {
		for _, m := range d.memberships {
			g := groups[m.group]
			if g == nil {
				diags.Errorf(m.at, RuleUnknownReference,
					"%s %q lists group %q, which is not declared in this source%s", kindName(m.member.Kind), m.member.Key, m.group, diag.DidYouMean(m.group, groupNames(s)))
				continue
			}
			g.Members.Add(m.member)
		}
	}
	s.Normalize()
	return s, diags
}

// groupNames returns the names of the groups of s, for "did you mean" hints.
func groupNames(s *model.State) []string {
	names := make([]string, 0, len(s.Groups))
	for _, g := range s.Groups {
		names = append(names, g.DisplayName)
	}
	return names
}

// kindName names a kind of identity for messages.
func kindName(k model.Kind) string {
	switch k {
	case model.KindServicePrincipal:
		return "service principal"
	default:
		return string(k)
	}
}

// membership is a "groups:" entry of a user or service principal, folded into the group
// once every file has been read.
type membership struct {
	group  string    // group key
	member model.Ref // the user or service principal
	at     model.Origin
}

// document is one decoded YAML document.
type document struct {
	state       model.State
	memberships []membership
}
