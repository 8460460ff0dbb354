// Package cli is scimsync's command line: the kong grammar, the wiring of sources, plans
// and renderers into commands, and the one place that maps errors to exit codes and hint
// lines. Main is testable: it takes its arguments, input, output and environment as
// values and returns the exit code; cmd/scimsync only calls os.Exit with it.
//
// Each command is a struct in its own file (validate.go holds ValidateCmd) with a
// Run(*Runtime) error method; adding a command is adding a field to grammar and a file.
//
// Package cli may import every package of the project; only cmd/scimsync imports it.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"time"

	"github.com/alecthomas/kong"

	"github.com/scimsync/scimsync/redact"
	"github.com/scimsync/scimsync/scim/auth"
)

// IO is the input, output and environment of one run of the command line.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// OutIsTerminal and ErrIsTerminal say whether Out and Err are terminals. Colour is
	// used only on a terminal, and never when NO_COLOR is set.
	OutIsTerminal bool
	ErrIsTerminal bool
	// Getenv reads an environment variable. Every flag that carries a setting reads its
	// variable through it, and so does every command; nil means an empty environment.
	Getenv func(key string) string
	// Interrupts delivers Ctrl-C (and SIGTERM). The first one lets apply finish the
	// requests in flight and stop; the second, or the first for any other command,
	// cancels the run. Nil means no interrupts.
	Interrupts <-chan os.Signal
}

// Runtime is what a command's Run method receives: the context of the run, its I/O and a
// logger writing to IO.Err.
type Runtime struct {
	Ctx context.Context
	IO  IO
	Log *slog.Logger
	// Stop is closed on the first interrupt. Commands that can stop softly (apply) set
	// softStop, so that the first interrupt does not also cancel Ctx.
	Stop     <-chan struct{}
	softStop atomic.Bool
	// ProgressInterval is how often reads and applies print a line of progress on a
	// stderr that is not a terminal; 0 prints none.
	ProgressInterval time.Duration
	// Profile is the global --profile flag: the ~/.databrickscfg profile to connect with.
	Profile string
	// Redact knows the secrets of this run. IO.Out and IO.Err already pass through it;
	// files a command writes must too (writeFileAtomic, the audit log), and so must the
	// SCIM client, which adds the credentials and each OAuth token it mints.
	Redact *redact.Redactor
	// rawOut is IO.Out before redaction, for the emulator command, whose own test
	// credentials are its output.
	rawOut io.Writer
}

// Color reports whether output to Out may be coloured.
func (rt *Runtime) Color() bool {
	return rt.IO.OutIsTerminal && rt.IO.Getenv("NO_COLOR") == ""
}

// grammar is the command line. Global flags come first, then one field per command.
type grammar struct {
	LogLevel  string        `name:"log-level" enum:"debug,info,warn,error" default:"warn" env:"SCIMSYNC_LOG_LEVEL" help:"Log level: debug, info, warn or error. Logs go to stderr."`
	LogFormat string        `name:"log-format" enum:"text,json" default:"text" env:"SCIMSYNC_LOG_FORMAT" help:"Log format: text or json."`
	Progress  time.Duration `name:"progress-interval" default:"5s" env:"SCIMSYNC_PROGRESS_INTERVAL" placeholder:"DURATION" help:"When stderr is not a terminal, print a line of progress (objects read, changes done, rate, ETA) this often; 0 for none. A terminal shows a progress bar instead."`
	Profile   string        `name:"profile" placeholder:"NAME" help:"Profile of ~/.databrickscfg to connect with; wins over target.profile and DATABRICKS_CONFIG_PROFILE."`
	// Config is global so that it may come before the command (scimsync -c FILE plan) as
	// well as after it; the commands that read a config get it through configFlag.
	Config  string           `short:"c" name:"config" env:"SCIMSYNC_CONFIG" placeholder:"FILE" help:"Config file: the target, the sources and the policy. Default: ./scimsync.yaml when it exists."`
	Version kong.VersionFlag `name:"version" help:"Print the version of scimsync and exit."`

	Validate   ValidateCmd   `cmd:"" help:"Parse and validate all sources and report every problem with file:line:column."`
	Plan       PlanCmd       `cmd:"" help:"Compare the desired state with the live one and write the plan that reconciles them."`
	Show       ShowCmd       `cmd:"" help:"Print a saved plan as text, Markdown or JSON."`
	Apply      ApplyCmd      `cmd:"" help:"Apply a reviewed plan file, or plan and apply with --auto-approve."`
	Drift      DriftCmd      `cmd:"" help:"Compare the desired state with the live one, or with a snapshot file offline, and report the drift."`
	Export     ExportCmd     `cmd:"" help:"Write the live state as a snapshot file, or as a YAML manifest to adopt an existing account."`
	Demo       DemoCmd       `cmd:"" help:"Start the built-in emulator with an existing account and walk validate, plan, apply and drift over examples/org."`
	Emulator   EmulatorCmd   `cmd:"" help:"Serve the built-in Databricks SCIM emulator on loopback until interrupted."`
	VersionCmd VersionCmd    `cmd:"" name:"version" help:"Print the version of scimsync."`
	Completion CompletionCmd `cmd:"" help:"Print the script that enables tab completion in bash, zsh or fish."`
	Help       HelpCmd       `cmd:"" help:"Show the help of scimsync or of one of its commands."`
	GitHub     GitHubCmd     `cmd:"" name:"github" hidden:"" help:"JSON helpers of the GitHub Action (action/run.sh)."`
}

const description = "GitOps for Databricks identities: keep users, groups, service principals, " +
	"entitlements, roles and workspace assignments equal to what a Git repository declares."

// Main runs the command line with args (without the program name) and returns the exit
// code: 0 on success, 1 on any error, 2 when a command reports changes or drift.
func Main(ctx context.Context, args []string, stdio IO) int {
	if stdio.Getenv == nil {
		stdio.Getenv = func(string) string { return "" }
	}
	if stdio.In == nil {
		stdio.In = strings.NewReader("")
	}
	if len(args) == 0 {
		// Without arguments, scimsync prints its help, as go and gh do.
		args = []string{"help"}
	}
	// Every byte written to Out and Err, from kong's usage errors to the last log line,
	// passes the redactor.
	red := redact.New()
	for _, name := range secretEnv {
		red.Add(stdio.Getenv(name))
	}
	rawOut := stdio.Out
	stdio.Out, stdio.Err = red.Writer(stdio.Out), red.Writer(stdio.Err)
	kctx, g, exit, err := parse(args, stdio)
	if exit >= 0 {
		return exit
	}
	if err != nil {
		return report(stdio.Err, err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := make(chan struct{})
	rt := &Runtime{Ctx: ctx, IO: stdio, Log: newLogger(g.LogLevel, g.LogFormat, stdio.Err), Stop: stop, Profile: g.Profile, Redact: red, rawOut: rawOut, ProgressInterval: g.Progress}
	go watchInterrupts(ctx, rt, stop, cancel)
	if err := recovered(rt, func() error { return kctx.Run(rt) }); err != nil {
		return reportTo(stdio.Err, err, rt.annotator())
	}
	return ExitOK
}

// recovered runs a command and turns a panic in it into an error, so that a bug exits 1
// with a message like any other failure, never 2 (which means "changes present") with a
// Go stack trace. The stack goes to the debug log.
func recovered(rt *Runtime, run func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			rt.Log.Debug("panic", "value", fmt.Sprint(r), "stack", string(debug.Stack()))
			err = &Error{
				Err:  fmt.Errorf("internal error: %v", r),
				Hint: "this is a bug in scimsync; nothing more was sent. Please report it with the command, 'scimsync version' and the output of --log-level debug",
			}
		}
	}()
	return run()
}

// secretEnv are the environment variables whose values are redacted from every output
// from the start of a run: Databricks credentials, the LDAP bind password and the tokens
// of a GitHub Actions job. Credentials read from ~/.databrickscfg and OAuth access tokens
// are added when the SCIM client resolves and mints them.
var secretEnv = []string{
	auth.EnvToken, auth.EnvClientSecret, "DATABRICKS_PASSWORD",
	"LDAP_BIND_PASSWORD",
	"GITHUB_TOKEN", "GH_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN", "ACTIONS_RUNTIME_TOKEN",
}

// watchInterrupts turns the first interrupt into a soft stop (or a cancel for commands that
// cannot stop softly) and the second into a cancel.
func watchInterrupts(ctx context.Context, rt *Runtime, stop chan struct{}, cancel context.CancelFunc) {
	if rt.IO.Interrupts == nil {
		return
	}
	select {
	case <-ctx.Done():
		return
	case <-rt.IO.Interrupts:
	}
	close(stop)
	if !rt.softStop.Load() {
		cancel()
		return
	}
	fmt.Fprintln(rt.IO.Err, "\ninterrupt: finishing the requests in flight, then stopping; press Ctrl-C again to cancel them")
	select {
	case <-ctx.Done():
	case <-rt.IO.Interrupts:
		fmt.Fprintln(rt.IO.Err, "interrupt: cancelling")
		cancel()
	}
}

// exitRequest is how kong's request to exit (after --help) unwinds out of parsing.
type exitRequest int

// parse parses args into the grammar. It reads environment variables only through
// stdio.Getenv. exit is not negative when parsing already finished the run (--help).
func parse(args []string, stdio IO) (kctx *kong.Context, g *grammar, exit int, err error) {
	g = &grammar{}
	envs := make(map[*kong.Flag][]string)
	parser, err := kong.New(g,
		kong.Name("scimsync"),
		kong.Description(description),
		kong.Writers(stdio.Out, stdio.Err),
		kong.Exit(func(code int) { panic(exitRequest(code)) }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true}),
		kong.Vars{"version": versionLine()},
		kong.Bind(g),
		kong.Resolvers(kong.ResolverFunc(func(_ *kong.Context, _ *kong.Path, flag *kong.Flag) (any, error) {
			for _, name := range envs[flag] {
				if v := stdio.Getenv(name); v != "" {
					return v, nil
				}
			}
			return nil, nil
		})),
	)
	if err != nil {
		return nil, nil, -1, fmt.Errorf("build command line: %w", err)
	}
	injectEnv(parser.Model.Node, envs)
	defer func() {
		if r := recover(); r != nil {
			code, ok := r.(exitRequest)
			if !ok {
				panic(r)
			}
			kctx, g, exit, err = nil, nil, int(code), nil
		}
	}()
	if line := stdio.Getenv("COMP_LINE"); line != "" {
		// The shell asks for completions (see CompletionCmd): print them, run nothing.
		if err := printCompletions(parser, line, stdio.Getenv("COMP_POINT"), stdio.Out); err != nil {
			return nil, nil, -1, err
		}
		return nil, nil, ExitOK, nil
	}
	kctx, err = parser.Parse(args)
	return kctx, g, -1, err
}

// injectEnv moves the env tags of every flag into envs, for the resolver that reads them
// through IO.Getenv, so that kong never reads the process environment itself. The
// variables stay named in the help text.
func injectEnv(n *kong.Node, envs map[*kong.Flag][]string) {
	for _, f := range n.Flags {
		if len(f.Tag.Envs) == 0 {
			continue
		}
		envs[f] = f.Tag.Envs
		f.Help += " ($" + strings.Join(f.Tag.Envs, ", $") + ")"
		f.Tag.Envs = nil
	}
	for _, c := range n.Children {
		injectEnv(c, envs)
	}
}

// newLogger returns a logger writing to w at the level and in the format given; both have
// been checked by the grammar's enums.
func newLogger(level, format string, w io.Writer) *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(level)); err != nil {
		lvl = slog.LevelWarn
	}
	opts := &slog.HandlerOptions{Level: lvl}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// usageHint returns the help command for the command a parse error is about.
func usageHint(err error) string {
	var pe *kong.ParseError
	if errors.As(err, &pe) && pe.Context != nil {
		if cmd := pe.Context.Command(); cmd != "" {
			return fmt.Sprintf("run 'scimsync %s --help' for usage", strings.Fields(cmd)[0])
		}
	}
	return "run 'scimsync --help' for usage"
}
