// Package plan computes and carries out plans. Diff compares a desired state with a live
// one under a policy.Policy and returns a Plan: an ordered list of changes that is a plain
// value, serialised as a versioned plan file. Each Change carries a typed payload per
// action (see Change) and falls in one phase of the phase table (see Phase). Apply takes
// only a Plan and a Target, refuses stale plans, and carries the changes out phase by
// phase under the target's rate limit. Drift compares the same two states with the same
// matching rules and reports, object by object, what is missing, changed or unmanaged,
// without planning anything.
//
// Package plan imports model, policy and audit (apply's records); it never imports the
// SCIM client, which satisfies the Target interface declared here.
package plan
