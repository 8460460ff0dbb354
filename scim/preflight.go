package scim

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim/auth"
)

// Preflight checks, with a few cheap requests and before anything is planned or applied,
// that the credentials can do everything a config with these workspaces needs:
//
//   - at account level, the account SCIM API (one GET of one user) and, for each
//     workspace, the permission assignment API (its list of permission levels, reference
//     §1.5) and the workspace's own SCIM API as a workspace admin;
//   - at workspace level, the workspace SCIM API as a workspace admin.
//
// Being a workspace admin is tested by listing one service principal, which only workspace
// admins may do (§1.2); an ADMIN assignment makes an account principal one (§1.5). Each
// credential is asked only
// on the host it is for (an OAuth token per host, §7), so an account SCIM token, which
// works only on the account SCIM API, or a personal access token of one workspace, fail
// here and not half-way through an apply.
//
// It returns nil or a *PreflightError that lists every problem found, each with its fix.
// Errors that are not about permissions (an OAuth secret or account the token endpoint
// rejects, a network failure, a 5xx after retries) are returned as they are, first.
func (c *Client) Preflight(ctx context.Context, workspaces []model.Workspace) error {
	var (
		mu       sync.Mutex
		problems []Problem
		other    error
		wg       sync.WaitGroup
	)
	add := func(p *Problem, err error) {
		mu.Lock()
		defer mu.Unlock()
		switch {
		case p != nil:
			problems = append(problems, *p)
		case err != nil && other == nil:
			other = err
		}
	}
	do := func(f func() (*Problem, error)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			add(f())
		}()
	}
	if c.auth.Level == model.LevelWorkspace {
		do(func() (*Problem, error) { return c.checkWorkspaceAdmin(ctx, c.home, c.auth.WorkspaceID, c.auth.Host) })
	} else {
		do(func() (*Problem, error) { return c.checkAccountSCIM(ctx) })
		for _, ws := range workspaces {
			do(func() (*Problem, error) { return c.checkAssignments(ctx, ws.ID) })
			do(func() (*Problem, error) {
				tree, err := c.WorkspaceTree(ws)
				if err != nil {
					return nil, err
				}
				host := ws.Host
				if host == "" {
					host = c.auth.Host
				}
				return c.checkWorkspaceAdmin(ctx, tree, ws.ID, host)
			})
		}
	}
	wg.Wait()
	if other != nil {
		// Failures that are not about permissions (a rejected OAuth secret, an unknown
		// account, a refused connection) come first: they are the root cause.
		return other
	}
	if len(problems) > 0 {
		return &PreflightError{Identity: c.describeCredentials(), Problems: sortProblems(problems)}
	}
	return nil
}

// Problem is one thing the credentials cannot do.
type Problem struct {
	What string // what was tried: "the account SCIM API at https://accounts...", ...
	Why  string // what went wrong
	Fix  string // what to do about it
}

// PreflightError lists what the credentials cannot do that the config needs.
type PreflightError struct {
	Identity string // the credentials, described without secrets
	Problems []Problem
}

// Error lists the problems, one per line after the first.
func (e *PreflightError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "the credentials (%s) cannot do what the config needs; nothing was planned or changed:", e.Identity)
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  - %s: %s; %s", p.What, p.Why, p.Fix)
	}
	return b.String()
}

// Hint says how to go on.
func (e *PreflightError) Hint() string {
	return "fix the permissions or credentials above and run the command again; see README \"Connecting to Databricks\""
}

func sortProblems(ps []Problem) []Problem {
	out := slices.Clone(ps)
	slices.SortFunc(out, func(a, b Problem) int { return strings.Compare(a.What, b.What) })
	return out
}

// describeCredentials names the credentials without secrets.
func (c *Client) describeCredentials() string {
	if c.auth.AuthType == auth.AuthOAuthM2M {
		return "OAuth service principal " + c.auth.ClientID
	}
	if c.auth.Level == model.LevelAccount {
		return "a token at account level"
	}
	return "a token"
}

// The APIs Preflight checks.
type api int

const (
	apiAccountSCIM api = iota // the account SCIM API
	apiAssignments            // the account's permission assignment API
	apiWorkspace              // a workspace's SCIM API
)

// credentialsFix is the fix for credentials a host rejected.
func (c *Client) credentialsFix(a api) string {
	oauthHint := "OAuth (" + auth.EnvClientID + " and " + auth.EnvClientSecret + ") of a service principal that is an account admin and ADMIN in every declared workspace"
	switch {
	case c.auth.AuthType != auth.AuthPAT && c.auth.AuthType != auth.AuthOAuthM2M:
		return RejectedHint(c.auth.AuthType)
	case c.auth.AuthType == auth.AuthOAuthM2M && a == apiWorkspace:
		return "check that the service principal " + c.auth.ClientID + " is in the account and assigned to this workspace"
	case c.auth.AuthType == auth.AuthOAuthM2M:
		return "check " + auth.EnvClientID + " and " + auth.EnvClientSecret + " and that the service principal is in account " + c.auth.AccountID
	case c.auth.Level == model.LevelAccount && a != apiAccountSCIM:
		return "a token works only where it was issued (the account SCIM token only on the account SCIM API, a personal access token only in its own workspace, and neither once its owner is deactivated): use " + oauthHint
	case c.auth.Level == model.LevelAccount:
		return "use a current account SCIM token, or " + oauthHint
	}
	return "use a current personal access token of a workspace admin (it stops working when its owner is deactivated), or OAuth (" + auth.EnvClientID + " and " + auth.EnvClientSecret + ")"
}

// classify turns the error of a check into a problem, or returns it when it is not about
// the credentials.
func (c *Client) classify(what string, err error, a api) (*Problem, error) {
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, new(*auth.TokenError)):
		// The client secret or the account is wrong for every host: the caller's error
		// mapping says so better than a list would.
		return nil, err
	case IsUnauthorized(err):
		return &Problem{What: what, Why: "the credentials were rejected (401)", Fix: c.credentialsFix(a)}, nil
	case IsForbidden(err) && c.auth.AuthType == auth.AuthPAT && c.auth.Level == model.LevelAccount && a != apiAccountSCIM:
		// A token outside its scope: the account SCIM token on other APIs, a PAT on
		// account APIs.
		return &Problem{What: what, Why: "permission denied (403)", Fix: c.credentialsFix(a)}, nil
	case IsForbidden(err):
		fix := "make the identity an account admin (account console → User management → its Roles)"
		if a == apiWorkspace {
			fix = "assign the identity ADMIN in this workspace (account console → Workspaces → Permissions, or workspaces[].assignments with permission: ADMIN)"
		}
		return &Problem{What: what, Why: "permission denied (403)", Fix: fix}, nil
	case IsNotFound(err) && a != apiWorkspace:
		return &Problem{What: what, Why: "not found (404)", Fix: "check the account id (" + auth.EnvAccountID + ") and that the workspace belongs to the account"}, nil
	case IsNotFound(err):
		return &Problem{What: what, Why: "not found (404)", Fix: "check the workspace's host: it must be the workspace's own URL"}, nil
	}
	return nil, err
}

// checkAccountSCIM reads one user of the account SCIM API.
func (c *Client) checkAccountSCIM(ctx context.Context) (*Problem, error) {
	q := url.Values{"count": {"1"}, "attributes": {"id"}}
	err := c.home.json(ctx, http.MethodGet, "/Users", q, nil, nil, nil)
	return c.classify("the account SCIM API at "+c.auth.Host, err, apiAccountSCIM)
}

// checkAssignments reads the permission levels of a workspace's assignment API (§1.5), a
// small answer that needs the same rights as the assignments themselves.
func (c *Client) checkAssignments(ctx context.Context, workspaceID string) (*Problem, error) {
	err := c.accountCall(ctx, http.MethodGet, c.assignmentsPath(workspaceID)+"/permissions", nil, nil)
	return c.classify("workspace "+workspaceID+" assignments at "+c.auth.Host, err, apiAssignments)
}

// checkWorkspaceAdmin reads one service principal of the workspace's SCIM tree: only
// workspace admins may list service principals (non-admins may call only /Me and read
// Users and Groups, reference §1.2), and scimsync needs an admin there to read
// entitlements and to change anything.
func (c *Client) checkWorkspaceAdmin(ctx context.Context, tree *Tree, workspaceID, host string) (*Problem, error) {
	what := "the SCIM API of workspace " + workspaceID + " at " + host
	if workspaceID == "" {
		what = "the workspace SCIM API at " + host
	}
	err := tree.json(ctx, http.MethodGet, "/ServicePrincipals", url.Values{"count": {"1"}, "attributes": {"id"}}, nil, nil, nil)
	p, err := c.classify(what, err, apiWorkspace)
	if p != nil && p.Why == "permission denied (403)" {
		p.Why = "the identity is not a workspace admin there, and scimsync needs one to read entitlements and change identities"
	}
	return p, err
}
