package plan

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/scimsync/scimsync/audit"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/synth"
)

var testTarget = TargetID{Level: model.LevelAccount, Host: "https://accounts.example.test", AccountID: "acct-1"}

func testOptions() Options {
	return Options{Target: testTarget, ToolVersion: "test", Now: time.Unix(0, 0), OverrideGuards: true, AllowAdminRemoval: true}
}

// setup seeds a fake with live and returns the plan from live to desired.
func setup(t *testing.T, desired, live *model.State) (*fakeTarget, *Plan) {
	t.Helper()
	f := newFake(model.LevelAccount)
	f.seed(live)
	snap, _ := f.Snapshot(context.Background(), desired.Workspaces)
	p, err := Diff(desired, snap, policy.Default(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	return f, p
}

func replan(t *testing.T, f *fakeTarget, desired *model.State) *Plan {
	t.Helper()
	snap, _ := f.Snapshot(context.Background(), desired.Workspaces)
	p, err := Diff(desired, snap, policy.Default(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestApplyRefusesStalePlan(t *testing.T) {
	desired := synth.Org(1, synth.Spec{Users: 20, Groups: 4, Memberships: 30, Depth: 2})
	live := synth.Clone(desired)
	live.Users = live.Users[:15]
	live.Users[0].DisplayName = "Before The Plan" // the plan updates this user
	tests := map[string]struct {
		mutate func(f *fakeTarget)
		want   string
	}{
		"changed attribute": {
			mutate: func(f *fakeTarget) {
				for _, u := range f.users {
					if u.Key() == desired.Users[0].Key() {
						u.DisplayName = "Someone Else"
					}
				}
			},
			want: "user:" + desired.Users[0].Key() + " (changed)",
		},
		"created meanwhile": {
			mutate: func(f *fakeTarget) {
				_, _ = f.CreateUser(context.Background(), &desired.Users[17])
			},
			want: "user:" + desired.Users[17].Key() + " (now exists)",
		},
		"deleted meanwhile": {
			mutate: func(f *fakeTarget) {
				for id, g := range f.groups {
					if g.Key() == desired.Groups[0].Key() {
						_ = f.Delete(context.Background(), model.KindGroup, id)
					}
				}
			},
			want: "group:" + desired.Groups[0].Key() + " (gone)",
		},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f, p := setup(t, desired, live)
			tt.mutate(f)
			before := len(f.calls)
			_, err := Apply(context.Background(), p, f, ApplyOptions{Target: testTarget})
			var stale *StaleError
			if !errors.As(err, &stale) {
				t.Fatalf("Apply error = %v, want a StaleError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not name %q", err, tt.want)
			}
			if len(f.calls) != before {
				t.Errorf("a stale plan made %d writes: %v", len(f.calls)-before, f.calls[before:])
			}
		})
	}
}

func TestApplyRefusesOtherTarget(t *testing.T) {
	desired := synth.Org(2, synth.Spec{Users: 3, Groups: 1, Memberships: 3, Depth: 1})
	f, p := setup(t, desired, &model.State{})
	other := testTarget
	other.AccountID = "acct-2"
	_, err := Apply(context.Background(), p, f, ApplyOptions{Target: other})
	var mismatch *TargetMismatchError
	if !errors.As(err, &mismatch) {
		t.Fatalf("err = %v, want TargetMismatchError", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("writes made: %v", f.calls)
	}
}

func TestDecodeRefusesBadFiles(t *testing.T) {
	desired := synth.Org(3, synth.Spec{Users: 5, Groups: 2, Memberships: 5, Depth: 1})
	_, p := setup(t, desired, &model.State{})
	var buf bytes.Buffer
	if err := Encode(&buf, p); err != nil {
		t.Fatal(err)
	}
	good := buf.String()
	if _, err := Decode(strings.NewReader(good)); err != nil {
		t.Fatalf("a good plan does not decode: %v", err)
	}
	var indented bytes.Buffer
	if err := EncodeIndent(&indented, p); err != nil {
		t.Fatal(err)
	}
	if q, err := Decode(bytes.NewReader(indented.Bytes())); err != nil || len(q.Changes) != len(p.Changes) {
		t.Fatalf("an indented plan does not decode: %v", err)
	}
	// A forger renames changes to Changes: encoding/json would still read the changes
	// (keys match in any case) and the checksum of the re-encoded plan would still hold,
	// while other JSON readers see no changes. The file is refused whether the checksum
	// is left as it was or recomputed over the new bytes.
	renamed := strings.Replace(good, `"changes":`, `"Changes":`, 1)
	tests := map[string]struct {
		file string
		want string
	}{
		"tampered":          {strings.Replace(good, `"action":"create"`, `"action":"delete"`, 1), "checksum mismatch"},
		"tampered indented": {strings.Replace(indented.String(), `"action": "create"`, `"action": "delete"`, 1), "checksum mismatch"},
		"truncated":         {good[:len(good)/2], "invalid plan file"},
		"older version":     {strings.Replace(good, `"formatVersion":2`, `"formatVersion":1`, 1), "this plan was written by an older scimsync (format 1); make a new plan"},
		"newer version":     {strings.Replace(good, `"formatVersion":2`, `"formatVersion":3`, 1), "written by a newer scimsync (format 3"},
		"no payload":        {encodeWith(t, p, func(c *Change) { c.After = nil }), "change 1 (create "},
		"wrong payload":     {encodeWith(t, p, func(c *Change) { c.Action = Assign }), "assign without workspace and permission"},
		"no version":        {`{"changes":[]}`, "no formatVersion"},
		"unknown field":     {strings.Replace(good, `"toolVersion"`, `"extra":1,"toolVersion"`, 1), `unknown field "extra"`},
		"not json":          {"users:\n- a\n", "not a plan file"},
		"trailing value":    {good + "{}", "after top-level value"},
		"key case":          {renamed, `unknown field "Changes" in the plan (keys are case-sensitive: "changes")`},
		"key case resummed": {resum(t, renamed), `unknown field "Changes"`},
		"nested key case":   {resum(t, strings.Replace(good, `"action":`, `"Action":`, 1)), `unknown field "Action" in changes (keys are case-sensitive: "action")`},
		"duplicate key":     {resum(t, strings.Replace(good, `"toolVersion":`, `"toolVersion":"x","toolVersion":`, 1)), `key "toolVersion" twice in the plan`},
		"duplicate nested":  {resum(t, strings.Replace(good, `"action":"create",`, `"action":"delete","action":"create",`, 1)), `key "action" twice in changes`},
		"checksum not last": {strings.Replace(good, `"formatVersion":2,`, `"formatVersion":2,"checksum":"x",`, 1), `key "checksum" twice`},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := Decode(strings.NewReader(tt.file))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Decode error = %v, want it to contain %q", err, tt.want)
			}
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Errorf("error %T is not a FormatError", err)
			}
		})
	}
}

// resum returns a plan file with its checksum recomputed over its canonical bytes, as a
// forger can.
func resum(t *testing.T, file string) string {
	t.Helper()
	i := strings.LastIndex(file, `,"checksum":"`)
	if i < 0 {
		t.Fatalf("no checksum in %q", file)
	}
	body := file[:i] + `,"checksum":""}`
	sum := sha256.Sum256([]byte(body))
	return file[:i] + `,"checksum":"sha256:` + hex.EncodeToString(sum[:]) + `"}` + "\n"
}

// encodeWith encodes a copy of p whose first change is altered by edit, with a checksum
// that matches.
func encodeWith(t *testing.T, p *Plan, edit func(*Change)) string {
	t.Helper()
	q := *p
	q.Changes = slices.Clone(p.Changes)
	edit(&q.Changes[0])
	var buf bytes.Buffer
	if err := Encode(&buf, &q); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

func TestApplyContinuesPastFailures(t *testing.T) {
	desired := &model.State{
		Users: []model.User{{UserName: "a@example.com", Active: true}, {UserName: "b@example.com", Active: true}},
		Groups: []model.Group{
			{DisplayName: "broken", Members: model.Members{Users: []string{"a@example.com"}}},
			{DisplayName: "fine", Members: model.Members{Users: []string{"a@example.com", "b@example.com"}}},
		},
	}
	desired.Normalize()
	f, p := setup(t, desired, &model.State{})
	f.fail["create group broken"] = errors.New("boom")
	f.fail["create user b@example.com"] = errors.New("bang")
	var log bytes.Buffer
	res, err := Apply(context.Background(), p, f, ApplyOptions{Target: testTarget, Audit: audit.NewLog(&log)})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Status{}
	for _, r := range res.Changes {
		got[Describe(r.Change)] = r.Status
	}
	want := map[string]Status{
		"create group:broken":       StatusFailed,
		"create group:fine":         StatusOK,
		"create user:a@example.com": StatusOK,
		"create user:b@example.com": StatusFailed,
		"add-members group:broken":  StatusSkipped,
		"add-members group:fine":    StatusFailed, // b is left out; a is added
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	if res.Err() == nil {
		t.Error("Result.Err is nil after failures")
	}
	if n := strings.Count(log.String(), "\n"); n != len(p.Changes) {
		t.Errorf("audit log has %d lines, want %d", n, len(p.Changes))
	}
	delete(f.fail, "create group broken")
	delete(f.fail, "create user b@example.com")
	rest := replan(t, f, desired)
	var left []string
	for i := range rest.Changes {
		left = append(left, Describe(&rest.Changes[i]))
	}
	wantLeft := []string{"create group:broken", "create user:b@example.com", "add-members group:broken", "add-members group:fine"}
	if diff := cmp.Diff(wantLeft, left); diff != "" {
		t.Errorf("replan after failures (-want +got):\n%s", diff)
	}
}

// TestStopThenReplan stops an apply part way (the first Ctrl-C) and checks that a new plan
// holds exactly the changes that did not run, and that applying it converges.
func TestStopThenReplan(t *testing.T) {
	desired := synth.Org(4, synth.Spec{Users: 60, ServicePrincipals: 3, Groups: 10, Memberships: 120, Depth: 3, Workspaces: 1})
	for stopAt := 1; stopAt < 40; stopAt += 7 {
		t.Run(fmt.Sprint(stopAt), func(t *testing.T) {
			f, p := setup(t, desired, &model.State{})
			stop := make(chan struct{})
			res, err := Apply(context.Background(), p, f, ApplyOptions{Target: testTarget, Concurrency: 1, Stop: stop,
				Progress: func(done, total int) {
					if done == stopAt {
						close(stop)
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			if !res.Stopped || res.NotRun == 0 {
				t.Fatalf("apply was not stopped: %+v", res)
			}
			notRun := map[string]bool{}
			for _, r := range res.Changes {
				if r.Status != StatusOK {
					notRun[Describe(r.Change)] = true
				}
			}
			rest := replan(t, f, desired)
			for i := range rest.Changes {
				d := Describe(&rest.Changes[i])
				if !notRun[d] {
					t.Errorf("replan holds %s, which already ran", d)
				}
				delete(notRun, d)
			}
			if len(notRun) > 0 {
				t.Errorf("replan lacks changes that did not run: %v", notRun)
			}
			if _, err := Apply(context.Background(), rest, f, ApplyOptions{Target: testTarget}); err != nil {
				t.Fatal(err)
			}
			if p3 := replan(t, f, desired); !p3.Empty() {
				t.Errorf("not converged: %d changes left", len(p3.Changes))
			}
		})
	}
}

func TestMembershipBatches(t *testing.T) {
	desired := synth.Org(5, synth.Spec{Users: 300, Groups: 1, Memberships: 250, Depth: 1})
	live := synth.Clone(desired)
	live.Groups[0].Members.Users = append([]string(nil), desired.Users[0].Key(), desired.Users[1].Key())
	// Live also has 30 members that are not declared.
	desired.Groups[0].Members.Users = nil
	for i := 0; i < 250; i++ {
		desired.Groups[0].Members.Users = append(desired.Groups[0].Members.Users, desired.Users[i+2].Key())
	}
	for i := 0; i < 30; i++ {
		live.Groups[0].Members.Users = append(live.Groups[0].Members.Users, desired.Users[270+i].Key())
	}
	desired.Groups[0].Members.Users = append(desired.Groups[0].Members.Users, desired.Users[0].Key(), desired.Users[1].Key())
	desired.Normalize()
	live.Normalize()
	f, p := setup(t, desired, live)
	if _, err := Apply(context.Background(), p, f, ApplyOptions{Target: testTarget, BatchSize: 100}); err != nil {
		t.Fatal(err)
	}
	want := []string{"patch members 1301 +100 -30", "patch members 1301 +100 -0", "patch members 1301 +50 -0"}
	if diff := cmp.Diff(want, f.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}

// TestRandomConvergence applies hundreds of seeded random desired states over random live
// states and checks that the next plan is empty and nothing exists twice.
func TestRandomConvergence(t *testing.T) {
	n := 400
	if testing.Short() {
		n = 100
	}
	for seed := range uint64(n) {
		level := model.LevelAccount
		if seed%3 == 0 {
			level = model.LevelWorkspace
		}
		desired, live := synth.Pair(seed, level)
		f := newFake(level)
		f.seed(live)
		opts := testOptions()
		opts.Target.Level = level
		snap, _ := f.Snapshot(context.Background(), desired.Workspaces)
		p, err := Diff(desired, snap, policy.Default(), opts)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		res, err := Apply(context.Background(), p, f, ApplyOptions{Target: opts.Target, BatchSize: 3})
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if err := res.Err(); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		after, _ := f.Snapshot(context.Background(), desired.Workspaces)
		p2, err := Diff(desired, after, policy.Default(), opts)
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if !p2.Empty() {
			var left []string
			for i := range p2.Changes {
				left = append(left, Describe(&p2.Changes[i]))
			}
			t.Fatalf("seed %d: not converged: %v", seed, left)
		}
		seen := map[string]bool{}
		for _, u := range after.Users {
			if seen[u.Key()] {
				t.Fatalf("seed %d: user %s exists twice", seed, u.Key())
			}
			seen[u.Key()] = true
		}
		names := map[string]bool{}
		for _, g := range after.Groups {
			if names[g.Key()] {
				t.Fatalf("seed %d: group %s exists twice", seed, g.Key())
			}
			names[g.Key()] = true
		}
	}
}

// TestVerifyRefusesAChangeWithoutItsPayload checks that a plan built in code whose change
// lacks its payload is refused before anything is written.
func TestVerifyRefusesAChangeWithoutItsPayload(t *testing.T) {
	f := newFake(model.LevelAccount)
	p := &Plan{FormatVersion: FormatVersion, Target: testTarget,
		Changes: []Change{{Action: Assign, Kind: model.KindUser, Key: "a@example.com", ID: "1", Workspace: "100"}}}
	_, err := Apply(context.Background(), p, f, ApplyOptions{Target: testTarget})
	var re *RefusedError
	if !errors.As(err, &re) || !strings.Contains(err.Error(), "assign without workspace and permission") {
		t.Fatalf("err = %v, want a RefusedError about the missing permission", err)
	}
	if len(f.calls) != 0 {
		t.Errorf("calls made: %v", f.calls)
	}
}
