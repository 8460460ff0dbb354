package scim

import (
	"slices"
	"strconv"

	"github.com/scimsync/scimsync/model"
)

// PATCH operation names, lower-cased as Databricks' SDK sends them.
const (
	OpAdd     = "add"
	OpRemove  = "remove"
	OpReplace = "replace"
)

// AddMembers returns the operation that adds members by SCIM id:
// {"op":"add","path":"members","value":[{"value":id},...]}, the form Terraform's
// group_member resource sends to both trees (reference §4.2 item 1,
// tf:scim/resource_group_member.go).
func AddMembers(ids []string) Operation {
	return Operation{Op: OpAdd, Path: "members", Value: values(ids)}
}

// RemoveMember returns the operation that removes one member by SCIM id:
// {"op":"remove","path":"members[value eq \"id\"]"}, with no value, which the account
// backend would reject (reference §4.2 item 3, Terraform's fix in PR #3374); the same form
// works on workspaces.
func RemoveMember(id string) Operation {
	return Operation{Op: OpRemove, Path: MemberFilterPath("members", id)}
}

// MemberOps returns one add operation for all ids in add, then one remove operation per id
// in remove. It returns nil when both are empty.
func MemberOps(add, remove []string) []Operation {
	var ops []Operation
	if len(add) > 0 {
		ops = append(ops, AddMembers(add))
	}
	for _, id := range remove {
		ops = append(ops, RemoveMember(id))
	}
	return ops
}

// Replace returns {"op":"replace","path":path,"value":value}.
func Replace(path string, value any) Operation {
	return Operation{Op: OpReplace, Path: path, Value: value}
}

// RoleOps returns the operations that turn the roles from into to: one add with every new
// role, and one filtered remove per dropped role, roles[value eq "r"] with no value, the
// forms of Terraform's role resources (reference §4.2 item 4, tf:scim/resource_group_role.go).
func RoleOps(from, to []string) []Operation {
	add, remove := setDiff(from, to)
	var ops []Operation
	if len(add) > 0 {
		ops = append(ops, Operation{Op: OpAdd, Path: "roles", Value: values(add)})
	}
	for _, r := range remove {
		ops = append(ops, Operation{Op: OpRemove, Path: MemberFilterPath("roles", r)})
	}
	return ops
}

// EntitlementOps returns the operations that add and remove entitlements (workspace SCIM
// only): {"op":"add","path":"entitlements","value":[...]} and
// {"op":"remove","path":"entitlements","value":[...]}. The remove carries its values, the
// form Terraform sends to workspaces (reference §4.2 item 5); the workspace backend accepts
// it, unlike the account backend's remove.
func EntitlementOps(add, remove []string) []Operation {
	var ops []Operation
	if len(add) > 0 {
		ops = append(ops, Operation{Op: OpAdd, Path: "entitlements", Value: values(add)})
	}
	if len(remove) > 0 {
		ops = append(ops, Operation{Op: OpRemove, Path: "entitlements", Value: values(remove)})
	}
	return ops
}

// scalarOp appends a replace of path when the value changed, or a remove when it was
// cleared. displayName is replaced as UCX and Terraform rename groups (reference §4.2 item
// 7); externalId and name.givenName/name.familyName, which no Databricks source patches,
// use the same RFC 7644 §3.5.2.3 replace (and §3.5.2.2 remove), which the UnboundID-based
// backend implements generically.
func scalarOp(ops []Operation, path, from, to string) []Operation {
	switch {
	case from == to:
		return ops
	case to == "":
		return append(ops, Operation{Op: OpRemove, Path: path})
	default:
		return append(ops, Replace(path, to))
	}
}

// activeOp appends a replace of active when it changed, in the form documented for the
// tree (reference §4.2 item 6; no source documents a JSON boolean): on a workspace tree the
// string the Go SDK's acceptance test sends, {"op":"replace","path":"active","value":"false"}
// (sdk:internal/scim_test.go); on the account tree Terraform's list form,
// {"op":"replace","path":"active","value":[{"value":"false"}]}, which its user resource
// sends to real accounts to deactivate (tf:scim/resource_user.go Delete).
func activeOp(ops []Operation, from, to bool, workspace bool) []Operation {
	if from == to {
		return ops
	}
	v := strconv.FormatBool(to)
	if workspace {
		return append(ops, Replace("active", v))
	}
	return append(ops, Replace("active", []ComplexValue{{Value: v}}))
}

// UserOps returns the minimal PATCH that turns user from into to: displayName,
// name.givenName, name.familyName, externalId and active replaced when changed, roles added
// and removed, and, on a workspace tree (workspace), entitlements added and removed.
// userName is immutable and ignored. Equal users give no operations.
func UserOps(from, to *model.User, workspace bool) []Operation {
	var ops []Operation
	ops = scalarOp(ops, "displayName", from.DisplayName, to.DisplayName)
	ops = scalarOp(ops, "name.givenName", from.GivenName, to.GivenName)
	ops = scalarOp(ops, "name.familyName", from.FamilyName, to.FamilyName)
	ops = scalarOp(ops, "externalId", from.ExternalID, to.ExternalID)
	ops = activeOp(ops, from.Active, to.Active, workspace)
	ops = append(ops, RoleOps(from.Roles, to.Roles)...)
	if workspace {
		ops = append(ops, EntitlementOps(setDiff(from.Entitlements, to.Entitlements))...)
	}
	return ops
}

// ServicePrincipalOps returns the minimal PATCH that turns service principal from into to:
// displayName, externalId and active, roles, and (workspace tree) entitlements.
// applicationId is immutable and ignored.
func ServicePrincipalOps(from, to *model.ServicePrincipal, workspace bool) []Operation {
	var ops []Operation
	ops = scalarOp(ops, "displayName", from.DisplayName, to.DisplayName)
	ops = scalarOp(ops, "externalId", from.ExternalID, to.ExternalID)
	ops = activeOp(ops, from.Active, to.Active, workspace)
	ops = append(ops, RoleOps(from.Roles, to.Roles)...)
	if workspace {
		ops = append(ops, EntitlementOps(setDiff(from.Entitlements, to.Entitlements))...)
	}
	return ops
}

// GroupOps returns the minimal PATCH that turns group from into to: displayName (a
// rename), externalId, roles, and (workspace tree) entitlements. Members are left alone.
func GroupOps(from, to *model.Group, workspace bool) []Operation {
	var ops []Operation
	ops = scalarOp(ops, "displayName", from.DisplayName, to.DisplayName)
	ops = scalarOp(ops, "externalId", from.ExternalID, to.ExternalID)
	ops = append(ops, RoleOps(from.Roles, to.Roles)...)
	if workspace {
		ops = append(ops, EntitlementOps(setDiff(from.Entitlements, to.Entitlements))...)
	}
	return ops
}

// setDiff returns the values in to but not in from (add) and in from but not in to
// (remove), each sorted and de-duplicated. It does not modify its arguments.
func setDiff(from, to []string) (add, remove []string) {
	f := model.SortedSet(slices.Clone(from))
	t := model.SortedSet(slices.Clone(to))
	for _, v := range t {
		if _, ok := slices.BinarySearch(f, v); !ok {
			add = append(add, v)
		}
	}
	for _, v := range f {
		if _, ok := slices.BinarySearch(t, v); !ok {
			remove = append(remove, v)
		}
	}
	return add, remove
}
