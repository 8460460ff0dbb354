package e2e

import (
	"context"
	"flag"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/synth"
)

var faultSeeds = flag.Int("fault-seeds", 0, "run the fault matrix with this many seeds (default: 1 with -short, 3 without)")

// matrix is the fault mix of issue 8: every kind of failure Databricks was seen to
// produce, at rates high enough that a 1,000-user apply meets each many times.
var matrix = emulator.Faults{
	RateLimit500:   0.05, // 500 REQUEST_LIMIT_EXCEEDED
	Rate503:        0.05,
	Rate429:        0.05, // without Retry-After
	RateReset:      0.02, // connection reset before the request is read
	RateCreateDrop: 0.01, // the create commits, then the connection drops
	RateWriteDrop:  0.01, // any write commits, then the connection drops
	RateCommit503:  0.01, // any write commits, then a gateway answers 503
	RateCommit504:  0.01, // any write commits, then a gateway answers 504 in HTML
}

// matrixVisibility hides new objects from lists and filters for a while: a lookup after a
// dropped create may not find the object at once (consistency after create is UNKNOWN,
// reference §6).
const matrixVisibility = 200 * time.Millisecond

// TestFaultMatrix applies a 1,000-user organisation through the real client to an emulator
// that fails a sixth of the requests in every way it can, with random latency, and checks
// that the apply converges: every change succeeds, the next plan is empty, no identity
// exists twice, and the account holds exactly the desired state, memberships included.
// Every fault kind must have been injected, so that a run that met none proves nothing.
func TestFaultMatrix(t *testing.T) {
	seeds := *faultSeeds
	if seeds <= 0 {
		seeds = 3
		if testing.Short() {
			seeds = 1
		}
	}
	for seed := range int64(seeds) {
		t.Run(fmt.Sprintf("seed-%d", seed+1), func(t *testing.T) {
			runFaultMatrix(t, seed+1)
		})
	}
}

func runFaultMatrix(t *testing.T, seed int64) {
	desired := synth.Org(uint64(seed), synth.Spec{Users: 1000, ServicePrincipals: 20, Groups: 100, Memberships: 3000, Depth: 3, Workspaces: 2})
	s := newStack(t, model.LevelAccount, emulator.Options{
		Faults:        matrix,
		Seed:          seed,
		LatencyJitter: 2 * time.Millisecond,
		VisibilityDelay: map[string]time.Duration{
			"Users": matrixVisibility, "Groups": matrixVisibility, "ServicePrincipals": matrixVisibility,
		},
	}, func(c *scim.Config) {
		// The client halves its rate on every throttled second and recovers by a tenth of
		// its limit per second: a high limit keeps the run short at a sixth of failures.
		c.RateLimit = 20000
		c.MaxInFlight = 16
	})
	start := time.Now()
	p := s.plan(t, desired)
	res, err := plan.Apply(context.Background(), p, s.client, plan.ApplyOptions{Target: s.target, Concurrency: 16})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatalf("apply under faults: %v", err)
	}
	time.Sleep(matrixVisibility) // let the last creates show in lists
	if again := s.plan(t, desired); !again.Empty() {
		t.Fatalf("not converged under faults, %d changes left: %v", len(again.Changes), describe(again))
	}
	elapsed := time.Since(start)

	st := s.srv.ManagedState()
	assertNoDuplicates(t, st)
	assertNoneLost(t, desired, st)
	if diff := cmp.Diff(withoutIDs(desired), withoutIDs(st)); diff != "" {
		t.Errorf("the account differs from the desired state (-desired +account):\n%s", diff)
	}

	c := s.srv.Counters()
	for _, f := range []string{emulator.FaultLimit500, emulator.Fault503, emulator.Fault429, emulator.FaultReset, emulator.FaultCreateDrop,
		emulator.FaultWriteDrop, emulator.FaultCommit503, emulator.FaultCommit504} {
		if c.Faults[f] == 0 {
			t.Errorf("no %s fault was injected in %d requests: the run does not prove the client survives it", f, c.Requests)
		}
	}
	stats := s.client.Stats()
	if stats.CreatesResolved == 0 {
		t.Error("no create of unknown outcome was resolved by a lookup")
	}
	t.Logf("%d changes; %d requests to the emulator, %d faults injected %v; client: %d attempts, %d retries, %d throttled, %d server errors, %d network errors, %d unknown outcomes, %d creates resolved by lookup; %s",
		len(p.Changes), c.Requests, c.FaultsInjected, c.Faults, stats.Total(), stats.Retries, stats.Throttled, stats.ServerErrors,
		stats.NetworkErrors, stats.UnknownOutcomes, stats.CreatesResolved, elapsed.Round(time.Millisecond))
}

// withoutIDs returns a normalised copy of a state without SCIM ids and workspace hosts, for comparing a live
// state with a desired one.
func withoutIDs(s *model.State) *model.State {
	c := synth.Clone(s)
	for i := range c.Users {
		c.Users[i].ID = ""
	}
	for i := range c.ServicePrincipals {
		c.ServicePrincipals[i].ID = ""
	}
	for i := range c.Groups {
		c.Groups[i].ID = ""
	}
	// A workspace's host is configuration: the emulator's state does not carry it.
	for i := range c.Workspaces {
		c.Workspaces[i].Host = ""
	}
	c.Normalize()
	return c
}
