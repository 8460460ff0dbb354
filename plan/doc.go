// Package plan computes and carries out plans. Diff compares a desired state with a live
// one under a policy.Policy and returns a Plan: an ordered list of changes that is a plain
// value, serialised as a versioned plan file. Each Change carries a typed payload per
// action (see Change) and falls in one phase of the phase table (see Phase). Apply takes
// only a Plan and a Target, refuses stale plans, and carries the changes out phase by
// phase under the target's rate limit. Drift compares the same two states with the same
// matching rules and reports, object by object, what is missing, changed or unmanaged,
// without planning anything.
//
// A new action is declared with its payload in plan.go (the Action, a row of Change's
// contract table, a case of Change.check), put in a phase by the table in phase.go,
// produced by Diff (diff.go) and carried out by apply (apply.go, through a new Target
// method when the SCIM client needs one). Package render shows it once it has an entry in
// render's actionViews, and schemas/plan.schema.json documents its payload.
//
// Package plan imports model, policy and audit (apply's records); it never imports the
// SCIM client, which satisfies the Target interface declared here.
package plan
