package schemas

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
