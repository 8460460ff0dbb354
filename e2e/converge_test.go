// Package e2e holds end-to-end tests that join the planner, the SCIM client and the
// emulator: what no single package can show alone.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/audit"
	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
	"github.com/scimsync/scimsync/synth"
)

// stack is an emulator with a client pointed at it.
type stack struct {
	srv    *emulator.TestServer
	client *scim.Client
	target plan.TargetID
	policy policy.Policy
}

// newStack starts an emulator and a client for it; tune, if given, adjusts the client's
// configuration.
func newStack(t testing.TB, level model.Level, opts emulator.Options, tune ...func(*scim.Config)) *stack {
	t.Helper()
	opts.Level = level
	if opts.RateLimit == 0 {
		opts.RateLimit = -1 // functional tests run unthrottled
	}
	srv := emulator.NewTestServer(t, opts)
	eo := srv.Options()
	set := auth.Settings{Host: srv.URL, Level: level, Token: auth.NewSecret(eo.Token)}
	if level == model.LevelAccount {
		set.AccountID = eo.AccountID
	} else {
		set.WorkspaceID = eo.Workspaces[0]
	}
	cfg := scim.Config{Auth: set, RateLimit: 1000, RetryBaseDelay: time.Millisecond, RetryMaxDelay: 5 * time.Millisecond, HostOverrides: srv.HostOverrides()}
	for _, f := range tune {
		f(&cfg)
	}
	c, err := scim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	pol := policy.Default()
	// The emulator's token owners: the user of the token and the service principal of the
	// OAuth client. A real config protects its own credentials' identities the same way.
	pol.Protected.Users = []string{eo.MeUserName}
	pol.Protected.ServicePrincipals = []string{eo.ClientID}
	return &stack{srv: srv, client: c, policy: pol, target: plan.TargetID{Level: level, Host: srv.URL, AccountID: set.AccountID, WorkspaceID: set.WorkspaceID}}
}

// plan reads the live state and plans desired over it.
func (s *stack) plan(t testing.TB, desired *model.State) *plan.Plan {
	t.Helper()
	ctx := context.Background()
	live, err := s.client.Snapshot(ctx, desired.Workspaces)
	if err != nil {
		t.Fatal(err)
	}
	var id *model.Ref
	if ref, ok, err := s.client.Identity(ctx); err != nil {
		t.Fatal(err)
	} else if ok {
		id = &ref
	}
	p, err := plan.Diff(desired, live, s.policy, plan.Options{Target: s.target, Now: time.Unix(0, 0), Identity: id, OverrideGuards: true, AllowAdminRemoval: true})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func describe(p *plan.Plan) []string {
	var out []string
	for i := range p.Changes {
		out = append(out, plan.Describe(&p.Changes[i]))
	}
	return out
}

// TestConvergenceAgainstEmulator applies seeded random desired states over random live
// states through the real client and emulator, and checks that the next plan is empty and
// that no identity exists twice.
func TestConvergenceAgainstEmulator(t *testing.T) {
	n := 120
	if testing.Short() {
		n = 40
	}
	for seed := range uint64(n) {
		level := model.LevelAccount
		if seed%3 == 0 {
			level = model.LevelWorkspace
		}
		t.Run(fmt.Sprintf("%s-%d", level, seed), func(t *testing.T) {
			desired, live := synth.Pair(seed, level)
			s := newStack(t, level, emulator.Options{})
			if _, err := s.srv.Seed(live); err != nil {
				t.Fatalf("seed: %v", err)
			}
			p := s.plan(t, desired)
			res, err := plan.Apply(context.Background(), p, s.client, plan.ApplyOptions{Target: s.target, BatchSize: 3})
			if err != nil {
				t.Fatal(err)
			}
			if err := res.Err(); err != nil {
				t.Fatalf("apply: %v\nplan: %v", err, describe(p))
			}
			if again := s.plan(t, desired); !again.Empty() {
				t.Fatalf("not converged, left: %v\nfirst plan: %v", describe(again), describe(p))
			}
			assertNoDuplicates(t, s.srv.State())
		})
	}
}

func assertNoDuplicates(t testing.TB, st *model.State) {
	t.Helper()
	seen := map[string]bool{}
	for _, u := range st.Users {
		k := "user:" + u.Key()
		if seen[k] {
			t.Errorf("%s exists twice", k)
		}
		seen[k] = true
	}
	for _, p := range st.ServicePrincipals {
		k := "sp:" + p.DisplayName
		if seen[k] {
			t.Errorf("service principal %q exists twice", p.DisplayName)
		}
		seen[k] = true
	}
	for _, g := range st.Groups {
		k := "group:" + g.Key()
		if seen[k] {
			t.Errorf("%s exists twice", k)
		}
		seen[k] = true
	}
}

// TestAuditLogRecordsAttempts checks that the audit log of an apply names every request
// of every change, retries included, and no secret.
func TestAuditLogRecordsAttempts(t *testing.T) {
	s := newStack(t, model.LevelAccount, emulator.Options{Faults: emulator.Faults{Rate503: 0.3}, Seed: 3})
	desired := synth.Org(11, synth.Spec{Users: 30, Groups: 4, Memberships: 40, Depth: 2, Workspaces: 1})
	s.srv.SetFaults(emulator.Faults{})
	p := s.plan(t, desired)
	s.srv.SetFaults(emulator.Faults{Rate503: 0.3})
	var buf bytes.Buffer
	res, err := plan.Apply(context.Background(), p, s.client, plan.ApplyOptions{Target: s.target, Audit: audit.NewLog(&buf)})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != len(p.Changes) {
		t.Fatalf("audit log has %d lines for %d changes", len(lines), len(p.Changes))
	}
	retried := 0
	for _, line := range lines {
		var rec audit.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("audit line %q: %v", line, err)
		}
		if rec.Status != "ok" || rec.Attempts < 1 || len(rec.Requests) != rec.Attempts {
			t.Errorf("record %+v: want status ok and one request per attempt", rec)
		}
		if rec.Attempts > 1 {
			retried++
		}
	}
	if retried == 0 {
		t.Error("no change was retried although 30% of requests failed with 503")
	}
	if strings.Contains(buf.String(), s.srv.Options().Token) {
		t.Error("the audit log holds the token")
	}
}
