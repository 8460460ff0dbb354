package source

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/read"
)

func TestShape(t *testing.T) {
	state := func() *model.State {
		return &model.State{
			Users: []model.User{{UserName: "a@x.io"}, {UserName: "b@x.io"}, {UserName: "c@x.io"}, {UserName: "d@x.io"}},
			Groups: []model.Group{
				{DisplayName: "all", Members: model.Members{Groups: []string{"eng", "tmp-1"}}},
				{DisplayName: "eng", Members: model.Members{Users: []string{"a@x.io"}, Groups: []string{"leads"}}},
				{DisplayName: "leads", Members: model.Members{Users: []string{"b@x.io"}, Groups: []string{"eng"}}},
				{DisplayName: "tmp-1", Members: model.Members{Users: []string{"c@x.io", "d@x.io"}}},
			},
		}
	}
	tests := []struct {
		name    string
		src     config.Source
		users   []string
		members map[string]model.Members
		skipped string
		diags   int
	}{
		{"nothing set", config.Source{}, []string{"a@x.io", "b@x.io", "c@x.io", "d@x.io"}, nil, "", 0},
		{"exclude", config.Source{Exclude: []string{"^tmp-"}}, []string{"a@x.io", "b@x.io", "c@x.io", "d@x.io"},
			map[string]model.Members{"all": {Groups: []string{"eng"}}}, "1 excluded group", 0},
		{"scope follows nested groups", config.Source{Scope: config.Scope{Groups: []string{"eng"}}}, []string{"a@x.io", "b@x.io"},
			map[string]model.Members{"tmp-1": {}}, "2 users outside scope.groups", 0},
		{"break, exclude and scope together", config.Source{Cycles: config.CyclesBreak, Exclude: []string{"^tmp-"}, Scope: config.Scope{Groups: []string{"all"}}},
			[]string{"a@x.io", "b@x.io"},
			map[string]model.Members{"leads": {Users: []string{"b@x.io"}}, "all": {Groups: []string{"eng"}}},
			"1 excluded group, 2 users outside scope.groups", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := state()
			var skipped read.Skipped
			diags := shape(tt.src, s, &skipped)
			if len(diags) != tt.diags {
				t.Errorf("diagnostics %v, want %d", diags, tt.diags)
			}
			var users []string
			for _, u := range s.Users {
				users = append(users, u.UserName)
			}
			if diff := cmp.Diff(tt.users, users); diff != "" {
				t.Errorf("users (-want +got):\n%s", diff)
			}
			for _, g := range s.Groups {
				if want, ok := tt.members[g.DisplayName]; ok {
					if diff := cmp.Diff(want, g.Members, cmpopts.EquateEmpty()); diff != "" {
						t.Errorf("members of %s (-want +got):\n%s", g.DisplayName, diff)
					}
				}
			}
			if got := skipped.String(); got != tt.skipped {
				t.Errorf("skipped %q, want %q", got, tt.skipped)
			}
		})
	}
}

func TestSummary(t *testing.T) {
	var skipped read.Skipped
	skipped.Add(read.Guests, 2)
	skipped.Add(read.NoUserName, 1)
	s := Summary{Kind: "entra", Origin: model.Origin{File: "scimsync.yaml", Line: 3, Column: 5}, Users: 12, Groups: 3, Skipped: skipped}
	if got, want := s.String(), "entra source at scimsync.yaml:3:5: 12 users, 3 groups; skipped: 2 guests, 1 without userName"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	s = Summary{Kind: "yaml", Paths: []string{"a.yaml"}, Users: 1, ServicePrincipals: 1}
	if got, want := s.String(), "manifests a.yaml: 1 user, 1 service principal, 0 groups"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
