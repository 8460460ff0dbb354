package e2e

import (
	"strings"
	"testing"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/synth"
)

// TestWorkspaceCallsGoToWorkspaceHosts plans and applies the example organisation, whose
// workspaces declare entitlements, and checks where every request went: workspace SCIM
// calls only to the host of the workspace they are about, never to the accounts host and
// never with the unified-host header; account calls only to the accounts host. Each host
// got its own OAuth token, from its own token endpoint (reference §1.2, §7).
func TestWorkspaceCallsGoToWorkspaceHosts(t *testing.T) {
	a := newAccount(t, emulator.Options{}, nil)
	if r := a.run(t, "apply", "--auto-approve"); r.code != 0 {
		t.Fatalf("apply: %s", r)
	}
	if r := a.run(t, "plan", "--detailed-exitcode"); r.code != 0 {
		t.Fatalf("plan after apply: %s", r)
	}
	byHost := map[string]string{} // host name → workspace id
	for id, h := range exampleHosts {
		byHost[strings.TrimPrefix(h, "https://")] = id
	}
	accountHost := strings.Split(strings.TrimPrefix(a.srv.URL, "http://"), ":")[0]
	wsCalls := map[string]int{}
	tokens := map[string]int{}
	for _, r := range a.srv.Requests() {
		ws, onWorkspace := byHost[r.Host]
		switch {
		case r.WorkspaceID != "":
			t.Errorf("%s %s carried %s %s: the unified-host form is opt-in only", r.Method, r.Path, emulator.HeaderWorkspaceID, r.WorkspaceID)
		case strings.HasPrefix(r.Path, "/api/2.0/preview/scim/v2"):
			if !onWorkspace {
				t.Errorf("workspace SCIM call %s %s went to %s, not to a workspace host", r.Method, r.Path, r.Host)
			}
			wsCalls[ws]++
		case r.Path == "/oidc/v1/token":
			if !onWorkspace {
				t.Errorf("workspace token fetched from %s", r.Host)
			}
			tokens[r.Host]++
		case strings.HasPrefix(r.Path, "/oidc/accounts/"):
			if r.Host != accountHost {
				t.Errorf("account token fetched from %s", r.Host)
			}
			tokens[r.Host]++
		case strings.HasPrefix(r.Path, "/oidc/"):
		default:
			if r.Host != accountHost {
				t.Errorf("account call %s %s went to %s", r.Method, r.Path, r.Host)
			}
		}
		if r.Status == 404 || r.Status == 401 {
			t.Errorf("%s %s on %s answered %d", r.Method, r.Path, r.Host, r.Status)
		}
	}
	for _, id := range exampleWorkspaces {
		if wsCalls[id] == 0 {
			t.Errorf("no SCIM call reached workspace %s's host", id)
		}
	}
	if len(tokens) != 3 {
		t.Errorf("tokens fetched per host %v, want one host each for the account and the two workspaces", tokens)
	}
}

// TestWorkspaceWithoutHost: a workspace without host: fails validation with its
// file:line, and plan sends nothing.
func TestWorkspaceWithoutHost(t *testing.T) {
	a := newAccount(t, emulator.Options{}, map[string]string{"ws.yaml": "workspaces:\n  - id: 3456789012345678\n    assignments:\n      - {group: engineering, permission: USER}\n"})
	r := a.run(t, "validate")
	if r.code != 1 || !strings.Contains(r.stdout, "extra/ws.yaml:2:5: error: workspace 3456789012345678 has no host") || !strings.Contains(r.stdout, "[no-workspace-host]") {
		t.Errorf("validate: %s", r)
	}
	a.srv.Reset()
	if r := a.run(t, "plan"); r.code != 1 || !strings.Contains(r.stdout+r.stderr, "ws.yaml:2:5") {
		t.Errorf("plan: %s", r)
	}
	if n := a.srv.RequestCount(); n != 0 {
		t.Errorf("plan sent %d requests with an invalid config", n)
	}
}

// TestSynthHostsAreTheEmulators keeps the generated states' workspace hosts equal to the
// emulator's default ones, which the convergence tests rely on.
func TestSynthHostsAreTheEmulators(t *testing.T) {
	if got, want := synth.WorkspaceHost("1001"), emulator.DefaultWorkspaceHost("1001"); got != want {
		t.Errorf("synth host %s, emulator host %s", got, want)
	}
}
