package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/scimsync/scimsync/audit"
	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/redact"
	"github.com/scimsync/scimsync/render"
	"github.com/scimsync/scimsync/source"
)

// PlanCmd compares the desired state with the live one and writes and prints the plan.
type PlanCmd struct {
	Sources
	Tuning
	Out               string `short:"o" name:"out" placeholder:"FILE" help:"Write the plan file here, for review and for apply."`
	Format            string `enum:"text,markdown,json" default:"text" env:"SCIMSYNC_FORMAT" help:"Output format: text, markdown or json."`
	DetailedExitcode  bool   `name:"detailed-exitcode" help:"Exit 0 when the live state matches, 2 when there are changes or blocked differences, 1 on error."`
	AllowMassRemoval  bool   `name:"allow-mass-removal" env:"SCIMSYNC_ALLOW_MASS_REMOVAL" help:"Override the removal guards of the policy for this plan."`
	AllowAdminRemoval bool   `name:"allow-admin-removal" help:"Override the admin guard for this plan: let it deactivate or delete account admins, or leave fewer admins than policy.guards.minAdmins."`
	Snapshot          string `name:"snapshot" placeholder:"FILE" help:"Plan offline against a snapshot file (scimsync export --format snapshot) instead of reading the account: no API call. apply checks such a plan against the account."`
}

// guardOverrides are the guard overrides of one command.
type guardOverrides struct{ mass, admin bool }

// Run reads the sources and the live state, plans, writes the plan file and prints it.
func (c *PlanCmd) Run(rt *Runtime) error {
	var (
		p   *plan.Plan
		err error
	)
	over := guardOverrides{c.AllowMassRemoval, c.AllowAdminRemoval}
	if c.Snapshot != "" {
		p, err = planSnapshot(rt, &c.Sources, c.Snapshot, over)
	} else {
		p, err = makePlan(rt, &c.Sources, c.Tuning, over)
	}
	var guard *plan.GuardError
	var adminGuard *plan.AdminGuardError
	if errors.As(err, &guard) || errors.As(err, &adminGuard) {
		// Show what the guard refused, but write no plan file that could be applied.
		if werr := writePlan(rt, rt.IO.Out, p, c.Format, ""); werr != nil {
			return werr
		}
		return err
	}
	if err != nil {
		return err
	}
	if c.Out != "" {
		if err := writeFileAtomic(rt.Redact, c.Out, func(w io.Writer) error { return plan.Encode(w, p) }); err != nil {
			return fmt.Errorf("write plan file: %w", err)
		}
	}
	if err := writePlan(rt, rt.IO.Out, p, c.Format, c.Out); err != nil {
		return err
	}
	if c.Out != "" && c.Format == "text" && !p.Empty() {
		fmt.Fprintf(rt.IO.Out, "\nSaved the plan to %s. Apply it with: scimsync apply %s\n", c.Out, c.Out)
	}
	if c.DetailedExitcode && !p.Settled() {
		// Blocked differences count: the live state does not match, as drift says too.
		return exitStatus(ExitChanges)
	}
	return nil
}

// makePlan loads the desired state, reads the live one and plans. It returns the plan with a
// *plan.GuardError when the guards refuse it.
func makePlan(rt *Runtime, src *Sources, t Tuning, override guardOverrides) (*plan.Plan, error) {
	cfg, desired, summaries, err := src.loadValidSummaries(rt)
	if err != nil {
		return nil, err
	}
	for _, line := range configSummaries(summaries) {
		fmt.Fprintln(rt.IO.Err, line)
	}
	conn, err := connect(rt, cfg, src.configFile() != "", t)
	if err != nil {
		return nil, err
	}
	return planWith(rt, conn, cfg, desired, override)
}

func planWith(rt *Runtime, conn *connection, cfg *config.Config, desired *model.State, override guardOverrides) (*plan.Plan, error) {
	live, id, err := conn.live(rt, desired.Workspaces)
	if err != nil {
		return nil, err
	}
	return diff(desired, live, cfg, plan.Options{
		Target:            conn.target,
		Identity:          id,
		AuthType:          conn.client.Auth().AuthType,
		IdentityUnknown:   id == nil,
		OverrideGuards:    override.mass,
		AllowAdminRemoval: override.admin,
	})
}

// planSnapshot loads the desired state and plans it against a snapshot file, offline: the
// plan is for the snapshot's target, protects the snapshot's identity, and records where
// its live state came from.
func planSnapshot(rt *Runtime, src *Sources, file string, override guardOverrides) (*plan.Plan, error) {
	cfg, desired, err := src.loadValid(rt)
	if err != nil {
		return nil, err
	}
	snap, err := readSnapshot(file)
	if err != nil {
		return nil, err
	}
	if src.configFile() != "" && snap.Target.Level != cfg.Target.Level {
		return nil, &Error{
			Err:  fmt.Errorf("%s is a snapshot of %s level, the config targets %s level", file, snap.Target.Level, cfg.Target.Level),
			Hint: "export a snapshot of the config's target with: scimsync export --format snapshot -o FILE",
		}
	}
	warnings := restrictWorkspaces(desired, &snap.State, file)
	p, err := diff(desired, &snap.State, cfg, plan.Options{
		Target:            plan.TargetID(snap.Target),
		Identity:          snap.Identity,
		IdentityUnknown:   snap.Identity == nil,
		OverrideGuards:    override.mass,
		AllowAdminRemoval: override.admin,
	})
	if p != nil {
		taken := snap.TakenAt
		p.Live = &plan.LiveSource{Kind: plan.LiveSnapshot, File: filepath.Base(file), TakenAt: &taken}
		p.Warnings = append(warnings, p.Warnings...)
	}
	return p, err
}

// diff plans desired over live with the config's policy.
func diff(desired, live *model.State, cfg *config.Config, opts plan.Options) (*plan.Plan, error) {
	opts.ToolVersion, opts.Now = Version(), time.Now()
	p, err := plan.Diff(desired, live, cfg.Policy, opts)
	if p != nil {
		// Names that mix look-alike scripts are valid, but a reviewer must see them.
		p.Warnings = append(p.Warnings, source.LookAlikes(desired)...)
	}
	return p, err
}

// writePlan renders a plan in the format asked for.
func writePlan(rt *Runtime, w io.Writer, p *plan.Plan, format, file string) error {
	var err error
	switch format {
	case "json":
		// For people and tools reading the output; plan -o writes the compact file.
		err = plan.EncodeIndent(w, p)
	case "markdown":
		err = render.Markdown(w, p, render.MarkdownOptions{FullPlan: fullPlan(rt, file)})
	default:
		err = render.Text(w, p, render.Options{Color: rt.Color()})
	}
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// fullPlan says where a Markdown plan that had to be cut is to be read in full: the plan
// file, and in CI the run that keeps it as an artifact (the action's plan-file output,
// uploaded with actions/upload-artifact, as the example workflows do; the run's page lists
// its artifacts). It is "" without a plan file.
func fullPlan(rt *Runtime, file string) string {
	if file == "" {
		return ""
	}
	full := "`" + filepath.Base(file) + "`"
	if run := audit.CISource(rt.IO.Getenv).RunURL; run != "" {
		if name := rt.IO.Getenv("SCIMSYNC_PLAN_ARTIFACT"); name != "" {
			full += fmt.Sprintf(", in the artifact `%s`", strings.ReplaceAll(name, "`", "'"))
		}
		full += fmt.Sprintf(" of [the workflow run](%s#artifacts)", run)
	}
	return full
}

// writeFileAtomic writes a file through a temporary file in the same directory and a
// rename, so that readers never see half a file. The file is readable by its owner only:
// plans name every identity of an account. What write produces is checked by the
// redactor first, and a file that holds a credential is not written at all: redacting it
// would break a plan's checksum, and a snapshot or manifest with a token in it is a leak
// waiting to be committed.
//
// The content is ready before the temporary file is made, so it lives for one write, a
// sync and a rename. A process killed in that moment (SIGKILL cannot be caught) leaves a
// hidden file whose name ends in tempSuffix, which the next write of the same file
// removes once it is older than staleTemp.
func writeFileAtomic(red *redact.Redactor, path string, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return err
	}
	if red.String(buf.String()) != buf.String() {
		return errors.New("refusing to write it: it holds a credential or a string shaped like one (a token, a client secret or an Authorization header)")
	}
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+"."
	f, err := os.CreateTemp(dir, prefix+"*"+tempSuffix)
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	removeStaleTemps(dir, prefix, time.Now())
	return nil
}

// tempSuffix ends the name of every temporary file writeFileAtomic makes: a file named
// .plan.json.123456.scimsync-tmp is always safe to delete.
const tempSuffix = ".scimsync-tmp"

// staleTemp is the age after which a temporary file is taken as left by a killed run; a
// live one exists for milliseconds.
const staleTemp = time.Minute

// removeStaleTemps removes the temporary files of earlier writes of the same file that
// a killed process left behind. Errors are ignored: the files are disposable.
func removeStaleTemps(dir, prefix string, now time.Time) {
	matches, _ := filepath.Glob(filepath.Join(dir, globEscape(prefix)+"*"+tempSuffix))
	for _, m := range matches {
		if info, err := os.Lstat(m); err == nil && info.Mode().IsRegular() && now.Sub(info.ModTime()) > staleTemp {
			os.Remove(m)
		}
	}
}

// globEscape escapes the characters filepath.Glob treats as pattern syntax.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`).Replace(s)
}

// ShowCmd prints a saved plan.
type ShowCmd struct {
	Plan   string `arg:"" name:"plan" help:"Plan file written by scimsync plan -o."`
	Format string `enum:"text,markdown,json" default:"text" env:"SCIMSYNC_FORMAT" help:"Output format: text, markdown or json."`
}

// Run reads, checks and prints the plan file.
func (c *ShowCmd) Run(rt *Runtime) error {
	p, err := readPlan(c.Plan)
	if err != nil {
		return err
	}
	return writePlan(rt, rt.IO.Out, p, c.Format, c.Plan)
}

func readPlan(path string) (*plan.Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("read plan: %w", err), Hint: "make a plan with: scimsync plan -o " + path}
	}
	defer f.Close()
	p, err := plan.Decode(f)
	if err != nil {
		// A file that is not a plan at all is named for what it is: a config, a manifest,
		// a snapshot or a drift report given where a plan belongs.
		if kind := sniff(path); kind != kindPlan && kind != kindUnknown {
			return nil, notAPlan(path, kind)
		}
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}
