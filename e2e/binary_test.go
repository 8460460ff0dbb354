package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source"
)

// TestMain removes the scimsync binary the tests built, if any.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// scimsyncBinary builds cmd/scimsync once per test run and returns its path.
func scimsyncBinary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "scimsync-e2e-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "scimsync")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/scimsync/scimsync/cmd/scimsync").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build cmd/scimsync: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// The example organisation's account, as the command-line scripts emulate it.
var (
	exampleWorkspaces = []string{"1234567890123456", "2345678901234567"}
	// exampleHosts are the workspace hosts examples/org declares.
	exampleHosts = map[string]string{
		"1234567890123456": "https://northwind-prod.cloud.databricks.com",
		"2345678901234567": "https://northwind-ml.cloud.databricks.com",
	}
	exampleAdmin = "breakglass-admin@northwind.example"
)

// account is an emulated Databricks account on loopback with a scimsync.yaml for it in a
// scratch directory, and the environment that points the scimsync binary at it.
type account struct {
	srv *emulator.TestServer
	dir string
	env []string
	obs *observer
}

// observer watches the requests an emulator receives, and kills a process when a chosen
// write arrives.
type observer struct {
	arrivals atomic.Int64
	writes   atomic.Int64
	killAt   atomic.Int64 // the write to kill at, counting from 1; 0 for none
	proc     atomic.Pointer[os.Process]
	killed   atomic.Bool
}

func (o *observer) observe(r emulator.Request) {
	o.arrivals.Add(1)
	if !isWrite(r) {
		return
	}
	if n := o.writes.Add(1); n == o.killAt.Load() {
		if p := o.proc.Load(); p != nil {
			// Noted before the kill: the test may see the process end before Kill returns.
			o.killed.Store(true)
			_ = p.Kill()
		}
	}
}

// isWrite reports whether a request may change the account: any POST, PUT, PATCH or
// DELETE but the OAuth token endpoint's.
func isWrite(r emulator.Request) bool {
	switch r.Method {
	case "POST", "PUT", "PATCH", "DELETE":
		return !strings.HasPrefix(r.Path, "/oidc/")
	}
	return false
}

// startAccount starts an unthrottled emulator for the example organisation and returns
// it with an empty scratch directory.
func startAccount(t *testing.T, opts emulator.Options) *account {
	t.Helper()
	obs := &observer{}
	opts.RateLimit = -1
	opts.MeUserName = exampleAdmin
	opts.Workspaces = exampleWorkspaces
	if opts.WorkspaceHosts == nil {
		opts.WorkspaceHosts = exampleHosts
	}
	opts.OnRequest = obs.observe
	srv := emulator.NewTestServer(t, opts)
	dir := t.TempDir()
	o := srv.Options()
	env := []string{
		"HOME=" + dir,
		"DATABRICKS_HOST=" + srv.URL,
		overridesEnv(srv),
		"DATABRICKS_ACCOUNT_ID=" + o.AccountID,
		"DATABRICKS_CLIENT_ID=" + o.ClientID,
		"DATABRICKS_CLIENT_SECRET=" + o.ClientSecret,
	}
	return &account{srv: srv, dir: dir, env: env, obs: obs}
}

// overridesEnv is the SCIMSYNC_HOST_OVERRIDES setting that sends the workspace hosts of
// srv to it, as scimsync emulator prints it.
func overridesEnv(srv *emulator.TestServer) string { return overridesTo(srv, srv.URL) }

// overridesTo is the SCIMSYNC_HOST_OVERRIDES setting that sends the workspace hosts of
// srv to url, such as a proxy in front of it.
func overridesTo(srv *emulator.TestServer, url string) string {
	var entries []string
	for host := range srv.HostOverrides() {
		entries = append(entries, host+"="+url)
	}
	sort.Strings(entries)
	return "SCIMSYNC_HOST_OVERRIDES=" + strings.Join(entries, ",")
}

// write writes files (name to content) into the account's directory.
func (a *account) write(t *testing.T, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(a.dir, name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// newAccount starts an emulator for the example organisation and writes a config that
// reads the example identities and the files in extra (name to content).
func newAccount(t *testing.T, opts emulator.Options, extra map[string]string) *account {
	t.Helper()
	a := startAccount(t, opts)
	identities, err := filepath.Abs("../examples/org/identities")
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`target:
  level: account
sources:
  - kind: yaml
    path: [%s, extra]
policy:
  guards: {maxRemovals: 10, maxRemovalPercent: 5}
  protected:
    users: [%s]
    servicePrincipals: [7e3c5a2b-1d4f-4e6a-8b9c-0d1e2f3a4b5c]
apply:
  rateLimit: 1000
  concurrency: 8
`, identities, exampleAdmin)
	files := map[string]string{"scimsync.yaml": cfg}
	for name, content := range extra {
		files[filepath.Join("extra", name)] = content
	}
	if extra == nil {
		files["extra/none.yaml"] = "users: []\n"
	}
	a.write(t, files)
	return a
}

// desired loads the account's config and sources as the command line does.
func (a *account) desired(t *testing.T) *model.State {
	t.Helper()
	cfg, diags := config.Load(filepath.Join(a.dir, "scimsync.yaml"))
	if diags.HasErrors() {
		t.Fatalf("config: %v", diags)
	}
	st, diags := source.Load(context.Background(), cfg, nil)
	if diags.HasErrors() {
		t.Fatalf("sources: %v", diags)
	}
	return st
}

// result is how a run of the binary ended.
type result struct {
	stdout, stderr string
	code           int  // exit code; -1 when killed by a signal
	killed         bool // ended by SIGKILL
}

func (r result) String() string {
	return fmt.Sprintf("exit %d (killed %v)\nstdout:\n%s\nstderr:\n%s", r.code, r.killed, r.stdout, r.stderr)
}

// runTimeout bounds a run of the binary, so that a run that hangs fails the test instead
// of the test binary's own timeout.
const runTimeout = 2 * time.Minute

// start starts the binary with args in the account's directory and environment.
func (a *account) start(t *testing.T, args ...string) (wait func() result) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	cmd := exec.CommandContext(ctx, scimsyncBinary(t), args...)
	cmd.Dir = a.dir
	cmd.Env = a.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	a.obs.proc.Store(cmd.Process)
	return func() result {
		defer cancel()
		err := cmd.Wait()
		if ctx.Err() != nil {
			t.Fatalf("scimsync %s did not end within %s", strings.Join(args, " "), runTimeout)
		}
		r := result{stdout: stdout.String(), stderr: stderr.String()}
		var ee *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &ee):
			r.code = ee.ExitCode()
			if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				r.killed = ws.Signal() == syscall.SIGKILL
			}
		default:
			t.Fatal(err)
		}
		return r
	}
}

// run runs the binary to its end.
func (a *account) run(t *testing.T, args ...string) result {
	t.Helper()
	return a.start(t, args...)()
}

// quiesce waits until every request the emulator received has been answered, so that a
// killed client's requests in flight are settled before the next run reads the account.
func (a *account) quiesce(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for int64(a.srv.RequestCount()) < a.obs.arrivals.Load() {
		if time.Now().After(deadline) {
			t.Fatalf("the emulator still has requests in flight: %d received, %d answered", a.obs.arrivals.Load(), a.srv.RequestCount())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// converge applies the declared state with --auto-approve and then checks that a new plan
// is empty, that no identity exists twice and that the account holds what is declared.
func (a *account) converge(t *testing.T) {
	t.Helper()
	a.applyAll(t)
	live := a.srv.State()
	assertNoDuplicates(t, live)
	assertHolds(t, a.desired(t), live)
}

// applyAll applies the declared state with --auto-approve, checks that a new plan is empty
// and returns that plan's run.
func (a *account) applyAll(t *testing.T) result {
	t.Helper()
	a.obs.killAt.Store(0)
	if r := a.run(t, "apply", "--auto-approve"); r.code != 0 {
		t.Fatalf("apply --auto-approve: %s", r)
	}
	r := a.run(t, "plan", "--detailed-exitcode")
	if r.code != 0 || !strings.Contains(r.stdout, "No changes.") {
		t.Fatalf("plan after apply: %s", r)
	}
	return r
}

// assertHolds checks that every identity declared exists live with the same direct
// members, comparing members by kind and name (service principals by displayName, which
// both states have).
func assertHolds(t *testing.T, desired, live *model.State) {
	t.Helper()
	liveMembers := members(live)
	for key, want := range members(desired) {
		got, ok := liveMembers[key]
		if !ok {
			t.Errorf("%s is declared but does not exist", key)
			continue
		}
		if want != got {
			t.Errorf("%s has members %s, declared %s", key, got, want)
		}
	}
}

// members maps every identity of a state, named kind:name, to its sorted direct members
// (empty for users and service principals).
func members(s *model.State) map[string]string {
	spName := map[string]string{}
	out := map[string]string{}
	for _, p := range s.ServicePrincipals {
		spName[p.Key()] = p.DisplayName
		out["servicePrincipal:"+p.DisplayName] = ""
	}
	for _, u := range s.Users {
		out["user:"+u.Key()] = ""
	}
	for _, g := range s.Groups {
		var list []string
		for _, r := range g.Members.Refs() {
			if r.Kind == model.KindServicePrincipal {
				if n, ok := spName[r.Key]; ok {
					r.Key = n
				}
			}
			list = append(list, r.String())
		}
		slices.Sort(list)
		out["group:"+g.Key()] = strings.Join(list, ",")
	}
	return out
}
