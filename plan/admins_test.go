package plan

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
)

func TestAdminGuardWorkspaceAdmins(t *testing.T) {
	ws := func(perm string) []model.Workspace {
		return []model.Workspace{{ID: "1001", Host: "https://dbc-1001.example.test", Assignments: []model.Assignment{
			{Principal: model.Ref{Kind: model.KindGroup, Key: "ops"}, Permission: perm}}}}
	}
	state := func(perm string) *model.State {
		s := &model.State{
			Users:      []model.User{{UserName: "ann@example.com", Active: true}},
			Groups:     []model.Group{{DisplayName: "ops", Members: model.Members{Users: []string{"ann@example.com"}}}},
			Workspaces: ws(perm),
		}
		s.Normalize()
		return s
	}
	f := newFake(model.LevelAccount)
	f.seed(state(model.PermissionAdmin))
	live, err := f.Snapshot(t.Context(), ws(model.PermissionAdmin))
	if err != nil {
		t.Fatal(err)
	}
	desired := state(model.PermissionUser)
	opts := Options{Target: testTarget, Now: time.Unix(0, 0)}
	_, err = Diff(desired, live, policy.Default(), opts)
	var ag *AdminGuardError
	if !errors.As(err, &ag) || !strings.Contains(err.Error(), "it leaves 0 active admins of workspace 1001 (policy.guards.minAdmins is 1)") {
		t.Fatalf("err = %v, want the admin guard", err)
	}
	opts.AllowAdminRemoval = true
	p, err := Diff(desired, live, policy.Default(), opts)
	if err != nil || !p.AdminGuardOverride || len(p.Changes) != 1 {
		t.Errorf("with the override: %v %+v", err, p)
	}
	// apply checks a saved plan again against the live state: its own override counts,
	// not the file's.
	var again *AdminGuardError
	if err := VerifyWith(t.Context(), p, f, testTarget, Recheck{Policy: policy.Default()}); !errors.As(err, &again) {
		t.Errorf("apply without --allow-admin-removal: err = %v, want the admin guard", err)
	}
	if err := VerifyWith(t.Context(), p, f, testTarget, Recheck{Policy: policy.Default(), AllowAdminRemoval: true}); err != nil {
		t.Errorf("apply with --allow-admin-removal: %v", err)
	}
	pol := policy.Default()
	pol.Guards.MinAdmins = 0
	if _, err := Diff(desired, live, pol, Options{Target: testTarget, Now: time.Unix(0, 0)}); err != nil {
		t.Errorf("minAdmins 0: %v", err)
	}
}
