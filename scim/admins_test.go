package scim_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
)

// TestReadAccountAdmins checks that the admin read gives every principal and group with its
// roles, and members only for the groups that hold account_admin and the groups nested in
// them: one member read each, none for the rest.
func TestReadAccountAdmins(t *testing.T) {
	f := emulatorFixture(t, model.LevelAccount, setup{opts: emulator.Options{}})
	if _, err := f.emu.Seed(&model.State{
		Users: []model.User{
			{UserName: "ada@example.com", Active: true},
			{UserName: "bo@example.com", Active: true},
			{UserName: "cy@example.com", Active: true, Roles: []string{model.RoleAccountAdmin}},
			{UserName: "di@example.com", Active: true},
		},
		Groups: []model.Group{
			{DisplayName: "platform-admins", Roles: []string{model.RoleAccountAdmin},
				Members: model.Members{Users: []string{"ada@example.com"}, Groups: []string{"sre"}}},
			{DisplayName: "sre", Members: model.Members{Users: []string{"bo@example.com"}}},
			{DisplayName: "analysts", Members: model.Members{Users: []string{"di@example.com"}}},
		},
	}); err != nil {
		t.Fatal(err)
	}
	before := f.c.Stats().Total()
	st, err := f.c.ReadAccountAdmins(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	members := map[string][]model.Ref{}
	for _, g := range st.Groups {
		members[g.Key()] = g.Members.Refs()
	}
	want := map[string][]model.Ref{
		"platform-admins": {{Kind: model.KindUser, Key: "ada@example.com"}, {Kind: model.KindGroup, Key: "sre"}},
		"sre":             {{Kind: model.KindUser, Key: "bo@example.com"}},
	}
	for k, v := range members {
		if len(v) == 0 {
			delete(members, k)
		}
	}
	if d := cmp.Diff(want, members); d != "" {
		t.Errorf("members read (-want +got):\n%s", d)
	}
	var roles []string
	for _, u := range st.Users {
		if len(u.Roles) > 0 {
			roles = append(roles, u.Key())
		}
	}
	// admin@example.com is the emulator's own token owner, seeded as an account admin.
	if d := cmp.Diff([]string{"admin@example.com", "cy@example.com"}, roles); d != "" {
		t.Errorf("users with roles (-want +got):\n%s", d)
	}
	// Three lists and two member reads (platform-admins, then sre): analysts is not read.
	if n := f.c.Stats().Total() - before; n != 5 {
		t.Errorf("%d requests, want 5", n)
	}
}
