package cli

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/render"
	"github.com/scimsync/scimsync/snapshot"
)

// DriftCmd compares the desired state with the live one, read through the API or from a
// snapshot file, and reports what differs.
type DriftCmd struct {
	Sources
	Tuning
	Snapshot string   `name:"snapshot" env:"SCIMSYNC_SNAPSHOT" placeholder:"FILE" help:"Compare with a snapshot file (scimsync export --format snapshot) instead of the live state, without any network access."`
	Format   string   `enum:"text,markdown,json" default:"text" env:"SCIMSYNC_FORMAT" help:"Output format: text, markdown or json."`
	Ignore   []string `name:"ignore" env:"SCIMSYNC_IGNORE" placeholder:"PATTERN" help:"Leave out identities matching this pattern too, as policy.scope.ignore does (repeatable)."`
}

// Run reports the drift; it returns exit status 2 when there is any.
func (c *DriftCmd) Run(rt *Runtime) error {
	cfg, desired, err := c.Sources.loadValid(rt)
	if err != nil {
		return err
	}
	pol := cfg.Policy
	pol.Scope.Ignore = append(slices.Clone(pol.Scope.Ignore), c.Ignore...)
	opts := plan.Options{ToolVersion: Version(), Now: time.Now()}
	var (
		live     *model.State
		source   plan.LiveSource
		warnings []string
	)
	if c.Snapshot != "" {
		snap, err := readSnapshot(c.Snapshot)
		if err != nil {
			return err
		}
		if c.Sources.configFile() != "" && snap.Target.Level != cfg.Target.Level {
			return &Error{
				Err:  fmt.Errorf("%s is a snapshot of %s level, the config targets %s level", c.Snapshot, snap.Target.Level, cfg.Target.Level),
				Hint: "export a snapshot of the config's target with: scimsync export --format snapshot -o FILE",
			}
		}
		live, warnings = &snap.State, restrictWorkspaces(desired, &snap.State, c.Snapshot)
		opts.Target = plan.TargetID(snap.Target)
		opts.Identity = snap.Identity
		taken := snap.TakenAt
		source = plan.LiveSource{Kind: plan.LiveSnapshot, File: c.Snapshot, TakenAt: &taken}
	} else {
		conn, err := connect(rt, cfg, c.Sources.configFile() != "", c.Tuning)
		if err != nil {
			return err
		}
		if live, opts.Identity, err = conn.live(rt, desired.Workspaces); err != nil {
			return err
		}
		opts.Target = conn.target
		source = plan.LiveSource{Kind: plan.LiveAPI}
	}
	r := plan.Drift(desired, live, pol, opts)
	r.Live = source
	r.Warnings = append(warnings, r.Warnings...)
	if err := writeDrift(rt, r, c.Format); err != nil {
		return err
	}
	if r.Summary.Drift {
		return exitStatus(ExitChanges)
	}
	return nil
}

// writeDrift renders a drift report to Out in the format asked for.
func writeDrift(rt *Runtime, r *plan.DriftReport, format string) error {
	var err error
	switch format {
	case "json":
		err = plan.EncodeDrift(rt.IO.Out, r)
	case "markdown":
		err = render.DriftMarkdown(rt.IO.Out, r, render.MarkdownOptions{})
	default:
		err = render.DriftText(rt.IO.Out, r, render.Options{Color: rt.Color()})
	}
	if err != nil {
		return fmt.Errorf("write drift report: %w", err)
	}
	return nil
}

func readSnapshot(path string) (*snapshot.Snapshot, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("read snapshot: %w", err), Hint: "write one with: scimsync export --format snapshot -o " + path}
	}
	defer f.Close()
	s, err := snapshot.Read(f)
	if err != nil {
		var hint string
		if errors.Is(err, snapshot.ErrVersion) {
			hint = "export the snapshot again with this version of scimsync"
		}
		return nil, &Error{Err: fmt.Errorf("%s: %w", path, err), Hint: hint}
	}
	return s, nil
}

// restrictWorkspaces drops the declared workspaces a snapshot did not read, so that their
// assignments are not reported as missing, and returns a warning for each.
func restrictWorkspaces(desired, live *model.State, file string) []string {
	read := map[string]bool{}
	for _, w := range live.Workspaces {
		read[w.ID] = true
	}
	var warnings []string
	desired.Workspaces = slices.DeleteFunc(desired.Workspaces, func(w model.Workspace) bool {
		if read[w.ID] {
			return false
		}
		warnings = append(warnings, fmt.Sprintf("workspace %s is declared, but %s has no data of it: its assignments and entitlements are not compared", w.ID, file))
		return true
	})
	return warnings
}
