package source

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
)

const appID = "6f8e3c1a-1b2c-4d5e-8f90-123456789abc"

func at(line int) model.Origin { return model.Origin{File: "m.yaml", Line: line, Column: 5} }

func strs(diags diag.List) []string {
	var out []string
	for _, d := range diags {
		out = append(out, d.String())
	}
	return out
}

func user(name string, line int) model.User {
	return model.User{UserName: name, Active: true, Origin: at(line)}
}

func group(name string, line int, members ...string) model.Group {
	return model.Group{DisplayName: name, Members: model.Members{Groups: members}, Origin: at(line)}
}

func TestCheck(t *testing.T) {
	ws := func(s *model.State) *model.State { return s }
	tests := map[string]struct {
		level model.Level
		state *model.State
		want  []string
	}{
		"valid": {
			state: &model.State{
				Users:             []model.User{user("a@x.io", 1)},
				ServicePrincipals: []model.ServicePrincipal{{DisplayName: "etl", ApplicationID: appID, Active: true}},
				Groups:            []model.Group{{DisplayName: "g", Members: model.Members{Users: []string{"a@x.io"}, ServicePrincipals: []string{"etl"}}, Entitlements: nil}},
				Workspaces: []model.Workspace{{ID: "1", Assignments: []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "g"}, Permission: "USER"}},
					Entitlements: []model.PrincipalEntitlements{{Principal: model.Ref{Kind: model.KindGroup, Key: "g"}, Entitlements: []string{"allow-instance-pool-create"}}}}},
			},
		},
		"duplicate usernames, case-insensitively": {
			state: &model.State{Users: []model.User{user("a@x.io", 1), user("A@X.io", 2)}},
			want:  []string{`m.yaml:2:5: error: userName "A@X.io" is declared twice (userNames are compared case-insensitively) [duplicate-username] (see m.yaml:1:5)`},
		},
		"duplicate groups": {
			state: &model.State{Groups: []model.Group{group("g", 1), group("g", 2)}},
			want:  []string{`m.yaml:2:5: error: group "g" is declared twice [duplicate-group] (see m.yaml:1:5)`},
		},
		"duplicate application ids": {
			state: &model.State{ServicePrincipals: []model.ServicePrincipal{
				{DisplayName: "a", ApplicationID: appID, Origin: at(1)},
				{DisplayName: "b", ApplicationID: strings.ToUpper(appID), Origin: at(2)},
			}},
			want: []string{`m.yaml:2:5: error: applicationId ` + strings.ToUpper(appID) + ` is declared twice [duplicate-application-id] (see m.yaml:1:5)`},
		},
		"unknown members": {
			state: &model.State{Groups: []model.Group{{DisplayName: "g", Origin: at(1), Members: model.Members{
				Users: []string{"nobody@x.io"}, Groups: []string{"admins"}, ServicePrincipals: []string{"ghost"},
			}}}},
			want: []string{
				`m.yaml:1:5: error: group "g": unknown member user "nobody@x.io" [unknown-reference]`,
				`m.yaml:1:5: error: group "g": unknown service principal "ghost" [unknown-reference]`,
				`m.yaml:1:5: error: group "g": unknown member group "admins" (built-in groups cannot be managed) [unknown-reference]`,
			},
		},
		"ambiguous service principal name": {
			state: &model.State{
				ServicePrincipals: []model.ServicePrincipal{{DisplayName: "bot", ApplicationID: appID}, {DisplayName: "bot"}},
				Groups:            []model.Group{{DisplayName: "g", Origin: at(1), Members: model.Members{ServicePrincipals: []string{"bot "}}}},
			},
		},
		"ambiguous service principal reference": {
			state: &model.State{
				ServicePrincipals: []model.ServicePrincipal{
					{DisplayName: "bot", ApplicationID: appID},
					{DisplayName: "bot", ApplicationID: "7f8e3c1a-1b2c-4d5e-8f90-123456789abc"},
				},
				Groups: []model.Group{{DisplayName: "g", Origin: at(1), Members: model.Members{ServicePrincipals: []string{"bot"}}}},
			},
			want: []string{`m.yaml:1:5: error: group "g": 2 service principals are named "bot"; refer to one by applicationId [ambiguous-reference]`},
		},
		"membership cycle": {
			state: &model.State{Groups: []model.Group{group("b", 2, "c"), group("a", 1, "b"), group("c", 3, "a"), group("self", 4, "self")}},
			want: []string{
				`m.yaml:1:5: error: membership cycle: a > b > c > a (a source with cycles: break drops the membership that closes it) [membership-cycle]`,
				`m.yaml:4:5: error: membership cycle: self > self (a source with cycles: break drops the membership that closes it) [membership-cycle]`,
			},
		},
		"nesting too deep": {
			state: func() *model.State {
				s := &model.State{}
				for i := 0; i <= model.MaxNestingDepth; i++ {
					var members []string
					if i < model.MaxNestingDepth {
						members = []string{fmt.Sprintf("g%02d", i+1)}
					}
					s.Groups = append(s.Groups, group(fmt.Sprintf("g%02d", i), i+1, members...))
				}
				return s
			}(),
			want: []string{`m.yaml:1:5: error: groups are nested 11 levels deep, Databricks allows 10: g00 > g01 > g02 > g03 > g04 > g05 > g06 > g07 > g08 > g09 > g10 [nesting-too-deep]`},
		},
		"ten levels are fine": {
			state: func() *model.State {
				s := &model.State{}
				for i := 0; i < model.MaxNestingDepth; i++ {
					var members []string
					if i < model.MaxNestingDepth-1 {
						members = []string{fmt.Sprintf("g%02d", i+1)}
					}
					s.Groups = append(s.Groups, group(fmt.Sprintf("g%02d", i), i+1, members...))
				}
				return s
			}(),
		},
		"entitlements at account level": {
			level: model.LevelAccount,
			state: &model.State{
				Users:  []model.User{{UserName: "a@x.io", Entitlements: []string{"workspace-access"}, Origin: at(1)}},
				Groups: []model.Group{{DisplayName: "g", Entitlements: []string{"workspace-access"}, Origin: at(2)}},
			},
			want: []string{
				`m.yaml:1:5: error: user "a@x.io" has entitlements, but at account level entitlements are kept per workspace: declare them under workspaces[].entitlements [wrong-level]`,
				`m.yaml:2:5: error: group "g" has entitlements, but at account level entitlements are kept per workspace: declare them under workspaces[].entitlements [wrong-level]`,
			},
		},
		"workspace blocks at workspace level": {
			level: model.LevelWorkspace,
			state: &model.State{
				Groups: []model.Group{group("g", 1)},
				Workspaces: []model.Workspace{{ID: "1", Origin: at(2),
					Assignments:  []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "g"}, Permission: "USER"}},
					Entitlements: []model.PrincipalEntitlements{{Principal: model.Ref{Kind: model.KindGroup, Key: "g"}, Entitlements: []string{"workspace-access"}}},
				}},
			},
			want: []string{
				`m.yaml:2:5: error: workspace 1 has assignments, but the target is a workspace: workspace assignments are made at account level [wrong-level]`,
				`m.yaml:2:5: error: workspace 1 has entitlements, but the target is a workspace: declare entitlements on the users, service principals and groups themselves [wrong-level]`,
			},
		},
		"entitlement rules at workspace level": {
			level: model.LevelWorkspace,
			state: &model.State{
				Users:             []model.User{{UserName: "a@x.io", Origin: at(1), Entitlements: []string{"allow-instance-pool-create", "workspace-consume", "databricks-sql-access"}}},
				ServicePrincipals: []model.ServicePrincipal{{DisplayName: "bot", Origin: at(2), Entitlements: []string{"allow-instance-pool-create"}}},
				Groups:            []model.Group{{DisplayName: "g", Origin: at(3), Entitlements: []string{"allow-instance-pool-create", "make-coffee"}}},
			},
			want: []string{
				`m.yaml:1:5: error: user "a@x.io": workspace-consume cannot be combined with workspace-access or databricks-sql-access [consume-conflict]`,
				`m.yaml:1:5: error: user "a@x.io": allow-instance-pool-create can only be granted to groups [group-only]`,
				`m.yaml:2:5: error: service principal "bot": allow-instance-pool-create can only be granted to groups [group-only]`,
				`m.yaml:3:5: error: group "g": unknown entitlement "make-coffee" (known: allow-cluster-create, allow-instance-pool-create, databricks-sql-access, workspace-access, workspace-consume) [unknown-entitlement]`,
			},
		},
		"workspace entries": {
			state: &model.State{
				Users: []model.User{user("a@x.io", 1)},
				Workspaces: []model.Workspace{{ID: "12x", Origin: at(2),
					Assignments: []model.Assignment{
						{Principal: model.Ref{Kind: model.KindUser, Key: "a@x.io"}, Permission: "OWNER", Origin: at(3)},
						{Principal: model.Ref{Kind: model.KindGroup, Key: "nope"}, Permission: "USER", Origin: at(4)},
						{Principal: model.Ref{Kind: model.KindUser, Key: "a@x.io"}, Permission: "USER", Origin: at(5)},
					},
					Entitlements: []model.PrincipalEntitlements{
						{Principal: model.Ref{Kind: model.KindUser, Key: "a@x.io"}, Entitlements: []string{"allow-instance-pool-create"}, Origin: at(6)},
						{Principal: model.Ref{Kind: model.KindServicePrincipal, Key: "ghost"}, Entitlements: []string{"workspace-access"}, Origin: at(7)},
					},
				}},
			},
			want: []string{
				`m.yaml:2:5: error: workspace id "12x" is not a number [invalid-workspace-id]`,
				`m.yaml:3:5: error: workspace 12x: permission "OWNER" of user "a@x.io" is neither USER nor ADMIN [invalid-permission]`,
				`m.yaml:4:5: error: workspace 12x: unknown group "nope" [unknown-reference]`,
				`m.yaml:5:5: error: workspace 12x: user "a@x.io" is assigned twice [duplicate-assignment] (see m.yaml:3:5)`,
				`m.yaml:6:5: error: user "a@x.io" in workspace 12x: allow-instance-pool-create can only be granted to groups [group-only]`,
				`m.yaml:7:5: error: workspace 12x: unknown service principal "ghost" [unknown-reference]`,
			},
		},
		"names and formats": {
			state: &model.State{
				Users: []model.User{
					{UserName: "not-an-email", Origin: at(1)},
					{UserName: "b@x.io", ExternalID: strings.Repeat("e", 65), Origin: at(2)},
				},
				ServicePrincipals: []model.ServicePrincipal{
					{DisplayName: "bot", ApplicationID: "1234", Origin: at(3)},
					{Origin: at(4)},
				},
				Groups: []model.Group{
					{DisplayName: "Account Users", Origin: at(5)},
					{DisplayName: strings.Repeat("g", 256), Origin: at(6)},
					{Origin: at(7)},
				},
			},
			want: []string{
				`m.yaml:1:5: error: userName "not-an-email" is not an email address [invalid-email]`,
				`m.yaml:2:5: error: externalId of user "b@x.io" is 65 characters long; Databricks allows at most 64 [external-id-too-long]`,
				`m.yaml:3:5: error: service principal "bot": applicationId "1234" is not a UUID [invalid-application-id]`,
				`m.yaml:4:5: error: a service principal needs a displayName or an applicationId [missing-name]`,
				`m.yaml:5:5: error: group "Account Users" is a built-in Databricks group and cannot be declared [reserved-group]`,
				`m.yaml:6:5: error: group displayName is 256 characters long; Databricks allows at most 255 [group-name-too-long]`,
				`m.yaml:7:5: error: a group needs a displayName [missing-name]`,
			},
		},
		"renames": {
			state: &model.State{Groups: []model.Group{
				{DisplayName: "a", Previously: []string{"old", "b"}, Origin: at(1)},
				{DisplayName: "b", Origin: at(2)},
				{DisplayName: "c", Previously: []string{"old"}, Origin: at(3)},
			}},
			want: []string{
				`m.yaml:1:5: error: group "a" was previously "b", but a group of that name is declared too [rename-conflict]`,
				`m.yaml:3:5: error: groups "a" and "c" were both previously "old" [rename-conflict] (see m.yaml:1:5)`,
			},
		},
		"too many memberships": {
			state: ws(func() *model.State {
				s := &model.State{Users: []model.User{user("a@x.io", 1)}}
				for i := 0; i <= model.MaxDirectMemberships; i++ {
					s.Groups = append(s.Groups, model.Group{DisplayName: fmt.Sprintf("g%d", i), Members: model.Members{Users: []string{"a@x.io"}}})
				}
				return s
			}()),
			want: []string{`m.yaml:1:5: error: user "a@x.io" is a direct member of 1,501 groups; Databricks allows at most 1,500 [too-many-memberships]`},
		},
		"too many principals and groups": {
			state: func() *model.State {
				s := &model.State{}
				for i := 0; i < model.MaxPrincipals; i++ {
					s.Users = append(s.Users, model.User{UserName: fmt.Sprintf("u%d@x.io", i)})
				}
				s.ServicePrincipals = []model.ServicePrincipal{{DisplayName: "bot"}}
				for i := 0; i <= model.MaxGroups; i++ {
					s.Groups = append(s.Groups, model.Group{DisplayName: fmt.Sprintf("g%d", i)})
				}
				return s
			}(),
			want: []string{
				`error: 5,001 groups are declared; the account allows at most 5,000 (Databricks' default, which can be raised; an account whose limit was raised sets policy.limits.groups) [too-many-groups]`,
				`error: 10,001 users and service principals are declared; the account allows at most 10,000 (Databricks' default, which can be raised; an account whose limit was raised sets policy.limits.principals) [too-many-principals]`,
			},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			level := tc.level
			if level == "" {
				level = model.LevelAccount
			}
			got := Check(tc.state, level)
			if diff := cmp.Diff(tc.want, strs(got)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidEmail(t *testing.T) {
	for in, want := range map[string]bool{
		"a@example.com":                          true,
		"first.last+x@a.b.c":                     true,
		"":                                       false,
		"a":                                      false,
		"@example.com":                           false,
		"a@b":                                    false,
		"a@@b.com":                               false,
		"a b@c.com":                              false,
		"Ann <a@example.com>":                    false,
		"a@.example.com":                         false,
		"a@example..com":                         false,
		".a@example.com":                         false,
		"a@b@example.com":                        false,
		"a@example.com.":                         false,
		"ann.lee@example.co.uk":                  true,
		"ada\x00@example.com":                    false,
		"ada@exa\x7fmple.com":                    false,
		"ada\u0085@example.com":                  false,
		"ada@127.0.0.1":                          false,
		"ada@[127.0.0.1]":                        false,
		"ada@example.123":                        false,
		"ada@-example.com":                       false,
		"ada@example-.com":                       false,
		"ada@exa_mple.com":                       false,
		"ada@münchen.de":                         true,
		"ada@a1.example.com":                     true,
		"a..b@example.com":                       false,
		strings.Repeat("a", 64) + "@example.com": true,
		strings.Repeat("a", 65) + "@example.com": false,
		"ada@" + strings.Repeat("d", 63) + ".com":           true,
		"ada@" + strings.Repeat("d", 64) + ".com":           false,
		"ada@" + strings.Repeat("d", 300) + ".com":          false,
		"ada@" + strings.Repeat("sub.", 70) + "example.com": true,
	} {
		if got := validEmail(in); got != want {
			t.Errorf("validEmail(%q) = %t, want %t", in, got, want)
		}
	}
}

// TestCheckScales runs Check on 100,000 users, 20,000 groups and 1,000,000 memberships
// with nesting; a check that is not linear would not finish.
func TestCheckScales(t *testing.T) {
	if testing.Short() {
		t.Skip("large state")
	}
	s := bigState(100_000, 20_000, 50)
	diags := Check(s, model.LevelAccount)
	want := []string{
		`error: 20,000 groups are declared; the account allows at most 5,000 (Databricks' default, which can be raised; an account whose limit was raised sets policy.limits.groups) [too-many-groups]`,
		`error: 100,000 users and service principals are declared; the account allows at most 10,000 (Databricks' default, which can be raised; an account whose limit was raised sets policy.limits.principals) [too-many-principals]`,
	}
	if diff := cmp.Diff(want, strs(diags)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func BenchmarkCheck(b *testing.B) {
	s := bigState(100_000, 20_000, 50)
	b.ResetTimer()
	for b.Loop() {
		Check(s, model.LevelAccount)
	}
}

// bigState builds a state of users and groups in which every group has perGroup user
// members and groups are nested in chains of five.
func bigState(users, groups, perGroup int) *model.State {
	s := &model.State{}
	for i := range users {
		s.Users = append(s.Users, model.User{UserName: fmt.Sprintf("user%06d@example.com", i), Active: true})
	}
	for i := range groups {
		g := model.Group{DisplayName: fmt.Sprintf("group-%05d", i)}
		for j := range perGroup {
			g.Members.Users = append(g.Members.Users, s.Users[(i*perGroup+j)%users].Key())
		}
		if i%5 != 4 {
			g.Members.Groups = []string{fmt.Sprintf("group-%05d", i+1)}
		}
		s.Groups = append(s.Groups, g)
	}
	s.Normalize()
	return s
}

func TestCheckWorkspaceHosts(t *testing.T) {
	s := &model.State{Workspaces: []model.Workspace{
		{ID: "1001", Host: "https://dbc-1001.cloud.databricks.com"},
		{ID: "1002", Origin: model.Origin{File: "workspaces.yaml", Line: 7, Column: 5}},
	}}
	got := CheckWorkspaceHosts(s)
	if len(got) != 1 || got[0].Rule != RuleNoWorkspaceHost || got[0].Origin.Line != 7 || !strings.Contains(got[0].Message, "workspace 1002 has no host") {
		t.Errorf("diagnostics = %v, want one %s at workspaces.yaml:7", got, RuleNoWorkspaceHost)
	}
}

func TestCheckWithRaisedLimits(t *testing.T) {
	s := &model.State{}
	for i := 0; i < 12; i++ {
		s.Users = append(s.Users, model.User{UserName: fmt.Sprintf("u%d@x.io", i)})
	}
	for i := 0; i < 6; i++ {
		s.Groups = append(s.Groups, model.Group{DisplayName: fmt.Sprintf("g%d", i)})
	}
	if got := strs(CheckWithLimits(s, model.LevelAccount, 12, 6)); len(got) != 0 {
		t.Errorf("within raised limits: %v", got)
	}
	want := []string{
		`error: 6 groups are declared; the account allows at most 5 (policy.limits.groups) [too-many-groups]`,
		`error: 12 users and service principals are declared; the account allows at most 11 (policy.limits.principals) [too-many-principals]`,
	}
	if diff := cmp.Diff(want, strs(CheckWithLimits(s, model.LevelAccount, 11, 5))); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
