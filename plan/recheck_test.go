package plan

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

const breakGlass = "breakglass@example.com"

// forgeryAccount is a live account of 50 users (the break-glass admin among them), a
// service principal that owns the credentials, the built-in admins group and a team
// group holding the admin.
func forgeryAccount() *model.State {
	s := &model.State{}
	s.Users = append(s.Users, model.User{UserName: breakGlass, Active: true})
	for i := range 49 {
		s.Users = append(s.Users, model.User{UserName: fmt.Sprintf("user%02d@example.com", i), Active: true})
	}
	s.Users[1].Roles = []string{"account_admin"} // user00, the only account admin besides break-glass
	s.ServicePrincipals = []model.ServicePrincipal{{ApplicationID: "6f8e3c1a-1b2c-4d5e-8f90-123456789abc", DisplayName: "ci", Active: true}}
	s.Groups = []model.Group{
		{DisplayName: "admins", Members: model.Members{Users: []string{breakGlass}}},
		{DisplayName: "team", Members: model.Members{Users: []string{breakGlass, "user00@example.com"}}},
	}
	return s
}

// trusted is the config's policy at apply time: the break-glass admin protected, the
// default guards.
func trusted() policy.Policy {
	pol := policy.Default()
	pol.Protected.Users = []string{breakGlass}
	return pol
}

// forgeable returns a fake seeded with the account and a genuine plan that deactivates
// user48, made under the trusted policy.
func forgeable(t *testing.T) (*fakeTarget, *Plan, *model.State) {
	t.Helper()
	live := forgeryAccount()
	desired := forgeryAccount()
	desired.Users = slices.DeleteFunc(desired.Users, func(u model.User) bool { return u.UserName == "user48@example.com" })
	f := newFake(model.LevelAccount)
	f.seed(live)
	snap, _ := f.Snapshot(context.Background(), nil)
	opts := testOptions()
	opts.OverrideGuards = false
	p, err := Diff(desired, snap, trusted(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Changes) != 1 || p.Changes[0].Action != Deactivate {
		t.Fatalf("genuine plan: %v", p.Changes)
	}
	return f, p, snap
}

func idOf(t *testing.T, s *model.State, ref model.Ref) string {
	t.Helper()
	for _, u := range s.Users {
		if u.Key() == ref.Key && ref.Kind == model.KindUser {
			return u.ID
		}
	}
	for _, g := range s.Groups {
		if g.Key() == ref.Key && ref.Kind == model.KindGroup {
			return g.ID
		}
	}
	for _, p := range s.ServicePrincipals {
		if p.Key() == ref.Key && ref.Kind == model.KindServicePrincipal {
			return p.ID
		}
	}
	t.Fatalf("no %s", ref)
	return ""
}

// TestVerifyRefusesForgedPlans edits a genuine plan as someone who can write the plan
// file and recompute its checksum would, and checks that apply's verification refuses
// each forgery before any write, whatever the file's policy, protected list and guard
// override say.
func TestVerifyRefusesForgedPlans(t *testing.T) {
	admin := model.Ref{Kind: model.KindUser, Key: breakGlass}
	// Unless asIs, the forger also adds fingerprints for the objects the forged changes
	// touch, as anyone who can read the account can: the other checks must hold anyway.
	tests := map[string]struct {
		forge func(t *testing.T, p *Plan, live *model.State)
		asIs  bool
		rc    Recheck
		want  string
	}{
		"deactivate the break-glass admin, the plan's protection dropped": {
			forge: func(t *testing.T, p *Plan, live *model.State) {
				p.Policy.Protected = policy.Protected{}
				p.Protected = nil
				c := &p.Changes[0]
				c.Key, c.ID = breakGlass, idOf(t, live, admin)
			},
			want: "user:" + breakGlass + " is protected by the policy and is never changed",
		},
		"an innocent key with the admin's id": {
			forge: func(t *testing.T, p *Plan, live *model.State) {
				p.Changes[0].ID = idOf(t, live, admin)
			},
			want: "is user:" + breakGlass + " in the account, not user:user48@example.com",
		},
		"the credentials' own service principal": {
			forge: func(t *testing.T, p *Plan, live *model.State) {
				c := &p.Changes[0]
				c.Kind, c.Key = model.KindServicePrincipal, live.ServicePrincipals[0].Key()
				c.ID = live.ServicePrincipals[0].ID
				c.Before = &Object{ServicePrincipal: &live.ServicePrincipals[0]}
			},
			rc:   Recheck{Policy: trusted(), Identity: &model.Ref{Kind: model.KindServicePrincipal, Key: "ci"}},
			want: "is the identity of the credentials and is never changed",
		},
		"a built-in group deleted": {
			forge: func(t *testing.T, p *Plan, live *model.State) {
				ref := model.Ref{Kind: model.KindGroup, Key: "admins"}
				p.Changes[0] = Change{Action: Delete, Kind: model.KindGroup, Key: "admins", ID: idOf(t, live, ref)}
			},
			want: "group:admins is a built-in group and is never changed",
		},
		"the admin removed from a team": {
			forge: func(t *testing.T, p *Plan, live *model.State) {
				ref := model.Ref{Kind: model.KindGroup, Key: "team"}
				p.Changes[0] = Change{Action: RemoveMembers, Kind: model.KindGroup, Key: "team", ID: idOf(t, live, ref),
					Members: []Member{{Kind: model.KindUser, Key: breakGlass, ID: idOf(t, live, admin)}}}
			},
			want: "removes user:" + breakGlass + ", protected by",
		},
		"a change without a fingerprint": {
			asIs: true,
			forge: func(t *testing.T, p *Plan, live *model.State) {
				p.Fingerprints = slices.DeleteFunc(p.Fingerprints, func(f Fingerprint) bool { return f.Key == "user48@example.com" })
			},
			want: ") has no fingerprint in the plan",
		},
		"a create the plan does not expect to be absent": {
			asIs: true,
			forge: func(t *testing.T, p *Plan, live *model.State) {
				u := model.User{UserName: "new@example.com", Active: true}
				p.Changes = append(p.Changes, Change{Action: Create, Kind: model.KindUser, Key: u.Key(), After: &Object{User: &u}})
			},
			want: "user:new@example.com has no id and the plan has no fingerprint saying it does not exist yet",
		},
		"an update without its live object": {
			forge: func(t *testing.T, p *Plan, live *model.State) {
				p.Changes[0].Action, p.Changes[0].Before = Update, nil
			},
			want: "update without the live user in before",
		},
		"the account admin deactivated, the file claiming the admin guard overridden": {
			forge: func(t *testing.T, p *Plan, live *model.State) {
				p.AdminGuardOverride = true
				ref := model.Ref{Kind: model.KindUser, Key: "user00@example.com"}
				c := &p.Changes[0]
				c.Key, c.ID = ref.Key, idOf(t, live, ref)
			},
			want: "plan refused by the admin guard: it deactivates or deletes user:user00@example.com, which holds account_admin",
		},
		"42 users deactivated with the guards off in the file": {
			forge: func(t *testing.T, p *Plan, live *model.State) {
				p.Policy.Guards = policy.Guards{}
				p.GuardOverride = false
				tmpl := p.Changes[0]
				p.Changes = nil
				for i := range 42 {
					ref := model.Ref{Kind: model.KindUser, Key: fmt.Sprintf("user%02d@example.com", i)}
					c := tmpl
					c.Key, c.ID = ref.Key, idOf(t, live, ref)
					p.Changes = append(p.Changes, c)
				}
			},
			want: "plan refused by the removal guard: the plan deactivates or deletes 42 identities, more than policy.guards.maxRemovals (25)",
		},
		"42 users deactivated, the file claiming an override": {
			forge: func(t *testing.T, p *Plan, live *model.State) {
				p.GuardOverride = true
				tmpl := p.Changes[0]
				p.Changes = nil
				for i := range 42 {
					ref := model.Ref{Kind: model.KindUser, Key: fmt.Sprintf("user%02d@example.com", i)}
					c := tmpl
					c.Key, c.ID = ref.Key, idOf(t, live, ref)
					p.Changes = append(p.Changes, c)
				}
			},
			want: "more than policy.guards.maxRemovals (25)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, p, live := forgeable(t)
			if err := VerifyWith(context.Background(), p, f, testTarget, Recheck{Policy: trusted()}); err != nil {
				t.Fatalf("the genuine plan is refused: %v", err)
			}
			tc.forge(t, p, live)
			if !tc.asIs {
				fingerprintForged(p, live)
			}
			rc := tc.rc
			if rc.Policy.Removal.Users == "" {
				rc.Policy = trusted()
			}
			before := len(f.calls)
			err := VerifyWith(context.Background(), p, f, testTarget, rc)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v\nwant it to contain %q", err, tc.want)
			}
			var refused *RefusedError
			var guard *GuardError
			var admin *AdminGuardError
			if !errors.As(err, &refused) && !errors.As(err, &guard) && !errors.As(err, &admin) {
				t.Errorf("err is %T, want a RefusedError, a GuardError or an AdminGuardError", err)
			}
			if len(f.calls) != before {
				t.Errorf("verification wrote: %v", f.calls[before:])
			}
		})
	}
}

// TestVerifyWithOverride: a plan that trips the trusted guards goes through when the
// apply command itself overrides them, and every genuine scenario plan passes.
func TestVerifyWithOverride(t *testing.T) {
	live := forgeryAccount()
	desired := forgeryAccount()
	desired.Users = desired.Users[:10]
	f := newFake(model.LevelAccount)
	f.seed(live)
	snap, _ := f.Snapshot(context.Background(), nil)
	p, err := Diff(desired, snap, trusted(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var guard *GuardError
	if err := VerifyWith(context.Background(), p, f, testTarget, Recheck{Policy: trusted()}); !errors.As(err, &guard) {
		t.Fatalf("without the apply-time override: err = %v, want a GuardError", err)
	}
	if err := VerifyWith(context.Background(), p, f, testTarget, Recheck{Policy: trusted(), AllowMassRemoval: true}); err != nil {
		t.Fatalf("with the apply-time override: %v", err)
	}
}

// fingerprintForged adds to p the fingerprints of the live objects its changes touch that
// it lacks, computed from live as Diff would.
func fingerprintForged(p *Plan, live *model.State) {
	have := map[string]bool{}
	for _, f := range p.Fingerprints {
		have[string(f.Kind)+"\x00"+f.Key] = true
	}
	for _, f := range fingerprintsOf(live, touchedBy(p.Changes)) {
		if !have[string(f.Kind)+"\x00"+f.Key] {
			p.Fingerprints = append(p.Fingerprints, f)
		}
	}
	sortFingerprints(p.Fingerprints)
}

// TestIgnoreMatchesUserNamesCaseInsensitively: a scope.ignore pattern written with capitals
// keeps the users it names out of the plan, as userNames are lower-cased.
func TestIgnoreMatchesUserNamesCaseInsensitively(t *testing.T) {
	live := &model.State{Users: []model.User{
		{UserName: "ada@example.com", Active: true},
		{UserName: "Bob@Contractors.Example.com", Active: true},
		{UserName: "cy@contractors.example.com", Active: true},
	}}
	live.Normalize()
	desired := &model.State{Users: []model.User{{UserName: "ada@example.com", Active: true}}}
	f := newFake(model.LevelAccount)
	f.seed(live)
	snap, _ := f.Snapshot(context.Background(), nil)
	for _, pattern := range []string{"user:*@Contractors.Example.com", "*@CONTRACTORS.example.com", "user:[B-C]*@contractors.example.com"} {
		pol := policy.Default()
		pol.Scope.Ignore = []string{pattern}
		p, err := Diff(desired, snap, pol, testOptions())
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Changes) != 0 {
			t.Errorf("ignore %q: the plan changes %v", pattern, p.Changes)
		}
	}
}
