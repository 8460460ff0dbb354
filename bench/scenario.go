package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"time"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
)

// StepResult is what one step of a scenario (reading and planning, or applying) did on
// the wire and how long it took.
type StepResult struct {
	Step string `json:"step"`
	// Requests counts the attempts the client sent, by HTTP method, retries included.
	Requests map[string]int64 `json:"requests"`
	Attempts int64            `json:"attempts"`
	Retries  int64            `json:"retries"`
	// Calls is the requests the work needed: attempts minus retries.
	Calls int64 `json:"calls"`
	// LowerBoundSeconds is Calls / rate: the least time the rate limit allows.
	LowerBoundSeconds float64 `json:"lowerBoundSeconds"`
	// With per-method server limits, VerbCalls counts the requests of each method the
	// emulator answered other than with a 429, and VerbBoundSeconds adds up each method's
	// calls over its limit (the overall rate for a method without one): the least time
	// when the methods' requests do not overlap, as apply's phases keep them.
	VerbCalls         map[string]int `json:"verbCalls,omitempty"`
	VerbBoundSeconds  float64        `json:"verbBoundSeconds,omitempty"`
	WallOverVerbBound float64        `json:"wallOverVerbBound,omitempty"`
	WallSeconds       float64        `json:"wallSeconds"`
	WallOverBound     float64        `json:"wallOverBound"`
	// Client429 counts the 429s the client received, ClientThrottled those and the
	// REQUEST_LIMIT_EXCEEDED 500s; Emulator429 counts the 429s the emulator's rate limiter
	// sent, and EmulatorRequests every request it answered.
	Client429        int64 `json:"client429"`
	ClientThrottled  int64 `json:"clientThrottled"`
	Emulator429      int   `json:"emulator429"`
	EmulatorRequests int   `json:"emulatorRequests"`
}

// ScenarioResult is one scenario run against the emulator.
type ScenarioResult struct {
	Name    string       `json:"name"`
	Steps   []StepResult `json:"steps"`
	Total   StepResult   `json:"total"`
	Desired OrgSize      `json:"desired"`
	Live    OrgSize      `json:"live"`
	// Planning is the cost of the Diff step, measured in this process while the emulator
	// is idle.
	Planning Cost                `json:"planning"`
	Changes  int                 `json:"changes"`
	ByAction map[plan.Action]int `json:"byAction"`
	// GuardTripped reports that the plan, made without the override, was refused by the
	// removal guard (checked where the override is given; the default guard trips from 26
	// removals).
	GuardTripped bool `json:"guardTripped"`
	// Apply outcome, per change.
	OK      int `json:"ok"`
	Failed  int `json:"failed"`
	Skipped int `json:"skipped"`
	NotRun  int `json:"notRun"`
	// Converged reports that a plan of the desired state over the emulator's state after
	// the scenario is empty.
	Converged bool `json:"converged"`
	// PerResource counts the calls a one-call-per-resource tool would make for the same
	// work: one read per resource in its state to refresh it (none for the initial apply,
	// whose state is empty) and one write per resource changed.
	PerResourceReads  int      `json:"perResourceReads"`
	PerResourceWrites int      `json:"perResourceWrites"`
	Failures          []string `json:"failures,omitempty"`
}

// PerResourceCalls is the calls a one-call-per-resource tool would make.
func (r *ScenarioResult) PerResourceCalls() int { return r.PerResourceReads + r.PerResourceWrites }

// emulatorOptions configures the emulator of a run: the rate limit and latency of the
// command line, the workspaces the organisation uses, and Databricks' identity limits
// lifted where the organisation (with the emulator's two token owners and its built-in
// group) exceeds them, as an account whose limits were raised would have them.
func emulatorOptions(cfg *config, desired *model.State) emulator.Options {
	o := emulator.Options{
		RateLimit:      cfg.Rate,
		VerbRateLimits: cfg.ServerVerbLimits,
		RetryAfter:     cfg.RetryAfter,
		Latency:        cfg.Latency,
		LatencyJitter:  cfg.Jitter,
		Seed:           int64(cfg.Seed),
	}
	for _, w := range desired.Workspaces {
		o.Workspaces = append(o.Workspaces, w.ID)
	}
	if cfg.Spec.Users+cfg.Spec.ServicePrincipals+2 > model.MaxPrincipals {
		o.MaxPrincipals = -1
	}
	if cfg.Spec.Groups+1 > model.MaxGroups {
		o.MaxGroups = -1
	}
	if adjustEmulator != nil {
		adjustEmulator(&o)
	}
	return o
}

// adjustEmulator, when set (by tests), changes the emulator options of every scenario.
var adjustEmulator func(*emulator.Options)

// step measures one step: the client's counters, the emulator's, and the wall time.
type step struct {
	name   string
	client *scim.Client
	srv    *emulator.Server
	rate   float64
	verbs  map[string]float64 // the server's per-method limits
	before scim.Stats
	start  time.Time
}

func startStep(name string, c *scim.Client, srv *emulator.Server, cfg *config) *step {
	srv.Reset()
	return &step{name: name, client: c, srv: srv, rate: cfg.Rate, verbs: cfg.ServerVerbLimits, before: c.Stats(), start: time.Now()}
}

func (s *step) finish() StepResult {
	wall := time.Since(s.start)
	after := s.client.Stats()
	ec := s.srv.Counters()
	r := StepResult{Step: s.name, Requests: map[string]int64{}, WallSeconds: wall.Seconds(),
		Retries:         after.Retries - s.before.Retries,
		Client429:       after.TooManyRequests - s.before.TooManyRequests,
		ClientThrottled: after.Throttled - s.before.Throttled,
		Emulator429:     ec.TooManyRequests, EmulatorRequests: ec.Requests,
	}
	for m, n := range after.Requests {
		if d := n - s.before.Requests[m]; d > 0 {
			r.Requests[m] = d
			r.Attempts += d
		}
	}
	r.Calls = r.Attempts - r.Retries
	if len(s.verbs) > 0 {
		r.VerbCalls = map[string]int{}
		for _, q := range s.srv.Requests() {
			if q.Status != http.StatusTooManyRequests && q.Status != 0 {
				r.VerbCalls[q.Method]++
			}
		}
	}
	r.bound(s.rate, s.verbs)
	return r
}

func (r *StepResult) bound(rate float64, verbs map[string]float64) {
	r.LowerBoundSeconds = float64(r.Calls) / rate
	if r.LowerBoundSeconds > 0 {
		r.WallOverBound = r.WallSeconds / r.LowerBoundSeconds
	}
	if r.VerbCalls == nil {
		return
	}
	r.VerbBoundSeconds = 0
	for m, n := range r.VerbCalls {
		lim := rate
		if v, ok := verbs[m]; ok && v < lim {
			lim = v
		}
		r.VerbBoundSeconds += float64(n) / lim
	}
	if r.VerbBoundSeconds > 0 {
		r.WallOverVerbBound = r.WallSeconds / r.VerbBoundSeconds
	}
}

// total adds up the steps of a scenario.
func total(steps []StepResult, rate float64, verbs map[string]float64) StepResult {
	t := StepResult{Step: "total", Requests: map[string]int64{}}
	for _, s := range steps {
		for m, n := range s.VerbCalls {
			if t.VerbCalls == nil {
				t.VerbCalls = map[string]int{}
			}
			t.VerbCalls[m] += n
		}
		for m, n := range s.Requests {
			t.Requests[m] += n
		}
		t.Attempts += s.Attempts
		t.Retries += s.Retries
		t.Calls += s.Calls
		t.WallSeconds += s.WallSeconds
		t.Client429 += s.Client429
		t.ClientThrottled += s.ClientThrottled
		t.Emulator429 += s.Emulator429
		t.EmulatorRequests += s.EmulatorRequests
	}
	t.bound(rate, verbs)
	return t
}

// runScenario runs one scenario against a fresh emulator on a loopback port: it seeds the
// live state, reads it and plans (step "plan", as plan -o does), verifies the plan as apply
// plan.json does before its first write (step "verify": the objects the plan touches are
// read again), applies the plan unless it is the no-op scenario (step "apply"), and checks
// that nothing is left to do. The total is what a merge costs: plan -o and apply plan.json.
func runScenario(ctx context.Context, cfg *config, name string, progress io.Writer) (*ScenarioResult, error) {
	desired, live := scenarioStates(cfg.Seed, cfg.Spec, name)
	res := &ScenarioResult{Name: name, Desired: sizeOf(desired), Live: sizeOf(live)}
	srv := emulator.New(emulatorOptions(cfg, desired))
	hs := httptest.NewServer(srv)
	defer hs.Close()
	if !live.Empty() {
		if _, err := srv.Seed(live); err != nil {
			return nil, fmt.Errorf("seed the emulator: %w", err)
		}
		res.PerResourceReads = res.Live.resources()
	}
	client, err := scim.New(scim.Config{
		Auth: auth.Settings{Host: hs.URL, Level: model.LevelAccount, AccountID: emulator.DefaultAccountID,
			Token: auth.NewSecret(emulator.DefaultToken)},
		RateLimit:     cfg.Rate,
		MaxInFlight:   cfg.InFlight,
		HostOverrides: hostOverrides(srv, hs.URL),
	})
	if err != nil {
		return nil, err
	}
	pol, opts := policyFor(name, hs.URL)
	opts.Now = time.Now()

	st := startStep("plan", client, srv, cfg)
	snap, err := client.Snapshot(ctx, desired.Workspaces)
	if err != nil {
		return nil, err
	}
	var (
		p       *plan.Plan
		diffErr error
	)
	res.Planning = measure(func() { p, diffErr = plan.Diff(desired, snap, pol, opts) })
	if diffErr != nil {
		return nil, diffErr
	}
	res.Steps = append(res.Steps, st.finish())
	res.Changes, res.ByAction = len(p.Changes), p.Summary.ByAction
	res.PerResourceWrites = perResourceWrites(p)
	fmt.Fprintf(progress, "bench:   plan: %d changes in %.1fs\n", len(p.Changes), res.Steps[0].WallSeconds)

	if opts.OverrideGuards {
		guarded := opts
		guarded.OverrideGuards = false
		var ge *plan.GuardError
		_, gerr := plan.Diff(desired, snap, pol, guarded)
		res.GuardTripped = errors.As(gerr, &ge)
	}
	// What apply plan.json does before any write: re-read what the plan touches (nothing
	// for an empty plan) and refuse it if that changed.
	st = startStep("verify", client, srv, cfg)
	if err := plan.Verify(ctx, p, client, opts.Target); err != nil {
		res.Failures = append(res.Failures, fmt.Sprintf("%s: verify the plan: %v", name, err))
	}
	res.Steps = append(res.Steps, st.finish())
	if name == scenarioNoop {
		if !p.Empty() {
			res.Failures = append(res.Failures, fmt.Sprintf("%s: the plan has %d changes, want none", name, len(p.Changes)))
		}
	} else {
		st = startStep("apply", client, srv, cfg)
		out := plan.Execute(ctx, p, client, plan.ApplyOptions{Target: opts.Target, BatchSize: cfg.BatchSize, Concurrency: cfg.Concurrency})
		res.Steps = append(res.Steps, st.finish())
		res.OK, res.Failed, res.Skipped, res.NotRun = out.OK, out.Failed, out.Skipped, out.NotRun
		if err := out.Err(); err != nil {
			res.Failures = append(res.Failures, fmt.Sprintf("%s: %v", name, err))
		}
		fmt.Fprintf(progress, "bench:   apply: %d ok, %d failed in %.1fs\n", out.OK, out.Failed, res.Steps[len(res.Steps)-1].WallSeconds)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	res.Total = total(res.Steps, cfg.Rate, cfg.ServerVerbLimits)

	// The check reads the emulator's state directly rather than through the rate-limited
	// API, so that it adds nothing to the figures; the no-op scenario shows that a plan
	// made through the API over a converged account is empty.
	again, err := plan.Diff(desired, srv.State(), pol, opts)
	if err != nil {
		return nil, fmt.Errorf("plan after the scenario: %w", err)
	}
	res.Converged = again.Empty()
	if !res.Converged {
		var left []string
		for i := range min(len(again.Changes), 5) {
			left = append(left, plan.Describe(&again.Changes[i]))
		}
		res.Failures = append(res.Failures, fmt.Sprintf("%s: %d changes left after apply, first %v", name, len(again.Changes), left))
	}
	return res, nil
}

// hostOverrides sends the host of each of srv's workspaces to url, where srv is served.
func hostOverrides(srv *emulator.Server, url string) map[string]string {
	out := map[string]string{}
	for _, id := range srv.Options().Workspaces {
		out[srv.WorkspaceHost(id)] = url
	}
	return out
}

// overridesEnv is hostOverrides in the form of SCIMSYNC_HOST_OVERRIDES.
func overridesEnv(srv *emulator.Server, url string) string {
	var entries []string
	for host, to := range hostOverrides(srv, url) {
		entries = append(entries, host+"="+to)
	}
	sort.Strings(entries)
	return strings.Join(entries, ",")
}
