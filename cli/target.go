package cli

import (
	"fmt"
	"log/slog"
	"time"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
)

// Tuning are the request settings every command that talks to Databricks shares. A flag
// wins over the config file's apply section.
type Tuning struct {
	RateLimit   float64 `name:"rate-limit" env:"SCIMSYNC_RATE_LIMIT" placeholder:"N" help:"Requests per second to Databricks (default 25, the SCIM API's limit)."`
	Concurrency int     `name:"concurrency" env:"SCIMSYNC_CONCURRENCY" placeholder:"N" help:"Most requests in flight at once (default 8)."`
}

// Bounds of the tuning flags, the same as the config file's (schemas/config.schema.json):
// below one request per second an apply crawls for days, and more than 64 requests in
// flight only meet Databricks' concurrency limit (reference §5.3).
const (
	minRateLimit   = 1
	maxRateLimit   = 10000
	maxConcurrency = 64
)

// check refuses flag values outside the bounds; 0 means the flag was not given.
func (t Tuning) check() error {
	if t.RateLimit != 0 && (t.RateLimit < minRateLimit || t.RateLimit > maxRateLimit) {
		return &Error{Err: fmt.Errorf("--rate-limit %g is outside %d to %d requests per second", t.RateLimit, minRateLimit, maxRateLimit),
			Hint: "leave it out for the default of 25, the SCIM API's limit"}
	}
	if t.Concurrency < 0 || t.Concurrency > maxConcurrency {
		return &Error{Err: fmt.Errorf("--concurrency %d is outside 1 to %d", t.Concurrency, maxConcurrency),
			Hint: "leave it out for the default of 8"}
	}
	return nil
}

// connection is a client for the target with the identity it plan and apply use.
type connection struct {
	client *scim.Client
	target plan.TargetID
}

// connect builds a SCIM client for the config's target. Values the config leaves empty
// come from the DATABRICKS_* environment variables and ~/.databrickscfg, as in every
// Databricks tool. explicitLevel is false when no config file set the level, so that it is
// detected from the host.
func connect(rt *Runtime, cfg *config.Config, explicitLevel bool, t Tuning) (*connection, error) {
	set := auth.Settings{
		Host:        cfg.Target.Host,
		AccountID:   cfg.Target.AccountID,
		WorkspaceID: cfg.Target.WorkspaceID,
		Profile:     cfg.Target.Profile,
		AuthType:    cfg.Target.AuthType,
	}
	if rt.Profile != "" {
		set.Profile = rt.Profile
	}
	if explicitLevel {
		set.Level = cfg.Target.Level
	}
	if err := t.check(); err != nil {
		return nil, err
	}
	rate := cfg.Apply.RateLimit
	if t.RateLimit > 0 {
		rate = t.RateLimit
	}
	conc := cfg.Apply.Concurrency
	if t.Concurrency > 0 {
		conc = t.Concurrency
	}
	overrides, err := hostOverrides(rt, cfg)
	if err != nil {
		return nil, err
	}
	c, err := scim.New(scim.Config{
		Auth:           set,
		HostOverrides:  overrides,
		UnifiedHost:    cfg.Target.UnifiedHost,
		Env:            auth.Env{Getenv: rt.IO.Getenv, HomeDir: rt.IO.Getenv("HOME")},
		RateLimit:      rate,
		WriteRateLimit: cfg.Apply.WriteRateLimit,
		VerbRateLimits: cfg.Apply.RateLimits,
		MaxInFlight:    conc,
		Timeout:        cfg.Apply.Timeout,
		Logger:         rt.Log,
		Redactor:       rt.Redact,
	})
	if err != nil {
		return nil, fmt.Errorf("connect to Databricks: %w", err)
	}
	a := c.Auth()
	rt.Log.Info("connect", "host", a.Host, "level", a.Level, "auth_type", a.AuthType)
	rt.Log.Debug("target", slog.Any("config", a))
	return &connection{client: c, target: plan.TargetID{Level: a.Level, Host: a.Host, AccountID: a.AccountID, WorkspaceID: a.WorkspaceID}}, nil
}

// hostOverrides merges target.hostOverrides with SCIMSYNC_HOST_OVERRIDES; the variable
// wins for a host both name.
func hostOverrides(rt *Runtime, cfg *config.Config) (map[string]string, error) {
	out := map[string]string{}
	for k, v := range cfg.Target.HostOverrides {
		out[k] = v
	}
	env, err := scim.ParseHostOverrides(rt.IO.Getenv(scim.EnvHostOverrides))
	if err != nil {
		return nil, &Error{Err: err, Hint: "write it as HOST=URL[,HOST=URL...], for example https://dbc-1234.cloud.databricks.com=http://127.0.0.1:8765"}
	}
	for k, v := range env {
		out[k] = v
	}
	return out, nil
}

// identity returns the identity that owns the credentials, or nil when Databricks cannot
// say (an account-level token); the planner protects it.
func (c *connection) identity(rt *Runtime) (*model.Ref, error) {
	ref, ok, err := c.client.Identity(rt.Ctx)
	if err != nil {
		return nil, err // Identity says what it was doing
	}
	if !ok {
		rt.Log.Info("the identity of the credentials is unknown at account level with a token; list it under policy.protected to keep it out of plans")
		return nil, nil
	}
	return &ref, nil
}

// live checks that the credentials can do what the workspaces need (scim.Preflight), then
// reads the live state, with the given workspaces, and the identity that owns the
// credentials (nil when Databricks cannot say).
func (c *connection) live(rt *Runtime, workspaces []model.Workspace) (*model.State, *model.Ref, error) {
	if err := c.client.Preflight(rt.Ctx, workspaces); err != nil {
		return nil, nil, err
	}
	id, err := c.identity(rt)
	if err != nil {
		return nil, nil, err
	}
	start := time.Now()
	stop := rt.watchRead("reading the live state", c.client)
	live, err := c.client.Snapshot(rt.Ctx, workspaces)
	stop()
	if err != nil {
		return nil, nil, err
	}
	rt.Log.Info("read live state", "users", len(live.Users), "servicePrincipals", len(live.ServicePrincipals),
		"groups", len(live.Groups), "requests", c.client.Stats().Total(), "duration", time.Since(start).Round(time.Millisecond))
	return live, id, nil
}
