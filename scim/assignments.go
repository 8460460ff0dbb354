package scim

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/scimsync/scimsync/model"
)

// assignmentsPath returns the permission-assignment path of a workspace, relative to the
// host.
func (c *Client) assignmentsPath(workspaceID string) string {
	return "/api/2.0/accounts/" + url.PathEscape(c.auth.AccountID) + "/workspaces/" + url.PathEscape(workspaceID) + "/permissionassignments"
}

func (c *Client) needAccount(what string) error {
	if c.auth.Level != model.LevelAccount {
		return fmt.Errorf("%s needs an account-level target; this client targets a workspace", what)
	}
	return nil
}

// accountCall sends one request to the account's (non-SCIM) REST API.
func (c *Client) accountCall(ctx context.Context, method, path string, in, out any) error {
	res, err := c.send(ctx, call{creds: c.home.creds, base: c.auth.Host, method: method, path: path, body: in, contentType: contentTypeJSON})
	if err != nil {
		return err
	}
	return decode(res, method, path, out)
}

// ListPermissionAssignments returns the principals assigned to a workspace (account level
// only). The API is not paginated.
func (c *Client) ListPermissionAssignments(ctx context.Context, workspaceID string) ([]PermissionAssignment, error) {
	if err := c.needAccount("listing workspace assignments"); err != nil {
		return nil, err
	}
	var out PermissionAssignments
	if err := c.accountCall(ctx, http.MethodGet, c.assignmentsPath(workspaceID), nil, &out); err != nil {
		return nil, fmt.Errorf("list assignments of workspace %s: %w", workspaceID, err)
	}
	return out.PermissionAssignments, nil
}

// PutPermissionAssignment assigns a principal to a workspace with the given permissions
// (USER or ADMIN), replacing what it had. A 200 response that carries an "error" is a
// failure.
func (c *Client) PutPermissionAssignment(ctx context.Context, workspaceID, principalID string, permissions []string) (*PermissionAssignment, error) {
	if err := c.needAccount("assigning principals to workspaces"); err != nil {
		return nil, err
	}
	path := c.assignmentsPath(workspaceID) + "/principals/" + url.PathEscape(principalID)
	var out PermissionAssignment
	if err := c.accountCall(ctx, http.MethodPut, path, UpdatePermissions{Permissions: permissions}, &out); err != nil {
		return nil, fmt.Errorf("assign principal %s to workspace %s: %w", principalID, workspaceID, err)
	}
	if out.Error != "" {
		return nil, fmt.Errorf("assign principal %s to workspace %s: %s", principalID, workspaceID, out.Error)
	}
	return &out, nil
}

// DeletePermissionAssignment removes a principal's assignment to a workspace.
func (c *Client) DeletePermissionAssignment(ctx context.Context, workspaceID, principalID string) error {
	if err := c.needAccount("removing workspace assignments"); err != nil {
		return err
	}
	path := c.assignmentsPath(workspaceID) + "/principals/" + url.PathEscape(principalID)
	var out PermissionAssignment
	if err := c.accountCall(ctx, http.MethodDelete, path, nil, &out); err != nil {
		return fmt.Errorf("remove principal %s from workspace %s: %w", principalID, workspaceID, err)
	}
	if out.Error != "" {
		return fmt.Errorf("remove principal %s from workspace %s: %s", principalID, workspaceID, out.Error)
	}
	return nil
}
