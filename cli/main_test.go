package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
)

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestParse checks the first half of every command: arguments and environment become
// options, without any I/O.
func TestParse(t *testing.T) {
	defaults := func(edit func(g *grammar)) grammar {
		g := grammar{
			LogLevel: "warn", LogFormat: "text", Progress: DefaultProgressInterval,
			Validate: ValidateCmd{Format: "text"},
			Plan:     PlanCmd{Format: "text"},
			Show:     ShowCmd{Format: "text"},
			Emulator: EmulatorCmd{Listen: "127.0.0.1:8765", Level: "account", RateLimit: 25, Admin: "admin@example.com"},
			Drift:    DriftCmd{Format: "text"},
			Export:   ExportCmd{Format: "snapshot"},
			Apply:    ApplyCmd{Format: "text"},
			Demo:     DemoCmd{},
			GitHub:   GitHubCmd{FindComment: FindCommentCmd{PerPage: 100}},
		}
		edit(&g)
		return g
	}
	tests := map[string]struct {
		args    []string
		env     map[string]string
		command string
		want    grammar
		wantErr string
	}{
		"emulator with faults and unknowns": {
			args:    []string{"emulator", "--fault", "write-drop=0.05", "--fault", "commit-504=0.01", "--unknown", "patch-204", "--visibility-delay", "Users=3s", "--lenient"},
			command: "emulator",
			want: defaults(func(g *grammar) {
				g.Emulator.Fault = map[string]float64{"write-drop": 0.05, "commit-504": 0.01}
				g.Emulator.Unknown = []string{"patch-204"}
				g.Emulator.Visibility = map[string]time.Duration{"Users": 3 * time.Second}
				g.Emulator.Lenient = true
			}),
		},
		"validate with paths": {
			args:    []string{"validate", "a.yaml", "dir"},
			command: "validate <paths>",
			want:    defaults(func(g *grammar) { g.Validate.Paths = []string{"a.yaml", "dir"} }),
		},
		"validate with config and json": {
			args:    []string{"validate", "-c", "x/scimsync.yaml", "--format", "json"},
			command: "validate",
			want: defaults(func(g *grammar) {
				g.Config, g.Validate.Config = "x/scimsync.yaml", "x/scimsync.yaml"
				g.Validate.Format = "json"
			}),
		},
		"settings from the environment": {
			args:    []string{"validate"},
			env:     map[string]string{"SCIMSYNC_LOG_LEVEL": "debug", "SCIMSYNC_LOG_FORMAT": "json", "SCIMSYNC_CONFIG": "c.yaml", "SCIMSYNC_FORMAT": "json", "SCIMSYNC_PROGRESS_INTERVAL": "30s"},
			command: "validate",
			want: defaults(func(g *grammar) {
				g.LogLevel, g.LogFormat, g.Progress = "debug", "json", 30*time.Second
				g.Config, g.Validate.Config, g.Validate.Format = "c.yaml", "c.yaml", "json"
			}),
		},
		"the config before the command": {
			args:    []string{"-c", "x.yaml", "plan"},
			command: "plan",
			want: defaults(func(g *grammar) {
				g.Config, g.Plan.Config = "x.yaml", "x.yaml"
			}),
		},
		"the environment's format is one validate knows": {
			args:    []string{"validate"},
			env:     map[string]string{"SCIMSYNC_FORMAT": "markdown"},
			command: "validate",
			want:    defaults(func(g *grammar) { g.Validate.Format = "markdown" }),
		},
		"flags win over the environment": {
			args:    []string{"--log-level", "error", "validate", "--config=flag.yaml"},
			env:     map[string]string{"SCIMSYNC_LOG_LEVEL": "debug", "SCIMSYNC_CONFIG": "env.yaml"},
			command: "validate",
			want: defaults(func(g *grammar) {
				g.LogLevel = "error"
				g.Config, g.Validate.Config = "flag.yaml", "flag.yaml"
			}),
		},
		"plan with a plan file and overrides": {
			args:    []string{"plan", "-c", "s.yaml", "-o", "plan.json", "--detailed-exitcode", "--allow-mass-removal", "--rate-limit", "10"},
			env:     map[string]string{"SCIMSYNC_CONCURRENCY": "4"},
			command: "plan",
			want: defaults(func(g *grammar) {
				g.Config = "s.yaml"
				g.Plan.Config, g.Plan.Out, g.Plan.DetailedExitcode, g.Plan.AllowMassRemoval = "s.yaml", "plan.json", true, true
				g.Plan.RateLimit, g.Plan.Concurrency = 10, 4
			}),
		},
		"apply a plan file with an audit log from the environment": {
			args:    []string{"apply", "plan.json", "--batch-size", "50"},
			env:     map[string]string{"SCIMSYNC_AUDIT_LOG": "audit.jsonl"},
			command: "apply <plan-or-paths>",
			want: defaults(func(g *grammar) {
				g.Apply.Args, g.Apply.AuditLog, g.Apply.BatchSize = []string{"plan.json"}, "audit.jsonl", 50
			}),
		},
		"apply auto-approve with manifests": {
			args:    []string{"apply", "--auto-approve", "a.yaml", "b"},
			command: "apply <plan-or-paths>",
			want: defaults(func(g *grammar) {
				g.Apply.AutoApprove, g.Apply.Args = true, []string{"a.yaml", "b"}
			}),
		},
		"show markdown": {
			args:    []string{"show", "--format", "markdown", "plan.json"},
			command: "show <plan>",
			want:    defaults(func(g *grammar) { g.Show.Plan, g.Show.Format = "plan.json", "markdown" }),
		},
		"version": {
			args:    []string{"version"},
			command: "version",
			want:    defaults(func(*grammar) {}),
		},
		"bad enum":         {args: []string{"validate", "--format", "xml"}, wantErr: `--format must be one of "text","markdown","json","github" but got "xml"`},
		"bad enum in env":  {args: []string{"validate"}, env: map[string]string{"SCIMSYNC_LOG_LEVEL": "loud"}, wantErr: `--log-level must be one of "debug","info","warn","error" but got "loud"`},
		"unknown command":  {args: []string{"frobnicate"}, wantErr: "unexpected argument frobnicate"},
		"no command":       {args: nil, wantErr: "expected one of"},
		"unknown flag":     {args: []string{"validate", "--nope"}, wantErr: "unknown flag --nope"},
		"missing flag arg": {args: []string{"validate", "-c"}, wantErr: "--config: expected string value"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			kctx, g, exit, err := parse(tc.args, IO{Out: &out, Err: &out, Getenv: env(tc.env)})
			if exit >= 0 {
				t.Fatalf("parse asked to exit %d: %s", exit, out.String())
			}
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := kctx.Command(); got != tc.command {
				t.Errorf("command = %q, want %q", got, tc.command)
			}
			if diff := cmp.Diff(tc.want, *g); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
}

func TestHelpExitsZero(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"validate", "--help"}, {"-h"}} {
		var out, errOut bytes.Buffer
		code := Main(context.Background(), args, IO{Out: &out, Err: &errOut})
		if code != 0 || !strings.Contains(out.String(), "Usage: scimsync") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out.String(), errOut.String())
		}
	}
}

func TestHelpNamesEnvironmentVariables(t *testing.T) {
	var out bytes.Buffer
	Main(context.Background(), []string{"validate", "--help"}, IO{Out: &out, Err: &out})
	for _, v := range []string{"$SCIMSYNC_LOG_LEVEL", "$SCIMSYNC_LOG_FORMAT", "$SCIMSYNC_CONFIG", "$SCIMSYNC_FORMAT"} {
		if !strings.Contains(out.String(), v) {
			t.Errorf("help does not name %s:\n%s", v, out.String())
		}
	}
}

type hinted struct{}

func (hinted) Error() string { return "the plan is stale" }
func (hinted) Hint() string  { return "run scimsync plan again" }

// TestReport checks the one place where errors become exit codes and hint lines.
func TestReport(t *testing.T) {
	_, _, _, parseErr := parse([]string{"validate", "--bogus"}, IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}, Getenv: env(nil)})
	tests := map[string]struct {
		err      error
		wantCode int
		wantOut  string
	}{
		"exit status": {err: exitStatus(ExitChanges), wantCode: 2, wantOut: ""},
		"wrapped exit status": {
			err: fmt.Errorf("plan: %w", exitStatus(ExitError)), wantCode: 1, wantOut: "",
		},
		"diagnostics": {
			err: (diag.List{
				{Severity: diag.SevError, Origin: model.Origin{File: "a.yaml", Line: 3, Column: 5}, Rule: "schema", Message: "users[0].userName: missing required property"},
				{Severity: diag.SevError, Origin: model.Origin{File: "b.yaml", Line: 1}, Rule: "reserved-group", Message: "no"},
			}).Err(),
			wantCode: 1,
			wantOut: "a.yaml:3:5: error: users[0].userName: missing required property [schema]\n" +
				"b.yaml:1: error: no [reserved-group]\n" +
				"2 errors in 2 files\n",
		},
		"typed error with hint": {
			err:      fmt.Errorf("apply: %w", &Error{Err: errors.New("guard tripped: 40 removals"), Hint: "pass --allow-removals=40"}),
			wantCode: 1,
			wantOut:  "error: apply: guard tripped: 40 removals\nhint: pass --allow-removals=40\n",
		},
		"hint from another package": {
			err:      fmt.Errorf("apply: %w", hinted{}),
			wantCode: 1,
			wantOut:  "error: apply: the plan is stale\nhint: run scimsync plan again\n",
		},
		"usage error": {
			err:      parseErr,
			wantCode: 1,
			wantOut:  "error: unknown flag --bogus\nhint: run 'scimsync validate --help' for usage\n",
		},
		"interrupted": {
			err:      fmt.Errorf("read sources: %w", context.Canceled),
			wantCode: 1,
			wantOut:  "error: interrupted\n",
		},
		"plain error": {
			err:      errors.New("read config: permission denied"),
			wantCode: 1,
			wantOut:  "error: read config: permission denied\n",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			if code := report(&out, tc.err); code != tc.wantCode {
				t.Errorf("exit code = %d, want %d", code, tc.wantCode)
			}
			if diff := cmp.Diff(tc.wantOut, out.String()); diff != "" {
				t.Errorf("output (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLogging(t *testing.T) {
	var buf bytes.Buffer
	newLogger("info", "json", &buf).Info("hello", "n", 1)
	if !strings.Contains(buf.String(), `"msg":"hello"`) {
		t.Errorf("json log = %q", buf.String())
	}
	buf.Reset()
	newLogger("warn", "text", &buf).Info("hidden")
	if buf.Len() != 0 {
		t.Errorf("info logged at warn level: %q", buf.String())
	}
}

func TestVersion(t *testing.T) {
	var out bytes.Buffer
	if code := Main(context.Background(), []string{"version"}, IO{Out: &out, Err: &out}); code != 0 {
		t.Fatalf("exit %d: %s", code, out.String())
	}
	if !strings.HasPrefix(out.String(), "scimsync ") {
		t.Errorf("version output %q", out.String())
	}
}
