package scim_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
)

// TestConformanceCreateGroupWithMembers creates a group whose create carries a user, a
// service principal and a nested group, as apply does for the groups a plan creates.
func TestConformanceCreateGroupWithMembers(t *testing.T) {
	forLevels(t, setup{}, func(t *testing.T, f *fixture) {
		uid := f.createUser(&model.User{UserName: f.userName("member"), Active: true})
		spid, _ := f.createSP(&model.ServicePrincipal{DisplayName: f.name("member-sp"), Active: true})
		inner := f.createGroup(&model.Group{DisplayName: f.name("inner")})

		// g.Members are keys, not ids: they are not sent.
		g := &model.Group{DisplayName: f.name("outer"), Members: model.Members{Users: []string{"someone@example.com"}}}
		id, err := f.c.CreateGroupWithMembers(ctx, g, []string{uid, spid, inner})
		if err != nil {
			t.Fatal(err)
		}
		f.cleanup(model.KindGroup, id)
		if diff := cmp.Diff(sorted(uid, spid, inner), f.memberIDs(id)); diff != "" {
			t.Errorf("members of the new group (-want +got):\n%s", diff)
		}
	})
}
