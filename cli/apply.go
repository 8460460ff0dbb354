package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/scimsync/scimsync/audit"
	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/render"
)

// ApplyCmd carries out a reviewed plan file, or with --auto-approve plans and applies in
// one step.
type ApplyCmd struct {
	Tuning
	Args             []string `arg:"" optional:"" name:"plan-or-paths" help:"The plan file to apply; with --auto-approve, manifest files or directories instead."`
	Config           string   `short:"c" name:"config" env:"SCIMSYNC_CONFIG" placeholder:"FILE" help:"Config file: the target and apply settings (and with --auto-approve the sources). Default: ./scimsync.yaml when it exists."`
	AutoApprove      bool     `name:"auto-approve" help:"Plan and apply in one step, without a reviewed plan file."`
	AllowMassRemoval bool     `name:"allow-mass-removal" env:"SCIMSYNC_ALLOW_MASS_REMOVAL" help:"With --auto-approve, override the removal guards."`
	AuditLog         string   `name:"audit-log" env:"SCIMSYNC_AUDIT_LOG" placeholder:"FILE" help:"Append one JSON line per change (time, change, requests, status, attempts, duration) to FILE."`
	BatchSize        int      `name:"batch-size" env:"SCIMSYNC_BATCH_SIZE" placeholder:"N" help:"Most members added or removed in one PATCH (default 100)."`
}

// errNoPlan is returned by apply without a plan file and without --auto-approve.
var errNoPlan = &Error{
	Err:  errors.New("apply needs a plan file, or --auto-approve to plan and apply in one step"),
	Hint: "make a plan with 'scimsync plan -o plan.json', review it, then run 'scimsync apply plan.json'",
}

// Run applies the plan and reports the outcome; it returns an error when any change failed.
func (c *ApplyCmd) Run(rt *Runtime) error {
	src := Sources{Config: c.Config}
	if c.AutoApprove {
		src.Paths = c.Args
	} else if len(c.Args) != 1 {
		return errNoPlan
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
	p, err := planWith(rt, conn, cfg, desired, c.AllowMassRemoval)
	if err != nil {
		var guard *plan.GuardError
		if errors.As(err, &guard) {
			_ = render.Text(rt.IO.Out, p, render.Options{Color: rt.Color()})
		}
		return nil, err
	}
	return &planned{conn: conn, cfg: cfg, plan: p}, nil
}

// execute prints and runs a plan. check says whether it comes from a file and must first be
// verified against the target and the live state.
func (c *ApplyCmd) execute(rt *Runtime, conn *connection, cfg *config.Config, p *plan.Plan, check bool) error {
	if check {
		if err := plan.Verify(rt.Ctx, p, conn.client, conn.target); err != nil {
			return err
		}
	}
	if err := render.Text(rt.IO.Out, p, render.Options{Color: rt.Color()}); err != nil {
		return err
	}
	if p.Empty() {
		return nil
	}
	var log *audit.Log
	if c.AuditLog != "" {
		f, err := os.OpenFile(c.AuditLog, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("open audit log: %w", err)
		}
		defer f.Close()
		log = audit.NewLog(rt.Redact.Writer(f))
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
	opts := plan.ApplyOptions{
		Target:      conn.target,
		BatchSize:   batch,
		Concurrency: conc,
		Stop:        rt.Stop,
		Audit:       log,
		Progress:    bar.update,
		Logger:      rt.Log,
	}
	fmt.Fprintln(rt.IO.Out)
	start := time.Now()
	res := plan.Execute(rt.Ctx, p, conn.client, opts)
	bar.done()
	if err := render.ApplyText(rt.IO.Out, res, render.Options{Color: rt.Color()}); err != nil {
		return err
	}
	stats := conn.client.Stats()
	rt.Log.Info("apply finished", "duration", time.Since(start).Round(time.Millisecond), "requests", stats.Total(), "retries", stats.Retries, "throttled", stats.Throttled)
	if err := log.Err(); err != nil {
		return err
	}
	return res.Err()
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
