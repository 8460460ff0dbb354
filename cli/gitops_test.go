package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/plan"
)

// TestParseGitOps checks the arguments and environment of drift, export and demo.
func TestParseGitOps(t *testing.T) {
	tests := map[string]struct {
		args []string
		env  map[string]string
		cmd  string
		get  func(g *grammar) any
		want any
	}{
		"drift offline with ignores": {
			args: []string{"drift", "-c", "s.yaml", "--snapshot", "snap.json", "--ignore", "user:a*", "--ignore", "group:b*", "--format", "markdown"},
			cmd:  "drift",
			get:  func(g *grammar) any { return g.Drift },
			want: DriftCmd{Sources: Sources{ConfigFlag: ConfigFlag{Config: "s.yaml"}}, Snapshot: "snap.json", Ignore: []string{"user:a*", "group:b*"}, Format: "markdown"},
		},
		"drift from the environment": {
			args: []string{"drift", "dir"},
			env:  map[string]string{"SCIMSYNC_SNAPSHOT": "s.json", "SCIMSYNC_IGNORE": "user:x*,group:y*", "SCIMSYNC_FORMAT": "json"},
			cmd:  "drift <paths>",
			get:  func(g *grammar) any { return g.Drift },
			want: DriftCmd{Sources: Sources{Paths: []string{"dir"}}, Snapshot: "s.json", Ignore: []string{"user:x*", "group:y*"}, Format: "json"},
		},
		"export a manifest": {
			args: []string{"export", "--format", "manifest", "-o", "adopted.yaml", "--workspace", "1", "--workspace", "2"},
			cmd:  "export",
			get:  func(g *grammar) any { return g.Export },
			want: ExportCmd{Format: "manifest", Out: "adopted.yaml", Workspaces: []string{"1", "2"}},
		},
		"demo with another config": {
			args: []string{"-c", "x/scimsync.yaml", "demo"},
			cmd:  "demo",
			get:  func(g *grammar) any { return g.Demo },
			want: DemoCmd{ConfigFlag{Config: "x/scimsync.yaml"}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var out bytes.Buffer
			kctx, g, exit, err := parse(tc.args, IO{Out: &out, Err: &out, Getenv: env(tc.env)})
			if err != nil || exit >= 0 {
				t.Fatalf("parse: %v, exit %d: %s", err, exit, out.String())
			}
			if kctx.Command() != tc.cmd {
				t.Errorf("command = %q, want %q", kctx.Command(), tc.cmd)
			}
			if diff := cmp.Diff(tc.want, tc.get(g)); diff != "" {
				t.Errorf("options (-want +got):\n%s", diff)
			}
		})
	}
	if _, _, _, err := parse([]string{"export", "--format", "yaml"}, IO{Out: &bytes.Buffer{}, Err: &bytes.Buffer{}, Getenv: env(nil)}); err == nil {
		t.Error("export --format yaml is accepted")
	}
}

func TestGitHubIsHidden(t *testing.T) {
	var out bytes.Buffer
	Main(context.Background(), []string{"--help"}, IO{Out: &out, Err: &out})
	if strings.Contains(out.String(), "github") {
		t.Errorf("help lists the hidden github command:\n%s", out.String())
	}
	for _, cmd := range []string{"drift", "export", "demo"} {
		if !strings.Contains(out.String(), "\n  "+cmd+" ") {
			t.Errorf("help does not list %s:\n%s", cmd, out.String())
		}
	}
}

// run runs the command line with stdin and returns its exit code and output.
func run(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Main(context.Background(), args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errOut})
	return code, out.String(), errOut.String()
}

func TestGitHubPRNumber(t *testing.T) {
	dir := t.TempDir()
	tests := map[string]struct{ event, want string }{
		"pull_request":          {`{"action": "opened", "number": 7, "pull_request": {"number": 7}}`, "7\n"},
		"issue_comment on a PR": {`{"issue": {"number": 9, "pull_request": {"url": "x"}}}`, "9\n"},
		"issue_comment":         {`{"issue": {"number": 9}}`, ""},
		"push":                  {`{"ref": "refs/heads/main"}`, ""},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tc.event), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := run(t, "", "github", "pr-number", path)
			if code != 0 || out != tc.want {
				t.Errorf("exit %d, out %q, want %q; stderr %q", code, out, tc.want, errOut)
			}
		})
	}
	if code, _, errOut := run(t, "", "github", "pr-number", filepath.Join(dir, "none.json")); code != 1 || !strings.Contains(errOut, "read event") {
		t.Errorf("missing event: exit %d, stderr %q", code, errOut)
	}
}

func TestGitHubFindComment(t *testing.T) {
	const marker = "<!-- scimsync:plan:org -->"
	tests := map[string]struct {
		page    string
		perPage string
		want    string
	}{
		"found":               {`[{"id": 1, "body": "hello", "user": {"login": "ann"}}, {"id": 22, "body": "` + marker + `\n## plan", "user": {"login": "github-actions[bot]"}}]`, "2", "found 22\n"},
		"someone else's copy": {`[{"id": 5, "body": "` + marker + `\ncopied", "user": {"login": "mallory"}}, {"id": 22, "body": "` + marker + `", "user": {"login": "github-actions[bot]"}}]`, "100", "found 22\n"},
		"only someone else's": {`[{"id": 5, "body": "` + marker + `", "user": {"login": "mallory"}}]`, "100", "none\n"},
		"other marker":        {`[{"id": 1, "body": "<!-- scimsync:plan:other -->", "user": {"login": "github-actions[bot]"}}]`, "100", "none\n"},
		"quoted marker":       {`[{"id": 1, "body": "> ` + marker + `", "user": {"login": "github-actions[bot]"}}]`, "100", "none\n"},
		"full page":           {`[{"id": 1, "body": "a"}, {"id": 2, "body": "b"}]`, "2", "more\n"},
		"empty":               {`[]`, "100", "none\n"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			code, out, errOut := run(t, tc.page, "github", "find-comment", "--marker", marker, "--author", "github-actions[bot]", "--per-page", tc.perPage)
			if code != 0 || out != tc.want {
				t.Errorf("exit %d, out %q, want %q; stderr %q", code, out, tc.want, errOut)
			}
		})
	}
	if code, _, _ := run(t, `{"message": "Bad credentials"}`, "github", "find-comment", "--marker", marker, "--author", "x"); code != 1 {
		t.Errorf("an error body is read as comments: exit %d", code)
	}
}

func TestGitHubLogin(t *testing.T) {
	if code, out, _ := run(t, `{"login": "octocat", "id": 1}`, "github", "login"); code != 0 || out != "octocat\n" {
		t.Errorf("exit %d, out %q", code, out)
	}
	if code, _, _ := run(t, `{"message": "Resource not accessible by integration"}`, "github", "login"); code != 1 {
		t.Errorf("an error body gives a login: exit %d", code)
	}
}

func TestGitHubCommentBody(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.md")
	if err := os.WriteFile(path, []byte("## plan \"quoted\"\n| a | b |\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "", "github", "comment-body", "--marker", "<!-- scimsync:plan -->", path)
	want := `{"body":"\u003c!-- scimsync:plan --\u003e\n## plan \"quoted\"\n| a | b |\n"}` + "\n"
	if code != 0 || out != want {
		t.Errorf("exit %d, out %q, want %q; stderr %q", code, out, want, errOut)
	}
}

func TestWithoutRefs(t *testing.T) {
	s := &model.State{
		Users:             []model.User{{UserName: "a@example.com"}, {UserName: "x@contractors.example.com"}},
		ServicePrincipals: []model.ServicePrincipal{{ApplicationID: "ci", DisplayName: "ci"}, {ApplicationID: "etl", DisplayName: "etl"}},
		Groups: []model.Group{
			{DisplayName: "eng", Members: model.Members{Users: []string{"a@example.com", "x@contractors.example.com"}, ServicePrincipals: []string{"ci", "etl"}, Groups: []string{"admins"}}},
			{DisplayName: "admins"},
		},
		Workspaces: []model.Workspace{{ID: "1",
			Assignments: []model.Assignment{{Principal: model.Ref{Kind: model.KindServicePrincipal, Key: "ci"}, Permission: "ADMIN"},
				{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: "USER"}},
			Entitlements: []model.PrincipalEntitlements{{Principal: model.Ref{Kind: model.KindUser, Key: "x@contractors.example.com"}, Entitlements: []string{"workspace-access"}}},
		}},
	}
	drop := map[model.Ref]plan.Exclusion{
		{Kind: model.KindUser, Key: "x@contractors.example.com"}: plan.ExcludedIgnored,
		{Kind: model.KindServicePrincipal, Key: "ci"}:            plan.ExcludedProtected,
		{Kind: model.KindGroup, Key: "admins"}:                   plan.ExcludedBuiltIn,
	}
	want := &model.State{
		Users:             []model.User{{UserName: "a@example.com"}},
		ServicePrincipals: []model.ServicePrincipal{{ApplicationID: "etl", DisplayName: "etl"}},
		Groups:            []model.Group{{DisplayName: "eng", Members: model.Members{Users: []string{"a@example.com"}, ServicePrincipals: []string{"etl"}}}},
		Workspaces: []model.Workspace{{ID: "1",
			Assignments: []model.Assignment{{Principal: model.Ref{Kind: model.KindGroup, Key: "eng"}, Permission: "USER"}}}},
	}
	if diff := cmp.Diff(want, withoutRefs(s, drop)); diff != "" {
		t.Errorf("state (-want +got):\n%s", diff)
	}
}
