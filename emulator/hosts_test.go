package emulator

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestHostRouting(t *testing.T) {
	c := newClient(t, fast(Options{WorkspaceHosts: map[string]string{"1002": "https://Team-B.cloud.databricks.com"}}))
	uid := c.createUser("u@x.com")
	c.do("PUT", assignPath("1001", "/principals/"+uid), map[string]any{"permissions": []string{"USER"}}).must(t, 200)

	// The accounts host answers 404 for a workspace tree, with or without the header.
	c.do("GET", wsp("Users"), nil).must(t, 404)
	hdr := *c
	hdr.ws = ""
	r := hdr.withHeader("1001").do("GET", wsp("Users"), nil).must(t, 404)
	if r.str("error_code") != "ENDPOINT_NOT_FOUND" {
		t.Errorf("workspace path on the accounts host: %s", r.raw)
	}

	// A workspace's own host serves its tree, and only the account SCIM proxy besides.
	ws1 := c.inWorkspace("1001")
	if got := len(ws1.do("GET", wsp("Users"), nil).must(t, 200).list()); got != 2 { // u and the token owner
		t.Errorf("workspace 1001 lists %d users, want 2", got)
	}
	ws1.do("GET", c.acct("Users"), nil).must(t, 404)
	ws1.do("GET", assignPath("1001", ""), nil).must(t, 404)
	ws1.withHeader("1002").do("GET", wsp("Users"), nil).wantSCIMError(t, 404, "", "Workspace 1002 does not exist.")
	ws1.withHeader("1001").do("GET", wsp("Users"), nil).must(t, 200)

	// A configured host name is matched without case; the default one is under .invalid.
	if got := c.ts.WorkspaceHost("1001"); got != "https://dbc-1001.emulator.invalid" {
		t.Errorf("default host %s", got)
	}
	if got := len(c.inWorkspace("1002").do("GET", wsp("Users"), nil).must(t, 200).list()); got != 1 {
		t.Errorf("workspace 1002 lists %d users, want 1 (the token owner)", got)
	}
	want := map[string]string{"https://dbc-1001.emulator.invalid": c.ts.URL, "https://team-b.cloud.databricks.com": c.ts.URL}
	if diff := cmp.Diff(want, c.ts.HostOverrides()); diff != "" {
		t.Errorf("HostOverrides (-want +got):\n%s", diff)
	}
	reqs := c.ts.Requests()
	if h := reqs[len(reqs)-1].Host; h != "team-b.cloud.databricks.com" {
		t.Errorf("request log host %q", h)
	}
}

func TestUnifiedHost(t *testing.T) {
	c := newClient(t, fast(Options{UnifiedHost: true}))
	uid := c.createUser("u@x.com")
	// Without the header the workspace tree cannot be addressed on the accounts host.
	c.do("GET", wsp("Users"), nil).wantSCIMError(t, 400, "invalidValue", "X-Databricks-Workspace-Id")
	c.withHeader("77").do("GET", wsp("Users"), nil).wantSCIMError(t, 404, "", "Workspace 77 does not exist.")
	if got := len(c.withHeader("1001").do("GET", wsp("Users"), nil).must(t, 200).list()); got != 1 {
		t.Errorf("workspace 1001 lists %d users, want 1", got)
	}
	c.do("GET", "/api/2.0/account/scim/v2/Users/"+uid, nil).must(t, 200)
}
