package e2e

import (
	"context"
	"errors"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
)

// TestTLSVerifiedByDefault points a client with its default HTTP client at an emulator
// served over TLS with a self-signed certificate: the client must refuse the certificate,
// send no request, and not retry. The command line must refuse it too.
func TestTLSVerifiedByDefault(t *testing.T) {
	emu := emulator.New(emulator.Options{RateLimit: -1})
	srv := httptest.NewUnstartedServer(emu)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	defer srv.Close()
	c, err := scim.New(scim.Config{Auth: auth.Settings{Host: srv.URL, AccountID: emulator.DefaultAccountID, Level: model.LevelAccount, Token: auth.NewSecret(emulator.DefaultToken)}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Snapshot(context.Background(), nil)
	if err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("a self-signed certificate was not refused: %v", err)
	}
	if n := emu.RequestCount(); n != 0 {
		t.Errorf("%d requests reached the server behind an unverified certificate", n)
	}
	if s := c.Stats(); s.Retries != 0 {
		t.Errorf("a certificate failure was retried %d times", s.Retries)
	}

	a := startAccount(t, emulator.Options{})
	a.env = []string{"HOME=" + a.dir, "DATABRICKS_HOST=" + srv.URL, "DATABRICKS_ACCOUNT_ID=" + emulator.DefaultAccountID, "DATABRICKS_TOKEN=" + emulator.DefaultToken}
	a.write(t, map[string]string{"users.yaml": "users:\n  - userName: ada@example.com\n"})
	r := a.run(t, "plan", "users.yaml")
	if r.code != 1 || !strings.Contains(r.stderr, "certificate") {
		t.Errorf("plan against a self-signed certificate: %s", r)
	}
	if n := emu.RequestCount(); n != 0 {
		t.Errorf("%d requests of the command line reached the server behind an unverified certificate", n)
	}
}

// failingTransport fails the test on any request: the code under test must refuse before
// it connects.
type failingTransport struct {
	t     *testing.T
	calls atomic.Int64
}

func (f *failingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.calls.Add(1)
	f.t.Errorf("a request to %s was attempted", r.URL.Host)
	return nil, errors.New("no network in this test")
}

// TestPlainHTTPRefused checks that plain http:// to an address that is not loopback is
// refused before any connection is attempted, for the target host and for a workspace
// host. The hosts are IP literals of private and documentation ranges, so that nothing is
// looked up either; the transport fails the test if it is ever called.
func TestPlainHTTPRefused(t *testing.T) {
	ft := &failingTransport{t: t}
	hc := &http.Client{Transport: ft}
	for _, host := range []string{"http://10.20.30.40", "http://192.0.2.7:8080", "http://[fd00::1]", "HTTP://198.51.100.3"} {
		_, err := scim.New(scim.Config{HTTPClient: hc, Auth: auth.Settings{Host: host, AccountID: emulator.DefaultAccountID, Level: model.LevelAccount, Token: auth.NewSecret("dapi-x")}})
		if err == nil || !strings.Contains(err.Error(), "plain http") {
			t.Errorf("host %s: want a refusal of plain http, got %v", host, err)
		}
	}
	// A loopback account whose workspace names a remote plain-http host.
	c, err := scim.New(scim.Config{HTTPClient: hc, Auth: auth.Settings{Host: "http://127.0.0.1:1", AccountID: emulator.DefaultAccountID, Level: model.LevelAccount, Token: auth.NewSecret("dapi-x")}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.WorkspaceTree(model.Workspace{ID: "1001", Host: "http://10.20.30.40"}); err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Errorf("workspace host http://10.20.30.40: want a refusal of plain http, got %v", err)
	}
	if n := ft.calls.Load(); n != 0 {
		t.Errorf("%d requests were attempted", n)
	}
}
