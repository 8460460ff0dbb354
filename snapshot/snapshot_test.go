package snapshot_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/schemas"
	"github.com/scimsync/scimsync/snapshot"
)

func sample() *snapshot.Snapshot {
	return &snapshot.Snapshot{
		ToolVersion: "v1.2.3",
		TakenAt:     time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("CET", 3600)),
		Target:      snapshot.Target{Level: model.LevelAccount, Host: "https://accounts.example.test", AccountID: "acct-1"},
		Identity:    &model.Ref{Kind: model.KindServicePrincipal, Key: "99999999-9999-4999-8999-999999999999"},
		State: model.State{
			Users:             []model.User{{ID: "2", UserName: "bob@example.com", Active: true}, {ID: "1", UserName: "ada@example.com", DisplayName: "Ada", Active: false, Roles: []string{"account_admin"}}},
			ServicePrincipals: []model.ServicePrincipal{{ID: "3", ApplicationID: "99999999-9999-4999-8999-999999999999", DisplayName: "ci", Active: true}},
			Groups: []model.Group{{ID: "4", DisplayName: "eng", Members: model.Members{Users: []string{"bob@example.com", "ada@example.com"}}},
				{ID: "5", DisplayName: "account users"}},
			Workspaces: []model.Workspace{{ID: "1001",
				Assignments:  []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: "USER"}},
				Entitlements: []model.PrincipalEntitlements{{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Entitlements: []string{"workspace-access"}}}}},
		},
	}
}

func TestRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := snapshot.Write(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	got, err := snapshot.Read(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	want := sample()
	want.FormatVersion = snapshot.FormatVersion
	want.TakenAt = want.TakenAt.UTC()
	want.State.Normalize()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("snapshot after a round trip (-want +got):\n%s", diff)
	}
	if !strings.Contains(buf.String(), `"takenAt": "2026-03-04T04:06:07Z"`) {
		t.Errorf("time not written in UTC:\n%s", buf.String())
	}
}

func TestWrittenSnapshotsMatchTheSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := snapshot.Write(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	violations, err := schemas.ValidateJSON(schemas.Snapshot, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, vi := range violations {
		t.Errorf("schema: %s", vi)
	}
	// The schema must be able to fail: a snapshot without ids is not one.
	noID := strings.Replace(buf.String(), `"id": "1",`, "", 1)
	if violations, err := schemas.ValidateJSON(schemas.Snapshot, []byte(noID)); err != nil || len(violations) == 0 {
		t.Errorf("a user without an id passes the schema: %v", err)
	}
}

func TestReadRefuses(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string
	}{
		"not json":        {`nope`, "not a snapshot file"},
		"a plan file":     {`{"changes": []}`, "not a snapshot file"},
		"another version": {`{"formatVersion": 2}`, "snapshot format version 2, this scimsync reads version 1"},
		"unknown field":   {`{"formatVersion": 1, "extra": 1}`, `unknown field "extra"`},
		"trailing data":   {`{"formatVersion": 1, "state": {}} {}`, "trailing data"},
		"user without id": {`{"formatVersion": 1, "state": {"users": [{"userName": "a@example.com", "active": true}]}}`, `user "a@example.com" needs an id`},
		"sp without applicationId": {`{"formatVersion": 1, "state": {"servicePrincipals": [{"id": "1", "displayName": "x", "active": true}]}}`,
			`service principal "x" needs an id and an applicationId`},
		"group without id": {`{"formatVersion": 1, "state": {"groups": [{"displayName": "g", "members": {}}]}}`, `group "g" needs an id`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := snapshot.Read(strings.NewReader(tc.in))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.want)
			}
			if name == "another version" && !errors.Is(err, snapshot.ErrVersion) {
				t.Errorf("err = %v, want ErrVersion", err)
			}
		})
	}
}
