// Package emulator is an in-memory Databricks SCIM server. scimsync's tests, benchmarks and
// demo talk to it instead of a real Databricks account, so it reproduces the behaviour
// documented in shared/databricks-scim.md (cited below as §n) as closely as the sources
// allow, and makes every behaviour the sources leave open (the UNKNOWN list) configurable
// through Options.
//
// It is strict by default: it accepts only the request shapes the reference documents
// (JSON media types, schemas, known fields of documented types, documented PATCH forms)
// and answers the rest as Databricks would; Options.Lenient turns that off. The table of
// every behaviour, its default, the option that changes it and its source is in
// docs/emulator.md; Unknowns names each UNKNOWN setting, and Faults each injected fault.
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
//   - OAuth tokens: POST /oidc/accounts/{account_id}/v1/token on the accounts host; POST
//     /oidc/v1/token and the discovery document GET /oidc/.well-known/oauth-authorization-server
//     on workspace hosts (§7), with the client-credentials grant and the RFC 8693
//     token-exchange grant of workload identity federation (Options.Federation;
//     sdk:config/experimental/auth/oidc/tokensource.go).
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
// (§2.3, §2.4, §6). Workspace responses carry X-Databricks-Org-Id, and requests may use it
// as the legacy name of X-Databricks-Workspace-Id (§7). At workspace level the header is
// optional and must name the workspace itself.
//
// The token in Options.Token belongs to the user Options.MeUserName; tokens issued by the
// OAuth endpoints belong to the service principal whose applicationId is Options.ClientID
// (a UUID), and /Me answers them with a user-shaped object whose userName is that
// applicationId (§7).
// Both are created automatically: at workspace level in the "admins" and "users" groups, at
// account level with the account_admin role and an ADMIN assignment in every workspace.
// ManagedState leaves them out, together with the built-in groups.
//
// Tokens have a kind, an owner and a scope (tokens.go; issue 12 point 2):
//
//   - TokenAccountSCIM opens the account SCIM tree only, not workspace trees nor the
//     assignment API: seed 002 says the account SCIM token "is restricted to the Account
//     SCIM API … and cannot be used to authenticate to other Databricks REST APIs".
//   - TokenPAT belongs to a user in one workspace (§7: "workspace-scoped") and opens only
//     that workspace's tree; account APIs refuse it unless AllowPATOnAccount (UNKNOWN, §7).
//   - Deactivating or deleting the owner of a PAT or OAuth token makes it fail with 401
//     (seed 000: tokens stop working).
//   - TokenOAuth tokens are minted for the host they were requested from (r.Host) and are
//     refused on any other, so that per-workspace hosts each need their own token (§7:
//     the account token endpoint for the account host, each workspace's for its host).
//     Their owner acts on account APIs only with the account_admin role, and on a
//     workspace's tree only where it is an admin (ADMIN assignment at account level, the
//     admins group at workspace level) (seed 002); otherwise the answer is 403.
//   - With Options.Entra, Entra ID access tokens of the tenant for the Azure Databricks
//     application (2ff814a6-3304-4ab8-85cb-cd0e6f879c1d) are OAuth tokens of the service
//     principal named by appid, or of the user named by upn (sdk:config/auth_azure_*.go).
//   - Options.Token is TokenAny unless Options.TokenKind says otherwise: it opens every API,
//     the behaviour tests that are not about credential scope rely on.
//
// The OAuth endpoints are not rate limited, not counted against MaxConcurrent and never
// faulted (discovery answers with the scheme the client used): a client's token fetch has its own retrier (§5.2), and tests of SCIM throttling
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
