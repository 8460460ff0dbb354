package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/snapshot"
	"github.com/scimsync/scimsync/source/manifest"
	"github.com/scimsync/scimsync/synth"
)

// CLIResult is one run of the real scimsync binary as a child process.
type CLIResult struct {
	Command  string   `json:"command"`
	Args     []string `json:"args"`
	ExitCode int      `json:"exitCode"`
	// CPUSeconds is the child's user plus system time; MaxRSSBytes its peak resident set
	// (getrusage of the finished process).
	CPUSeconds  float64 `json:"cpuSeconds"`
	MaxRSSBytes uint64  `json:"maxRSSBytes"`
	WallSeconds float64 `json:"wallSeconds"`
	// Requests counts the requests the emulator answered during the run (plan only).
	Requests int `json:"requests,omitempty"`
	// With -cli-scenarios: the scenario the run belongs to, the emulator's requests by
	// method, and the 429s its rate limiter sent (counted in Requests).
	Scenario    string         `json:"scenario,omitempty"`
	ByMethod    map[string]int `json:"byMethod,omitempty"`
	Emulator429 int            `json:"emulator429,omitempty"`
	// Stderr is the last line the child wrote to stderr, when it failed.
	Stderr string `json:"stderr,omitempty"`
}

// CLIFixtures are the inputs of the real-process runs, written once per size: the desired
// state after 1% churn as a YAML manifest with its config, the live state before the churn
// as a snapshot file (with SCIM ids), and the plan file of the initial apply (every object
// created: the largest plan of the size).
type CLIFixtures struct {
	Dir, Config, Snapshot, InitialPlan string
	Desired, Live                      *model.State
	Bytes                              map[string]int64 // file sizes, by fixture name
}

// writeCLIFixtures writes the fixtures of cfg's size into dir.
func writeCLIFixtures(cfg *config, dir string) (*CLIFixtures, error) {
	org := synth.Org(cfg.Seed, cfg.Spec)
	desired := synth.Churn(cfg.Seed+1, org, churnFraction)
	live := withIDs(org)
	f := &CLIFixtures{Dir: dir, Config: filepath.Join(dir, "scimsync.yaml"), Snapshot: filepath.Join(dir, "snapshot.json"),
		InitialPlan: filepath.Join(dir, "initial-plan.json"), Desired: desired, Live: live, Bytes: map[string]int64{}}
	if err := os.MkdirAll(filepath.Join(dir, "identities"), 0o755); err != nil {
		return nil, err
	}
	manifestPath := filepath.Join(dir, "identities", "org.yaml")
	if err := writeFile(manifestPath, func(w io.Writer) error { return manifest.Write(w, desired, manifest.WriteOptions{}) }); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	if err := writeCLIConfig(f.Config, desired); err != nil {
		return nil, err
	}
	snap := &snapshot.Snapshot{ToolVersion: "bench", TakenAt: time.Now(), State: *live,
		Target: snapshot.Target{Level: model.LevelAccount, Host: offlineHost, AccountID: emulator.DefaultAccountID}}
	if err := writeFile(f.Snapshot, func(w io.Writer) error { return snapshot.Write(w, snap) }); err != nil {
		return nil, fmt.Errorf("write snapshot: %w", err)
	}
	pol, opts := policyFor(scenarioInitial, offlineHost)
	initial, err := plan.Diff(org, &model.State{}, pol, opts)
	if err != nil {
		return nil, fmt.Errorf("plan the initial apply: %w", err)
	}
	if err := writeFile(f.InitialPlan, func(w io.Writer) error { return plan.Encode(w, initial) }); err != nil {
		return nil, fmt.Errorf("write plan: %w", err)
	}
	for name, p := range map[string]string{"manifest": manifestPath, "snapshot": f.Snapshot, "initial plan": f.InitialPlan} {
		if st, err := os.Stat(p); err == nil {
			f.Bytes[name] = st.Size()
		}
	}
	return f, nil
}

// writeCLIConfig writes the configuration of the fixtures: the manifests under identities
// next to it, the emulator's token owners protected, and the identity limits raised to what
// desired declares where it exceeds Databricks' defaults.
func writeCLIConfig(path string, desired *model.State) error {
	conf := fmt.Sprintf(`target:
  level: account
sources:
  - kind: yaml
    path: identities
policy:
  protected:
    users: [%q]
    servicePrincipals: [%q]
  # The account's limits, raised as Databricks allows (reference §6) where the size
  # exceeds the defaults: M declares 10,100 users and service principals.
  limits:
    principals: %d
    groups: %d
`, emulator.DefaultMeUserName, emulator.DefaultClientID,
		max(model.MaxPrincipals, desired.Principals()), max(model.MaxGroups, len(desired.Groups)))
	return os.WriteFile(path, []byte(conf), 0o644)
}

func writeFile(path string, write func(io.Writer) error) error {
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := write(out); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// measureCLI runs the real binary at cfg.cli as child processes over fixtures of cfg's
// size: validate, drift --snapshot, show of the initial plan, plan against an unthrottled
// emulator in this process that holds the live state, and plan --snapshot (a pull
// request's plan from the snapshot, offline).
func measureCLI(ctx context.Context, cfg *config, progress io.Writer) ([]*CLIResult, *CLIFixtures, error) {
	dir := cfg.fixtures
	if dir == "" {
		tmp, err := os.MkdirTemp("", "scimsync-bench-cli-")
		if err != nil {
			return nil, nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	fmt.Fprintf(progress, "bench: writing the fixtures of size %s to %s\n", cfg.Size, dir)
	fx, err := writeCLIFixtures(cfg, dir)
	if err != nil {
		return nil, nil, err
	}
	srv := emulator.New(emulator.Options{RateLimit: -1, MaxPrincipals: -1, MaxGroups: -1, Workspaces: workspaceIDs(fx.Live)})
	if _, err := srv.Seed(fx.Live); err != nil {
		return nil, nil, fmt.Errorf("seed the emulator: %w", err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	env := append(os.Environ(),
		"DATABRICKS_HOST="+hs.URL,
		"DATABRICKS_ACCOUNT_ID="+emulator.DefaultAccountID,
		"DATABRICKS_TOKEN="+emulator.DefaultToken,
		"SCIMSYNC_RATE_LIMIT=10000", // the most the command line accepts
		"SCIMSYNC_PROGRESS_INTERVAL=0",
		"SCIMSYNC_HOST_OVERRIDES="+overridesEnv(srv, hs.URL),
	)
	var overrides []string
	for host, url := range hostOverrides(srv, hs.URL) {
		overrides = append(overrides, host+"="+url)
	}
	env = append(env, scim.EnvHostOverrides+"="+strings.Join(overrides, ","))
	runs := []struct {
		name string
		args []string
	}{
		{"validate", []string{"validate", "-c", fx.Config}},
		{"drift --snapshot", []string{"drift", "-c", fx.Config, "--snapshot", fx.Snapshot}},
		{"show", []string{"show", fx.InitialPlan}},
		{"plan", []string{"plan", "-c", fx.Config, "-o", filepath.Join(dir, "plan.json"), "--allow-mass-removal"}},
		{"plan --snapshot", []string{"plan", "-c", fx.Config, "--snapshot", fx.Snapshot, "-o", filepath.Join(dir, "pr-plan.json"), "--allow-mass-removal"}},
	}
	var out []*CLIResult
	for _, r := range runs {
		fmt.Fprintf(progress, "bench: %s %s\n", cfg.Size, r.name)
		srv.Reset()
		res, err := runChild(ctx, cfg.cli, r.args, env)
		if err != nil {
			return out, fx, fmt.Errorf("%s: %w", r.name, err)
		}
		res.Command = r.name
		res.Requests = srv.Counters().Requests
		out = append(out, res)
	}
	return out, fx, nil
}

func workspaceIDs(s *model.State) []string {
	var ids []string
	for _, w := range s.Workspaces {
		ids = append(ids, w.ID)
	}
	return ids
}

// launcherEnv, when set, makes the program a launcher: see runChild.
const launcherEnv = "SCIMSYNC_BENCH_LAUNCHER"

// runChild runs the binary with args and env and measures it; stdout is discarded. On
// Linux a process inherits its parent's peak RSS when it is started (the high-water mark
// survives fork and exec), so the binary is started by a launcher (this program,
// re-executed with launcherEnv set), which is small: the peak measured is the binary's.
func runChild(ctx context.Context, bin string, args, env []string) (*CLIResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to run the launcher: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, append([]string{bin}, args...)...)
	cmd.Env = append(env, launcherEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("launcher: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var res CLIResult
	if err := json.Unmarshal(stdout.Bytes(), &res); err != nil {
		return nil, fmt.Errorf("launcher output: %w", err)
	}
	return &res, nil
}

// launcherMain runs args[0] with args[1:] and writes its CLIResult as JSON to stdout.
func launcherMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "launcher: no program")
		return 2
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, launcherEnv+"=") {
			env = append(env, kv)
		}
	}
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Env = env
	var errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &errOut
	start := time.Now()
	err := cmd.Run()
	res := &CLIResult{Args: args[1:], WallSeconds: time.Since(start).Seconds()}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		fmt.Fprintln(stderr, "launcher:", err)
		return 1
	}
	res.ExitCode = cmd.ProcessState.ExitCode()
	res.CPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	res.MaxRSSBytes, _ = maxRSS(cmd.ProcessState)
	if res.ExitCode != 0 && res.ExitCode != 2 {
		lines := strings.Split(strings.TrimSpace(errOut.String()), "\n")
		res.Stderr = lines[len(lines)-1]
	}
	if err := json.NewEncoder(stdout).Encode(res); err != nil {
		fmt.Fprintln(stderr, "launcher:", err)
		return 1
	}
	return 0
}

// measureCLIScenarios runs each of cfg's scenarios through the real binary at cfg.cli, as
// a merge does: plan -o plan.json, then apply plan.json (with --allow-mass-removal where
// the bench's scenarios override the removal guard), each a child process, against a
// fresh emulator in this process at cfg's rate and latency that holds the scenario's live
// state. The configuration raises policy.limits where the size exceeds the defaults, and
// the emulator's identity limits are lifted. After apply, a plan of the desired state over
// the emulator's own state (read directly, not through the API) must be empty.
func measureCLIScenarios(ctx context.Context, cfg *config, progress io.Writer) ([]*CLIResult, []string, error) {
	dir := cfg.fixtures
	if dir == "" {
		tmp, err := os.MkdirTemp("", "scimsync-bench-cli-")
		if err != nil {
			return nil, nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	var out []*CLIResult
	var failures []string
	for _, name := range cfg.Scenarios {
		desired, live := scenarioStates(cfg.Seed, cfg.Spec, name)
		sdir := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(sdir, "identities"), 0o755); err != nil {
			return out, failures, err
		}
		if err := writeFile(filepath.Join(sdir, "identities", "org.yaml"), func(w io.Writer) error {
			return manifest.Write(w, desired, manifest.WriteOptions{})
		}); err != nil {
			return out, failures, fmt.Errorf("%s: write manifest: %w", name, err)
		}
		conf := filepath.Join(sdir, "scimsync.yaml")
		if err := writeCLIConfig(conf, desired); err != nil {
			return out, failures, err
		}
		srv := emulator.New(emulator.Options{RateLimit: cfg.Rate, Latency: cfg.Latency, LatencyJitter: cfg.Jitter,
			Seed: int64(cfg.Seed), MaxPrincipals: -1, MaxGroups: -1, Workspaces: workspaceIDs(desired)})
		if !live.Empty() {
			if _, err := srv.Seed(live); err != nil {
				return out, failures, fmt.Errorf("%s: seed the emulator: %w", name, err)
			}
		}
		hs := httptest.NewServer(srv)
		env := append(os.Environ(),
			"DATABRICKS_HOST="+hs.URL,
			"DATABRICKS_ACCOUNT_ID="+emulator.DefaultAccountID,
			"DATABRICKS_TOKEN="+emulator.DefaultToken,
			fmt.Sprintf("SCIMSYNC_RATE_LIMIT=%g", min(cfg.Rate, 10000)), // 10,000: the most the command line accepts
			"SCIMSYNC_PROGRESS_INTERVAL=0",
			scim.EnvHostOverrides+"="+overridesEnv(srv, hs.URL),
		)
		pol, opts := policyFor(name, hs.URL)
		planFile := filepath.Join(sdir, "plan.json")
		planArgs := []string{"plan", "-c", conf, "-o", planFile}
		applyArgs := []string{"apply", "-c", conf, planFile}
		if opts.OverrideGuards {
			planArgs = append(planArgs, "--allow-mass-removal")
			applyArgs = append(applyArgs, "--allow-mass-removal")
		}
		for _, r := range []struct {
			name string
			args []string
		}{{"plan -o", planArgs}, {"apply plan.json", applyArgs}} {
			fmt.Fprintf(progress, "bench: %s %s: %s\n", cfg.Size, name, r.name)
			srv.Reset()
			res, err := runChild(ctx, cfg.cli, r.args, env)
			if err != nil {
				hs.Close()
				return out, failures, fmt.Errorf("%s: %s: %w", name, r.name, err)
			}
			c := srv.Counters()
			res.Scenario, res.Command, res.Requests, res.ByMethod, res.Emulator429 = name, r.name, c.Requests, c.ByMethod, c.TooManyRequests
			out = append(out, res)
			fmt.Fprintf(progress, "bench:   exit %d, %d requests, %.1fs, %.2fs CPU\n", res.ExitCode, res.Requests, res.WallSeconds, res.CPUSeconds)
			if res.ExitCode != 0 {
				failures = append(failures, fmt.Sprintf("%s: %s: exit status %d: %s", name, r.name, res.ExitCode, res.Stderr))
				break
			}
		}
		hs.Close()
		again, err := plan.Diff(desired, srv.State(), pol, opts)
		if err != nil {
			return out, failures, fmt.Errorf("%s: plan after the scenario: %w", name, err)
		}
		if !again.Empty() {
			failures = append(failures, fmt.Sprintf("%s: %d changes left after apply", name, len(again.Changes)))
		}
		if err := ctx.Err(); err != nil {
			return out, failures, err
		}
	}
	return out, failures, nil
}
