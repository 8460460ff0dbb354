package cli

import (
	"fmt"
	"strings"
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
	Workspaces []string      `name:"workspace" placeholder:"ID[=HOST]" help:"Workspaces of the account, each with the host that serves its SCIM API (repeatable; default 1001 and 1002 on https://dbc-ID.emulator.invalid)."`
	Admin      string        `default:"admin@example.com" placeholder:"USERNAME" help:"userName of the admin who owns the emulator's token (seeded as an account admin)."`
}

// Run serves until the context ends, printing the environment a client needs first. The
// emulator's fixed test credentials are that output, so it is not redacted.
func (c *EmulatorCmd) Run(rt *Runtime) error {
	ids, hosts, err := parseWorkspaces(c.Workspaces)
	if err != nil {
		return err
	}
	return emulator.Run(rt.Ctx, c.Listen, emulator.Options{
		Level:          model.Level(c.Level),
		RateLimit:      c.RateLimit,
		RetryAfter:     c.RetryAfter,
		Latency:        c.Latency,
		MeUserName:     c.Admin,
		Workspaces:     ids,
		WorkspaceHosts: hosts,
	}, rt.rawOut)
}

// parseWorkspaces splits --workspace values of the form ID or ID=HOST.
func parseWorkspaces(vals []string) (ids []string, hosts map[string]string, err error) {
	hosts = map[string]string{}
	for _, v := range vals {
		id, host, _ := strings.Cut(v, "=")
		if id = strings.TrimSpace(id); id == "" {
			return nil, nil, &Error{Err: fmt.Errorf("--workspace %q has no id", v), Hint: "write --workspace ID or --workspace ID=https://HOST"}
		}
		ids = append(ids, id)
		if host = strings.TrimSpace(host); host != "" {
			if !strings.HasPrefix(host, "https://") {
				return nil, nil, &Error{Err: fmt.Errorf("--workspace %s: host %q is not https://", id, host), Hint: "workspace hosts are https:// URLs such as https://dbc-1234.cloud.databricks.com"}
			}
			hosts[id] = host
		}
	}
	return ids, hosts, nil
}
