package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/emulator"
)

// Distinctive credentials, so that any trace of them in an output is found.
const (
	secretToken        = "dapi-SECRET-TOKEN-7f3a9c51e0"
	secretClientSecret = "SECRET-CLIENT-b42e1d9a77"
	wrongToken         = "dapi-WRONG-TOKEN-31c8e2f0aa"
	wrongClientSecret  = "WRONG-CLIENT-5d0e7b4c19"
	// oauthTokenPrefix starts every access token the emulator issues.
	oauthTokenPrefix = "emu-oauth-"
)

// TestSecretsStayOut runs every command of the binary at debug log level, in text and JSON
// log formats, with a token and then with OAuth client credentials, and with rejected
// credentials of both kinds; it checks that no token, client secret or OAuth access token
// appears in any standard output, standard error, plan file, audit log, snapshot or
// exported manifest.
func TestSecretsStayOut(t *testing.T) {
	a := newAccount(t, emulator.Options{Token: secretToken, ClientSecret: secretClientSecret}, nil)
	base := []string{"HOME=" + a.dir, "DATABRICKS_HOST=" + a.srv.URL, "DATABRICKS_ACCOUNT_ID=" + a.srv.Options().AccountID, overridesEnv(a.srv)}
	pat := append(append([]string{}, base...), "DATABRICKS_TOKEN="+secretToken,
		"DATABRICKS_CLIENT_ID="+a.srv.Options().ClientID, "DATABRICKS_CLIENT_SECRET="+secretClientSecret)
	oauth := append(append([]string{}, base...), "DATABRICKS_CLIENT_ID="+a.srv.Options().ClientID, "DATABRICKS_CLIENT_SECRET="+secretClientSecret)

	var outputs []string
	runs := 0
	exec := func(env []string, wantCode int, args ...string) {
		t.Helper()
		b := *a
		b.env = env
		r := b.run(t, args...)
		runs++
		if r.code != wantCode {
			t.Errorf("scimsync %s: want exit %d, got %s", strings.Join(args, " "), wantCode, r)
		}
		outputs = append(outputs, "scimsync "+strings.Join(args, " ")+"\n"+r.stdout+r.stderr)
	}
	for _, format := range []string{"text", "json"} {
		dbg := []string{"--log-level", "debug", "--log-format", format}
		with := func(args ...string) []string { return append(append([]string{}, dbg...), args...) }
		for i, env := range [][]string{pat, oauth} {
			// One more user each pass, so that every apply writes.
			a.write(t, map[string]string{filepath.Join("extra", format+"-"+strconv.Itoa(i)+".yaml"): "users:\n  - userName: secret-test-" + format + strconv.Itoa(i) + "@northwind.example\n"})
			exec(env, 0, with("validate")...)
			exec(env, 2, with("plan", "-o", "plan.json", "--detailed-exitcode")...)
			exec(env, 0, with("show", "plan.json")...)
			exec(env, 0, with("show", "--format", "markdown", "plan.json")...)
			exec(env, 0, with("show", "--format", "json", "plan.json")...)
			exec(env, 0, with("apply", "plan.json", "--audit-log", "audit.jsonl")...)
			exec(env, 0, with("apply", "--auto-approve", "--audit-log", "audit.jsonl")...)
			exec(env, 0, with("drift")...)
			exec(env, 0, with("export", "-o", "snapshot.json")...)
			exec(env, 0, with("export", "--format", "manifest", "-o", "exported.yaml")...)
			exec(env, 0, with("drift", "--snapshot", "snapshot.json")...)
		}
		rejected := [][]string{
			append(append([]string{}, base...), "DATABRICKS_TOKEN="+wrongToken),
			append(append([]string{}, base...), "DATABRICKS_CLIENT_ID="+a.srv.Options().ClientID, "DATABRICKS_CLIENT_SECRET="+wrongClientSecret),
		}
		for _, env := range rejected {
			exec(env, 1, with("plan")...)
			exec(env, 1, with("apply", "--auto-approve")...)
			exec(env, 1, with("drift")...)
			exec(env, 1, with("export")...)
		}
	}
	entries, err := os.ReadDir(a.dir)
	if err != nil {
		t.Fatal(err)
	}
	files := 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(a.dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files++
		outputs = append(outputs, e.Name()+"\n"+string(data))
	}
	for _, out := range outputs {
		name, _, _ := strings.Cut(out, "\n")
		for _, secret := range []string{secretToken, secretClientSecret, wrongToken, wrongClientSecret, oauthTokenPrefix} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: holds the secret %q:\n%s", name, secret, out)
			}
		}
	}
	if !strings.Contains(strings.Join(outputs, "\n"), "level=DEBUG") {
		t.Error("no debug log line was written: the test does not see what debug logging prints")
	}
	t.Logf("%d runs and %d files searched", runs, files)
}
