package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestLimitsAreSettings: Databricks' identity limits are defaults that policy.limits raises
// (reference §6), so that an account with raised limits validates.
func TestLimitsAreSettings(t *testing.T) {
	var b strings.Builder
	b.WriteString("users:\n")
	for i := range 10_001 {
		fmt.Fprintf(&b, "  - userName: u%05d@example.com\n", i)
	}
	files := map[string]string{"users.yaml": b.String(),
		"default.yaml": "sources:\n  - kind: yaml\n    path: users.yaml\n",
		"raised.yaml":  "sources:\n  - kind: yaml\n    path: users.yaml\npolicy:\n  limits:\n    principals: 20000\n",
	}
	dir := tree(t, files)
	out, _, code := runCommand(t, dir, &ValidateCmd{Sources: Sources{ConfigFlag: ConfigFlag{Config: "default.yaml"}}, Format: "text"}, IO{})
	if code != 1 || !strings.Contains(out, "10,001 users and service principals are declared; the account allows at most 10,000") || !strings.Contains(out, "policy.limits.principals") {
		t.Errorf("default limits: exit %d:\n%s", code, out)
	}
	out, _, code = runCommand(t, dir, &ValidateCmd{Sources: Sources{ConfigFlag: ConfigFlag{Config: "raised.yaml"}}, Format: "text"}, IO{})
	if code != 0 || !strings.HasPrefix(out, "valid: 10,001 users") && !strings.HasPrefix(out, "valid: 10001 users") {
		t.Errorf("raised limits: exit %d:\n%s", code, out)
	}
}
