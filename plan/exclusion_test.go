package plan

import (
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

// TestExclusionRules checks the two rules of Exclusion: declaring a built-in group is not
// worth a warning while declaring a protected identity is, and a group keeps a protected
// member it does not declare but not a built-in group.
func TestExclusionRules(t *testing.T) {
	live := &model.State{
		Users: []model.User{{ID: "u1", UserName: "a@example.com", Active: true}, {ID: "u2", UserName: "root@example.com", Active: true}},
		Groups: []model.Group{
			{ID: "g1", DisplayName: "eng", Members: model.Members{Users: []string{"a@example.com", "root@example.com"}, Groups: []string{"admins"}}},
			{ID: "g2", DisplayName: "admins"},
		},
	}
	desired := &model.State{
		Users:  []model.User{{UserName: "a@example.com", Active: true}, {UserName: "root@example.com", Active: true}},
		Groups: []model.Group{{DisplayName: "eng", Members: model.Members{Users: []string{"a@example.com"}}}, {DisplayName: "admins"}},
	}
	live.Normalize()
	desired.Normalize()
	pol := policy.Default()
	pol.Protected.Users = []string{"root@example.com"}
	p, err := Diff(desired, live, pol, testOptions())
	if err != nil {
		t.Fatal(err)
	}
	var removed []string
	for _, c := range p.Changes {
		if c.Action == RemoveMembers {
			for _, m := range c.Members {
				removed = append(removed, string(m.Kind)+":"+m.Key)
			}
		}
	}
	if len(removed) != 1 || removed[0] != "group:admins" {
		t.Errorf("removed from eng: %v, want only group:admins", removed)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], "root@example.com is declared but protected") {
		t.Errorf("warnings = %q, want one about the protected user only", p.Warnings)
	}
}
