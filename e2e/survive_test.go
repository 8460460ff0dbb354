package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/synth"
)

// stepClock is an emulator clock that the test moves on.
type stepClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *stepClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *stepClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestPlanRightAfterApplyUnderDelayedVisibility: new objects stay out of lists and filters
// for 3 s (the emulator's clock moves 1 s per filtered lookup). A plan made at once after
// an apply shows every create again; applying it must adopt the objects the first apply
// made: 0 failures, 0 duplicates, and once they show, an empty plan. Before, 24 of 28
// changes failed with 409 "already exists" (issue 13).
func TestPlanRightAfterApplyUnderDelayedVisibility(t *testing.T) {
	for _, level := range []model.Level{model.LevelAccount, model.LevelWorkspace} {
		t.Run(string(level), func(t *testing.T) {
			clk := &stepClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
			delay := 3 * time.Second
			opts := emulator.Options{
				Now:             clk.Now,
				VisibilityDelay: map[string]time.Duration{"Users": delay, "Groups": delay, "ServicePrincipals": delay},
				OnRequest: func(r emulator.Request) {
					if r.Method == "GET" && len(r.Query) > 0 && containsFilter(r.Query) {
						clk.Advance(time.Second)
					}
				},
			}
			s := newStack(t, level, opts)
			desired := synth.Org(5, synth.Spec{Users: 20, ServicePrincipals: 3, Groups: 5, Memberships: 30, Depth: 2, Workspaces: 1})
			if level == model.LevelWorkspace {
				desired.Workspaces = nil
			}
			first := s.plan(t, desired)
			mustApply(t, s, first)
			second := s.plan(t, desired)
			creates := 0
			for _, c := range second.Changes {
				if c.Action == plan.Create {
					creates++
				}
			}
			if creates == 0 {
				t.Fatalf("the plan right after the apply shows no creates: the delay is not in effect")
			}
			// Executed as apply --auto-approve runs a plan it has just made. (apply of the
			// plan file would re-read the objects it creates with filtered lookups, which
			// move this emulator's clock past the delay, see them, and refuse the plan as
			// stale: safe too, but not what this test is about.)
			res := plan.Execute(context.Background(), second, s.client, plan.ApplyOptions{Target: s.target})
			if res.Failed != 0 || res.Err() != nil {
				t.Fatalf("%d of %d changes failed: %v", res.Failed, len(second.Changes), res.Err())
			}
			if st := s.client.Stats(); st.CreatesAdopted < int64(creates) {
				t.Errorf("%d creates adopted, want %d", st.CreatesAdopted, creates)
			}
			clk.Advance(delay)
			if again := s.plan(t, desired); !again.Empty() {
				t.Fatalf("not converged: %v", describe(again))
			}
			assertNoDuplicates(t, s.srv.State())
			assertNoneLost(t, desired, s.srv.State())
		})
	}
}

func containsFilter(query string) bool {
	for i := 0; i+7 <= len(query); i++ {
		if query[i:i+7] == "filter=" {
			return true
		}
	}
	return false
}

func mustApply(t *testing.T, s *stack, p *plan.Plan) {
	t.Helper()
	res, err := plan.Apply(context.Background(), p, s.client, plan.ApplyOptions{Target: s.target, BatchSize: 3})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("apply: %v\nplan: %v", err, describe(p))
	}
}

// assertNoneLost checks that every identity of desired exists in st.
func assertNoneLost(t testing.TB, desired, st *model.State) {
	t.Helper()
	have := map[string]bool{}
	for _, u := range st.Users {
		have["user:"+u.Key()] = true
	}
	for _, p := range st.ServicePrincipals {
		have["sp:"+p.DisplayName] = true
	}
	for _, g := range st.Groups {
		have["group:"+g.Key()] = true
	}
	for _, u := range desired.Users {
		if !have["user:"+u.Key()] {
			t.Errorf("user %s is missing", u.Key())
		}
	}
	for _, p := range desired.ServicePrincipals {
		if !have["sp:"+p.DisplayName] {
			t.Errorf("service principal %s is missing", p.DisplayName)
		}
	}
	for _, g := range desired.Groups {
		if !have["group:"+g.Key()] {
			t.Errorf("group %s is missing", g.Key())
		}
	}
}

// TestReplayedWritesConverge: every write's answer is lost after it committed (or turned
// into a 503 or 504, or held past the client's timeout), so the client sends each again:
// a replayed PATCH that removes members and roles already gone (with the emulator
// refusing removes of absent values), a replayed DELETE that meets 404 and a replayed
// assignment PUT all end converged, nothing failed, nothing duplicated (issue 13).
func TestReplayedWritesConverge(t *testing.T) {
	faults := map[string]emulator.Faults{
		"write-drop":  {RateWriteDrop: 1},
		"commit-503":  {RateCommit503: 1},
		"commit-504":  {RateCommit504: 1},
		"slow-commit": {RateSlowCommit: 1},
	}
	for name, f := range faults {
		for _, seed := range []uint64{1, 2, 4} {
			t.Run(fmt.Sprintf("%s-%d", name, seed), func(t *testing.T) {
				level := model.LevelAccount
				if seed%4 == 0 {
					level = model.LevelWorkspace
				}
				desired, live := synth.Pair(seed, level)
				s := newStack(t, level, emulator.Options{RemoveAbsentFails: true, SlowCommit: 400 * time.Millisecond, Seed: int64(seed)},
					func(c *scim.Config) { c.Timeout = 150 * time.Millisecond })
				if _, err := s.srv.Seed(live); err != nil {
					t.Fatal(err)
				}
				p := s.plan(t, desired)
				// Every other request to a path is spoiled, so every spoiled write is
				// sent again unspoiled: each PATCH, DELETE and PUT is replayed once.
				s.srv.SetFaults(f)
				var mu sync.Mutex
				spoiled := map[string]bool{}
				s.srv.SetFaultFilter(func(r emulator.Request) bool {
					mu.Lock()
					defer mu.Unlock()
					k := r.Method + " " + r.Path
					spoiled[k] = !spoiled[k]
					return spoiled[k]
				})
				res, err := plan.Apply(context.Background(), p, s.client, plan.ApplyOptions{Target: s.target, BatchSize: 3})
				if err != nil {
					t.Fatal(err)
				}
				s.srv.SetFaults(emulator.Faults{})
				if err := res.Err(); err != nil {
					t.Fatalf("apply with every answer spoiled once: %v\nplan: %v", err, describe(p))
				}
				if again := s.plan(t, desired); !again.Empty() {
					t.Fatalf("not converged, left: %v", describe(again))
				}
				assertNoDuplicates(t, s.srv.State())
				assertNoneLost(t, desired, s.srv.State())
				if c := s.srv.Counters(); c.Faults[faultName(f)] == 0 && len(p.Changes) > 0 {
					t.Errorf("no %s fault injected", name)
				}
			})
		}
	}
}

func faultName(f emulator.Faults) string {
	switch {
	case f.RateWriteDrop > 0:
		return emulator.FaultWriteDrop
	case f.RateCommit503 > 0:
		return emulator.FaultCommit503
	case f.RateCommit504 > 0:
		return emulator.FaultCommit504
	}
	return emulator.FaultSlowCommit
}

// TestThrottlingProvesItself: an emulator whose limits differ from the client's defaults
// (20 requests/s overall, PATCH and POST at 10/s with Retry-After, at most 4 requests in
// flight, Databricks' concurrent limit, §5.3) against a client at its defaults (25/s, 8 in
// flight): the apply still converges, and the emulator did refuse requests, so the run
// shows the client adapts rather than holding by construction (issue 13).
func TestThrottlingProvesItself(t *testing.T) {
	s := newStack(t, model.LevelAccount, emulator.Options{
		RateLimit:      20,
		VerbRateLimits: map[string]float64{"PATCH": 10, "POST": 10},
		RetryAfter:     true,
		MaxConcurrent:  4,
	}, func(c *scim.Config) { c.RateLimit, c.MaxInFlight = 0, 0 })
	desired := synth.Org(9, synth.Spec{Users: 20, ServicePrincipals: 2, Groups: 4, Memberships: 30, Depth: 2, Workspaces: 1})
	p := s.plan(t, desired)
	mustApply(t, s, p)
	if again := s.plan(t, desired); !again.Empty() {
		t.Fatalf("not converged: %v", describe(again))
	}
	assertNoDuplicates(t, s.srv.State())
	c := s.srv.Counters()
	st := s.client.Stats()
	if c.TooManyRequests+c.ConcurrencyRejected == 0 || st.Throttled == 0 {
		t.Errorf("the emulator refused nothing (429s %d, concurrency %d; client saw %d): the run proves nothing", c.TooManyRequests, c.ConcurrencyRejected, st.Throttled)
	}
	if c.MaxInFlight > 8 {
		t.Errorf("%d requests in flight at once, beyond the client's cap of 8", c.MaxInFlight)
	}
	t.Logf("%d requests; emulator: %d 429s, %d concurrency refusals, %d in flight at most; client: %d throttled, rate now %.1f/s",
		c.Requests, c.TooManyRequests, c.ConcurrencyRejected, c.MaxInFlight, st.Throttled, st.RateLimit)
}
