package emulator

import (
	"fmt"
	"testing"

	"github.com/scimsync/scimsync/model"
)

func TestLimits(t *testing.T) {
	t.Run("principals", func(t *testing.T) {
		// Two principals exist already: the token owners.
		c := newClient(t, fast(Options{MaxPrincipals: 4}))
		c.createUser("a@x.com")
		c.createSP("robot")
		c.do("POST", c.acct("Users"), map[string]any{"userName": "c@x.com"}).wantSCIMError(t, 400, "invalidValue", "limit of 4 users and service principals")
		c.do("POST", c.acct("ServicePrincipals"), map[string]any{"displayName": "r2"}).wantSCIMError(t, 400, "invalidValue", "limit of 4")
		if _, err := c.ts.Seed(&model.State{Users: users(1)}); err == nil {
			t.Error("Seed ignored the principal limit")
		}
	})
	t.Run("groups", func(t *testing.T) {
		// account users counts.
		c := newClient(t, fast(Options{MaxGroups: 2}))
		c.createGroup("g1")
		c.do("POST", c.acct("Groups"), map[string]any{"displayName": "g2"}).wantSCIMError(t, 400, "invalidValue", "limit of 2 groups")
	})
	t.Run("default limits", func(t *testing.T) {
		o := Options{}.withDefaults()
		if o.MaxPrincipals != 10000 || o.MaxGroups != 5000 || o.MaxDirectMemberships != 1500 || o.MaxNestingDepth != 10 {
			t.Errorf("default limits %d %d %d %d", o.MaxPrincipals, o.MaxGroups, o.MaxDirectMemberships, o.MaxNestingDepth)
		}
		c := newClient(t, fast(Options{}))
		if _, err := c.ts.Seed(&model.State{Users: users(10000)}); err == nil {
			t.Error("10,002 principals accepted")
		}
	})
	t.Run("unlimited", func(t *testing.T) {
		c := newClient(t, fast(Options{MaxPrincipals: -1}))
		if _, err := c.ts.Seed(&model.State{Users: users(10001)}); err != nil {
			t.Error(err)
		}
	})
	t.Run("direct memberships", func(t *testing.T) {
		// Every user is in account users already: one membership.
		c := newClient(t, fast(Options{MaxDirectMemberships: 3}))
		uid := c.createUser("u@x.com")
		c.createGroup("g1", uid)
		c.createGroup("g2", uid)
		c.do("POST", c.acct("Groups"), map[string]any{"displayName": "g3", "members": []map[string]string{{"value": uid}}}).
			wantSCIMError(t, 400, "invalidValue", "limit of 3 direct group memberships")
		if got := c.do("GET", c.acct("Groups")+"?filter="+q(`displayName eq "g3"`), nil).must(t, 200).list(); len(got) != 0 {
			t.Errorf("failed create left group g3 behind")
		}
	})
	t.Run("nesting", func(t *testing.T) {
		c := newClient(t, fast(Options{MaxNestingDepth: 3}))
		g1 := c.createGroup("g1")
		g2 := c.createGroup("g2", g1)
		g3 := c.createGroup("g3", g2) // g3 > g2 > g1: three levels
		c.do("POST", c.acct("Groups"), map[string]any{"displayName": "g4", "members": []map[string]string{{"value": g3}}}).
			wantSCIMError(t, 400, "invalidValue", "exceeds the limit of 3")
		g0 := c.createGroup("g0")
		c.do("PATCH", c.acct("Groups/"+g1), patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": g0}}})).
			wantSCIMError(t, 400, "invalidValue", "exceeds the limit of 3")
		side := c.createGroup("side")
		c.do("PATCH", c.acct("Groups/"+side), patchOps(map[string]any{"op": "add", "path": "members", "value": []map[string]string{{"value": g1}}})).must(t, 200)
	})
	t.Run("ten levels by default", func(t *testing.T) {
		c := newClient(t, fast(Options{}))
		prev := c.createGroup("level1")
		for i := 2; i <= 10; i++ {
			prev = c.createGroup(fmt.Sprintf("level%d", i), prev)
		}
		c.do("POST", c.acct("Groups"), map[string]any{"displayName": "level11", "members": []map[string]string{{"value": prev}}}).
			wantSCIMError(t, 400, "invalidValue", "Group nesting of 11 levels exceeds the limit of 10.")
	})
}
