package e2e

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
)

// crashUsers is a manifest of n more users spread over the example organisation's teams,
// so that an apply has a few hundred writes to be killed in the middle of.
func crashUsers(n int) map[string]string {
	teams := []string{"sre", "product-engineering", "data-science", "analytics", "finance", "marketing"}
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - userName: crash-user-%03d@northwind.example\n    displayName: Crash User %d\n    groups: [%s]\n", i, i, teams[i%len(teams)])
	}
	return map[string]string{"crash-users.yaml": b.String()}
}

// TestCrashDuringApply kills the scimsync binary with SIGKILL at ten seeded points of an
// apply, each chosen as the Nth write the emulator receives, and checks that after each
// kill a new apply converges: the next plan is empty, nothing exists twice, and every
// declared identity has its declared members. The kill lands while requests are in
// flight, so some writes commit without their answer ever reaching the client.
func TestCrashDuringApply(t *testing.T) {
	extra := crashUsers(120)

	// A reference apply, uninterrupted, counts the writes an apply makes.
	ref := newAccount(t, emulator.Options{}, extra)
	ref.converge(t)
	writes := ref.obs.writes.Load()
	if writes < 20 {
		t.Fatalf("the reference apply made only %d writes", writes)
	}

	rng := rand.New(rand.NewPCG(8, 8))
	for i := range 10 {
		killAt := 1 + rng.Int64N(writes)
		t.Run(fmt.Sprintf("kill-at-write-%d", killAt), func(t *testing.T) {
			a := newAccount(t, emulator.Options{}, extra)
			a.obs.killAt.Store(killAt)
			r := a.start(t, "apply", "--auto-approve")()
			if !r.killed || !a.obs.killed.Load() {
				t.Fatalf("run %d: the apply was not killed at write %d of %d: %s", i, killAt, writes, r)
			}
			a.quiesce(t)
			done := a.obs.writes.Load()
			a.converge(t)
			t.Logf("killed at write %d of %d (%d writes received in all before the kill settled); the next apply made %d more",
				killAt, writes, done, a.obs.writes.Load()-done)
		})
	}
}

// TestConcurrentApplies starts two applies of the same change at once and checks that both
// end (one may fail on conflicts or a stale plan) and that a final apply leaves the account
// in the declared state with nothing duplicated.
//
// One duplicate is beyond any client: a service principal declared without an
// applicationId is keyed by displayName, which Databricks does not keep unique, so two
// applies that create it at the same moment both succeed. The test tolerates that one
// case only if the next plan names it as blocked (it then leaves every copy alone), and
// SECURITY.md says to run one apply at a time.
func TestConcurrentApplies(t *testing.T) {
	extra := crashUsers(60)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"plan-file", []string{"apply", "plan.json"}},
		{"auto-approve", []string{"apply", "--auto-approve"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAccount(t, emulator.Options{}, extra)
			if r := a.run(t, "plan", "-o", "plan.json"); r.code != 0 {
				t.Fatalf("plan: %s", r)
			}
			wait1 := a.start(t, tc.args...)
			wait2 := a.start(t, tc.args...)
			r1, r2 := wait1(), wait2()
			for _, r := range []result{r1, r2} {
				if r.code != 0 && r.code != 1 || r.killed {
					t.Fatalf("an apply ended with %s", r)
				}
				if r.code == 1 && !strings.Contains(r.stderr, "error: ") {
					t.Errorf("an apply failed without an error message: %s", r)
				}
			}
			a.quiesce(t)
			final := a.applyAllButLookAlikes(t)
			live := a.srv.State()
			assertHolds(t, a.desired(t), live)
			assertNoDuplicates(t, withoutAmbiguous(t, live, a.desired(t), final))
			t.Logf("exit codes %d and %d", r1.code, r2.code)
		})
	}
}

// withoutAmbiguous returns live without the service principals that are declared without
// an applicationId and exist more than once, after checking that the plan run warned
// about each of them.
// applyAllButLookAlikes is applyAll for an account where concurrent applies may have
// created a service principal twice: the plan after the apply may be blocked by those
// look-alikes, and by nothing else.
func (a *account) applyAllButLookAlikes(t *testing.T) result {
	t.Helper()
	if r := a.run(t, "apply", "--auto-approve"); r.code != 0 {
		t.Fatalf("apply --auto-approve: %s", r)
	}
	r := a.run(t, "plan", "--detailed-exitcode")
	switch {
	case r.code == 0 && strings.Contains(r.stdout, "No changes."):
	case r.code == 2 && strings.Contains(r.stdout, "No changes can be made.") && onlyLookAlikesBlocked(r.stdout):
	default:
		t.Fatalf("plan after apply: %s\n%s", r, r.stdout)
	}
	return r
}

// onlyLookAlikesBlocked reports whether every entry of a text plan's Blocked section is a
// service principal that several live ones match by displayName.
func onlyLookAlikesBlocked(out string) bool {
	_, blocked, ok := strings.Cut(out, "\nBlocked:\n")
	if !ok {
		return false
	}
	for _, line := range strings.Split(blocked, "\n") {
		if !strings.HasPrefix(line, "  - ") {
			break
		}
		if !strings.Contains(line, "live service principals by displayName") {
			return false
		}
	}
	return true
}

func withoutAmbiguous(t *testing.T, live, desired *model.State, plan result) *model.State {
	t.Helper()
	byName := map[string]bool{}
	for _, p := range desired.ServicePrincipals {
		if p.ApplicationID == "" {
			byName[p.DisplayName] = true
		}
	}
	count := map[string]int{}
	for _, p := range live.ServicePrincipals {
		count[p.DisplayName]++
	}
	out := *live
	out.ServicePrincipals = nil
	for _, p := range live.ServicePrincipals {
		n := count[p.DisplayName]
		if n <= 1 || !byName[p.DisplayName] {
			out.ServicePrincipals = append(out.ServicePrincipals, p)
			continue
		}
		if count[p.DisplayName] < 0 {
			continue // reported already
		}
		count[p.DisplayName] = -1
		warning := fmt.Sprintf("service principal %s: matches %d live service principals by displayName", p.DisplayName, n)
		if !strings.Contains(plan.stdout+plan.stderr, warning) {
			t.Errorf("service principal %q exists %d times and the plan does not warn about it: %s", p.DisplayName, n, plan)
		}
		t.Logf("service principal %q, declared without an applicationId, was created %d times by the concurrent applies", p.DisplayName, n)
	}
	return &out
}
