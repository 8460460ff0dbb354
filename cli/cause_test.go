package cli

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
)

// TestRootCauseGolden renders, as the user sees it, each error whose root cause scimsync
// names first, wrapped as the live-state read wraps it. The output is in
// testdata/errors.golden; -update rewrites it.
func TestRootCauseGolden(t *testing.T) {
	const token = "http://127.0.0.1:8765/oidc/accounts/a1b2c3d4-0000-4000-8000-000000000001/v1/token"
	wrap := func(err error) error {
		return fmt.Errorf("read live state: read entitlements in workspace 1234567890123456: list Groups: %w", err)
	}
	refused := &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}, Err: os.NewSyscallError("connect", syscall.ECONNREFUSED)}
	cases := map[string]error{
		"wrong client secret": wrap(&auth.TokenError{Endpoint: token, Status: http.StatusUnauthorized, Code: "invalid_client", Description: "Client authentication failed."}),
		"wrong account id, OAuth": wrap(&auth.TokenError{Endpoint: strings.Replace(token, "a1b2c3d4-0000-4000-8000-000000000001", "ffffffff-0000-4000-8000-000000000009", 1),
			Status: http.StatusNotFound, Code: "not_found", Description: "No such OAuth endpoint."}),
		"wrong workspace host, OAuth": wrap(&auth.TokenError{Endpoint: "https://example.com/oidc/.well-known/oauth-authorization-server", Status: http.StatusNotFound}),
		"wrong account id, token": wrap(&scim.Error{Status: 404, Detail: "Account ffffffff-0000-4000-8000-000000000009 does not exist.", Method: "GET",
			Path: "/api/2.0/accounts/ffffffff-0000-4000-8000-000000000009/scim/v2/Users"}),
		"wrong token":        wrap(&scim.Error{Status: 401, Detail: "Invalid access token.", Method: "GET", Path: "/api/2.0/preview/scim/v2/Users"}),
		"wrong token, pat":   wrap(&scim.Error{Status: 401, Detail: "Invalid access token.", Method: "GET", Path: "/api/2.0/preview/scim/v2/Users", AuthType: auth.AuthPAT}),
		"not an admin":       wrap(&scim.Error{Status: 403, Detail: "Only admins can do this.", Method: "POST", Path: "/api/2.0/preview/scim/v2/Users"}),
		"closed port":        wrap(fmt.Errorf("GET /api/2.0/preview/scim/v2/Users: %w", &url.Error{Op: "Get", URL: "http://127.0.0.1:1/api/2.0/preview/scim/v2/Users", Err: refused})),
		"closed port, OAuth": wrap(&auth.TokenError{Endpoint: "http://127.0.0.1:1/oidc/v1/token", Err: &url.Error{Op: "Post", URL: "http://127.0.0.1:1/oidc/v1/token", Err: refused}}),
		"unknown host":       wrap(&url.Error{Op: "Get", URL: "https://nonexistent.invalid/api", Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Name: "nonexistent.invalid", Err: "no such host", IsNotFound: true}}}),
		"missing scheme":     wrap(&auth.TokenError{Endpoint: "https://127.0.0.1:8765/oidc/v1/token", Err: &url.Error{Op: "Post", URL: "https://127.0.0.1:8765/oidc/v1/token", Err: http.ErrSchemeMismatch}}),
		"other errors pass":  wrap(&scim.Error{Status: 404, Detail: "User not found.", Method: "GET", Path: "/api/2.0/preview/scim/v2/Users/42"}),
	}
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	var got bytes.Buffer
	for _, name := range names {
		fmt.Fprintf(&got, "# %s\n", name)
		if code := report(&got, cases[name]); code != ExitError {
			t.Errorf("%s: exit %d", name, code)
		}
		fmt.Fprintln(&got)
	}
	golden.Check(t, filepath.Join("testdata", "errors.golden"), got.Bytes())
	for _, name := range names {
		if name == "other errors pass" {
			continue
		}
		var e *Error
		if !errors.As(rootCause(cases[name]), &e) || strings.HasPrefix(e.Error(), "read live state") || strings.Count(got.String(), e.Hint) != strings.Count(got.String(), "hint: "+e.Hint) {
			t.Errorf("%s: not explained, or the hint shows twice: %v", name, rootCause(cases[name]))
		}
	}
}
