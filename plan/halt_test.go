package plan

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/synth"
)

// TestExecuteChecksEveryPayloadFirst: a plan whose last change has no payload is refused
// before the first write, whichever change is invalid.
func TestExecuteChecksEveryPayloadFirst(t *testing.T) {
	desired := synth.Org(3, synth.Spec{Users: 20, Groups: 3, Memberships: 20, Depth: 1})
	live := synth.Clone(desired)
	live.Users = live.Users[:10]
	for i := range live.Users[:3] {
		live.Users[i].DisplayName = "Someone Else"
	}
	f, p := setup(t, desired, live)
	for _, forge := range []func(c *Change){
		func(c *Change) { c.Set = nil },                           // an update without set
		func(c *Change) { c.Before = nil },                        // or without its live object
		func(c *Change) { c.Action, c.After = Create, &Object{} }, // "after": {}
		func(c *Change) { c.Action, c.Members = AddMembers, nil }, // members without members
		func(c *Change) { c.Action, c.Permission = Assign, nil },  // an assignment without permission
		func(c *Change) { c.Action = "chown" },                    // an action nobody knows
		func(c *Change) { c.Action, c.Entitlements = SetEntitlements, nil },
	} {
		q := *p
		q.Changes = append([]Change(nil), p.Changes...)
		i := -1
		for j := range q.Changes {
			if q.Changes[j].Action == Update {
				i = j
			}
		}
		if i < 0 {
			t.Fatal("the plan has no update")
		}
		forge(&q.Changes[i])
		before := len(f.calls)
		res := Execute(context.Background(), &q, f, ApplyOptions{Target: testTarget})
		if len(f.calls) != before {
			t.Errorf("writes before the invalid change was found: %v", f.calls[before:])
		}
		err := res.Err()
		if err == nil || !strings.Contains(err.Error(), "is invalid, so nothing was applied") || res.NotRun != len(q.Changes) {
			t.Errorf("err = %v, not run %d of %d", err, res.NotRun, len(q.Changes))
		}
	}
}

// panicky panics on the third user it is asked to create.
type panicky struct {
	*fakeTarget
	n int
}

func (p *panicky) CreateUser(ctx context.Context, u *model.User) (string, error) {
	p.n++
	if p.n == 3 {
		var nilUser *model.User
		_ = nilUser.UserName // a nil pointer dereference, as a bug would make
	}
	return p.fakeTarget.CreateUser(ctx, u)
}

// TestExecuteRecoversFromPanics: a panic while applying a change fails that change and
// halts the apply; it does not end the process.
func TestExecuteRecoversFromPanics(t *testing.T) {
	desired := synth.Org(4, synth.Spec{Users: 30, Groups: 2, Memberships: 10, Depth: 1})
	live := synth.Clone(desired)
	live.Users = live.Users[:5]
	f, p := setup(t, desired, live)
	target := &panicky{fakeTarget: f}
	res := Execute(context.Background(), p, target, ApplyOptions{Target: testTarget, Concurrency: 1})
	err := res.Err()
	if err == nil || !strings.Contains(err.Error(), "apply stopped: internal error: runtime error: invalid memory address or nil pointer dereference") {
		t.Fatalf("err = %v", err)
	}
	if res.Failed != 1 || res.NotRun == 0 || target.n != 3 {
		t.Errorf("failed %d, not run %d, %d user creates; want the panicking create failed, no user create after it and the rest not run", res.Failed, res.NotRun, target.n)
	}
}

// rejected is the error of a target whose credentials were rejected.
type rejected struct{}

func (rejected) Error() string             { return "401 unauthorized" }
func (rejected) CredentialsRejected() bool { return true }

// TestExecuteStopsOnRejectedCredentials: once the target says the credentials were
// rejected, no further change starts.
func TestExecuteStopsOnRejectedCredentials(t *testing.T) {
	desired := synth.Org(5, synth.Spec{Users: 40, Groups: 2, Memberships: 10, Depth: 1})
	live := synth.Clone(desired)
	live.Users = live.Users[:5]
	f, p := setup(t, desired, live)
	f.fail["create user"] = rejected{}
	res := Execute(context.Background(), p, f, ApplyOptions{Target: testTarget, Concurrency: 1})
	var rej rejected
	if !errors.As(res.Halted, &rej) {
		t.Fatalf("halted = %v, want the rejection", res.Halted)
	}
	if len(f.calls) != 1 {
		t.Errorf("%d calls after the rejection; want only the rejected one: %v", len(f.calls)-1, f.calls)
	}
	if res.Failed != 1 || res.NotRun != len(p.Changes)-1 {
		t.Errorf("failed %d, not run %d of %d", res.Failed, res.NotRun, len(p.Changes))
	}
}
