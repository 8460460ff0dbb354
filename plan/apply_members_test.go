package plan

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/audit"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/synth"
)

// memberFake is a fakeTarget that can create groups with members.
type memberFake struct{ *fakeTarget }

func (f memberFake) CreateGroupWithMembers(ctx context.Context, g *model.Group, ids []string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.call("create group %s +%d", g.Key(), len(ids)); err != nil {
		return "", err
	}
	c := clone(g)
	c.Members = model.Members{}
	for _, id := range ids {
		if f.kinds[id] == "" {
			return "", fmt.Errorf("member %s not found", id)
		}
		c.Members.Add(model.Ref{Kind: f.kinds[id], Key: id})
	}
	c.ID = f.newID(model.KindGroup)
	f.groups[c.ID] = &c
	return c.ID, nil
}

// callIndex returns the position of the first call with the prefix, or -1.
func callIndex(calls []string, prefix string) int {
	return slices.IndexFunc(calls, func(c string) bool { return strings.HasPrefix(c, prefix) })
}

func TestApplyCreatesGroupsWithTheirMembers(t *testing.T) {
	desired := synth.Org(4, synth.Spec{Users: 60, ServicePrincipals: 3, Groups: 10, Memberships: 120, Depth: 3, Workspaces: 1})
	f, p := setup(t, desired, &model.State{})
	var log bytes.Buffer
	res := Execute(context.Background(), p, memberFake{f}, ApplyOptions{Target: testTarget, Audit: audit.NewLog(&log)})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	if again := replan(t, f, desired); !again.Empty() {
		t.Fatalf("not converged: %d changes left", len(again.Changes))
	}
	lastPrincipal := -1
	for i, c := range f.calls {
		switch {
		case strings.HasPrefix(c, "patch members"):
			t.Errorf("call %q: every new group's members fit in its create", c)
		case strings.HasPrefix(c, "create user"), strings.HasPrefix(c, "create servicePrincipal"):
			lastPrincipal = i
		}
	}
	for _, g := range desired.Groups {
		at := callIndex(f.calls, "create group "+g.Key()+" ")
		if at < lastPrincipal {
			t.Errorf("group %s was created before the last user or service principal", g.Key())
		}
		if want := fmt.Sprintf("create group %s +%d", g.Key(), g.Members.Len()); f.calls[at] != want {
			t.Errorf("call %q, want %q", f.calls[at], want)
		}
		for _, sub := range g.Members.Groups {
			if callIndex(f.calls, "create group "+sub+" ") > at {
				t.Errorf("group %s was created before its member group %s", g.Key(), sub)
			}
		}
	}
	// One audit record per change; a membership change names the create that carried it.
	lines := strings.Split(strings.TrimSpace(log.String()), "\n")
	if len(lines) != len(p.Changes) {
		t.Fatalf("%d audit records for %d changes", len(lines), len(p.Changes))
	}
	for _, line := range lines {
		var rec audit.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.Status != string(StatusOK) {
			t.Errorf("record %+v: want ok", rec)
		}
	}
}

func TestApplyCreateWithMembersBatchesTheRest(t *testing.T) {
	desired := synth.Org(5, synth.Spec{Users: 10, Groups: 1, Depth: 1})
	for _, u := range desired.Users {
		desired.Groups[0].Members.Users = append(desired.Groups[0].Members.Users, u.Key())
	}
	f, p := setup(t, desired, &model.State{})
	res := Execute(context.Background(), p, memberFake{f}, ApplyOptions{Target: testTarget, BatchSize: 4})
	if err := res.Err(); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range f.calls {
		if strings.HasPrefix(c, "create group") || strings.HasPrefix(c, "patch members") {
			got = append(got, c)
		}
	}
	n := desired.Groups[0].Members.Len()
	if n != 10 || len(got) != 3 || got[0] != "create group "+desired.Groups[0].Key()+" +4" ||
		!strings.HasSuffix(got[1], " +4 -0") || !strings.HasSuffix(got[2], " +2 -0") {
		t.Errorf("calls %q, want a create with 4 of %d members and PATCHes of 4 and 2", got, n)
	}
	if again := replan(t, f, desired); !again.Empty() {
		t.Fatalf("not converged: %d changes left", len(again.Changes))
	}
}

func TestApplyCreateWithMembersFailures(t *testing.T) {
	desired := synth.Org(6, synth.Spec{Users: 6, Groups: 2, Memberships: 12, Depth: 1})
	f, p := setup(t, desired, &model.State{})
	lost := desired.Groups[0].Members.Users[0]
	f.fail["create user "+lost] = errors.New("boom")
	f.fail["create group "+desired.Groups[1].Key()+" "] = errors.New("boom")
	res := Execute(context.Background(), p, memberFake{f}, ApplyOptions{Target: testTarget})
	for _, r := range res.Changes {
		c := r.Change
		if c.Action != AddMembers {
			continue
		}
		switch c.Key {
		case desired.Groups[0].Key():
			if r.Status != StatusFailed || r.Err == nil || !strings.Contains(r.Err.Error(), "1 members left out") {
				t.Errorf("members of %s: %s, %v; want failed with one member left out", c.Key, r.Status, r.Err)
			}
		case desired.Groups[1].Key():
			if r.Status != StatusSkipped {
				t.Errorf("members of %s, whose create failed: %s, %v; want skipped", c.Key, r.Status, r.Err)
			}
		}
	}
	delete(f.fail, "create user "+lost)
	delete(f.fail, "create group "+desired.Groups[1].Key()+" ")
	again := replan(t, f, desired)
	if err := Execute(context.Background(), again, memberFake{f}, ApplyOptions{Target: testTarget}).Err(); err != nil {
		t.Fatal(err)
	}
	if left := replan(t, f, desired); !left.Empty() {
		t.Fatalf("not converged after the second apply: %d changes left", len(left.Changes))
	}
}

// TestApplyCreateWithMembersCycle checks that groups nested in each other, which validation
// refuses, still converge: the member created second is added by a second apply.
func TestApplyCreateWithMembersCycle(t *testing.T) {
	desired := &model.State{Groups: []model.Group{
		{DisplayName: "a", Members: model.Members{Groups: []string{"b"}}},
		{DisplayName: "b", Members: model.Members{Groups: []string{"a"}}},
	}}
	f, p := setup(t, desired, &model.State{})
	res := Execute(context.Background(), p, memberFake{f}, ApplyOptions{Target: testTarget})
	if res.Failed != 1 {
		t.Errorf("%d changes failed, want the membership of the group created first", res.Failed)
	}
	if err := Execute(context.Background(), replan(t, f, desired), memberFake{f}, ApplyOptions{Target: testTarget}).Err(); err != nil {
		t.Fatal(err)
	}
	if left := replan(t, f, desired); !left.Empty() {
		t.Fatalf("not converged: %d changes left", len(left.Changes))
	}
}
