package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/schemas"
	"github.com/scimsync/scimsync/source"
	"github.com/scimsync/scimsync/source/manifest"
	"github.com/scimsync/scimsync/source/read"
)

// TestInvalidExamples runs validate on every examples/invalid/<rule> directory and
// compares its output with the directory's expected.txt; go test ./cli -update rewrites
// them. A directory with a scimsync.yaml is validated through it, any other one as a
// manifest directory. Each example must break the rule it is named after.
func TestInvalidExamples(t *testing.T) {
	dirs, err := filepath.Glob("../examples/invalid/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no examples: %v", err)
	}
	for _, dir := range dirs {
		if info, err := os.Stat(dir); err != nil || !info.IsDir() {
			continue
		}
		rule := filepath.Base(dir)
		t.Run(rule, func(t *testing.T) {
			abs, err := filepath.Abs(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Chdir(abs)
			args := []string{"validate", "."}
			if _, err := os.Stat("scimsync.yaml"); err == nil {
				args = []string{"validate"}
			}
			var out, errOut bytes.Buffer
			code := Main(context.Background(), args, IO{Out: &out, Err: &errOut})
			if code != ExitError {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", code, ExitError, errOut.String())
			}
			if errOut.Len() > 0 {
				t.Errorf("stderr: %s", errOut.String())
			}
			if !strings.Contains(out.String(), "["+rule+"]") {
				t.Errorf("output does not report rule %s:\n%s", rule, out.String())
			}
			golden.Check(t, "expected.txt", out.Bytes())
		})
	}
}

// TestEveryRuleHasAnExample keeps examples/invalid complete: every rule that YAML input
// can break has a directory. The rules listed as covered elsewhere cannot be reached from
// a YAML manifest (the schema catches them first, or they need thousands of identities)
// and are covered by the unit tests of package source.
func TestEveryRuleHasAnExample(t *testing.T) {
	rules := []string{
		schemas.RuleSchema, schemas.RuleDuplicateKey, schemas.RuleYAML, manifest.RuleRead,
		source.RuleNoSources, source.RuleEmptySource,
		source.RuleDuplicateUserName, source.RuleDuplicateGroup, source.RuleDuplicateApplicationID,
		source.RuleDuplicateServicePrincipal, source.RuleDuplicateWorkspace, source.RuleDuplicateAssignment,
		source.RuleDuplicateEntitlements, source.RuleUnknownReference, source.RuleAmbiguousReference,
		source.RuleMembershipCycle, source.RuleNestingTooDeep, source.RuleRenameConflict,
		source.RuleUnknownEntitlement, source.RuleWrongLevel, source.RuleGroupOnly, source.RuleConsumeConflict,
		source.RuleReservedGroup, source.RuleInvalidEmail, source.RuleInvalidApplicationID,
		source.RuleExternalIDTooLong, source.RuleGroupNameTooLong, source.RuleNoWorkspaceHost,
		source.RuleInvisibleCharacter, source.RuleNameTooLong,
		source.RulePlaceholder, source.RuleInvalidSetting, read.RuleUnusedSetting,
	}
	coveredElsewhere := map[string]string{
		source.RuleUnknownSourceKind:  "every kind the schema allows is registered sooner or later",
		source.RuleInvalidPermission:  "the schema's enum catches it in YAML",
		source.RuleInvalidWorkspaceID: "the schema's pattern catches it in YAML",
		source.RuleMissingName:        "the schema requires names in YAML",
		source.RuleTooManyPrincipals:  "needs 10,001 principals",
		source.RuleTooManyGroups:      "needs 5,001 groups",
		source.RuleTooManyMemberships: "needs 1,501 groups",
		source.RuleMixedScript:        "a warning, which validate reports with exit 0 (cli/testdata/script/lookalike.txtar)",
	}
	for _, rule := range rules {
		if _, ok := coveredElsewhere[rule]; ok {
			t.Errorf("rule %s is listed twice", rule)
		}
		if _, err := os.Stat(filepath.Join("../examples/invalid", rule, "expected.txt")); err != nil {
			t.Errorf("rule %s has no example: %v", rule, err)
		}
	}
}

// TestValidExamples checks that the example configurations are valid.
func TestValidExamples(t *testing.T) {
	tests := map[string]string{
		"../examples/org/scimsync.yaml":       "valid: 42 users, 3 service principals, 14 groups, 2 workspaces\n",
		"../examples/workspace/scimsync.yaml": "valid: 3 users, 1 service principal, 3 groups, 0 workspaces\n",
	}
	for config, want := range tests {
		t.Run(config, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := Main(context.Background(), []string{"validate", "-c", config}, IO{Out: &out, Err: &errOut})
			if code != ExitOK {
				t.Fatalf("exit code %d:\n%s%s", code, out.String(), errOut.String())
			}
			if out.String() != want {
				t.Errorf("output = %q, want %q", out.String(), want)
			}
		})
	}
}
