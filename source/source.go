// Package source reads the desired state from every source a config names (YAML
// manifests, and the other kinds registered in kinds.go), merges the sources into one
// model.State and checks it: every problem is reported at once, each with the place it
// comes from and a stable rule id.
//
// Merge rules. Objects are keyed by their normalised key: users by lower-cased userName,
// groups by displayName, service principals by applicationId (or displayName when they
// have none), workspaces by id. The same object declared in several places, in one source
// or several, is merged: an attribute set in one declaration only is taken from it; an
// attribute set in several must be equal everywhere, otherwise the conflict is an error
// naming both places; a user's or service principal's active flag must always agree.
// Group members and previous names are unioned, so a group may get its members from
// several sources. A principal's workspace assignment and its entitlements in a workspace
// must agree wherever they are declared. A source that yields no users is an error
// (rule "empty-source") unless it sets allowEmpty, so that a source that read nothing
// never turns into mass removals; Load is the one place that rule is enforced.
//
// Each source kind owns its settings: its reader decodes them from the source's config
// entry with source/read, which reports settings the kind does not read.
//
// Package source imports model, diag, config and its own subpackages (and may import
// schemas); it never depends on plan or scim, which internal/arch checks.
package source

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/manifest"
	"github.com/scimsync/scimsync/source/merge"
	"github.com/scimsync/scimsync/source/read"
)

// ReadFunc reads one source. It decodes the settings of its kind from src (see
// read.Settings), reports every problem it finds as a diagnostic and returns whatever it
// could read; the result's state may be nil when nothing could. ReadFuncs of different
// sources run concurrently.
type ReadFunc func(ctx context.Context, src config.Source) (*read.Result, diag.List)

// Kinds returns the source kinds this build can read, sorted.
func Kinds() []string {
	kinds := make([]string, 0, len(readers))
	for k := range readers {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

// Load reads every source of cfg, and the manifest paths given in extraPaths as one more
// YAML source, concurrently; shapes each (exclude, cycles, scope.groups); merges them in
// order (see the package comment); and checks the result with Check at the config's
// target level. Check runs on whatever could be read, so that every problem is reported
// at once; when a source could not be read whole, the references it may have declared
// are not reported as unknown, since that would only report the consequences. Diagnostics
// are sorted by place. The state is nil only when no source could be read at all.
func Load(ctx context.Context, cfg *config.Config, extraPaths []string) (*model.State, diag.List) {
	s, _, diags := LoadWithSummaries(ctx, cfg, extraPaths)
	return s, diags
}

// LoadWithSummaries is Load that also returns one Summary per source, in the order of
// the sources, for commands to show what each source read and left out.
func LoadWithSummaries(ctx context.Context, cfg *config.Config, extraPaths []string) (*model.State, []Summary, diag.List) {
	sources := slices.Clone(cfg.Sources)
	if len(extraPaths) > 0 {
		sources = append(sources, config.Source{Kind: config.SourceYAML, Paths: extraPaths})
	}
	var diags diag.List
	if len(sources) == 0 {
		diags.Errorf(model.Origin{File: cfg.File}, RuleNoSources, "no sources: give manifest paths, or a config file that lists sources")
		return nil, nil, diags
	}
	type result struct {
		res   *read.Result
		diags diag.List
	}
	results := make([]result, len(sources))
	var wg sync.WaitGroup
	for i, src := range sources {
		readSource, ok := readers[src.Kind]
		if !ok {
			results[i].diags.Errorf(src.Origin, RuleUnknownSourceKind, "unknown source kind %q; this build reads %s",
				src.Kind, strings.Join(Kinds(), ", "))
			continue
		}
		wg.Go(func() {
			res, d := readSource(ctx, src)
			results[i] = result{res, d}
		})
	}
	wg.Wait()
	var states []*model.State
	var summaries []Summary
	for i, r := range results {
		diags = append(diags, r.diags...)
		if r.res == nil || r.res.State == nil {
			continue
		}
		src := sources[i]
		diags = append(diags, shape(src, r.res.State, &r.res.Skipped)...)
		states = append(states, r.res.State)
		diags = append(diags, checkEmpty(src, r.res, r.diags)...)
		summaries = append(summaries, Summary{
			Kind: src.Kind, Origin: src.Origin, Paths: src.Paths,
			Users: len(r.res.State.Users), ServicePrincipals: len(r.res.State.ServicePrincipals),
			Groups: len(r.res.State.Groups), Skipped: r.res.Skipped,
		})
	}
	if len(states) == 0 {
		diags.Sort()
		return nil, summaries, diags
	}
	s, more := merge.States(states...)
	diags = append(diags, more...)
	level := cfg.Target.Level
	if level == "" {
		level = model.LevelAccount
	}
	whole := complete(diags)
	lim := cfg.Policy.Limits
	checks := CheckWithLimits(s, level, lim.PrincipalsOrDefault(), lim.GroupsOrDefault())
	if level == model.LevelAccount && !cfg.Target.UnifiedHost {
		checks = append(checks, CheckWorkspaceHosts(s)...)
	}
	for _, d := range checks {
		if whole || !consequenceRules[d.Rule] {
			diags = append(diags, d)
		}
	}
	diags.Sort()
	return s, summaries, diags
}

// consequenceRules are the rules of Check whose problems may only be consequences of a
// source that could not be read whole: a reference to an identity declared in a file
// that did not parse. They are left out until the sources read cleanly.
var consequenceRules = map[string]bool{
	RuleUnknownReference:   true,
	RuleAmbiguousReference: true,
	RuleNotAssigned:        true,
}

// completeRules are the rules whose errors still leave a complete state: conflicting
// declarations (the first one is kept), unknown groups in membership lists (the
// membership is dropped) and empty sources.
var completeRules = map[string]bool{
	merge.RuleDuplicateUserName:         true,
	merge.RuleDuplicateGroup:            true,
	merge.RuleDuplicateApplicationID:    true,
	merge.RuleDuplicateServicePrincipal: true,
	merge.RuleDuplicateWorkspace:        true,
	merge.RuleDuplicateAssignment:       true,
	merge.RuleDuplicateEntitlements:     true,
	manifest.RuleUnknownReference:       true,
	RuleEmptySource:                     true,
}

// complete reports whether the state read with these diagnostics is complete enough to be
// checked. When a file could not be read or parsed, checking would only report the
// consequences, such as references to the identities it declares.
func complete(diags diag.List) bool {
	for _, d := range diags {
		if d.Severity == diag.SevError && !completeRules[d.Rule] {
			return false
		}
	}
	return true
}

// existing returns the paths of a source declared in a config file that exist, and
// reports each one that does not at the source's place in the config, with the closest
// name in its directory. The paths of a source from the command line are all returned:
// manifest.Files reports them.
func existing(src config.Source) ([]string, diag.List) {
	if src.Origin.IsZero() {
		return src.Paths, nil
	}
	var paths []string
	var diags diag.List
	for _, p := range src.Paths {
		if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
			diags.Errorf(src.Origin, manifest.RuleRead, "source path %s does not exist%s", p, manifest.DidYouMeanPath(p))
			continue
		}
		paths = append(paths, p)
	}
	return paths, diags
}

// checkEmpty is the empty-source guard: a source that yields no users, or a file of it
// that lists none, is an error unless the source allows empty. A source whose reader
// reported errors is not checked, since its emptiness is a consequence of them.
func checkEmpty(src config.Source, res *read.Result, readDiags diag.List) diag.List {
	var diags diag.List
	if src.AllowEmpty || readDiags.HasErrors() {
		return nil
	}
	why := ""
	if len(res.Skipped) > 0 {
		why = fmt.Sprintf(" (skipped: %s)", res.Skipped)
		for _, s := range res.Skipped {
			if s.Reason.Hint != "" {
				why += "; " + s.Reason.Hint
			}
		}
	}
	for _, f := range res.EmptyFiles {
		diags.Errorf(f.At, RuleEmptySource, "the file lists no %s%s; set allowEmpty: true on the source if that is intended", f.What, why)
	}
	if len(res.State.Users) > 0 || len(res.EmptyFiles) > 0 {
		return diags
	}
	if src.Origin.IsZero() {
		diags.Errorf(src.Origin, RuleEmptySource, "the manifests given on the command line (%s) declare no users; a source without users would remove every user",
			strings.Join(src.Paths, ", "))
		return diags
	}
	diags.Errorf(src.Origin, RuleEmptySource, "this %s source yields no users%s; set allowEmpty: true on the source if that is intended", src.Kind, why)
	return diags
}

// readYAML reads a YAML manifest source. The config file itself is skipped when it sits in
// a manifest directory.
func readYAML(ctx context.Context, src config.Source) (*read.Result, diag.List) {
	paths, diags := existing(src)
	files, more := manifest.Files(paths)
	diags = append(diags, more...)
	diags = append(diags, read.Settings(src, &struct{}{})...)
	if src.Origin.File != "" {
		cfgFile, err := filepath.Abs(src.Origin.File)
		if err == nil {
			files = slices.DeleteFunc(files, func(f string) bool {
				abs, err := filepath.Abs(f)
				return err == nil && abs == cfgFile
			})
		}
	}
	s, more := manifest.ReadFiles(ctx, files, read.MaxFileSize(src))
	return &read.Result{State: s}, append(diags, more...)
}
