package schemas

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/synth"
)

// TestPlanGoldensValidate checks that every plan file the tests write as a golden
// validates against plan.schema.json, and every drift report golden against
// drift.schema.json: the schemas document what the code writes.
func TestPlanGoldensValidate(t *testing.T) {
	for name, pattern := range map[Name]string{
		Plan:  "../plan/testdata/scenarios/*/plan.golden.json",
		Drift: "../plan/testdata/drift/*/drift.golden.json",
	} {
		files, err := filepath.Glob(pattern)
		if err != nil || len(files) == 0 {
			t.Fatalf("no goldens match %s: %v", pattern, err)
		}
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			v, err := ValidateJSON(name, data)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			for _, x := range v {
				t.Errorf("%s: %s", f, x)
			}
		}
	}
}

// TestPlanSchemaTiesPayloadToAction checks that the plan schema refuses a change whose
// payload does not fit its action.
func TestPlanSchemaTiesPayloadToAction(t *testing.T) {
	data, err := os.ReadFile("../plan/testdata/scenarios/workspace-assignments/plan.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	good := string(data)
	for name, bad := range map[string]string{
		"assign without permission": strings.Replace(good, `"permission": {
        "from": "",
        "to": "USER"
      },`, "", 1),
		"entitlements change as an update": strings.Replace(good, `"action": "set-entitlements"`, `"action": "update"`, 1),
		"unassign to a permission": strings.Replace(good, `"from": "USER",
        "to": ""`, `"from": "USER",
        "to": "ADMIN"`, 1),
	} {
		if bad == good {
			t.Fatalf("%s: the golden no longer has the text this case edits", name)
		}
		v, err := ValidateJSON(Plan, []byte(bad))
		if err != nil {
			t.Fatal(err)
		}
		if len(v) == 0 {
			t.Errorf("%s: the schema accepts it", name)
		}
	}
}

// TestGeneratedPlanValidates checks a plan made from a generated organisation against the
// schema: churned users and memberships, changed workspace permissions and entitlements,
// at account level, so that every action's payload is checked, not only the goldens'.
func TestGeneratedPlanValidates(t *testing.T) {
	org := synth.Org(1, synth.Spec{Users: 200, ServicePrincipals: 10, Groups: 20, Memberships: 400, Depth: 3, Workspaces: 2})
	live := synth.Clone(org)
	n := 0
	for i := range live.Users {
		n++
		live.Users[i].ID = fmt.Sprint(1000 + n)
	}
	for i := range live.ServicePrincipals {
		n++
		live.ServicePrincipals[i].ID = fmt.Sprint(1000 + n)
	}
	for i := range live.Groups {
		n++
		live.Groups[i].ID = fmt.Sprint(1000 + n)
	}
	for i := range live.Workspaces {
		w := &live.Workspaces[i]
		for j := range w.Assignments {
			if j%3 == 0 {
				w.Assignments[j].Permission = model.PermissionAdmin
			}
		}
		for j := range w.Entitlements {
			w.Entitlements[j].Entitlements = append(w.Entitlements[j].Entitlements, "allow-cluster-create")
		}
	}
	desired := synth.Churn(2, org, 0.2)
	p, err := plan.Diff(desired, live, policy.Default(), plan.Options{
		Target: plan.TargetID{Level: model.LevelAccount, Host: "https://accounts.example.test", AccountID: "acct-1"},
		Now:    time.Unix(0, 0), OverrideGuards: true, AllowAdminRemoval: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := plan.Encode(&buf, p); err != nil {
		t.Fatal(err)
	}
	v, err := ValidateJSON(Plan, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range v {
		t.Error(x)
	}
	for _, a := range []plan.Action{plan.Create, plan.Update, plan.AddMembers, plan.RemoveMembers, plan.Assign, plan.SetEntitlements, plan.Deactivate} {
		if p.Summary.ByAction[a] == 0 {
			t.Errorf("the generated plan has no %s change: %v", a, p.Summary.ByAction)
		}
	}
}
