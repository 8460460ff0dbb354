// Package scim is the Databricks SCIM 2.0 client: wire types, paging, PATCH forms, typed
// errors, Databricks authentication (tokens, OAuth client credentials, ~/.databrickscfg
// profiles), a rate-limited retrying transport, and Snapshot, which reads a whole account or
// workspace into the model.
//
// Package scim imports model only. It satisfies the small interfaces the plan package
// declares for apply without importing plan.
package scim
