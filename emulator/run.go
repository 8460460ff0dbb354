package emulator

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/scimsync/scimsync/model"
)

// TB is the part of testing.TB that NewTestServer needs, so that this package does not
// import "testing".
type TB interface {
	Helper()
	Cleanup(func())
}

// TestServer is an emulator served on a loopback port.
type TestServer struct {
	// URL is the base URL, http://127.0.0.1:PORT, to use as DATABRICKS_HOST.
	URL string
	*Server
}

// AccountSCIM returns the base URL of the account SCIM tree.
func (ts *TestServer) AccountSCIM() string {
	return ts.URL + "/api/2.0/accounts/" + ts.opts.AccountID + "/scim/v2"
}

// WorkspaceSCIM returns the base URL of the workspace SCIM tree.
func (ts *TestServer) WorkspaceSCIM() string { return ts.URL + "/api/2.0/preview/scim/v2" }

// NewTestServer starts an emulator on 127.0.0.1 and closes it when the test ends. It
// panics if it cannot listen on a loopback port.
func NewTestServer(t TB, opts Options) *TestServer {
	t.Helper()
	s := New(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("emulator: listen on loopback: %v", err))
	}
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &TestServer{URL: "http://" + ln.Addr().String(), Server: s}
}

// Run serves an emulator on listen, which must be a loopback address ("127.0.0.1:0" picks
// a free port), until ctx is done. It first prints to out, as shell exports, the
// environment a Databricks client needs to talk to it: the host, the account id, one set
// of credentials (the OAuth client id and secret, so that no second credential makes a
// client refuse or pick the other one) and, at account level, SCIMSYNC_HOST_OVERRIDES,
// which sends each workspace host to the emulator (see hosts.go).
func Run(ctx context.Context, listen string, opts Options, out io.Writer) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("emulator listen address %q: %w", listen, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("emulator listen address %q: only loopback addresses are allowed", listen)
	}
	s := New(opts)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return fmt.Errorf("emulator: %w", err)
	}
	o := s.opts
	// One authorization method only, so that the lines work as pasted: clients refuse a
	// token and a client secret together (reference §7). Settings of another account
	// that may be in the shell are cleared first.
	fmt.Fprintf(out, "unset DATABRICKS_TOKEN DATABRICKS_AUTH_TYPE DATABRICKS_CONFIG_PROFILE DATABRICKS_ACCOUNT_ID DATABRICKS_WORKSPACE_ID\n")
	fmt.Fprintf(out, "export DATABRICKS_HOST=http://%s\n", ln.Addr())
	if o.Level == model.LevelAccount {
		fmt.Fprintf(out, "export DATABRICKS_ACCOUNT_ID=%s\n", o.AccountID)
	}
	fmt.Fprintf(out, "export DATABRICKS_CLIENT_ID=%s\n", o.ClientID)
	fmt.Fprintf(out, "export DATABRICKS_CLIENT_SECRET=%s\n", o.ClientSecret)
	if o.Level == model.LevelAccount {
		var overrides []string
		for _, id := range o.Workspaces {
			overrides = append(overrides, s.WorkspaceHost(id)+"=http://"+ln.Addr().String())
		}
		fmt.Fprintf(out, "export SCIMSYNC_HOST_OVERRIDES=%s\n", strings.Join(overrides, ","))
	}
	fmt.Fprintf(out, "# or a token instead: unset DATABRICKS_CLIENT_ID DATABRICKS_CLIENT_SECRET; export DATABRICKS_TOKEN=%s\n", o.Token)
	srv := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("emulator: %w", err)
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("emulator shutdown: %w", err)
	}
	return nil
}
