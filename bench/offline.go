package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"

	"github.com/scimsync/scimsync/plan"
)

// childEnv, when set, makes the program a planning child: see measureOffline.
const childEnv = "SCIMSYNC_BENCH_PLANNING_CHILD"

// offlineHost is the target host offline plans are made for.
const offlineHost = "http://127.0.0.1"

// PlanningResult is the cost of planning one scenario offline, in a process of its own.
type PlanningResult struct {
	Scenario string              `json:"scenario"`
	Desired  OrgSize             `json:"desired"`
	Live     OrgSize             `json:"live"`
	Changes  int                 `json:"changes"`
	ByAction map[plan.Action]int `json:"byAction"`
	// Diff is the cost of plan.Diff alone.
	Diff Cost `json:"diff"`
	// MaxRSSBytes is the peak resident set of the whole planning process: the Go runtime,
	// generating both states, and the Diff. It bounds what a plan of this size needs.
	MaxRSSBytes uint64 `json:"maxRSSBytes"`
	// ProcessCPUSeconds is the CPU time of the whole planning process, generation included.
	ProcessCPUSeconds float64 `json:"processCPUSeconds"`
}

// measureOffline plans one scenario in a child process (this program, re-executed with
// childEnv set), so that the child's peak RSS belongs to that plan alone and not to earlier
// scenarios or the emulator. The child generates the desired state and the live state a
// snapshot would return (with SCIM ids), collects garbage, and measures plan.Diff.
func measureOffline(ctx context.Context, cfg *config, scenario string) (*PlanningResult, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find this program to run the planning child: %w", err)
	}
	cmd := exec.CommandContext(ctx, exe, "-size", cfg.Size, "-scenario", scenario, "-seed", strconv.FormatUint(cfg.Seed, 10))
	cmd.Env = append(os.Environ(), childEnv+"=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("planning child: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	var pr PlanningResult
	if err := json.Unmarshal(stdout.Bytes(), &pr); err != nil {
		return nil, fmt.Errorf("planning child output: %w", err)
	}
	if rss, ok := maxRSS(cmd.ProcessState); ok {
		pr.MaxRSSBytes = rss
	}
	pr.ProcessCPUSeconds = (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds()
	return &pr, nil
}

// childMain is the planning child: it plans one scenario and writes a PlanningResult as
// JSON to stdout.
func childMain(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench planning child", flag.ContinueOnError)
	fs.SetOutput(stderr)
	size := fs.String("size", "", "")
	scenario := fs.String("scenario", "", "")
	seed := fs.Uint64("seed", 1, "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	spec, ok := sizes[*size]
	if !ok {
		fmt.Fprintf(stderr, "planning child: unknown size %q\n", *size)
		return 2
	}
	desired, live := scenarioStates(*seed, spec, *scenario)
	live = withIDs(live)
	pol, opts := policyFor(*scenario, offlineHost)
	var (
		p       *plan.Plan
		diffErr error
	)
	cost := measure(func() { p, diffErr = plan.Diff(desired, live, pol, opts) })
	var ge *plan.GuardError
	if diffErr != nil && !errors.As(diffErr, &ge) {
		fmt.Fprintf(stderr, "planning child: %v\n", diffErr)
		return 1
	}
	pr := PlanningResult{Scenario: *scenario, Desired: sizeOf(desired), Live: sizeOf(live),
		Changes: len(p.Changes), ByAction: p.Summary.ByAction, Diff: cost}
	if err := json.NewEncoder(stdout).Encode(&pr); err != nil {
		fmt.Fprintf(stderr, "planning child: %v\n", err)
		return 1
	}
	return 0
}
