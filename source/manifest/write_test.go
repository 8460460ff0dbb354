package manifest

import (
	"bytes"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/model"
)

const otherAppID = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"

// exported is a live state as export leaves it: ids, service principals with and without
// unique names, inactive objects, nested groups, assignments and entitlements.
func exported() *model.State {
	s := &model.State{
		Users: []model.User{
			{ID: "1", UserName: "ann.lee@example.com", DisplayName: "Ann Lee", GivenName: "Ann", FamilyName: "Lee", Active: true, ExternalID: "00u1"},
			{ID: "2", UserName: "bob@example.com", Active: false, Roles: []string{"account_admin"}},
		},
		ServicePrincipals: []model.ServicePrincipal{
			{ID: "3", ApplicationID: appID, DisplayName: "etl", Active: true},
			{ID: "4", ApplicationID: otherAppID, DisplayName: "twin", Active: true},
			{ID: "5", ApplicationID: "1a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d", DisplayName: "twin", Active: false},
		},
		Groups: []model.Group{
			{ID: "6", DisplayName: "eng", Members: model.Members{Users: []string{"ann.lee@example.com"}, Groups: []string{"sre"},
				ServicePrincipals: []string{appID, otherAppID}}, Roles: []string{"account_admin"}},
			{ID: "7", DisplayName: "sre", ExternalID: "g-7"},
		},
		Workspaces: []model.Workspace{{ID: "1234567890123456",
			Assignments: []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: "USER"},
				{Principal: model.Ref{Kind: model.KindServicePrincipal, Key: appID}, Permission: "ADMIN"}},
			Entitlements: []model.PrincipalEntitlements{{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Entitlements: []string{"workspace-access", "databricks-sql-access"}},
				{Principal: model.Ref{Kind: model.KindServicePrincipal, Key: appID}}},
		}},
	}
	s.Normalize()
	return s
}

// TestWriteRoundTrip writes a state and reads it back: the manifest is valid and declares
// the same state, ids and origins aside.
func TestWriteRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, exported(), WriteOptions{Header: "Exported from a test.\nSecond line."}); err != nil {
		t.Fatal(err)
	}
	golden.Check(t, "testdata/export.golden.yaml", buf.Bytes())
	got, diags := Parse(buf.Bytes(), "export.yaml")
	if len(diags) > 0 {
		t.Fatalf("the written manifest does not read back:\n%v\n%s", strs(diags), buf.String())
	}
	wantState := exported()
	// The entitlements entry without entitlements declares nothing.
	wantState.Workspaces[0].Entitlements = wantState.Workspaces[0].Entitlements[:1]
	ignore := cmp.Options{
		cmpopts.IgnoreFields(model.User{}, "ID", "Origin"),
		cmpopts.IgnoreFields(model.ServicePrincipal{}, "ID", "Origin"),
		cmpopts.IgnoreFields(model.Group{}, "ID", "Origin"),
		cmpopts.IgnoreFields(model.Workspace{}, "Origin"),
		cmpopts.IgnoreFields(model.Assignment{}, "Origin"),
		cmpopts.IgnoreFields(model.PrincipalEntitlements{}, "Origin"),
		cmpopts.EquateEmpty(),
	}
	if diff := cmp.Diff(wantState, got, ignore); diff != "" {
		t.Errorf("state read back (-want +got):\n%s", diff)
	}
}

func TestWriteEmptyState(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, &model.State{}, WriteOptions{}); err != nil {
		t.Fatal(err)
	}
	if buf.Len() != 0 {
		t.Errorf("empty state wrote %q", buf.String())
	}
}
