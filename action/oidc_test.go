package action

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/scim/auth/authtest"
)

// TestActionWithGitHubOIDC runs the action as the example workflows do, with
// DATABRICKS_AUTH_TYPE=github-oidc and no Databricks secret: the job's ID token comes from
// a fake of GitHub's OIDC endpoint on loopback and is exchanged at the emulator, whose
// federation policy trusts this repository. Plan and apply succeed, the report names the
// auth type, and neither the request token nor any token shows.
func TestActionWithGitHubOIDC(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the action needs curl")
	}
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	temp := t.TempDir()
	bin := filepath.Join(temp, "scimsync-bin", "scimsync")
	build := exec.Command("go", "build", "-o", bin, "./cmd/scimsync")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	key := []byte("github-oidc-signing-key")
	const subject = "repo:octo/identities:ref:refs/heads/main"
	srv := emulator.NewTestServer(t, emulator.Options{
		RateLimit: -1, TokenTTL: 5 * time.Second, // renewed on every request
		MeUserName: "breakglass-admin@northwind.example",
		Workspaces: []string{"1234567890123456", "2345678901234567"},
		WorkspaceHosts: map[string]string{
			"1234567890123456": "https://northwind-prod.cloud.databricks.com",
			"2345678901234567": "https://northwind-ml.cloud.databricks.com",
		},
		Federation: []emulator.FederationPolicy{{Issuer: authtest.GitHubIssuer, Subject: subject, Key: key, ServicePrincipal: emulator.DefaultClientID}},
	})
	gh := authtest.NewGitHubOIDC(t, key, subject)

	workspace := filepath.Join(temp, "workspace")
	if err := os.CopyFS(filepath.Join(workspace, "org"), os.DirFS(filepath.Join(repo, "examples", "org"))); err != nil {
		t.Fatal(err)
	}
	r := &runner{t: t, action: readAction(t), repo: repo, temp: temp, env: map[string]string{
		"PATH":                           os.Getenv("PATH"),
		"HOME":                           temp,
		"CI":                             "true",
		"GITHUB_ACTIONS":                 "true",
		"GITHUB_WORKSPACE":               workspace,
		"DATABRICKS_HOST":                srv.URL,
		"DATABRICKS_ACCOUNT_ID":          emulator.DefaultAccountID,
		"DATABRICKS_AUTH_TYPE":           "github-oidc",
		"DATABRICKS_CLIENT_ID":           emulator.DefaultClientID,
		"ACTIONS_ID_TOKEN_REQUEST_URL":   gh.URL,
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN": gh.RequestToken,
		"SCIMSYNC_RATE_LIMIT":            "1000",
		"SCIMSYNC_HOST_OVERRIDES":        "https://northwind-prod.cloud.databricks.com=" + srv.URL + ",https://northwind-ml.cloud.databricks.com=" + srv.URL,
	}}
	res := r.use(map[string]string{"working-directory": "org"})
	mustSucceed(t, res)
	if !strings.Contains(res.summary, "**Credentials:** auth type `github-oidc`") {
		t.Errorf("the plan report does not name the auth type:\n%.600s", res.summary)
	}
	res = r.use(map[string]string{"working-directory": "org", "command": "apply"})
	mustSucceed(t, res)
	wantCounts(t, res, "applied", "94", "failed", "0")
	if gh.Requests() < 2 {
		t.Errorf("%d ID tokens requested over a plan and an apply of short-lived tokens", gh.Requests())
	}
	for _, aud := range gh.Audiences() {
		if aud != emulator.DefaultAccountID {
			t.Errorf("ID token audience %q, want the account id", aud)
		}
	}
	if !slices.Contains(r.masks, gh.RequestToken) {
		t.Error("the action does not mask ACTIONS_ID_TOKEN_REQUEST_TOKEN")
	}
	everything := r.logs.String() + res.summary
	for _, s := range []string{gh.RequestToken, "eyJ", "emu-oauth-"} {
		if strings.Contains(everything, s) {
			t.Errorf("%q shows in the logs or the summary", s)
		}
	}
}

// TestExampleWorkflowsUseGitHubOIDC checks that every example workflow authenticates with
// github-oidc, has the id-token permission it needs, and stores no Databricks secret
// outside comments.
func TestExampleWorkflowsUseGitHubOIDC(t *testing.T) {
	files, err := filepath.Glob("../examples/github/*.yml")
	if err != nil || len(files) < 3 {
		t.Fatalf("example workflows: %v, %v", files, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Permissions map[string]string `yaml:"permissions"`
			Jobs        map[string]struct {
				Env map[string]string `yaml:"env"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		if wf.Permissions["id-token"] != "write" {
			t.Errorf("%s: permissions id-token is %q, want write", file, wf.Permissions["id-token"])
		}
		for name, job := range wf.Jobs {
			if job.Env["DATABRICKS_AUTH_TYPE"] != "github-oidc" || job.Env["DATABRICKS_CLIENT_ID"] == "" {
				t.Errorf("%s: job %s does not use github-oidc with a client id: %v", file, name, job.Env)
			}
			for k, v := range job.Env {
				if strings.Contains(v, "secrets.") {
					t.Errorf("%s: job %s takes %s from secrets", file, name, k)
				}
			}
		}
		if !strings.Contains(string(data), "#   DATABRICKS_CLIENT_SECRET: ${{ secrets.DATABRICKS_CLIENT_SECRET }}") {
			t.Errorf("%s does not show the client-secret alternative", file)
		}
	}
}
