package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/snapshot"
	"github.com/scimsync/scimsync/source/manifest"
)

// ExportCmd writes the live state as a snapshot file or as a YAML manifest.
type ExportCmd struct {
	Tuning
	ConfigFlag
	Format     string   `enum:"snapshot,manifest" default:"snapshot" env:"SCIMSYNC_EXPORT_FORMAT" help:"snapshot: the live state with ids, for drift --snapshot and backups; manifest: YAML that declares the account as it is, to adopt it."`
	Out        string   `short:"o" name:"out" placeholder:"FILE" help:"Write to FILE instead of standard output."`
	Workspaces []string `name:"workspace" placeholder:"ID=HOST" help:"Read the assignments and entitlements of this workspace, whose SCIM API is on HOST (repeatable). Default: the workspaces the config's sources declare."`
}

// workspaceHint is the hint given when the workspaces to export cannot be found out.
const workspaceHint = "name the workspaces to export with --workspace ID=HOST, or fix the sources of the config"

// Run reads the live state and writes it.
func (c *ExportCmd) Run(rt *Runtime) error {
	src := Sources{ConfigFlag: c.ConfigFlag}
	file := src.configFile()
	cfg, err := loadConfig(file)
	if err != nil {
		return err
	}
	var workspaces []model.Workspace
	for _, v := range c.Workspaces {
		id, host, _ := strings.Cut(v, "=")
		if host == "" && !cfg.Target.UnifiedHost && cfg.Target.Level != model.LevelWorkspace {
			return &Error{Err: fmt.Errorf("--workspace %s has no host: its entitlements are read through its own SCIM API, on its own URL", id), Hint: workspaceHint}
		}
		workspaces = append(workspaces, model.Workspace{ID: id, Host: host})
	}
	if file != "" && len(workspaces) == 0 {
		_, desired, diags, err := src.Load(rt)
		if err != nil {
			return err
		}
		if diags.HasErrors() {
			for _, d := range diags {
				fmt.Fprintln(rt.IO.Err, d)
			}
			return &Error{Err: fmt.Errorf("read the workspaces the sources of %s declare: %s", file, summary(diags)), Hint: workspaceHint}
		}
		workspaces = desired.Workspaces
	}
	conn, err := connect(rt, cfg, file != "", c.Tuning)
	if err != nil {
		return err
	}
	live, id, err := conn.live(rt, workspaces)
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	var write func(io.Writer) error
	what := "snapshot"
	if c.Format == "manifest" {
		what = "manifest"
		adopt := withoutRefs(live, plan.OutOfScope(live, cfg.Policy, id))
		header := fmt.Sprintf("Exported by scimsync %s from %s at %s.\n"+
			"Built-in groups, the identity of the credentials, protected identities and those\n"+
			"matching policy.scope.ignore are left out. Review it before you commit it.",
			Version(), conn.target, now.Format(time.RFC3339))
		write = func(w io.Writer) error { return manifest.Write(w, adopt, manifest.WriteOptions{Header: header}) }
		live = adopt
	} else {
		snap := &snapshot.Snapshot{ToolVersion: Version(), TakenAt: now, Target: snapshot.Target(conn.target), Identity: id, State: *live}
		write = func(w io.Writer) error { return snapshot.Write(w, snap) }
	}
	if c.Out == "" {
		if err := write(rt.IO.Out); err != nil {
			return fmt.Errorf("write %s: %w", what, err)
		}
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(c.Out), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	if err := writeFileAtomic(rt.Redact, c.Out, write); err != nil {
		return fmt.Errorf("write %s: %w", what, err)
	}
	_, err = fmt.Fprintf(rt.IO.Out, "Exported a %s of %s to %s: %s, %s, %s, %s.\n", what, conn.target, c.Out,
		plural(len(live.Users), "user"), plural(len(live.ServicePrincipals), "service principal"),
		plural(len(live.Groups), "group"), plural(len(live.Workspaces), "workspace"))
	return err
}

// withoutRefs returns a copy of a state without the objects drop names, and without every
// membership, assignment and entitlement that refers to them.
func withoutRefs(s *model.State, drop map[model.Ref]plan.Exclusion) *model.State {
	out := &model.State{}
	keep := func(k model.Kind, key string) bool {
		_, gone := drop[model.Ref{Kind: k, Key: key}]
		return !gone
	}
	keepKeys := func(k model.Kind, keys []string) []string {
		var kept []string
		for _, key := range keys {
			if keep(k, key) {
				kept = append(kept, key)
			}
		}
		return kept
	}
	for _, u := range s.Users {
		if keep(model.KindUser, u.Key()) {
			out.Users = append(out.Users, u)
		}
	}
	for _, p := range s.ServicePrincipals {
		if keep(model.KindServicePrincipal, p.Key()) {
			out.ServicePrincipals = append(out.ServicePrincipals, p)
		}
	}
	for _, g := range s.Groups {
		if !keep(model.KindGroup, g.Key()) {
			continue
		}
		g.Members = model.Members{
			Users:             keepKeys(model.KindUser, g.Members.Users),
			Groups:            keepKeys(model.KindGroup, g.Members.Groups),
			ServicePrincipals: keepKeys(model.KindServicePrincipal, g.Members.ServicePrincipals),
		}
		out.Groups = append(out.Groups, g)
	}
	for _, w := range s.Workspaces {
		nw := model.Workspace{ID: w.ID, Host: w.Host}
		for _, a := range w.Assignments {
			if keep(a.Principal.Kind, a.Principal.Key) {
				nw.Assignments = append(nw.Assignments, a)
			}
		}
		for _, e := range w.Entitlements {
			if keep(e.Principal.Kind, e.Principal.Key) {
				nw.Entitlements = append(nw.Entitlements, e)
			}
		}
		out.Workspaces = append(out.Workspaces, nw)
	}
	return out
}
