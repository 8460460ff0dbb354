package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
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
	// Both kinds of credentials are set, as in an environment that has both: the auth type
	// picks one, and the other secret must not leak either.
	pat := append(append([]string{}, base...), "DATABRICKS_TOKEN="+secretToken, "DATABRICKS_AUTH_TYPE=pat",
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

// echoingProxy stands between scimsync and the emulator and answers the requests that
// match with an error whose body echoes the request's Authorization header, as some
// proxies and WAFs do: the header as sent and the bare credential, in a SCIM JSON body or
// in plain text.
func echoingProxy(t *testing.T, target string, match func(*http.Request) bool, plain bool) *httptest.Server {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !match(r) {
			forward.ServeHTTP(w, r)
			return
		}
		h := r.Header.Get("Authorization")
		bare := strings.TrimPrefix(h, "Bearer ")
		if plain {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprintf(w, "request blocked by policy\nAuthorization: %s\ntoken=%s\n", h, bare)
			return
		}
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:api:messages:2.0:Error"},
			"status":   "400",
			"scimType": "invalidValue " + bare,
			"detail":   "request rejected; headers were Authorization: " + h + " (credential " + bare + ")",
		})
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestEchoedCredentialsRedacted points the binary at a server whose error bodies echo the
// Authorization header, for reads (plan, drift, export) and for writes (apply, with an
// audit log), with a token and with OAuth client credentials, at debug level: neither the
// token, nor the client secret, nor a minted OAuth access token reaches any output or file.
func TestEchoedCredentialsRedacted(t *testing.T) {
	a := newAccount(t, emulator.Options{Token: secretToken, ClientSecret: secretClientSecret}, map[string]string{
		"echo.yaml": "users:\n  - userName: echo-test@northwind.example\n",
	})
	isSCIM := func(r *http.Request) bool { return strings.Contains(r.URL.Path, "/scim/v2/") }
	reads := func(r *http.Request) bool {
		return isSCIM(r) && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/Users")
	}
	writes := func(r *http.Request) bool { return isSCIM(r) && r.Method != http.MethodGet }
	var outputs []string
	for _, plain := range []bool{false, true} {
		readProxy := echoingProxy(t, a.srv.URL, reads, plain)
		writeProxy := echoingProxy(t, a.srv.URL, writes, plain)
		for _, creds := range [][]string{
			{"DATABRICKS_TOKEN=" + secretToken},
			{"DATABRICKS_CLIENT_ID=" + a.srv.Options().ClientID, "DATABRICKS_CLIENT_SECRET=" + secretClientSecret},
		} {
			for _, c := range []struct {
				proxy *httptest.Server
				args  []string
			}{
				{readProxy, []string{"plan"}},
				{readProxy, []string{"drift"}},
				{readProxy, []string{"export", "-o", "snapshot.json"}},
				{writeProxy, []string{"apply", "--auto-approve", "--audit-log", "audit.jsonl"}},
			} {
				b := *a
				b.env = append([]string{"HOME=" + a.dir, "DATABRICKS_HOST=" + c.proxy.URL, "DATABRICKS_ACCOUNT_ID=" + a.srv.Options().AccountID, overridesTo(a.srv, c.proxy.URL)}, creds...)
				args := append([]string{"--log-level", "debug"}, c.args...)
				r := b.run(t, args...)
				if r.code != 1 {
					t.Errorf("scimsync %s: want exit 1, got %s", strings.Join(args, " "), r)
				}
				outputs = append(outputs, "scimsync "+strings.Join(args, " ")+"\n"+r.stdout+r.stderr)
			}
		}
	}
	audit, err := os.ReadFile(filepath.Join(a.dir, "audit.jsonl"))
	if err != nil {
		t.Fatalf("apply wrote no audit log: %v", err)
	}
	outputs = append(outputs, "audit.jsonl\n"+string(audit))
	all := strings.Join(outputs, "\n")
	if !strings.Contains(all, "REDACTED") {
		t.Errorf("no output shows a redacted echo; the proxy was not reached:\n%s", all)
	}
	for _, out := range outputs {
		name, _, _ := strings.Cut(out, "\n")
		for _, secret := range []string{secretToken, secretClientSecret, oauthTokenPrefix} {
			if strings.Contains(out, secret) {
				t.Errorf("%s: holds the secret %q:\n%s", name, secret, out)
			}
		}
	}
}

// TestApplyStopsOnRejectedCredentials revokes the credentials in the middle of an apply
// (a proxy answers 401 to every request from the tenth write on): apply exits 1 naming the
// rejection, and sends no more than the requests already in flight, instead of every
// remaining write.
func TestApplyStopsOnRejectedCredentials(t *testing.T) {
	a := newAccount(t, emulator.Options{}, nil)
	u, err := url.Parse(a.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	forward := httputil.NewSingleHostReverseProxy(u)
	var writes, afterRevoke atomic.Int64
	var revoked atomic.Bool
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if revoked.Load() {
			afterRevoke.Add(1)
		}
		if r.Method != http.MethodGet && strings.Contains(r.URL.Path, "/scim/v2/") && writes.Add(1) >= 10 {
			revoked.Store(true)
		}
		if revoked.Load() {
			w.Header().Set("Content-Type", "application/scim+json")
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"Token is expired","status":"401"}`)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(proxy.Close)
	b := *a
	b.env = []string{"HOME=" + a.dir, "DATABRICKS_HOST=" + proxy.URL, "DATABRICKS_ACCOUNT_ID=" + a.srv.Options().AccountID, overridesTo(a.srv, proxy.URL), "DATABRICKS_TOKEN=" + a.srv.Options().Token}
	r := b.run(t, "apply", "--auto-approve")
	if r.code != 1 || !strings.Contains(r.stdout+r.stderr, "401") {
		t.Fatalf("want exit 1 naming the 401, got %s", r)
	}
	const concurrency = 8 // newAccount's apply.concurrency
	if n := afterRevoke.Load(); n > concurrency {
		t.Errorf("%d requests were sent after the credentials were rejected; want at most the %d in flight", n, concurrency)
	}
	t.Logf("%d writes before the 401, %d requests after it", writes.Load(), afterRevoke.Load())
}
