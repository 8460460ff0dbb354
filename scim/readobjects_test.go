package scim_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/synth"
)

// TestReadObjects checks that ReadObjects returns the objects it is asked for as Snapshot
// returns them (groups without members), with a filter joined by "or" per batch of keys
// (three for 250 users, two for 60 service principals at two comparisons each, one for
// the groups) and nothing for a key that does not exist, whether the server compares
// userNames in filters exactly or not (a user a filter misses is read by id).
func TestReadObjects(t *testing.T) {
	for _, exact := range []bool{false, true} {
		name := map[bool]string{false: "userName filters fold case", true: "userName filters are exact"}[exact]
		t.Run(name, func(t *testing.T) {
			f := emulatorFixture(t, model.LevelAccount, setup{opts: emulator.Options{CaseSensitiveUserNameFilter: exact}})
			org := synth.Org(7, synth.Spec{Users: 250, ServicePrincipals: 60, Groups: 30, Memberships: 400, Depth: 2})
			org.Users = append(org.Users, model.User{UserName: "Mixed.Case@Example.com", DisplayName: "Mixed Case", Active: true})
			org.Workspaces = nil
			if _, err := f.emu.Seed(org); err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			all, err := f.c.Snapshot(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			var refs []model.Ref
			ids := map[model.Ref]string{}
			for _, u := range all.Users {
				r := model.Ref{Kind: model.KindUser, Key: u.Key()}
				refs, ids[r] = append(refs, r), u.ID
			}
			for _, p := range all.ServicePrincipals {
				r := model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}
				refs, ids[r] = append(refs, r), p.ID
			}
			for i := range all.Groups {
				g := &all.Groups[i]
				r := model.Ref{Kind: model.KindGroup, Key: g.Key()}
				refs, ids[r] = append(refs, r), g.ID
				g.Members = model.Members{}
			}
			refs = append(refs, model.Ref{Kind: model.KindUser, Key: "nobody@example.com"})
			f.emu.Reset()
			got, err := f.c.ReadObjects(ctx, refs, ids)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(all, got); diff != "" {
				t.Errorf("ReadObjects differs from Snapshot (-snapshot +read):\n%s", diff)
			}
			lists := (len(all.Users)+1+99)/100 + (len(all.ServicePrincipals)+49)/50 + (len(all.Groups)+99)/100
			// A user a filter misses is read by id: at most the one with capitals.
			if n := f.emu.RequestCount("GET"); n < lists || n > lists+1 {
				t.Errorf("%d requests, want %d filtered lists (and at most one read by id)", n, lists)
			}
		})
	}
}

// TestSnapshotForAdmins checks that SnapshotForAdmins reads the members of the groups that
// hold account_admin and of the groups nested in them, and of no other group: one request
// per such group instead of one per group.
func TestSnapshotForAdmins(t *testing.T) {
	f := emulatorFixture(t, model.LevelAccount, setup{})
	org := synth.Org(9, synth.Spec{Users: 40, Groups: 12, Memberships: 60, Depth: 1})
	org.Workspaces = nil
	org.Users = append(org.Users, model.User{UserName: "ann@example.com", Active: true}, model.User{UserName: "bo@example.com", Active: true})
	org.Groups = append(org.Groups,
		model.Group{DisplayName: "admins-team", Roles: []string{model.RoleAccountAdmin},
			Members: model.Members{Users: []string{"ann@example.com"}, Groups: []string{"on-call"}}},
		model.Group{DisplayName: "on-call", Members: model.Members{Users: []string{"bo@example.com"}}})
	if _, err := f.emu.Seed(org); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	all, err := f.c.Snapshot(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	f.emu.Reset()
	got, err := f.c.SnapshotForAdmins(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	members := 0
	for i, g := range got.Groups {
		switch g.DisplayName {
		case "admins-team", "on-call":
			if diff := cmp.Diff(all.Groups[i], g); diff != "" {
				t.Errorf("group %s (-snapshot +admins):\n%s", g.DisplayName, diff)
			}
		default:
			if len(g.Members.Refs()) > 0 {
				t.Errorf("group %s came with members", g.DisplayName)
			}
		}
		members += len(g.Members.Refs())
	}
	if members != 3 {
		t.Errorf("%d members read, want admins-team's 2 and on-call's 1", members)
	}
	if diff := cmp.Diff(all.Users, got.Users); diff != "" {
		t.Errorf("users differ (-snapshot +admins):\n%s", diff)
	}
	// Three lists and two member reads, where Snapshot reads the members of every group.
	if n, lists := f.emu.RequestCount("GET"), 3; n != lists+2 {
		t.Errorf("%d requests, want %d lists and 2 member reads", n, lists)
	}
}
