// Package emulator is an in-memory Databricks SCIM server. scimsync's tests, benchmarks and
// demo talk to it instead of a real Databricks account, so it reproduces the behaviour
// documented in shared/databricks-scim.md (cited below as §n) as closely as the sources
// allow, and makes every behaviour the sources leave open (the UNKNOWN list) configurable
// through Options.
//
// Package emulator imports the SCIM wire types of package scim and the domain model of
// package model, the standard library, and golang.org/x/time/rate. It imports nothing else
// from this project, and nothing in it imports "testing".
//
// # What it serves
//
//   - The account SCIM tree /api/2.0/accounts/{account_id}/scim/v2/{Users,Groups,
//     ServicePrincipals}[/{id}] and its workspace-host proxy /api/2.0/account/scim/v2/...
//     (§1.1, §1.3), at account level only.
//   - The workspace SCIM tree /api/2.0/preview/scim/v2/{Users,Groups,ServicePrincipals,Me}
//     (§1.2).
//   - Workspace permission assignments under /api/2.0/accounts/{account_id}/workspaces/
//     {workspace_id}/permissionassignments and the /api/2.0/preview/accounts/... alias (§1.5),
//     at account level only.
//   - OAuth machine-to-machine tokens: POST /oidc/accounts/{account_id}/v1/token, POST
//     /oidc/v1/token and the discovery document GET /oidc/.well-known/oauth-authorization-server
//     (§7).
//
// # Conventions of the emulator
//
// At account level the workspace tree is served as a unified host: the header
// X-Databricks-Workspace-Id (§1.4) chooses which workspace's view a request sees, and a
// request without it is answered with a 400 SCIM error naming the header. A workspace view
// shows the account principals assigned to that workspace (directly, or through an assigned
// group and its nested members), the account groups assigned to it, and the workspace-local
// groups, among them the built-in "admins" and "users" whose members follow the
// assignments (ADMIN and USER-or-ADMIN). Entitlements of account principals are stored per
// workspace and are read and written only through these views; the account tree has none
// (§2.3, §2.4, §6). Workspace responses carry X-Databricks-Org-Id. At workspace level the
// header is optional and must name the workspace itself.
//
// The token in Options.Token belongs to the user Options.MeUserName; tokens issued by the
// OAuth endpoints belong to the service principal whose applicationId is Options.ClientID.
// Both are created automatically: at workspace level in the "admins" and "users" groups, at
// account level with the account_admin role and an ADMIN assignment in every workspace.
// ManagedState leaves them out, together with the built-in groups.
//
// The OAuth endpoints are not rate limited, not counted against MaxConcurrent and never
// faulted: a client's token fetch has its own retrier (§5.2), and tests of SCIM throttling
// should not depend on when a token is refreshed. They are logged and counted.
//
// Errors of the SCIM trees are SCIM error bodies (§5.1) with status as a string. Errors of
// the permission assignment API use the Databricks REST shape {"error_code","message"}, and
// the OAuth endpoints answer with RFC 6749 error JSON.
package emulator
