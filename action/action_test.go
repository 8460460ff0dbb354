// Package action holds the test of the GitHub Action (action.yml at the repository root,
// with its logic in run.sh). The test runs the action's steps with bash the way a runner
// does, against the emulator and a fake GitHub API, both on loopback.
package action

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/scimsync/scimsync/emulator"
)

// actionFile is the part of action.yml the test reads.
type actionFile struct {
	Inputs map[string]struct {
		Default string `yaml:"default"`
	} `yaml:"inputs"`
	Outputs map[string]struct {
		Value string `yaml:"value"`
	} `yaml:"outputs"`
	Runs struct {
		Using string `yaml:"using"`
		Steps []step `yaml:"steps"`
	} `yaml:"runs"`
}

type step struct {
	ID               string            `yaml:"id"`
	Uses             string            `yaml:"uses"`
	With             map[string]string `yaml:"with"`
	Shell            string            `yaml:"shell"`
	WorkingDirectory string            `yaml:"working-directory"`
	Env              map[string]string `yaml:"env"`
	Run              string            `yaml:"run"`
}

func readAction(t *testing.T) *actionFile {
	t.Helper()
	data, err := os.ReadFile("../action.yml")
	if err != nil {
		t.Fatal(err)
	}
	var a actionFile
	if err := yaml.Unmarshal(data, &a); err != nil {
		t.Fatalf("action.yml: %v", err)
	}
	return &a
}

var expression = regexp.MustCompile(`\$\{\{\s*([a-z_.-]+)\s*\}\}`)

// eval replaces the ${{ ... }} expressions of s with their values; an expression the test
// does not know fails the test, so that action.yml cannot use one it does not check.
func eval(t *testing.T, s string, ctx map[string]string) string {
	t.Helper()
	return expression.ReplaceAllStringFunc(s, func(m string) string {
		name := expression.FindStringSubmatch(m)[1]
		v, ok := ctx[name]
		if !ok {
			t.Fatalf("action.yml uses ${{ %s }}, which the test does not provide", name)
		}
		return v
	})
}

// fakeGitHub is the part of the GitHub REST API the action uses: the comments of one pull
// request. It records every request.
type fakeGitHub struct {
	t        *testing.T
	token    string
	mu       sync.Mutex
	nextID   int
	comments []comment // in creation order
	requests []string  // "METHOD path?query"
	bodies   []string
}

type comment struct {
	ID   int    `json:"id"`
	Body string `json:"body"`
	User user   `json:"user"`
}

type user struct {
	Login string `json:"login"`
}

// actionsBot is the author of the comments a GITHUB_TOKEN writes.
const actionsBot = "github-actions[bot]"

var (
	listPath  = regexp.MustCompile(`^/repos/octo/identities/issues/7/comments$`)
	patchPath = regexp.MustCompile(`^/repos/octo/identities/issues/comments/(\d+)$`)
)

func (g *fakeGitHub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.requests = append(g.requests, r.Method+" "+r.URL.Path+"?"+r.URL.RawQuery)
	if r.Header.Get("Authorization") != "Bearer "+g.token || r.Header.Get("Accept") != "application/vnd.github+json" {
		http.Error(w, `{"message": "Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	body, _ := io.ReadAll(r.Body)
	g.bodies = append(g.bodies, string(body))
	var in struct {
		Body string `json:"body"`
	}
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/user":
		// As for GITHUB_TOKEN, an installation token: no user.
		http.Error(w, `{"message": "Resource not accessible by integration"}`, http.StatusForbidden)
	case r.Method == http.MethodGet && listPath.MatchString(r.URL.Path):
		per, _ := strconv.Atoi(r.URL.Query().Get("per_page"))
		page, _ := strconv.Atoi(r.URL.Query().Get("page"))
		from, to := min((page-1)*per, len(g.comments)), min(page*per, len(g.comments))
		_ = json.NewEncoder(w).Encode(g.comments[from:to])
	case r.Method == http.MethodPost && listPath.MatchString(r.URL.Path):
		if err := json.Unmarshal(body, &in); err != nil || in.Body == "" {
			http.Error(w, `{"message": "Invalid request"}`, http.StatusUnprocessableEntity)
			return
		}
		g.nextID++
		g.comments = append(g.comments, comment{ID: g.nextID, Body: in.Body, User: user{Login: actionsBot}})
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(g.comments[len(g.comments)-1])
	case r.Method == http.MethodPatch && patchPath.MatchString(r.URL.Path):
		id, _ := strconv.Atoi(patchPath.FindStringSubmatch(r.URL.Path)[1])
		if err := json.Unmarshal(body, &in); err != nil || in.Body == "" {
			http.Error(w, `{"message": "Invalid request"}`, http.StatusUnprocessableEntity)
			return
		}
		for i := range g.comments {
			if g.comments[i].ID == id {
				g.comments[i].Body = in.Body
				_ = json.NewEncoder(w).Encode(g.comments[i])
				return
			}
		}
		http.Error(w, `{"message": "Not Found"}`, http.StatusNotFound)
	default:
		g.t.Errorf("unexpected request %s %s", r.Method, r.URL)
		http.Error(w, `{"message": "Not Found"}`, http.StatusNotFound)
	}
}

// take returns the requests since the last call and forgets them.
func (g *fakeGitHub) take() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	r := g.requests
	g.requests = nil
	return r
}

// ours returns the comments the action posted.
func (g *fakeGitHub) ours() []comment {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []comment
	for _, c := range g.comments {
		if c.User.Login == actionsBot && strings.HasPrefix(c.Body, "<!-- scimsync:") {
			out = append(out, c)
		}
	}
	return out
}

// runner runs the action's steps as a GitHub runner does.
type runner struct {
	t      *testing.T
	action *actionFile
	repo   string            // the action's checkout: the repository root
	env    map[string]string // the environment of the job
	temp   string            // RUNNER_TEMP
	logs   strings.Builder   // what the runner would show, after masking
	masks  []string
}

// result is what one use of the action leaves behind.
type result struct {
	outputs map[string]string
	summary string
	log     string
	err     error
}

// use runs the action with the given inputs, as a workflow step `uses: ./` would.
func (r *runner) use(inputs map[string]string) result {
	t := r.t
	t.Helper()
	ctx := map[string]string{
		"github.action_path": r.repo,
		"github.action_ref":  "",
		"github.token":       r.env["GITHUB_TOKEN_FOR_TEST"],
		"runner.temp":        r.temp,
	}
	for name, in := range r.action.Inputs {
		ctx["inputs."+name] = eval(t, in.Default, ctx)
	}
	for name, v := range inputs {
		if _, ok := r.action.Inputs[name]; !ok {
			t.Fatalf("action.yml has no input %q", name)
		}
		ctx["inputs."+name] = v
	}
	summaryFile := filepath.Join(r.temp, "step-summary.md")
	if err := os.WriteFile(summaryFile, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var res result
	for i, s := range r.action.Runs.Steps {
		if s.Uses != "" || s.ID == "build" {
			// setup-go and the build are what the test did once, before it started.
			continue
		}
		if s.Shell != "bash" {
			t.Fatalf("step %d: shell %q, want bash", i, s.Shell)
		}
		outFile := filepath.Join(r.temp, fmt.Sprintf("output-%s", s.ID))
		script := filepath.Join(r.temp, fmt.Sprintf("step-%s.sh", s.ID))
		if err := os.WriteFile(outFile, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(script, []byte(eval(t, s.Run, ctx)), 0o700); err != nil {
			t.Fatal(err)
		}
		env := map[string]string{}
		for k, v := range r.env {
			env[k] = v
		}
		env["GITHUB_OUTPUT"], env["GITHUB_STEP_SUMMARY"], env["RUNNER_TEMP"] = outFile, summaryFile, r.temp
		env["GITHUB_ACTION_PATH"] = r.repo
		for k, v := range s.Env {
			env[k] = eval(t, v, ctx)
		}
		cmd := exec.Command("bash", "--noprofile", "--norc", "-eo", "pipefail", script)
		cmd.Dir = filepath.Join(r.env["GITHUB_WORKSPACE"], eval(t, s.WorkingDirectory, ctx))
		for k, v := range env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		out, err := cmd.CombinedOutput()
		res.log += r.show(string(out))
		res.err = err
		outputs := readOutputs(t, outFile)
		for k, v := range outputs {
			ctx["steps."+s.ID+".outputs."+k] = v
		}
		if err != nil {
			break
		}
	}
	res.outputs = map[string]string{}
	for name, o := range r.action.Outputs {
		res.outputs[name] = expression.ReplaceAllStringFunc(o.Value, func(m string) string {
			return ctx[expression.FindStringSubmatch(m)[1]]
		})
	}
	summary, err := os.ReadFile(summaryFile)
	if err != nil {
		t.Fatal(err)
	}
	res.summary = string(summary)
	return res
}

// show processes a step's output as the runner does: ::add-mask:: commands are consumed
// and their values masked in everything shown after them.
func (r *runner) show(out string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(out, "\n") {
		if v, ok := strings.CutPrefix(line, "::add-mask::"); ok {
			r.masks = append(r.masks, strings.TrimSuffix(v, "\n"))
			continue
		}
		for _, m := range r.masks {
			line = strings.ReplaceAll(line, m, "***")
		}
		b.WriteString(line)
	}
	r.logs.WriteString(b.String())
	return b.String()
}

// readOutputs parses a GITHUB_OUTPUT file: name=value lines and name<<DELIMITER blocks.
func readOutputs(t *testing.T, path string) map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if name, delim, ok := strings.Cut(line, "<<"); ok && !strings.Contains(name, "=") {
			var val []string
			for sc.Scan() && sc.Text() != delim {
				val = append(val, sc.Text())
			}
			out[name] = strings.Join(val, "\n")
			continue
		}
		if name, val, ok := strings.Cut(line, "="); ok {
			out[name] = val
		}
	}
	return out
}

// TestAction runs the action on a pull request and after merging it: plan posts one
// sticky comment and updates it, apply carries out the plan file, drift finds nothing,
// and no credential shows anywhere.
func TestAction(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("the action needs curl")
	}
	const secret = "databricks-secret-4f1c9a"
	const token = "ghs_fake_token_77d1"
	repo, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	temp := t.TempDir()
	// What the action's first two steps do: set up Go and build scimsync.
	bin := filepath.Join(temp, "scimsync-bin", "scimsync")
	build := exec.Command("go", "build", "-o", bin, "./cmd/scimsync")
	build.Dir = repo
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	action := readAction(t)
	checkSetup(t, action)

	srv := emulator.NewTestServer(t, emulator.Options{
		RateLimit: -1, ClientSecret: secret,
		MeUserName: "breakglass-admin@northwind.example",
		Workspaces: []string{"1234567890123456", "2345678901234567"},
		WorkspaceHosts: map[string]string{
			"1234567890123456": "https://northwind-prod.cloud.databricks.com",
			"2345678901234567": "https://northwind-ml.cloud.databricks.com",
		},
	})
	gh := &fakeGitHub{t: t, token: token, nextID: 1000}
	// A busy pull request: a full page of other comments comes first.
	for range 100 {
		gh.nextID++
		gh.comments = append(gh.comments, comment{ID: gh.nextID, Body: "LGTM", User: user{Login: "reviewer"}})
	}
	// Someone quotes the marker in a comment of their own: it must never be taken for ours.
	gh.nextID++
	decoy := comment{ID: gh.nextID, Body: "<!-- scimsync:plan:org/scimsync.yaml -->\nI copied the plan here", User: user{Login: "mallory"}}
	gh.comments = append(gh.comments, decoy)
	api := httptest.NewServer(gh)
	defer api.Close()

	workspace := filepath.Join(temp, "workspace")
	if err := os.CopyFS(filepath.Join(workspace, "org"), os.DirFS(filepath.Join(repo, "examples", "org"))); err != nil {
		t.Fatal(err)
	}
	event := filepath.Join(temp, "event.json")
	if err := os.WriteFile(event, []byte(`{"action": "synchronize", "number": 7, "pull_request": {"number": 7}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	r := &runner{t: t, action: action, repo: repo, temp: temp, env: map[string]string{
		"PATH":                     os.Getenv("PATH"),
		"HOME":                     temp,
		"CI":                       "true",
		"GITHUB_ACTIONS":           "true",
		"GITHUB_WORKSPACE":         workspace,
		"GITHUB_EVENT_PATH":        event,
		"GITHUB_EVENT_NAME":        "pull_request",
		"GITHUB_API_URL":           api.URL,
		"GITHUB_SERVER_URL":        "https://github.example.test",
		"GITHUB_REPOSITORY":        "octo/identities",
		"GITHUB_RUN_ID":            "4242",
		"GITHUB_SHA":               "0123abcd",
		"GITHUB_TOKEN_FOR_TEST":    token,
		"DATABRICKS_HOST":          srv.URL,
		"DATABRICKS_ACCOUNT_ID":    emulator.DefaultAccountID,
		"DATABRICKS_CLIENT_ID":     emulator.DefaultClientID,
		"DATABRICKS_CLIENT_SECRET": secret,
		"SCIMSYNC_RATE_LIMIT":      "1000",
		"SCIMSYNC_HOST_OVERRIDES":  "https://northwind-prod.cloud.databricks.com=" + srv.URL + ",https://northwind-ml.cloud.databricks.com=" + srv.URL,
	}}
	inputs := func(kv ...string) map[string]string {
		m := map[string]string{"working-directory": "org"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	planFile := filepath.Join(workspace, "org", "scimsync-plan.json")

	// 1. The pull request is opened: plan, and a new comment after paging past the others.
	res := r.use(inputs("comment", "true"))
	mustSucceed(t, res)
	wantOutputs(t, res, "true", planFile, "scimsync plan: 59 to create, 10 to update, 14 membership changes, 11 workspace assignment changes")
	wantCounts(t, res, "changes", "94", "removals", "0")
	if !strings.Contains(res.summary, "## scimsync plan: 59 to create") || !strings.Contains(res.summary, "<details>") {
		t.Errorf("step summary:\n%s", res.summary)
	}
	wantRequests(t, gh.take(),
		"GET /user?",
		"GET /repos/octo/identities/issues/7/comments?per_page=100&page=1",
		"GET /repos/octo/identities/issues/7/comments?per_page=100&page=2",
		"POST /repos/octo/identities/issues/7/comments?")
	ours := gh.ours()
	if len(ours) != 1 || !strings.HasPrefix(ours[0].Body, "<!-- scimsync:plan:org/scimsync.yaml -->\n## scimsync plan: 59 to create") ||
		!strings.Contains(ours[0].Body, "[workflow run](https://github.example.test/octo/identities/actions/runs/4242)") {
		t.Fatalf("comments after the first run: %+v", ours)
	}
	first := ours[0].ID

	// 2. Another push to the pull request: the same comment is updated, not duplicated.
	res = r.use(inputs("comment", "true"))
	mustSucceed(t, res)
	wantOutputs(t, res, "true", planFile, "scimsync plan: 59 to create, 10 to update, 14 membership changes, 11 workspace assignment changes")
	wantRequests(t, gh.take(),
		"GET /user?",
		"GET /repos/octo/identities/issues/7/comments?per_page=100&page=1",
		"GET /repos/octo/identities/issues/7/comments?per_page=100&page=2",
		fmt.Sprintf("PATCH /repos/octo/identities/issues/comments/%d?", first))

	for _, c := range gh.comments {
		if c.ID == decoy.ID && c.Body != decoy.Body {
			t.Errorf("the action edited someone else's comment that quotes the marker: %q", c.Body)
		}
	}

	// 3. Merged: apply the reviewed plan file.
	res = r.use(inputs("command", "apply"))
	mustSucceed(t, res)
	wantOutputs(t, res, "true", planFile, "Apply complete: 94 of 94 changes applied.")
	wantCounts(t, res, "changes", "94", "removals", "0", "applied", "94", "failed", "0", "skipped", "0", "not-run", "0")
	if !strings.Contains(res.log, "Plan: 59 to create") {
		t.Errorf("the log does not show the plan applied:\n%s", res.log)
	}
	if !strings.Contains(res.summary, "## scimsync apply: Apply complete: 94 of 94 changes applied.") || !strings.Contains(res.summary, "### scimsync plan: 59 to create") {
		t.Errorf("step summary:\n%s", res.summary)
	}
	wantRequests(t, gh.take())

	// 4. The next plan finds nothing to do, and says so in the same comment.
	res = r.use(inputs("comment", "true"))
	mustSucceed(t, res)
	wantOutputs(t, res, "false", planFile, "scimsync plan: no changes")
	if ours := gh.ours(); len(ours) != 1 || ours[0].ID != first || !strings.Contains(ours[0].Body, "No changes. The live state matches the desired state.") {
		t.Errorf("comments after the last plan: %+v", ours)
	}
	gh.take()

	// 5. Nightly drift check, with its own comment when on a pull request.
	res = r.use(inputs("command", "drift", "comment", "true"))
	mustSucceed(t, res)
	wantOutputs(t, res, "false", "", "scimsync drift: no drift")
	if ours := gh.ours(); len(ours) != 2 || !strings.HasPrefix(ours[1].Body, "<!-- scimsync:drift:org/scimsync.yaml -->\n## scimsync drift: no drift") {
		t.Errorf("comments after drift: %+v", ours)
	}

	// 5b. The drift run's snapshot plans a pull request offline: no API call (the host is
	// unreachable for this run), the snapshot's age in the report. A snapshot input that
	// does not exist falls back to a live read.
	snap := res.outputs["snapshot"]
	if _, err := os.Stat(snap); err != nil {
		t.Fatalf("drift's snapshot output %q: %v", snap, err)
	}
	host := r.env["DATABRICKS_HOST"]
	r.env["DATABRICKS_HOST"] = "http://127.0.0.1:1"
	res = r.use(inputs("snapshot", snap))
	r.env["DATABRICKS_HOST"] = host
	mustSucceed(t, res)
	wantOutputs(t, res, "false", planFile, "scimsync plan: no changes")
	if !strings.Contains(res.summary, "**Live state:** snapshot live-snapshot.json taken ") {
		t.Errorf("the offline plan's summary does not show its snapshot:\n%s", res.summary)
	}
	res = r.use(inputs("snapshot", filepath.Join(temp, "no-such-snapshot.json")))
	mustSucceed(t, res)
	if !strings.Contains(res.log, "No snapshot ") || strings.Contains(res.summary, "**Live state:**") {
		t.Errorf("a missing snapshot: log\n%s\nsummary\n%s", res.log, res.summary)
	}
	gh.take()

	// 6. Not a pull request (a push): no comment, a notice instead.
	r.env["GITHUB_EVENT_PATH"] = filepath.Join(temp, "push.json")
	if err := os.WriteFile(r.env["GITHUB_EVENT_PATH"], []byte(`{"ref": "refs/heads/main"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	gh.take()
	res = r.use(inputs("command", "validate", "comment", "true"))
	mustSucceed(t, res)
	wantOutputs(t, res, "false", "", "scimsync validate: valid: 42 users, 3 service principals, 14 groups, 2 workspaces")
	if !strings.Contains(res.log, "::notice::not a pull-request event: no comment posted") {
		t.Errorf("log:\n%s", res.log)
	}
	wantRequests(t, gh.take())

	// 7. A plan that fails reports the error, and the step fails.
	res = r.use(inputs("config", "missing.yaml"))
	if res.err == nil || res.outputs["exit-code"] != "1" || !strings.Contains(res.summary, "## scimsync plan failed") ||
		!strings.HasPrefix(res.outputs["summary"], "scimsync plan failed: ") {
		t.Errorf("failed plan: err %v, outputs %v, summary:\n%s", res.err, res.outputs, res.summary)
	}
	// The problem is an annotation on the config's line for the runner, and plain text in
	// the summary.
	if !strings.Contains(res.log, "::error file=org/missing.yaml,title=scimsync%3A read::read config:") || strings.Contains(res.summary, "::error") {
		t.Errorf("failed plan: annotation missing from the log, or in the summary:\n%s\nsummary:\n%s", res.log, res.summary)
	}

	// No credential shows: not in the logs as shown, not in outputs, summaries or comments.
	// Only the ::add-mask:: commands, which the runner consumes, carry them.
	gh.mu.Lock()
	defer gh.mu.Unlock()
	everything := []string{r.logs.String(), strings.Join(gh.bodies, "\n")}
	for _, c := range gh.comments {
		everything = append(everything, c.Body)
	}
	err = filepath.WalkDir(temp, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == bin || strings.HasPrefix(path, workspace) && strings.HasSuffix(path, ".yaml") {
			return err
		}
		data, err := os.ReadFile(path)
		everything = append(everything, path+":\n"+string(data))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range everything {
		for _, s := range []string{secret, token} {
			if strings.Contains(text, s) {
				t.Errorf("a credential shows in:\n%s", text)
			}
		}
	}
	if len(r.masks) == 0 {
		t.Error("the action masks no credential")
	}
}

// checkSetup checks the steps the test does not run: Go comes from the action's own go.mod,
// and the build writes the binary the run step uses.
func checkSetup(t *testing.T, a *actionFile) {
	t.Helper()
	if a.Runs.Using != "composite" {
		t.Errorf("runs.using = %q, want composite", a.Runs.Using)
	}
	var setup, build, run *step
	for i := range a.Runs.Steps {
		s := &a.Runs.Steps[i]
		switch {
		case strings.HasPrefix(s.Uses, "actions/setup-go@"):
			setup = s
		case s.ID == "build":
			build = s
		case s.ID == "run":
			run = s
		}
	}
	if setup == nil || setup.With["go-version-file"] != "${{ github.action_path }}/go.mod" {
		t.Errorf("setup-go step: %+v", setup)
	}
	if build == nil || build.WorkingDirectory != "${{ github.action_path }}" ||
		!strings.Contains(build.Run, `-o "$RUNNER_TEMP/scimsync-bin/scimsync" ./cmd/scimsync`) {
		t.Errorf("build step: %+v", build)
	}
	if run == nil || run.Env["SCIMSYNC"] != "${{ runner.temp }}/scimsync-bin/scimsync" {
		t.Errorf("run step: %+v", run)
	}
	for _, s := range a.Runs.Steps {
		if strings.Contains(s.Run, "set -x") || strings.Contains(s.Run, "api.github.com") {
			t.Errorf("step %q traces commands or hard-codes the API", s.ID)
		}
	}
	script, err := os.ReadFile("run.sh")
	if err != nil {
		t.Fatal(err)
	}
	if regexp.MustCompile(`(?m)^[^#]*(set -x|api\.github\.com)`).Match(script) {
		t.Error("run.sh traces commands or hard-codes the API")
	}
}

func mustSucceed(t *testing.T, res result) {
	t.Helper()
	if res.err != nil {
		t.Fatalf("the action failed: %v\n%s", res.err, res.log)
	}
}

func wantOutputs(t *testing.T, res result, hasChanges, planFile, summary string) {
	t.Helper()
	got := res.outputs
	if got["has-changes"] != hasChanges || got["plan-file"] != planFile || got["summary"] != summary || got["exit-code"] != "0" {
		t.Errorf("outputs = %v, want has-changes %s, plan-file %q, summary %q", got, hasChanges, planFile, summary)
	}
	if md, err := os.ReadFile(got["markdown-file"]); err != nil || string(md) != res.summary {
		t.Errorf("markdown-file %q (%v) is not what went to the step summary", got["markdown-file"], err)
	}
}

// wantCounts checks the count outputs, given as name, value pairs.
func wantCounts(t *testing.T, res result, kv ...string) {
	t.Helper()
	for i := 0; i < len(kv); i += 2 {
		if got := res.outputs[kv[i]]; got != kv[i+1] {
			t.Errorf("output %s = %q, want %q", kv[i], got, kv[i+1])
		}
	}
}

func wantRequests(t *testing.T, got []string, want ...string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("GitHub API requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestExampleWorkflows checks examples/github: every use of the action names inputs it
// has, with a command it knows, and every output read from it exists.
func TestExampleWorkflows(t *testing.T) {
	action := readAction(t)
	files, err := filepath.Glob("../examples/github/*.yml")
	if err != nil || len(files) < 3 {
		t.Fatalf("example workflows: %v, %v", files, err)
	}
	outputRef := regexp.MustCompile(`steps\.([a-z-]+)\.outputs\.([a-z-]+)`)
	commands := map[string]bool{}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]struct {
				Steps []step `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		ours := map[string]bool{} // ids of the steps that use the action
		for _, job := range wf.Jobs {
			for _, s := range job.Steps {
				if s.Uses != "scimsync/scimsync@v1" && s.Uses != "./" {
					continue
				}
				ours[s.ID] = true
				for name := range s.With {
					if _, ok := action.Inputs[name]; !ok {
						t.Errorf("%s: step %q sets input %q, which action.yml does not have", file, s.ID, name)
					}
				}
				commands[s.With["command"]] = true
			}
		}
		if len(ours) == 0 {
			t.Errorf("%s does not use the action", file)
		}
		for _, m := range outputRef.FindAllStringSubmatch(string(data), -1) {
			if _, ok := action.Outputs[m[2]]; ours[m[1]] && !ok {
				t.Errorf("%s reads output %q, which action.yml does not have", file, m[2])
			}
		}
	}
	for _, c := range []string{"plan", "apply", "drift"} {
		if !commands[c] {
			t.Errorf("no example workflow runs %s", c)
		}
	}
}
