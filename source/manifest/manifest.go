// Package manifest reads scimsync's native YAML manifests: users, service principals,
// groups and workspaces, validated against schemas/manifest.schema.json. One file, several
// files, or directories of *.yaml and *.yml files are read in a fixed order and merged (see
// package merge) into one normalised model.State in which every object carries the
// file:line:column it was declared at.
//
// Package manifest imports model, diag, schemas, source/read and source/merge.
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
	"github.com/scimsync/scimsync/source/read"
)

// The rule identifiers of the diagnostics this package reports, besides those of package
// schemas and package merge.
const (
	// RuleRead is a file or directory that cannot be read.
	RuleRead = read.RuleRead
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
// lexical order, skipping files and directories whose names start with a dot. Symbolic
// links are followed, to files and to directories alike, so that moving a team's folder
// behind a link never makes its identities vanish; a link that leads back to a directory
// being walked is reported, not followed, and a directory reached twice is read once. A
// path that cannot be read is reported under rule "read".
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
		w := &walker{diags: &diags}
		w.walk(p, info, nil)
		sort.Strings(w.found)
		files = append(files, w.found...)
	}
	return files, diags
}

// walker lists the manifest files under a directory, following symbolic links.
type walker struct {
	found []string
	seen  []fs.FileInfo // directories walked, to read each once
	diags *diag.List
}

// walk lists the files of dir, whose ancestors on the current path are given, so that a
// link back to one of them is a cycle.
func (w *walker) walk(dir string, info fs.FileInfo, ancestors []fs.FileInfo) {
	for _, a := range ancestors {
		if os.SameFile(a, info) {
			w.diags.Errorf(model.Origin{File: dir}, RuleRead,
				"read manifests: %s links back to a directory that contains it; the symbolic link cycle is not followed", dir)
			return
		}
	}
	for _, s := range w.seen {
		if os.SameFile(s, info) {
			return
		}
	}
	w.seen = append(w.seen, info)
	entries, err := os.ReadDir(dir)
	if err != nil {
		w.diags.Errorf(model.Origin{File: dir}, RuleRead, "read manifests: %v", unwrapPath(err))
		return
	}
	ancestors = append(ancestors, info)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			continue
		}
		path := filepath.Join(dir, e.Name())
		isDir := e.IsDir()
		var sub fs.FileInfo
		if e.Type()&fs.ModeSymlink != 0 || isDir {
			st, err := os.Stat(path)
			if err != nil {
				w.diags.Errorf(model.Origin{File: path}, RuleRead, "read manifests: %v", unwrapPath(err))
				continue
			}
			isDir, sub = st.IsDir(), st
		}
		if isDir {
			w.walk(path, sub, ancestors)
			continue
		}
		if ext := filepath.Ext(path); ext == ".yaml" || ext == ".yml" {
			w.found = append(w.found, path)
		}
	}
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
	s, more := ReadFiles(ctx, files, 0)
	return s, append(diags, more...)
}

// ReadFiles reads manifest files and merges them into one normalised state. Every problem
// in every file is reported; the state is returned even when there are problems, but it
// is only complete when the list holds no error. It stops early only when ctx is done.
// Each file must be a regular file of at most limit bytes (see read.File; 0 means
// read.DefaultMaxFileSize): a FIFO, a device or /proc/self/environ is refused, never read.
func ReadFiles(ctx context.Context, files []string, limit int64) (*model.State, diag.List) {
	var diags diag.List
	var docs []*document
	for _, f := range files {
		if err := ctx.Err(); err != nil {
			diags.Errorf(model.Origin{File: f}, RuleRead, "read manifests: %v", err)
			break
		}
		data, err := read.File(f, limit)
		if err != nil {
			rule := RuleRead
			var fe *read.FileError
			if errors.As(err, &fe) {
				rule = fe.Rule
			}
			diags.Errorf(model.Origin{File: f}, rule, "read manifest: %v", err)
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
