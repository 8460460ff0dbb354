package cli

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
)

// TestApplyJSON checks apply --format json: counts, the summary line, and the changes that
// failed or were skipped, with their errors, in plan order.
func TestApplyJSON(t *testing.T) {
	ann := &plan.Change{Action: plan.Create, Kind: model.KindUser, Key: "ann@example.com"}
	eng := &plan.Change{Action: plan.AddMembers, Kind: model.KindGroup, Key: "eng", Members: []plan.Member{{Kind: model.KindUser, Key: "ann@example.com"}}}
	bob := &plan.Change{Action: plan.Deactivate, Kind: model.KindUser, Key: "bob@example.com"}
	r := &plan.Result{
		Changes: []plan.ChangeResult{
			{Index: 0, Change: ann, Status: plan.StatusFailed, Err: errors.New("409 Conflict: user already exists")},
			{Index: 1, Change: eng, Status: plan.StatusSkipped, Err: errors.New("user ann@example.com was not created")},
			{Index: 2, Change: bob, Status: plan.StatusNotRun},
		},
		Failed: 1, Skipped: 1, NotRun: 1, Stopped: true,
	}
	var out bytes.Buffer
	if err := writeApplyJSON(&out, r); err != nil {
		t.Fatal(err)
	}
	want := `{
  "complete": false,
  "total": 3,
  "applied": 0,
  "failed": 1,
  "skipped": 1,
  "notRun": 1,
  "stopped": true,
  "summary": "Apply incomplete: 1 failed, 1 skipped, 1 not run. Stopped by interrupt.",
  "failures": [
    {
      "index": 0,
      "change": "user ann@example.com",
      "status": "failed",
      "error": "409 Conflict: user already exists"
    },
    {
      "index": 1,
      "change": "group eng: add 1 member",
      "status": "skipped",
      "error": "user ann@example.com was not created"
    }
  ]
}
`
	if diff := cmp.Diff(want, out.String()); diff != "" {
		t.Errorf("apply JSON (-want +got):\n%s", diff)
	}
}

// TestSniff checks that apply can tell a plan file from a manifest, a config, a snapshot
// and a drift report.
func TestSniff(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"plan.json":     `{"formatVersion": 1, "changes": [], "fingerprints": []}`,
		"drift.json":    `{"formatVersion": 1, "summary": {}, "objects": []}`,
		"snapshot.json": `{"formatVersion": 1, "state": {}}`,
		"config.yaml":   "sources:\n  - kind: yaml\n    path: x\n",
		"people.yaml":   "users:\n  - userName: a@example.com\n",
		"people.json":   `{"groups": []}`,
		"users.csv":     "userName\n",
		"notes.txt":     "hello",
		"broken.json":   `{"formatVersion": `,
	}
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]fileKind{
		"plan.json": kindPlan, "drift.json": kindDrift, "snapshot.json": kindSnapshot,
		"config.yaml": kindConfig, "people.yaml": kindManifest, "people.json": kindManifest,
		"users.csv": kindManifest, "notes.txt": kindUnknown, "broken.json": kindUnknown,
		".": kindManifest, "missing.json": kindUnknown,
	}
	for name, kind := range want {
		if got := sniff(filepath.Join(dir, name)); got != kind {
			t.Errorf("sniff(%s) = %q, want %q", name, got, kind)
		}
	}
}

// TestCompletionFromInjectedEnv checks that completion reads COMP_LINE and COMP_POINT
// through IO.Getenv, and completes only up to the cursor.
func TestCompletionFromInjectedEnv(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), []string{"ignored"}, IO{Out: &out, Err: &errOut, Getenv: env(map[string]string{
		"COMP_LINE": "scimsync dr --format", "COMP_POINT": "11",
	})})
	if code != 0 || out.String() != "drift\n" || errOut.Len() > 0 {
		t.Errorf("exit %d, out %q, err %q; want drift", code, out.String(), errOut.String())
	}
}

// TestNoArgumentsPrintsHelp checks that scimsync alone prints its help to stdout and exits 0.
func TestNoArgumentsPrintsHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	code := Main(context.Background(), nil, IO{Out: &out, Err: &errOut})
	if code != 0 || !strings.HasPrefix(out.String(), "Usage: scimsync <command>") || errOut.Len() > 0 {
		t.Errorf("exit %d, out %q, err %q", code, out.String(), errOut.String())
	}
}

// TestFullPlanLinksTheRun checks where a cut Markdown plan says the full plan is: the file,
// and in GitHub Actions the artifact and the run.
func TestFullPlanLinksTheRun(t *testing.T) {
	tests := map[string]struct {
		env  map[string]string
		file string
		want string
	}{
		"no file": {file: "", want: ""},
		"local":   {file: "out/plan.json", want: "`plan.json`"},
		"in github actions": {
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/ids", "GITHUB_RUN_ID": "42", "SCIMSYNC_PLAN_ARTIFACT": "scimsync-plan"},
			file: "plan.json",
			want: "`plan.json`, in the artifact `scimsync-plan` of [the workflow run](https://github.com/octo/ids/actions/runs/42#artifacts)",
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			rt := &Runtime{IO: IO{Getenv: env(tc.env)}}
			if got := fullPlan(rt, tc.file); got != tc.want {
				t.Errorf("fullPlan = %q, want %q", got, tc.want)
			}
		})
	}
}
