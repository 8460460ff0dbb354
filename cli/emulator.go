package cli

import (
	"time"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
)

// EmulatorCmd serves the built-in Databricks SCIM emulator until interrupted.
type EmulatorCmd struct {
	Listen     string        `default:"127.0.0.1:8765" env:"SCIMSYNC_EMULATOR_LISTEN" help:"Loopback address to listen on (port 0 picks a free one)."`
	Level      string        `enum:"account,workspace" default:"account" help:"Serve an account or a single workspace."`
	RateLimit  float64       `name:"rate-limit" default:"25" help:"Requests per second before 429 (negative: unlimited)."`
	RetryAfter bool          `name:"retry-after" help:"Send Retry-After on 429."`
	Latency    time.Duration `default:"0s" help:"Latency added to every request."`
	Workspaces []string      `name:"workspace" placeholder:"ID" help:"Workspace ids of the account (repeatable; default 1001 and 1002)."`
	Admin      string        `default:"admin@example.com" placeholder:"USERNAME" help:"userName of the admin who owns the emulator's token (seeded as an account admin)."`
}

// Run serves until the context ends, printing the environment a client needs first. The
// emulator's fixed test credentials are that output, so it is not redacted.
func (c *EmulatorCmd) Run(rt *Runtime) error {
	return emulator.Run(rt.Ctx, c.Listen, emulator.Options{
		Level:      model.Level(c.Level),
		RateLimit:  c.RateLimit,
		RetryAfter: c.RetryAfter,
		Latency:    c.Latency,
		MeUserName: c.Admin,
		Workspaces: c.Workspaces,
	}, rt.rawOut)
}
