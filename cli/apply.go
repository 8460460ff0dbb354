package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/scimsync/scimsync/audit"
	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/render"
	"github.com/scimsync/scimsync/scim"
)

// ApplyCmd carries out a reviewed plan file, or with --auto-approve plans and applies in
// one step.
type ApplyCmd struct {
	Tuning
	ConfigFlag
	Args              []string `arg:"" optional:"" name:"plan-or-paths" help:"The plan file to apply; with --auto-approve, manifest files or directories instead."`
	AutoApprove       bool     `name:"auto-approve" help:"Plan and apply in one step, without a reviewed plan file."`
	AllowMassRemoval  bool     `name:"allow-mass-removal" env:"SCIMSYNC_ALLOW_MASS_REMOVAL" help:"Override the removal guards: with --auto-approve for the plan made, and for a saved plan, whose removals apply counts again against the config's guards whatever the file says."`
	AllowAdminRemoval bool     `name:"allow-admin-removal" help:"Override the admin guard: with --auto-approve for the plan made, and for a saved plan, which apply checks again against the live state. Lets a plan deactivate or delete account admins, or leave fewer admins than policy.guards.minAdmins."`
	Format            string   `enum:"text,json" default:"text" help:"Output format: text (the plan, then the outcome) or json (the outcome only: counts and the changes that failed)."`
	AuditLog          string   `name:"audit-log" env:"SCIMSYNC_AUDIT_LOG" placeholder:"FILE" help:"Append one JSON line per change (time, change, requests, status, attempts, duration) to FILE."`
	BatchSize         int      `name:"batch-size" env:"SCIMSYNC_BATCH_SIZE" placeholder:"N" help:"Most members added or removed in one PATCH (default 100)."`
	Refresh           bool     `name:"refresh" help:"Before applying a plan file, re-read the whole live state instead of only the objects the plan touches."`
}

// errNoPlan is returned by apply without a plan file and without --auto-approve.
var errNoPlan = &Error{
	Err:  errors.New("apply needs a plan file, or --auto-approve to plan and apply in one step"),
	Hint: "make a plan with 'scimsync plan -o plan.json', review it, then run 'scimsync apply plan.json'",
}

// Run applies the plan and reports the outcome; it returns an error when any change failed.
func (c *ApplyCmd) Run(rt *Runtime) error {
	if err := c.checkArgs(); err != nil {
		return err
	}
	src := Sources{ConfigFlag: c.ConfigFlag}
	if c.AutoApprove {
		src.Paths = c.Args
	}
	file := src.configFile()
	if c.AutoApprove {
		pl, err := c.autoPlan(rt, &src)
		if err != nil {
			return err
		}
		return c.execute(rt, pl.conn, pl.cfg, pl.plan, false)
	}
	p, err := readPlan(c.Args[0])
	if err != nil {
		return err
	}
	cfg, err := loadConfig(file)
	if err != nil {
		return err
	}
	conn, err := connect(rt, cfg, file != "", c.Tuning)
	if err != nil {
		return err
	}
	return c.execute(rt, conn, cfg, p, true)
}

type planned struct {
	conn *connection
	cfg  *config.Config
	plan *plan.Plan
}

func (c *ApplyCmd) autoPlan(rt *Runtime, src *Sources) (*planned, error) {
	cfg, desired, diags, err := src.Load(rt)
	if err != nil {
		return nil, err
	}
	if diags.HasErrors() {
		return nil, diags.Err()
	}
	conn, err := connect(rt, cfg, src.configFile() != "", c.Tuning)
	if err != nil {
		return nil, err
	}
	p, err := planWith(rt, conn, cfg, desired, guardOverrides{c.AllowMassRemoval, c.AllowAdminRemoval})
	if err != nil {
		var guard *plan.GuardError
		var adminGuard *plan.AdminGuardError
		if (errors.As(err, &guard) || errors.As(err, &adminGuard)) && c.Format != "json" {
			_ = render.Text(rt.IO.Out, p, render.Options{Color: rt.Color()})
		}
		return nil, err
	}
	return &planned{conn: conn, cfg: cfg, plan: p}, nil
}

// checkArgs refuses arguments that cannot be what the user meant: a saved plan with
// --allow-mass-removal, several plan files, manifests without --auto-approve and a plan
// file with it.
func (c *ApplyCmd) checkArgs() error {
	if c.AutoApprove {
		for _, a := range c.Args {
			if sniff(a) == kindPlan {
				return &Error{
					Err:  fmt.Errorf("%s is a plan file; with --auto-approve, apply plans from manifests and takes no plan file", a),
					Hint: "apply the reviewed plan with: scimsync apply " + a,
				}
			}
		}
		return nil
	}
	if len(c.Args) == 0 {
		return errNoPlan
	}
	if len(c.Args) > 1 {
		for _, a := range c.Args {
			if kind := sniff(a); kind != kindPlan && kind != kindUnknown {
				return notAPlan(a, kind)
			}
		}
		return &Error{
			Err:  fmt.Errorf("apply takes one plan file, got %d arguments", len(c.Args)),
			Hint: "apply the plans one at a time, each made from the state the previous one left: scimsync plan -o plan.json, then scimsync apply plan.json",
		}
	}
	return nil
}

// notAPlan is the error for a file given to apply that is something else.
func notAPlan(path string, kind fileKind) error {
	switch kind {
	case kindManifest:
		return &Error{
			Err:  fmt.Errorf("%s is a manifest, not a plan file", path),
			Hint: "make a plan from it with 'scimsync plan " + path + " -o plan.json' and apply that, or plan and apply in one step with 'scimsync apply --auto-approve " + path + "'",
		}
	case kindConfig:
		return &Error{
			Err:  fmt.Errorf("%s is a config file, not a plan file", path),
			Hint: "pass a config with -c: scimsync plan -c " + path + " -o plan.json, then scimsync apply -c " + path + " plan.json",
		}
	default:
		return &Error{
			Err:  fmt.Errorf("%s is a %s, not a plan file", path, kind),
			Hint: "make a plan with 'scimsync plan -o plan.json', review it, then run 'scimsync apply plan.json'",
		}
	}
}

// execute prints and runs a plan. check says whether it comes from a file and must first be
// verified against the target and the live state.
func (c *ApplyCmd) execute(rt *Runtime, conn *connection, cfg *config.Config, p *plan.Plan, check bool) error {
	if check {
		// The plan file's policy, protected list and guard override are claims anyone who
		// can write the file can make; the config, the credentials' identity and this
		// command's own flag are not.
		id, err := conn.identity(rt)
		if err != nil {
			return err
		}
		rc := plan.Recheck{Policy: cfg.Policy, Identity: id, AllowMassRemoval: c.AllowMassRemoval, AllowAdminRemoval: c.AllowAdminRemoval, Refresh: c.Refresh}
		stop := rt.watchRead("checking the plan against the live state", conn.client)
		// The credentials may not be those the plan was made with: they are checked
		// (scim.Preflight) when VerifyWith first reads, after its offline checks.
		err = plan.VerifyWith(rt.Ctx, p, preflighted{conn.client}, conn.target, rc)
		stop()
		if err != nil {
			return err
		}
	}
	switch {
	case c.Format == "json":
	case check && !p.Empty():
		// The plan was reviewed already (and the demo has just shown it): say what is
		// applied in one line, as terraform apply PLANFILE does; scimsync show prints it.
		fmt.Fprintf(rt.IO.Out, "Applying %s: %s\n", c.Args[0], strings.TrimPrefix(render.SummaryLine(p), "Plan: "))
	default:
		if err := render.Text(rt.IO.Out, p, render.Options{Color: rt.Color()}); err != nil {
			return err
		}
	}
	if p.Empty() {
		if c.Format == "json" {
			return writeApplyJSON(rt.IO.Out, &plan.Result{})
		}
		return nil
	}
	var log *audit.Log
	if c.AuditLog != "" {
		f, err := os.OpenFile(c.AuditLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("open audit log: %w", err)
		}
		defer f.Close()
		src := audit.CISource(rt.IO.Getenv)
		if check {
			src.Plan = p.Checksum
		}
		log = audit.NewLog(rt.Redact.Writer(f)).WithSource(src)
	}
	batch := cfg.Apply.BatchSize
	if c.BatchSize > 0 {
		batch = c.BatchSize
	}
	conc := cfg.Apply.Concurrency
	if c.Concurrency > 0 {
		conc = c.Concurrency
	}
	rt.softStop.Store(true)
	bar := newProgress(rt.IO.Err, rt.IO.ErrIsTerminal, time.Now)
	update, stopProgress := rt.watchApply(conn.client, bar)
	opts := plan.ApplyOptions{
		Target:      conn.target,
		BatchSize:   batch,
		Concurrency: conc,
		Stop:        rt.Stop,
		Audit:       log,
		Progress:    update,
		Logger:      rt.Log,
	}
	if c.Format != "json" && !check {
		fmt.Fprintln(rt.IO.Out)
	}
	start := time.Now()
	res := plan.Execute(rt.Ctx, p, conn.client, opts)
	stopProgress()
	bar.done()
	if c.Format == "json" {
		if err := writeApplyJSON(rt.IO.Out, res); err != nil {
			return err
		}
	} else if err := render.ApplyText(rt.IO.Out, res, render.Options{Color: rt.Color()}); err != nil {
		return err
	}
	stats := conn.client.Stats()
	rt.Log.Info("apply finished", "duration", time.Since(start).Round(time.Millisecond), "requests", stats.Total(), "retries", stats.Retries, "throttled", stats.Throttled)
	if err := log.Err(); err != nil {
		return err
	}
	return res.Err()
}

// applyReport is the JSON form of apply's outcome (apply --format json).
type applyReport struct {
	// Complete is true when every change was applied.
	Complete bool `json:"complete"`
	Total    int  `json:"total"`
	Applied  int  `json:"applied"`
	Failed   int  `json:"failed"`
	Skipped  int  `json:"skipped"`
	NotRun   int  `json:"notRun"`
	// Stopped is true when an interrupt stopped apply.
	Stopped bool `json:"stopped"`
	// Summary is the last line of the text output: "Apply complete: 4 of 4 changes applied."
	Summary string `json:"summary"`
	// Failures are the changes that failed or were skipped, in plan order.
	Failures []applyFailure `json:"failures"`
}

// applyFailure is one change that failed, or was skipped because one it needs failed.
type applyFailure struct {
	// Index is the change's position in the plan's changes, from 0.
	Index  int         `json:"index"`
	Change string      `json:"change"`
	Status plan.Status `json:"status"`
	Error  string      `json:"error"`
}

func writeApplyJSON(w io.Writer, r *plan.Result) error {
	rep := applyReport{
		Complete: r.OK == len(r.Changes), Total: len(r.Changes), Applied: r.OK,
		Failed: r.Failed, Skipped: r.Skipped, NotRun: r.NotRun, Stopped: r.Stopped,
		Failures: []applyFailure{},
	}
	rep.Summary = applySummary(r)
	if len(r.Changes) == 0 {
		rep.Summary = "No changes. The live state matches the desired state."
	}
	for _, cr := range r.Changes {
		if cr.Status == plan.StatusFailed || cr.Status == plan.StatusSkipped {
			msg := ""
			if cr.Err != nil {
				msg = cr.Err.Error()
			}
			rep.Failures = append(rep.Failures, applyFailure{Index: cr.Index, Change: render.Headline(cr.Change), Status: cr.Status, Error: msg})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		return fmt.Errorf("write apply result: %w", err)
	}
	return nil
}

// applySummary is the outcome of apply in one line, as its text output ends.
func applySummary(r *plan.Result) string {
	switch {
	case len(r.Changes) == 0:
		return "No changes. The live state matches the desired state."
	case r.OK == len(r.Changes):
		return fmt.Sprintf("Apply complete: %d of %d changes applied.", r.OK, len(r.Changes))
	}
	var parts []string
	for _, p := range []struct {
		n    int
		what string
	}{{r.OK, "ok"}, {r.Failed, "failed"}, {r.Skipped, "skipped"}, {r.NotRun, "not run"}} {
		if p.n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
		}
	}
	line := "Apply incomplete: " + strings.Join(parts, ", ") + "."
	if r.Stopped {
		line += " Stopped by interrupt."
	}
	return line
}

// progress draws a progress bar with an ETA on a terminal, and nothing elsewhere.
type progress struct {
	w     io.Writer
	on    bool
	now   func() time.Time
	start time.Time
	drawn bool
}

func newProgress(w io.Writer, terminal bool, now func() time.Time) *progress {
	return &progress{w: w, on: terminal, now: now, start: now()}
}

func (p *progress) update(done, total int) {
	if !p.on || total == 0 {
		return
	}
	const width = 30
	filled := done * width / total
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '-'
		if i < filled {
			bar[i] = '#'
		}
	}
	eta := "?"
	if elapsed := p.now().Sub(p.start); done > 0 {
		eta = (elapsed * time.Duration(total-done) / time.Duration(done)).Round(time.Second).String()
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d changes, ETA %s   ", bar, done, total, eta)
	p.drawn = true
}

func (p *progress) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}

// preflighted is a client whose Snapshot first checks that the credentials can do what the
// workspaces need (scim.Preflight), so that apply fails before any write.
type preflighted struct{ *scim.Client }

// Snapshot runs the preflight checks, then reads the live state.
func (p preflighted) Snapshot(ctx context.Context, workspaces []model.Workspace) (*model.State, error) {
	if err := p.Preflight(ctx, workspaces); err != nil {
		return nil, err
	}
	return p.Client.Snapshot(ctx, workspaces)
}

// ReadObjects runs the preflight checks, then reads the objects refs name.
func (p preflighted) ReadObjects(ctx context.Context, refs []model.Ref, ids map[model.Ref]string) (*model.State, error) {
	if err := p.Preflight(ctx, nil); err != nil {
		return nil, err
	}
	return p.Client.ReadObjects(ctx, refs, ids)
}
