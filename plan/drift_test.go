package plan

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/schemas"
)

// TestDriftScenarios runs every directory under testdata/drift: desired + live + config in,
// the JSON drift report out (drift.golden.json, which package render renders as text and
// Markdown).
func TestDriftScenarios(t *testing.T) {
	for _, dir := range dirsOf(t, "testdata/drift/*") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			desired, fake, pol, opts := loadScenario(t, dir)
			live, _ := fake.Snapshot(context.Background(), desired.Workspaces)
			r := Drift(desired, live, pol, opts)
			r.Live = LiveSource{Kind: LiveAPI}
			var buf bytes.Buffer
			if err := EncodeDrift(&buf, r); err != nil {
				t.Fatal(err)
			}
			golden.Check(t, filepath.Join(dir, "drift.golden.json"), buf.Bytes())
			checkDriftSchema(t, buf.Bytes())
			back, err := DecodeDrift(bytes.NewReader(buf.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			if back.Summary != r.Summary || len(back.Objects) != len(r.Objects) {
				t.Errorf("decoded report differs: %+v", back.Summary)
			}
		})
	}
}

// TestDriftMixed spells out the categories of the mixed scenario, so that a wrong golden
// file cannot be accepted with -update unnoticed.
func TestDriftMixed(t *testing.T) {
	desired, fake, pol, opts := loadScenario(t, "testdata/drift/mixed")
	live, _ := fake.Snapshot(context.Background(), desired.Workspaces)
	r := Drift(desired, live, pol, opts)
	got := map[string]DriftStatus{}
	for _, o := range r.Objects {
		got[o.Ref().String()] = o.Status
	}
	want := map[string]DriftStatus{
		// bob's displayName, the renamed group, data-eng's members, permission and
		// entitlements, fay declared inactive, ml-serving's missing assignment.
		"user:bob@example.com":           Changed,
		"user:fay@example.com":           Changed,
		"group:analytics":                Changed,
		"group:data-eng":                 Changed,
		"servicePrincipal:ml-serving":    Changed,
		"user:cy@example.com":            Missing,
		"user:dan@example.com":           Unmanaged,
		"group:old-team":                 Unmanaged,
		"user:eve@example.com":           Deactivated,
		"user:x@contractors.example.com": Excluded,
		"user:breakglass@example.com":    Excluded,
		"group:vendor-acme":              Excluded,
		"group:account users":            Excluded,
		"servicePrincipal:99999999-9999-4999-8999-999999999999": Excluded,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}
	s := r.Summary
	if !s.Drift || s.InSync != (KindCounts{Users: 1, ServicePrincipals: 1, Groups: 1, Total: 3}) ||
		s.Missing.Total != 1 || s.Changed.Total != 5 || s.Unmanaged.Total != 2 || s.Deactivated.Total != 1 || s.Excluded.Total != 5 {
		t.Errorf("summary = %+v", s)
	}
	// dan is unmanaged although policy.removal ignores users, and his workspace
	// assignment is part of his entry.
	for _, o := range r.Objects {
		if o.Key == "dan@example.com" {
			want := []Difference{{Aspect: AspectAssignment, Workspace: "1001", Name: "permission", Live: "USER", Declared: ""}}
			if diff := cmp.Diff(want, o.Differences); diff != "" {
				t.Errorf("dan's differences (-want +got):\n%s", diff)
			}
		}
		if o.Key == "analytics" && o.DeclaredAt != "" {
			t.Errorf("declaredAt = %q for a declaration without origin", o.DeclaredAt)
		}
	}
}

func TestDriftInSync(t *testing.T) {
	desired, fake, pol, opts := loadScenario(t, "testdata/drift/in-sync")
	live, _ := fake.Snapshot(context.Background(), desired.Workspaces)
	r := Drift(desired, live, pol, opts)
	if r.Summary.Drift || len(r.Objects) != 0 || r.Summary.InSync.Total != 3 {
		t.Errorf("in-sync report: %+v, objects %+v", r.Summary, r.Objects)
	}
}

func TestDriftDeclaredAt(t *testing.T) {
	desired := &model.State{Users: []model.User{{UserName: "a@example.com", Active: true,
		Origin: model.Origin{File: "users.yaml", Line: 3, Column: 5}}}}
	r := Drift(desired, &model.State{}, policy.Default(), Options{})
	if len(r.Objects) != 1 || r.Objects[0].Status != Missing || r.Objects[0].DeclaredAt != "users.yaml:3:5" {
		t.Errorf("objects = %+v", r.Objects)
	}
}

// TestDriftAgreesWithPlan runs Drift over every plan scenario: each change of the plan is
// about an object the drift report lists, and once the plan is applied, nothing is missing
// or changed, and what is unmanaged is what the removal policy leaves alone.
func TestDriftAgreesWithPlan(t *testing.T) {
	for _, dir := range dirsOf(t, "testdata/scenarios/*") {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			ctx := context.Background()
			desired, fake, pol, opts := loadScenario(t, dir)
			live, _ := fake.Snapshot(ctx, desired.Workspaces)
			p, err := Diff(desired, live, pol, opts)
			var ge *GuardError
			refused := errors.As(err, &ge)
			if err != nil && !refused {
				t.Fatal(err)
			}
			r := Drift(desired, live, pol, opts)
			listed := func(c *Change) bool {
				for _, o := range r.Objects {
					if o.Ref() == c.Ref() || (c.ID != "" && o.ID == c.ID) {
						return o.Status.IsDrift() || o.Status == Deactivated
					}
				}
				return false
			}
			for i := range p.Changes {
				if c := &p.Changes[i]; !listed(c) {
					t.Errorf("plan changes %s (%s), the drift report does not list it", c.Ref(), c.Action)
				}
			}
			if !p.Empty() && !r.Summary.Drift {
				t.Error("the plan has changes, the drift report has no drift")
			}
			if refused {
				return
			}
			if _, err := Apply(ctx, p, fake, ApplyOptions{Target: opts.Target, BatchSize: 2}); err != nil {
				t.Fatal(err)
			}
			after, _ := fake.Snapshot(ctx, desired.Workspaces)
			r = Drift(desired, after, pol, opts)
			for _, o := range r.Objects {
				switch {
				case o.Status == Missing && o.Reason != "":
					// Declared objects the plan cannot create stay missing.
				case o.Status == Missing || o.Status == Changed:
					t.Errorf("after apply, %s is %s: %+v", o.Ref(), o.Status, o.Differences)
				case o.Status == Unmanaged && removalOf(pol, o.Kind) != policy.RemovalIgnore:
					t.Errorf("after apply, %s is unmanaged under removal policy %s", o.Ref(), removalOf(pol, o.Kind))
				}
			}
		})
	}
}

// checkDriftSchema validates the JSON form of a report against schemas/drift.schema.json.
func checkDriftSchema(t *testing.T, report []byte) {
	t.Helper()
	violations, err := schemas.ValidateJSON(schemas.Drift, report)
	if err != nil {
		t.Fatal(err)
	}
	for _, vi := range violations {
		t.Errorf("drift.schema.json: %s", vi)
	}
}

// dirsOf returns the scenario directories a pattern matches, and fails without any.
func dirsOf(t *testing.T, pattern string) []string {
	t.Helper()
	dirs, err := filepath.Glob(pattern)
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no scenarios in %s: %v", pattern, err)
	}
	return dirs
}

func removalOf(pol policy.Policy, k model.Kind) policy.Removal {
	switch k {
	case model.KindUser:
		return pol.Removal.Users
	case model.KindServicePrincipal:
		return pol.Removal.ServicePrincipals
	}
	return pol.Removal.Groups
}

func TestOutOfScope(t *testing.T) {
	live := &model.State{
		Users: []model.User{{UserName: "a@example.com"}, {UserName: "b@contractors.example.com"}, {UserName: "root@example.com"}},
		ServicePrincipals: []model.ServicePrincipal{
			{DisplayName: "ci", ApplicationID: "99999999-9999-4999-8999-999999999999"},
			{DisplayName: "etl", ApplicationID: "11111111-1111-4111-8111-111111111111"},
		},
		Groups: []model.Group{{DisplayName: "admins"}, {DisplayName: "eng"}},
	}
	pol := policy.Default()
	pol.Scope.Ignore = []string{"user:*@contractors.example.com"}
	pol.Protected.Users = []string{"Root@example.com"}
	got := OutOfScope(live, pol, &model.Ref{Kind: model.KindServicePrincipal, Key: "99999999-9999-4999-8999-999999999999"})
	want := map[model.Ref]Exclusion{
		{Kind: model.KindUser, Key: "b@contractors.example.com"}:                        ExcludedIgnored,
		{Kind: model.KindUser, Key: "root@example.com"}:                                 ExcludedProtected,
		{Kind: model.KindServicePrincipal, Key: "99999999-9999-4999-8999-999999999999"}: ExcludedProtected,
		{Kind: model.KindGroup, Key: "admins"}:                                          ExcludedBuiltIn,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("out of scope (-want +got):\n%s", diff)
	}
}

func TestDecodeDriftRefusesOtherVersions(t *testing.T) {
	for name, in := range map[string]string{
		"version":       `{"formatVersion": 2}`,
		"unknown field": `{"formatVersion": 1, "surprise": true}`,
		"not json":      `plan`,
	} {
		if _, err := DecodeDrift(strings.NewReader(in)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}
