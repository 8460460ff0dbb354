package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/cli"
	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/synth"
)

// TestMain registers a tiny size for the tests and, when this test binary is started as a
// planning child (measureOffline re-executes the running program), acts as that child.
func TestMain(m *testing.M) {
	sizes["T"] = synth.Spec{Users: 200, ServicePrincipals: 3, Groups: 9, Memberships: 400, Depth: 3, Workspaces: 2}
	if os.Getenv(childEnv) != "" || os.Getenv(launcherEnv) != "" {
		os.Exit(Main(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	if os.Getenv(asCLIEnv) != "" {
		os.Exit(cli.Main(context.Background(), os.Args[1:], cli.IO{Out: os.Stdout, Err: os.Stderr, Getenv: os.Getenv}))
	}
	os.Exit(m.Run())
}

// asCLIEnv makes this test binary the scimsync command line, for TestCLI.
const asCLIEnv = "SCIMSYNC_BENCH_TEST_AS_CLI"

// TestCLI measures this test binary, acting as scimsync, as bench -cli does the real one:
// every command runs as a grandchild process with its own CPU time and peak RSS, and plan
// reads the emulator.
func TestCLI(t *testing.T) {
	t.Setenv(asCLIEnv, "1")
	res, report := runResults(t, []string{"-size", "T", "-cli", os.Args[0]})
	want := map[string]int{"validate": 0, "drift --snapshot": 2, "show": 0, "plan": 0, "plan --snapshot": 0}
	if len(res.CLI) != len(want) {
		t.Fatalf("%d runs, want %d: %+v", len(res.CLI), len(want), res.CLI)
	}
	for _, r := range res.CLI {
		if code, ok := want[r.Command]; !ok || r.ExitCode != code || r.CPUSeconds <= 0 || r.MaxRSSBytes == 0 {
			t.Errorf("%s: %+v", r.Command, r)
		}
		if (r.Command == "plan") != (r.Requests > 0) {
			t.Errorf("%s: %d requests", r.Command, r.Requests)
		}
	}
	if res.FixtureBytes["manifest"] == 0 || !strings.Contains(report, "the real binary as child processes") {
		t.Errorf("fixtures %v; report:\n%s", res.FixtureBytes, report)
	}
}

// TestCLIScenarios runs the scenarios through this test binary, acting as scimsync, as
// bench -cli -cli-scenarios does the real one: plan -o and apply plan.json per scenario,
// each a grandchild process, and the account converges.
func TestCLIScenarios(t *testing.T) {
	t.Setenv(asCLIEnv, "1")
	res, report := runResults(t, []string{"-size", "T", "-cli", os.Args[0], "-cli-scenarios", "-rate", "5000", "-latency", "0"})
	if len(res.CLI) != 2*len(allScenarios) || len(res.Failures) > 0 {
		t.Fatalf("%d runs, want %d; failures %v", len(res.CLI), 2*len(allScenarios), res.Failures)
	}
	for i, r := range res.CLI {
		if r.Scenario != allScenarios[i/2] || r.ExitCode != 0 || r.CPUSeconds <= 0 || r.MaxRSSBytes == 0 {
			t.Errorf("run %d: %+v", i, r)
		}
		// Every plan reads the account; only the no-op plan, empty, applies with no call.
		if empty := r.Scenario == scenarioNoop && r.Command == "apply plan.json"; empty != (r.Requests == 0) {
			t.Errorf("%s %s: %d requests", r.Scenario, r.Command, r.Requests)
		}
	}
	if !strings.Contains(report, "the scenarios through the real binary") {
		t.Errorf("report:\n%s", report)
	}
}

// TestCLIConfigLimits checks that the configuration of the real-process runs raises
// policy.limits to what a size above Databricks' defaults declares (M: 10,100 principals),
// and leaves the defaults where the size is within them.
func TestCLIConfigLimits(t *testing.T) {
	for _, tc := range []struct {
		spec               synth.Spec
		principals, groups int
	}{
		{synth.Medium, synth.Medium.Users + synth.Medium.ServicePrincipals, max(model.MaxGroups, synth.Medium.Groups)},
		{sizes["T"], model.MaxPrincipals, model.MaxGroups},
	} {
		path := filepath.Join(t.TempDir(), "scimsync.yaml")
		if err := writeCLIConfig(path, synth.Org(1, tc.spec)); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want := fmt.Sprintf("  limits:\n    principals: %d\n    groups: %d\n", tc.principals, tc.groups)
		if !strings.Contains(string(data), want) {
			t.Errorf("config:\n%s\nwant it to contain:\n%s", data, want)
		}
	}
}

// runResults runs the bench with args, fails the test unless it exits 0, and returns the
// results it wrote and the report it printed.
func runResults(t *testing.T, args []string) (*Results, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "results.json")
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), append(slices.Clip(args), "-out", out), &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d\nstdout:\n%s\nstderr:\n%s", code, &stdout, &stderr)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var res Results
	if err := json.Unmarshal(data, &res); err != nil {
		t.Fatal(err)
	}
	return &res, stdout.String()
}

// fast runs the tiny size without the rate limit's waits worth mentioning.
var fast = []string{"-size", "T", "-rate", "5000", "-latency", "0"}

func TestAllScenariosSucceed(t *testing.T) {
	res, report := runResults(t, fast)
	if len(res.Scenarios) != len(allScenarios) || len(res.Offline) != len(allScenarios) {
		t.Fatalf("got %d scenarios and %d offline plans, want %d of each", len(res.Scenarios), len(res.Offline), len(allScenarios))
	}
	for _, sc := range res.Scenarios {
		if !sc.Converged || sc.Failed+sc.Skipped+sc.NotRun > 0 || len(sc.Failures) > 0 {
			t.Errorf("scenario %s: %+v", sc.Name, sc)
		}
		if sc.Total.Calls == 0 || sc.Total.Calls != sc.Total.Attempts-sc.Total.Retries {
			t.Errorf("scenario %s: calls %d, attempts %d, retries %d", sc.Name, sc.Total.Calls, sc.Total.Attempts, sc.Total.Retries)
		}
		if sc.Name != scenarioNoop && sc.Changes == 0 {
			t.Errorf("scenario %s planned no change", sc.Name)
		}
	}
	byName := map[string]*ScenarioResult{}
	for _, sc := range res.Scenarios {
		byName[sc.Name] = sc
	}
	// apply plan.json re-reads what the plan touches: nothing for the empty no-op plan,
	// much less than the plan's full read for churn.
	for _, sc := range res.Scenarios {
		if len(sc.Steps) < 2 || sc.Steps[1].Step != "verify" {
			t.Fatalf("scenario %s: steps %+v, want plan, verify, ...", sc.Name, sc.Steps)
		}
	}
	if v := byName[scenarioNoop].Steps[1]; v.Calls != 0 {
		t.Errorf("verifying the empty no-op plan made %d calls, want 0", v.Calls)
	}
	// Churn deactivates users, so the admin guard is checked again: with the lists and
	// the members of the groups that hold account_admin only, far fewer calls than the
	// plan's read, which reads the members of every group (9 of them at this size).
	if pl, v := byName[scenarioChurn].Steps[0], byName[scenarioChurn].Steps[1]; v.Calls == 0 || v.Calls >= pl.Calls {
		t.Errorf("verifying the churn plan made %d calls against the plan's %d: want a few", v.Calls, pl.Calls)
	}
	if sc := byName[scenarioDeprovision]; sc.ByAction["deactivate"] != 10 {
		t.Errorf("deprovision: %d deactivations, want 10 (5%% of 200)", sc.ByAction["deactivate"])
	}
	if sc := byName[scenarioInitial]; sc.PerResourceReads != 0 || sc.PerResourceWrites != res.Org.resources() {
		t.Errorf("initial: per-resource calls %d + %d, want 0 + %d", sc.PerResourceReads, sc.PerResourceWrites, res.Org.resources())
	}
	for _, pr := range res.Offline {
		if pr.Diff.WallSeconds <= 0 || pr.Diff.HeapBaseBytes == 0 || pr.MaxRSSBytes == 0 {
			t.Errorf("offline %s: nothing measured: %+v", pr.Scenario, pr)
		}
	}
	for _, want := range []string{"wall/bound", "per-resource calls", "offline planning", "deprovision"} {
		if !strings.Contains(report, want) {
			t.Errorf("the report lacks %q:\n%s", want, report)
		}
	}
}

// TestFailedChangesFail checks that a scenario whose changes fail makes the run fail: the
// emulator refuses every group beyond its limit.
func TestFailedChangesFail(t *testing.T) {
	adjustEmulator = func(o *emulator.Options) { o.MaxGroups = 3 }
	defer func() { adjustEmulator = nil }()
	var stdout, stderr bytes.Buffer
	code := Main(context.Background(), append(fast, "-scenario", "initial"), &stdout, &stderr)
	if code != 1 {
		t.Fatalf("exit status %d, want 1\nstderr:\n%s", code, &stderr)
	}
	if !strings.Contains(stderr.String(), "FAILED: initial: apply incomplete") {
		t.Errorf("stderr does not name the failure:\n%s", &stderr)
	}
}

// TestServerVerbLimits checks that per-method limits reach the emulator (it answers 429
// to POSTs beyond its bucket) and that the per-method bound and its table are reported.
func TestServerVerbLimits(t *testing.T) {
	res, report := runResults(t, append(fast, "-scenario", "initial", "-server-verb-limits", "post=400"))
	st := res.Scenarios[0].Steps[2]
	if st.Step != "apply" || st.VerbCalls["POST"] < 200 {
		t.Fatalf("apply step %+v: want at least 200 POSTs counted", st)
	}
	// 200 users alone take half a second at 400 POSTs per second, far more than at 5,000
	// requests per second overall.
	if st.VerbBoundSeconds < float64(st.VerbCalls["POST"])/400 || st.VerbBoundSeconds <= st.LowerBoundSeconds {
		t.Errorf("per-method bound %.3fs, overall bound %.3fs, %d POSTs", st.VerbBoundSeconds, st.LowerBoundSeconds, st.VerbCalls["POST"])
	}
	if !strings.Contains(report, "per-method server limits: POST 400/s") {
		t.Errorf("the report lacks the per-method table:\n%s", report)
	}
}

func TestOfflineOnly(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := Main(context.Background(), []string{"-size", "T", "-offline", "-scenario", "noop,churn"}, &stdout, &stderr); code != 0 {
		t.Fatalf("exit status %d\nstderr:\n%s", code, &stderr)
	}
	if strings.Contains(stdout.String(), "wall/bound") || !strings.Contains(stdout.String(), "churn") {
		t.Errorf("want the offline table only:\n%s", &stdout)
	}
}

func TestUsage(t *testing.T) {
	for name, args := range map[string][]string{
		"unknown size":      {"-size", "XL"},
		"unknown scenario":  {"-scenario", "initial,bogus"},
		"zero rate":         {"-rate", "0"},
		"bad verb limit":    {"-server-verb-limits", "FETCH=2"},
		"argument":          {"extra"},
		"unknown flag":      {"-bogus"},
		"scenarios, no cli": {"-cli-scenarios"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := Main(context.Background(), args, &stdout, &stderr); code != 2 {
				t.Errorf("exit status %d, want 2\nstderr:\n%s", code, &stderr)
			}
		})
	}
}
