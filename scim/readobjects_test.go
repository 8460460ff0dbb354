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
