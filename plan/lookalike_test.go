package plan

import (
	"context"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

// TestLookAlikeServicePrincipals: a declared service principal without applicationId
// that several live principals match by displayName is never resolved by removal. The one
// scimsync created is recognised by its externalId; the others, or all of them when none
// is recognised, are left alone and named in a Blocked entry of the plan with their ids
// and applicationIds.
func TestLookAlikeServicePrincipals(t *testing.T) {
	ours := ManagedExternalID("ml-serving")
	tests := map[string]struct {
		live      []model.ServicePrincipal
		wantMatch bool
		want      []string // in the warning
	}{
		"ours and a console copy": {
			live: []model.ServicePrincipal{
				{ApplicationID: "11111111-1111-4111-8111-111111111111", DisplayName: "ml-serving", ExternalID: ours, Active: true},
				{ApplicationID: "22222222-2222-4222-8222-222222222222", DisplayName: "ml-serving", Active: true},
			},
			wantMatch: true,
			want:      []string{"another live service principal is named so besides the one scimsync manages", "applicationId 11111111-1111-4111-8111-111111111111, externalId " + ours, "applicationId 22222222-2222-4222-8222-222222222222, no externalId", "delete or rename it"},
		},
		"two copies, neither recognised": {
			live: []model.ServicePrincipal{
				{ApplicationID: "11111111-1111-4111-8111-111111111111", DisplayName: "ml-serving", Active: true},
				{ApplicationID: "22222222-2222-4222-8222-222222222222", DisplayName: "ml-serving", Active: true},
			},
			want: []string{"matches 2 live service principals by displayName", "applicationId 11111111-1111-4111-8111-111111111111", "applicationId 22222222-2222-4222-8222-222222222222", "declare the applicationId of the one you mean"},
		},
		"two copies both made by concurrent applies": {
			live: []model.ServicePrincipal{
				{ApplicationID: "11111111-1111-4111-8111-111111111111", DisplayName: "ml-serving", ExternalID: ours, Active: true},
				{ApplicationID: "22222222-2222-4222-8222-222222222222", DisplayName: "ml-serving", ExternalID: ours, Active: true},
			},
			want: []string{"matches 2 live service principals by displayName"},
		},
	}
	for _, removal := range []policy.Removal{policy.RemovalDeactivate, policy.RemovalDelete} {
		for name, tc := range tests {
			t.Run(string(removal)+"/"+name, func(t *testing.T) {
				live := &model.State{ServicePrincipals: tc.live,
					Groups: []model.Group{{DisplayName: "serving", Members: model.Members{ServicePrincipals: []string{tc.live[0].ApplicationID}}}}}
				desired := &model.State{
					ServicePrincipals: []model.ServicePrincipal{{DisplayName: "ml-serving", Active: true, Roles: []string{"account_admin"}}},
					Groups:            []model.Group{{DisplayName: "serving", Members: model.Members{ServicePrincipals: []string{"ml-serving"}}}},
				}
				f := newFake(model.LevelAccount)
				f.seed(live)
				snap, _ := f.Snapshot(context.Background(), nil)
				pol := policy.Default()
				pol.Removal.ServicePrincipals = removal
				p, err := Diff(desired, snap, pol, testOptions())
				if err != nil {
					t.Fatal(err)
				}
				matched := false
				for _, c := range p.Changes {
					if c.Kind == model.KindServicePrincipal && (c.Action.IsRemoval() || c.Action == Create) {
						t.Errorf("the plan %ss service principal %s", c.Action, c.Key)
					}
					for _, m := range c.Members {
						if c.Action == RemoveMembers && m.Kind == model.KindServicePrincipal {
							t.Errorf("the plan removes service principal %s from %s", m.Key, c.Key)
						}
					}
					if c.Kind == model.KindServicePrincipal && c.Action == Update && c.ID == snap.ServicePrincipals[0].ID {
						matched = true
					}
				}
				if matched != tc.wantMatch {
					t.Errorf("the recognised principal updated: %t, want %t; changes %v", matched, tc.wantMatch, p.Changes)
				}
				if len(p.Blocked) != 1 || p.Blocked[0].Kind != model.KindServicePrincipal || p.Blocked[0].Key != "ml-serving" {
					t.Fatalf("blocked = %+v, want one entry for ml-serving", p.Blocked)
				}
				for _, w := range tc.want {
					if !strings.Contains(p.Blocked[0].Reason, w) {
						t.Errorf("the blocked entry lacks %q:\n%s", w, p.Blocked[0].Reason)
					}
				}
			})
		}
	}
}

// TestCreatedServicePrincipalsCarryTheirMark: a service principal created without
// applicationId or externalId gets scimsync's externalId, so that it can be told from a
// look-alike later; a declared externalId is kept.
func TestCreatedServicePrincipalsCarryTheirMark(t *testing.T) {
	desired := &model.State{ServicePrincipals: []model.ServicePrincipal{
		{DisplayName: "ml-serving", Active: true},
		{DisplayName: "etl", ExternalID: "etl-1", Active: true},
		{DisplayName: "azure", ApplicationID: "33333333-3333-4333-8333-333333333333", Active: true},
	}}
	p, err := Diff(desired, &model.State{}, policy.Default(), testOptions())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"ml-serving": ManagedExternalID("ml-serving"), "etl": "etl-1", "azure": ""}
	for _, c := range p.Changes {
		sp := c.After.ServicePrincipal
		if got := sp.ExternalID; got != want[sp.DisplayName] {
			t.Errorf("%s: externalId %q, want %q", sp.DisplayName, got, want[sp.DisplayName])
		}
	}
	if n := len(ManagedExternalID("x")); n > 64 {
		t.Errorf("ManagedExternalID is %d characters; Databricks allows 64", n)
	}
}
