package merge

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
)

func at(file string, line int) model.Origin { return model.Origin{File: file, Line: line, Column: 3} }

func TestStates(t *testing.T) {
	appID := "6f8e3c1a-1b2c-4d5e-8f90-123456789abc"
	tests := map[string]struct {
		in        []*model.State
		want      *model.State
		wantDiags []string
	}{
		"identical redeclarations merge": {
			in: []*model.State{
				{Users: []model.User{{UserName: "Ann@example.com", DisplayName: "Ann", Active: true, Origin: at("a.yaml", 1)}}},
				{Users: []model.User{{UserName: "ann@example.com", DisplayName: "Ann", Active: true, Origin: at("b.yaml", 1)}}},
			},
			want: &model.State{Users: []model.User{{UserName: "Ann@example.com", DisplayName: "Ann", Active: true, Origin: at("a.yaml", 1)}}},
		},
		"unset attributes are filled in": {
			in: []*model.State{
				{Users: []model.User{{UserName: "ann@example.com", Active: true, Roles: []string{"account_admin"}, Origin: at("a.yaml", 1)}}},
				{Users: []model.User{{UserName: "ann@example.com", DisplayName: "Ann", Active: true, Origin: at("b.yaml", 1)}}},
			},
			want: &model.State{Users: []model.User{{UserName: "ann@example.com", DisplayName: "Ann", Active: true, Roles: []string{"account_admin"}, Origin: at("a.yaml", 1)}}},
		},
		"a principal declared by displayName and by applicationId is one": {
			in: []*model.State{
				{ServicePrincipals: []model.ServicePrincipal{{DisplayName: "etl", Active: true, Roles: []string{"account_admin"}, Origin: at("a.yaml", 1)}}},
				{ServicePrincipals: []model.ServicePrincipal{{DisplayName: "etl", ApplicationID: appID, Active: true, Origin: at("b.yaml", 1)}}},
				{Groups: []model.Group{{DisplayName: "bots", Members: model.Members{ServicePrincipals: []string{"etl"}}}}},
			},
			want: &model.State{
				ServicePrincipals: []model.ServicePrincipal{{DisplayName: "etl", ApplicationID: appID, Active: true, Roles: []string{"account_admin"}, Origin: at("b.yaml", 1)}},
				Groups:            []model.Group{{DisplayName: "bots", Members: model.Members{ServicePrincipals: []string{appID}}}},
			},
		},
		"a displayName that two principals with applicationIds have is not folded": {
			in: []*model.State{
				{ServicePrincipals: []model.ServicePrincipal{
					{DisplayName: "etl", Active: true},
					{DisplayName: "etl", ApplicationID: appID, Active: true},
					{DisplayName: "etl", ApplicationID: "7f8e3c1a-1b2c-4d5e-8f90-123456789abc", Active: true},
				}},
			},
			want: &model.State{ServicePrincipals: []model.ServicePrincipal{
				{DisplayName: "etl", ApplicationID: appID, Active: true},
				{DisplayName: "etl", ApplicationID: "7f8e3c1a-1b2c-4d5e-8f90-123456789abc", Active: true},
				{DisplayName: "etl", Active: true},
			}},
		},
		"conflicting user names both places": {
			in: []*model.State{
				{Users: []model.User{{UserName: "ann@example.com", DisplayName: "Ann", Active: true, Origin: at("a.yaml", 1)}}},
				{Users: []model.User{{UserName: "ann@example.com", DisplayName: "Anne", Active: false, Origin: at("b.yaml", 7)}}},
			},
			want: &model.State{Users: []model.User{{UserName: "ann@example.com", DisplayName: "Ann", Active: true, Origin: at("a.yaml", 1)}}},
			wantDiags: []string{
				`b.yaml:7:3: error: user "ann@example.com" is declared twice with different attributes: displayName "Ann" and "Anne"; active true and false [duplicate-username] (see a.yaml:1:3)`,
			},
		},
		"group members are unioned": {
			in: []*model.State{
				{Groups: []model.Group{{DisplayName: "eng", Entitlements: []string{"workspace-access"}, Members: model.Members{Users: []string{"b@x.io"}}, Origin: at("a.yaml", 1)}}},
				{Groups: []model.Group{{DisplayName: "eng", Members: model.Members{Users: []string{"a@x.io", "b@x.io"}, Groups: []string{"sub"}}, Origin: at("b.yaml", 1)}}},
			},
			want: &model.State{Groups: []model.Group{{DisplayName: "eng", Entitlements: []string{"workspace-access"}, Members: model.Members{Users: []string{"a@x.io", "b@x.io"}, Groups: []string{"sub"}}, Origin: at("a.yaml", 1)}}},
		},
		"conflicting group roles": {
			in: []*model.State{
				{Groups: []model.Group{{DisplayName: "eng", Roles: []string{"account_admin"}, Origin: at("a.yaml", 1)}}},
				{Groups: []model.Group{{DisplayName: "eng", Roles: []string{"other"}, Origin: at("b.yaml", 2)}}},
			},
			want: &model.State{Groups: []model.Group{{DisplayName: "eng", Roles: []string{"account_admin"}, Origin: at("a.yaml", 1)}}},
			wantDiags: []string{
				`b.yaml:2:3: error: group "eng" is declared twice with different attributes: roles [account_admin] and [other] [duplicate-group] (see a.yaml:1:3)`,
			},
		},
		"service principal refs resolve to keys": {
			in: []*model.State{
				{Groups: []model.Group{{DisplayName: "bots", Members: model.Members{ServicePrincipals: []string{"etl", "ci"}}}}},
				{ServicePrincipals: []model.ServicePrincipal{
					{DisplayName: "etl", ApplicationID: appID, Active: true},
					{DisplayName: "ci", Active: true},
				}},
			},
			want: &model.State{
				ServicePrincipals: []model.ServicePrincipal{
					{DisplayName: "etl", ApplicationID: appID, Active: true},
					{DisplayName: "ci", Active: true},
				},
				Groups: []model.Group{{DisplayName: "bots", Members: model.Members{ServicePrincipals: []string{appID, "ci"}}}},
			},
		},
		"conflicting application ids": {
			in: []*model.State{
				{ServicePrincipals: []model.ServicePrincipal{{DisplayName: "etl", ApplicationID: appID, Active: true, Origin: at("a.yaml", 1)}}},
				{ServicePrincipals: []model.ServicePrincipal{{DisplayName: "etl2", ApplicationID: appID, Active: true, Origin: at("b.yaml", 1)}}},
			},
			want: &model.State{ServicePrincipals: []model.ServicePrincipal{{DisplayName: "etl", ApplicationID: appID, Active: true, Origin: at("a.yaml", 1)}}},
			wantDiags: []string{
				`b.yaml:1:3: error: service principal with applicationId ` + appID + ` is declared twice with different attributes: displayName "etl" and "etl2" [duplicate-application-id] (see a.yaml:1:3)`,
			},
		},
		"workspaces merge by id": {
			in: []*model.State{
				{Workspaces: []model.Workspace{{ID: "1", Assignments: []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: "USER", Origin: at("a.yaml", 3)}}}}},
				{Workspaces: []model.Workspace{{ID: "1", Host: "https://w", Assignments: []model.Assignment{
					{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: "ADMIN", Origin: at("b.yaml", 4)},
					{Principal: model.Ref{Kind: model.KindUser, Key: "a@x.io"}, Permission: "USER"},
				}}}},
			},
			want: &model.State{Workspaces: []model.Workspace{{ID: "1", Host: "https://w", Assignments: []model.Assignment{
				{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: "USER", Origin: at("a.yaml", 3)},
				{Principal: model.Ref{Kind: model.KindUser, Key: "a@x.io"}, Permission: "USER"},
			}}}},
			wantDiags: []string{
				`b.yaml:4:3: error: the assignment of group "eng" to workspace 1 is declared twice with different attributes: permission "USER" and "ADMIN" [duplicate-assignment] (see a.yaml:3:3)`,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, diags := States(tc.in...)
			tc.want.Normalize()
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("state (-want +got):\n%s", diff)
			}
			var gotDiags []string
			for _, d := range diags {
				gotDiags = append(gotDiags, d.String())
			}
			if diff := cmp.Diff(tc.wantDiags, gotDiags); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStatesDoesNotModifyInputs(t *testing.T) {
	a := &model.State{Groups: []model.Group{{DisplayName: "g", Members: model.Members{Users: make([]string, 1, 10)}}}}
	a.Groups[0].Members.Users[0] = "a@x.io"
	b := &model.State{Groups: []model.Group{{DisplayName: "g", Members: model.Members{Users: []string{"b@x.io"}}}}}
	States(a, b)
	if got := a.Groups[0].Members.Users[:2]; got[1] != "" {
		t.Fatalf("input backing array written: %v", got)
	}
}
