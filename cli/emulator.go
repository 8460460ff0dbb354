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

	Lenient       bool                     `help:"Turn strict mode off: accept any body that decodes, whatever its Content-Type, schemas or fields."`
	Unknown       []string                 `placeholder:"NAME" help:"Serve the other side of an open question of the reference (repeatable): create-200, patch-empty, patch-204, page-size-100, case-sensitive-username-filter, schemaless-resources, strict-remove, lenient-remove, remove-absent-fails, ignore-unknown-members, group-list-members, workspace-shows-unassigned, split-display-name, concurrency-429, overlapping-pages."`
	Fault         map[string]float64       `placeholder:"NAME=RATE" help:"Inject a fault at a rate in [0,1] (repeatable): 503, request-limit-500, 429, 429-retry-after, reset, gateway, create-drop, write-drop, commit-503, commit-504, slow-commit, truncate."`
	Seed          int64                    `help:"Seed of the injected faults and latency jitter."`
	Visibility    map[string]time.Duration `name:"visibility-delay" placeholder:"RESOURCE=DURATION" help:"Hide new objects from lists and filters for a while (Users, Groups, ServicePrincipals)."`
	SlowCommit    time.Duration            `name:"slow-commit" help:"How long a slow-commit fault holds its answer (default 2s)."`
	VerbRate      map[string]float64       `name:"verb-rate-limit" placeholder:"METHOD=RPS" help:"Per-method buckets on top of --rate-limit, e.g. PATCH=2."`
	MaxConcurrent int                      `name:"max-concurrent" help:"Refuse requests beyond this many in flight (Databricks' limit was 4); 0 is unlimited."`
	RepeatPastEnd bool                     `name:"repeat-past-end" help:"Answer a startIndex past the end with the first page again."`
	TotalOffset   int                      `name:"total-results-offset" help:"Add this to every list's totalResults."`
}

// Run serves until the context ends, printing the environment a client needs first. The
// emulator's fixed test credentials are that output, so it is not redacted.
func (c *EmulatorCmd) Run(rt *Runtime) error {
	o, err := c.options()
	if err != nil {
		return err
	}
	return emulator.Run(rt.Ctx, c.Listen, o, rt.rawOut)
}

// options turns the flags into emulator options.
func (c *EmulatorCmd) options() (emulator.Options, error) {
	ids, hosts, err := parseWorkspaces(c.Workspaces)
	if err != nil {
		return emulator.Options{}, err
	}
	o := emulator.Options{
		Level:              model.Level(c.Level),
		RateLimit:          c.RateLimit,
		RetryAfter:         c.RetryAfter,
		Latency:            c.Latency,
		MeUserName:         c.Admin,
		Workspaces:         ids,
		WorkspaceHosts:     hosts,
		Lenient:            c.Lenient,
		Seed:               c.Seed,
		VisibilityDelay:    c.Visibility,
		SlowCommit:         c.SlowCommit,
		VerbRateLimits:     c.VerbRate,
		MaxConcurrent:      c.MaxConcurrent,
		RepeatPastEnd:      c.RepeatPastEnd,
		TotalResultsOffset: c.TotalOffset,
	}
	for _, u := range c.Unknown {
		if err := o.SetUnknown(u); err != nil {
			return o, &Error{Err: fmt.Errorf("--unknown: %w", err), Hint: "see scimsync emulator --help for the names"}
		}
	}
	for name, rate := range c.Fault {
		if err := o.Faults.Set(name, rate); err != nil {
			return o, &Error{Err: fmt.Errorf("--fault: %w", err), Hint: "see scimsync emulator --help for the names"}
		}
	}
	for res := range c.Visibility {
		if res != "Users" && res != "Groups" && res != "ServicePrincipals" {
			return o, fmt.Errorf("--visibility-delay: unknown resource %q (Users, Groups or ServicePrincipals)", res)
		}
	}
	return o, nil
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
