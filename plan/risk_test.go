package plan

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
)

func TestRisks(t *testing.T) {
	desired := &model.State{
		Groups: []model.Group{
			{DisplayName: "admins-of-ws", Members: model.Members{Groups: []string{"oncall"}}},
			{DisplayName: "oncall"},
			{DisplayName: "root", Roles: []string{"account_admin"}},
			{DisplayName: "plain"},
		},
		Workspaces: []model.Workspace{{ID: "1", Assignments: []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "admins-of-ws"}, Permission: "ADMIN"}}}},
	}
	user := func(k string) []Member { return []Member{{Kind: model.KindUser, Key: k}} }
	roles := []string{"account_admin"}
	changes := []Change{
		{Action: Create, Kind: model.KindGroup, Key: "root", After: &Object{Group: &model.Group{DisplayName: "root", Roles: roles}}},
		{Action: Create, Kind: model.KindUser, Key: "new@example.com", After: &Object{User: &model.User{UserName: "new@example.com", Entitlements: []string{"workspace-access", "allow-cluster-create"}}}},
		{Action: Update, Kind: model.KindUser, Key: "ann@example.com", Set: &Set{Roles: &roles}, Before: &Object{User: &model.User{UserName: "ann@example.com"}}},
		{Action: AddMembers, Kind: model.KindGroup, Key: "oncall", Members: user("bob@example.com")},
		{Action: AddMembers, Kind: model.KindGroup, Key: "plain", Members: user("bob@example.com")},
		{Action: Assign, Kind: model.KindUser, Key: "bob@example.com", Workspace: "1", Permission: &PermissionChange{From: "USER", To: "ADMIN"}},
		{Action: Assign, Kind: model.KindUser, Key: "cy@example.com", Workspace: "1", Permission: &PermissionChange{To: "USER"}},
		{Action: SetEntitlements, Kind: model.KindGroup, Key: "plain", Workspace: "1", Entitlements: &EntitlementChange{Grant: []string{"databricks-sql-access"}}},
		{Action: Unassign, Kind: model.KindUser, Key: "dan@example.com", Workspace: "1", Permission: &PermissionChange{From: "USER"}},
		{Action: Deactivate, Kind: model.KindUser, Key: "eve@example.com"},
	}
	got := risks(desired, changes, []model.Ref{{Kind: model.KindUser, Key: "breakglass@example.com"}},
		[]Blocked{{Kind: model.KindUser, Key: "ada@example.com", Reason: "userName would change"}})
	type row struct{ Type, Ref, Detail string }
	var rows []row
	for _, r := range got {
		rows = append(rows, row{string(r.Type), r.Ref, r.Detail})
	}
	want := []row{
		{"grant", "group:root", "role account_admin"},
		{"grant", "user:new@example.com", "entitlement allow-cluster-create"},
		{"grant", "user:ann@example.com", "role account_admin"},
		{"grant", "group:oncall", "user bob@example.com added to a group that is a member of admins-of-ws, which is ADMIN of workspace 1"},
		{"grant", "user:bob@example.com", "ADMIN in workspace 1 (was USER)"},
		{"removal", "user:dan@example.com", "unassigned from workspace 1"},
		{"removal", "user:eve@example.com", "deactivated"},
		{"protected", "user:breakglass@example.com", "protected: never changed"},
		{"blocked", "user:ada@example.com", "userName would change"},
	}
	if diff := cmp.Diff(want, rows); diff != "" {
		t.Errorf("risks (-want +got):\n%s", diff)
	}
	if *got[0].Change != 0 || *got[6].Change != 9 || got[7].Change != nil {
		t.Errorf("change indexes: %v %v %v", *got[0].Change, *got[6].Change, got[7].Change)
	}
}
