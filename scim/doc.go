// Package scim is the Databricks SCIM 2.0 client: wire types, paging, PATCH forms, typed
// errors, Databricks authentication (tokens, OAuth client credentials, ~/.databrickscfg
// profiles), a rate-limited retrying transport, and Snapshot, which reads a whole account or
// workspace into the model.
//
// Package scim imports model, audit (to note each HTTP attempt in the trace apply puts in
// the request context) and redact (to redact the error bodies it parses). It satisfies the small interfaces the plan package declares for
// apply without importing plan.
//
// Beyond model it uses its own subpackage scim/auth, which resolves credentials and imports
// only model, the standard library and golang.org/x/oauth2, and the modules
// golang.org/x/time/rate and golang.org/x/sync/errgroup.
//
// # Entry points
//
// New builds a Client from a Config: explicit settings (auth.Settings) completed from the
// environment and ~/.databrickscfg (auth.Env). Client.Snapshot reads the live state into a
// model.State; the Create*, Update*, PatchMembers, Delete, SetWorkspacePermission and
// PatchWorkspaceEntitlements methods are apply's write calls; Users, Groups and
// ServicePrincipals give raw access to each resource; Stats reports what the transport did.
//
// # Against real services
//
// Lists are read defensively (Resource.List): a response that is not a consistent
// ListResponse is an error, never an empty account, and paging ends at totalResults, on a
// page that adds nothing new (an error unless totalResults was reached) or at an object
// cap tied to the account limits. Writes whose answer is lost (a dropped connection, 502,
// 503 or 504, a timeout) may have been executed: a create is looked up before it is sent
// again, and apply's creates adopt the object a 409 says exists, waiting for it to show
// in lists; a replayed DELETE's 404 and a replayed PATCH's remove of a value already gone
// count as done. The PATCH forms sent are the ones Databricks' sources document for each
// tree (patch.go cites them).
package scim
