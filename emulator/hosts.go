package emulator

import (
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/scimsync/scimsync/model"
)

// Hosts. Databricks serves the account APIs on the accounts host and each workspace's SCIM
// tree on that workspace's own host (reference §1.1, §1.2); the X-Databricks-Workspace-Id
// header addresses a workspace only on unified hosts (§1.4). An account-level emulator
// therefore answers on one loopback listener for several hosts, told apart by the Host
// header of the request:
//
//   - a request whose Host is the host name of a workspace (Options.WorkspaceHosts) is a
//     request to that workspace: it reaches that workspace's SCIM tree, the account SCIM
//     proxy (§1.3) and the workspace's OAuth endpoints (§7), and nothing else;
//   - any other request is a request to the accounts host: it reaches the account SCIM
//     tree, the permission assignment API and the account OAuth endpoints, and gets 404 for
//     a workspace SCIM path, unless Options.UnifiedHost is set.
//
// Clients reach a workspace host by connecting to the emulator's loopback address and
// sending the workspace's host name in Host; scimsync does this for the hosts listed in
// SCIMSYNC_HOST_OVERRIDES (TestServer.HostOverrides and Run print them). A workspace-level
// emulator is one workspace whatever the Host.

// DefaultWorkspaceHost returns the host a workspace id gets when Options.WorkspaceHosts
// names none: https://dbc-ID.emulator.invalid. The .invalid top-level domain never
// resolves (RFC 2606), so a client that misses the override fails instead of reaching a
// real service.
func DefaultWorkspaceHost(id string) string { return "https://dbc-" + id + ".emulator.invalid" }

// WorkspaceHost returns the host (https://NAME) that serves workspace id's SCIM tree.
func (s *Server) WorkspaceHost(id string) string {
	if h := s.opts.WorkspaceHosts[id]; h != "" {
		return h
	}
	return DefaultWorkspaceHost(id)
}

// hostName returns the lower-cased host name of a host URL or a Host header, without port.
func hostName(h string) string {
	if strings.Contains(h, "://") {
		if u, err := url.Parse(h); err == nil {
			h = u.Host
		}
	}
	if name, _, err := net.SplitHostPort(h); err == nil {
		h = name
	}
	return strings.ToLower(strings.TrimSuffix(h, "."))
}

// hostWorkspace returns the workspace whose host the request is addressed to, by its Host
// header. At workspace level every request is addressed to the one workspace; at account
// level ok is false for the accounts host.
func (s *Server) hostWorkspace(r *http.Request) (ws string, ok bool) {
	if !s.st.accountLevel() {
		return s.opts.Workspaces[0], true
	}
	name := hostName(r.Host)
	for _, id := range s.opts.Workspaces {
		if hostName(s.WorkspaceHost(id)) == name {
			return id, true
		}
	}
	return "", false
}

// baseURL is the URL clients use for the host a request was addressed to: the workspace's
// https host for a workspace host of an account-level emulator, else the address the
// request came to, with the scheme the client used (an emulator served over TLS says
// https).
func (s *Server) baseURL(r *http.Request) string {
	if ws, ok := s.hostWorkspace(r); ok && s.st.accountLevel() {
		return s.WorkspaceHost(ws)
	}
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

// HostOverrides maps each workspace host to the test server's loopback URL, in the form
// scimsync's SCIMSYNC_HOST_OVERRIDES and target.hostOverrides take. It is empty at
// workspace level, where the server's URL is the workspace's.
func (ts *TestServer) HostOverrides() map[string]string {
	out := map[string]string{}
	if ts.opts.Level == model.LevelWorkspace {
		return out
	}
	for _, id := range ts.opts.Workspaces {
		out[ts.WorkspaceHost(id)] = ts.URL
	}
	return out
}
