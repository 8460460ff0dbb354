package plan

import (
	"context"

	"github.com/scimsync/scimsync/model"
)

// Target is what apply needs of a Databricks account or workspace: a fresh read of the live
// state (to refuse stale plans) and the write calls of each phase. The SCIM client
// satisfies it without importing this package.
//
// Create calls must never create twice: when the outcome of a create is unknown (a dropped
// connection), the implementation checks whether the object exists before it retries.
type Target interface {
	// Snapshot reads the live state: every user, service principal and group with members,
	// and, for each workspace given, its assignments (and at account level the entitlements
	// principals have in it). Live objects carry their SCIM ids.
	Snapshot(ctx context.Context, workspaces []model.Workspace) (*model.State, error)

	CreateUser(ctx context.Context, u *model.User) (id string, err error)
	CreateServicePrincipal(ctx context.Context, sp *model.ServicePrincipal) (id, applicationID string, err error)
	// CreateGroup creates a group without members; members are added in a later phase.
	CreateGroup(ctx context.Context, g *model.Group) (id string, err error)

	// UpdateUser changes the attributes that differ between from and to: displayName, name,
	// externalId, active, roles, and (at workspace level) entitlements. userName is immutable.
	UpdateUser(ctx context.Context, id string, from, to *model.User) error
	UpdateServicePrincipal(ctx context.Context, id string, from, to *model.ServicePrincipal) error
	// UpdateGroup changes displayName (a rename), externalId, roles and (at workspace level)
	// entitlements. Members are changed with PatchMembers.
	UpdateGroup(ctx context.Context, id string, from, to *model.Group) error
	// PatchMembers adds and removes direct members of a group, by member SCIM id, in one
	// PATCH request.
	PatchMembers(ctx context.Context, groupID string, add, remove []string) error
	Delete(ctx context.Context, kind model.Kind, id string) error

	// SetWorkspacePermission assigns a principal to a workspace as USER or ADMIN; an empty
	// permission removes the assignment.
	SetWorkspacePermission(ctx context.Context, workspaceID, principalID, permission string) error
	// PatchWorkspaceEntitlements adds and removes entitlements of an account principal in
	// one workspace (account level only).
	PatchWorkspaceEntitlements(ctx context.Context, ws model.Workspace, kind model.Kind, principalID string, add, remove []string) error
}

// MemberCreator is implemented by targets that can create a group together with its first
// direct members (members are optional on a SCIM group create). Apply then creates users
// and service principals before groups, each group after the new groups nested in it, and
// sends up to BatchSize of a new group's members with its create: one request per new
// group instead of a create and a membership PATCH. The SCIM client implements it.
type MemberCreator interface {
	// CreateGroupWithMembers creates a group (without g.Members) with the members given by
	// SCIM id and returns its id, with CreateGroup's guarantee against creating twice.
	CreateGroupWithMembers(ctx context.Context, g *model.Group, memberIDs []string) (id string, err error)
}
