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
//     ServicePrincipals}[/{id}] (§1.1) on the accounts host, and its proxy
//     /api/2.0/account/scim/v2/... (§1.3) on workspace hosts, at account level only.
//   - The workspace SCIM tree /api/2.0/preview/scim/v2/{Users,Groups,ServicePrincipals,Me}
//     (§1.2), at account level on each workspace's own host only.
//   - Workspace permission assignments under /api/2.0/accounts/{account_id}/workspaces/
//     {workspace_id}/permissionassignments and the /api/2.0/preview/accounts/... alias (§1.5),
//     at account level only.
//   - OAuth machine-to-machine tokens: POST /oidc/accounts/{account_id}/v1/token on the
//     accounts host; POST /oidc/v1/token and the discovery document GET
//     /oidc/.well-known/oauth-authorization-server on workspace hosts (§7).
//
// # Conventions of the emulator
//
// Hosts (hosts.go). An account-level emulator answers on one loopback listener for the
// accounts host and for every workspace's own host, telling them apart by the request's
// Host header: a Host that names a workspace's host (Options.WorkspaceHosts, by default
// https://dbc-ID.emulator.invalid) reaches that workspace's SCIM tree, the account SCIM
// proxy and the workspace OAuth endpoints, and nothing else; any other Host is the accounts
// host, which answers 404 for workspace SCIM paths (§1.1, §1.2). Clients reach the
// workspace hosts through scimsync's SCIMSYNC_HOST_OVERRIDES, which Run prints and
// TestServer.HostOverrides returns. Options.UnifiedHost also serves the workspace trees on
// the accounts host, where the header X-Databricks-Workspace-Id (§1.4) chooses the
// workspace and a request without it is answered with a 400 SCIM error naming the header;
// a header on a workspace host must name that workspace. The request log records each
// request's Host. A workspace view
// shows the account principals assigned to that workspace (directly, or through an assigned
// group and its nested members), the account groups assigned to it, and the workspace-local
// groups, among them the built-in "admins" and "users" whose members follow the
// assignments (ADMIN and USER-or-ADMIN). Entitlements of account principals are stored per
// workspace and are read and written only through these views; the account tree has none
// (§2.3, §2.4, §6). Workspace responses carry X-Databricks-Org-Id. At workspace level the
// header is optional and must name the workspace itself.
//
// Credentials have a scope (authz.go). The account APIs (account SCIM tree, permission
// assignments) need an account admin (the account_admin role, directly or through a
// group); a workspace's SCIM tree needs a workspace admin (assigned ADMIN, directly or
// through a group; at workspace level a member of admins), except GET /Me and GET of Users
// and Groups (§1.2); the account SCIM token (Options.AccountSCIMToken) works only on the
// account SCIM API (§7); and the tokens of a deactivated identity are refused with 401
// (issue 12, from Databricks' docs on deactivation). Other answers: 403 with a SCIM or
// REST error body.
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
//
// # Choices where the sources are silent
//
// Besides the behaviours Options makes configurable, the emulator settles these UNKNOWNs,
// each in the way that is stricter for a client:
//
//   - Lists are ordered by id, stably across pages; sortBy (userName, displayName,
//     applicationId, externalId, name.givenName, name.familyName) reorders them.
//   - A filter node is a comparison or an and/or; "not" and operators other than eq, ne, co
//     and sw are refused. Filterable attributes are id, userName, emails(.value),
//     name.givenName and name.familyName on users, applicationId on service principals, and
//     displayName, externalId and active where the resource has them; others get a 400.
//   - A bad path, a non-numeric or non-canonical id and an unsupported method get 405
//     "Endpoint not supported."; an unknown numeric id gets 404.
//   - A client-supplied id on create is ignored. groups on a user or service principal PUT
//     are ignored; PATCH of groups is refused with mutability. An absent active on PUT
//     means true.
//   - Adding a member id that does not exist (or is not visible in the view) is a 400
//     invalidValue "Member with id X does not exist.", unless IgnoreUnknownMembers is set.
//   - Creating a group with the name of an existing built-in group is the usual 409; a
//     reserved name of the other level (admins or users in an account) is a 400
//     invalidValue. Built-in groups cannot be deleted or renamed (400), the members of
//     "users" and "account users" follow the principals and cannot be edited, and
//     "admins" keeps workspace-access, allow-cluster-create and allow-instance-pool-create.
//   - Removing entitlements from a resource that has none is Databricks' 400 invalidPath;
//     removing an absent one from a non-empty set is a no-op. Entitlement names must be
//     ones Databricks knows; an empty value means none, as Terraform sends it.
//   - Through an account-level workspace view, a change of displayName of an account
//     object is refused (§2.3), other attributes change the account object, and entitlements
//     change only in that workspace.
//   - Limits are checked on create and membership changes: users plus service principals,
//     account groups (built-in ones count), direct memberships per principal (the automatic
//     "users" or "account users" membership counts) and nesting levels (a group without
//     group members is one level).
//   - DELETE of a permission assignment that does not exist succeeds.
package emulator
