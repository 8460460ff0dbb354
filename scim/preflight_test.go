package scim_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
)

// preflightFixture starts an account-level emulator with two workspaces and returns a
// client with the given credentials and the declared workspaces.
func preflightFixture(t *testing.T, set auth.Settings) (*emulator.TestServer, *scim.Client, []model.Workspace) {
	t.Helper()
	emu := emulator.NewTestServer(t, emulator.Options{RateLimit: -1})
	if _, err := emu.IssueToken(emulator.TokenSpec{Kind: emulator.TokenAccountSCIM, Value: "scim-token"}); err != nil {
		t.Fatal(err)
	}
	set.Host, set.AccountID, set.Level = emu.URL, emulator.DefaultAccountID, model.LevelAccount
	c, err := scim.New(scim.Config{Auth: set, HostOverrides: emu.HostOverrides()})
	if err != nil {
		t.Fatal(err)
	}
	var wss []model.Workspace
	for _, id := range emu.Options().Workspaces {
		wss = append(wss, model.Workspace{ID: id, Host: emu.WorkspaceHost(id)})
	}
	return emu, c, wss
}

var oauth = auth.Settings{ClientID: emulator.DefaultClientID, ClientSecret: auth.NewSecret(emulator.DefaultClientSecret)}

func TestPreflightPasses(t *testing.T) {
	emu, c, wss := preflightFixture(t, oauth)
	if err := c.Preflight(context.Background(), wss); err != nil {
		t.Fatal(err)
	}
	// One account SCIM read, and per workspace one assignment read and one SCIM read,
	// besides the OAuth token fetches.
	n := 0
	for _, r := range emu.Requests() {
		if !strings.HasPrefix(r.Path, "/oidc/") {
			n++
		}
	}
	if n != 1+2*len(wss) {
		t.Errorf("%d API requests, want %d", n, 1+2*len(wss))
	}
}

func TestPreflightWorkspaceAdmin(t *testing.T) {
	emu, c, wss := preflightFixture(t, oauth)
	ctx := context.Background()
	sps, err := c.ServicePrincipals().List(ctx, scim.ListOptions{Filter: `applicationId eq "` + emulator.DefaultClientID + `"`})
	if err != nil || len(sps) != 1 {
		t.Fatalf("find the service principal: %v %v", sps, err)
	}
	if err := c.SetWorkspacePermission(ctx, "1002", sps[0].ID, model.PermissionUser); err != nil {
		t.Fatal(err)
	}
	emu.Reset()
	err = c.Preflight(ctx, wss)
	var pe *scim.PreflightError
	if !errors.As(err, &pe) || len(pe.Problems) != 1 {
		t.Fatalf("err = %v, want one problem", err)
	}
	p := pe.Problems[0]
	if !strings.Contains(p.What, "workspace 1002") || !strings.Contains(p.Why, "not a workspace admin") || !strings.Contains(p.Fix, "assign the identity ADMIN") {
		t.Errorf("problem = %+v", p)
	}
	if !strings.Contains(err.Error(), "OAuth service principal "+emulator.DefaultClientID) || !strings.Contains(err.Error(), "nothing was planned or changed") {
		t.Errorf("message = %s", err)
	}
	for _, r := range emu.Requests() {
		if r.Method != "GET" && !strings.HasPrefix(r.Path, "/oidc/") {
			t.Errorf("preflight wrote: %s %s", r.Method, r.Path)
		}
	}
}

func TestPreflightAccountSCIMToken(t *testing.T) {
	_, c, wss := preflightFixture(t, auth.Settings{Token: auth.NewSecret("scim-token")})
	err := c.Preflight(context.Background(), wss)
	var pe *scim.PreflightError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want a PreflightError", err)
	}
	// The account SCIM API works; the assignments and both workspaces' SCIM APIs do not.
	if len(pe.Problems) != 4 {
		t.Fatalf("problems = %+v, want 4", pe.Problems)
	}
	for _, p := range pe.Problems {
		if strings.Contains(p.What, "account SCIM API") {
			t.Errorf("the account SCIM API was reported: %+v", p)
		}
		if !strings.Contains(p.Fix, "account SCIM token only on the account SCIM API") {
			t.Errorf("problem = %+v", p)
		}
	}
	if !strings.Contains(pe.Hint(), "fix") {
		t.Errorf("hint = %q", pe.Hint())
	}
}
