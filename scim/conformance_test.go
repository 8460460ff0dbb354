package scim_test

// The conformance suite: one set of client behaviours, run against the in-process emulator
// (both levels) by default, and against a real Databricks account or workspace with
//
//	go test ./scim -run Conformance -databricks
//	(or SCIMSYNC_CONFORMANCE_REAL=1)
//
// and the DATABRICKS_* variables (or a ~/.databrickscfg profile) of an admin identity.
// SCIMSYNC_CONFORMANCE_WORKSPACES (comma-separated ID=HOST entries, such as
// 1234=https://dbc-1234.cloud.databricks.com) names the workspaces the account-level
// assignment and entitlement tests may change. Against a real target every
// object is created under a unique scimsync-conformance-* name and deleted afterwards;
// behaviours that need fault injection, seeding or the emulator's request log are skipped.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/sync/errgroup"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
)

var realDatabricks = flag.Bool("databricks", false,
	"run the SCIM conformance suite against the Databricks target of the DATABRICKS_* environment instead of the emulator")

func useReal() bool {
	return *realDatabricks || os.Getenv("SCIMSYNC_CONFORMANCE_REAL") == "1"
}

// fixture is one conformance target: a client, and the emulator behind it, if any.
type fixture struct {
	t      *testing.T
	c      *scim.Client
	emu    *emulator.TestServer // nil against real Databricks
	level  model.Level
	ws     []model.Workspace // workspaces account-level tests may change
	prefix string            // unique prefix of every name the test creates
	cfg    scim.Config       // the client's config, for building more clients
}

// setup configures one run: emulator options and client config changes.
type setup struct {
	opts emulator.Options
	mod  func(*scim.Config)
}

// forLevels runs fn against the emulator at account and at workspace level, or once
// against the real target.
func forLevels(t *testing.T, s setup, fn func(t *testing.T, f *fixture)) {
	t.Helper()
	if useReal() {
		fn(t, realFixture(t, s))
		return
	}
	for _, level := range []model.Level{model.LevelAccount, model.LevelWorkspace} {
		t.Run(string(level), func(t *testing.T) {
			fn(t, emulatorFixture(t, level, s))
		})
	}
}

// emulatorFixture starts an emulator at level and a client for it. Unless the setup says
// otherwise, the emulator does not rate limit and the client retries quickly.
func emulatorFixture(t *testing.T, level model.Level, s setup) *fixture {
	t.Helper()
	opts := s.opts
	opts.Level = level
	if opts.RateLimit == 0 {
		opts.RateLimit = -1
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	emu := emulator.NewTestServer(t, opts)
	cfg := scim.Config{
		Auth: auth.Settings{Host: emu.URL, Level: level, AccountID: emulator.DefaultAccountID,
			Token: auth.NewSecret(emulator.DefaultToken)},
		RateLimit:      10000,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  20 * time.Millisecond,
	}
	cfg.HostOverrides = emu.HostOverrides()
	if s.mod != nil {
		s.mod(&cfg)
	}
	c, err := scim.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, c: c, emu: emu, level: level, prefix: "conf", cfg: cfg}
	for _, id := range emu.Options().Workspaces {
		w := model.Workspace{ID: id}
		if level == model.LevelAccount {
			w.Host = emu.WorkspaceHost(id)
		}
		f.ws = append(f.ws, w)
	}
	return f
}

// realFixture builds a client from the real environment, or skips the test.
func realFixture(t *testing.T, s setup) *fixture {
	t.Helper()
	home, _ := os.UserHomeDir()
	env := auth.Env{Getenv: os.Getenv, HomeDir: home}
	if os.Getenv(auth.EnvHost) == "" && os.Getenv(auth.EnvConfigProfile) == "" {
		t.Skip("conformance against real Databricks needs DATABRICKS_HOST and credentials (DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET), or DATABRICKS_CONFIG_PROFILE")
	}
	cfg := scim.Config{Env: env}
	if s.mod != nil {
		s.mod(&cfg)
	}
	cfg.Auth, cfg.Env, cfg.HTTPClient = auth.Settings{}, env, nil
	c, err := scim.New(cfg)
	if err != nil {
		t.Fatalf("real Databricks target: %v", err)
	}
	var b [4]byte
	_, _ = rand.Read(b[:])
	f := &fixture{t: t, c: c, level: c.Level(), prefix: "scimsync-conformance-" + hex.EncodeToString(b[:]), cfg: cfg}
	// Each workspace is ID=HOST: at account level its SCIM tree is on its own host.
	for _, entry := range strings.Split(os.Getenv("SCIMSYNC_CONFORMANCE_WORKSPACES"), ",") {
		if id, host, _ := strings.Cut(strings.TrimSpace(entry), "="); id != "" {
			f.ws = append(f.ws, model.Workspace{ID: id, Host: host})
		}
	}
	return f
}

func (f *fixture) needEmulator(why string) {
	f.t.Helper()
	if f.emu == nil {
		f.t.Skipf("needs the emulator (%s); skipped against real Databricks", why)
	}
}

func (f *fixture) needAccount() {
	f.t.Helper()
	if f.level != model.LevelAccount {
		f.t.Skip("account-level behaviour")
	}
}

func (f *fixture) needWorkspaces(n int) []model.Workspace {
	f.t.Helper()
	if len(f.ws) < n {
		f.t.Skipf("needs %d workspaces; set SCIMSYNC_CONFORMANCE_WORKSPACES", n)
	}
	return f.ws[:n]
}

func (f *fixture) name(s string) string { return f.prefix + "-" + s }

func (f *fixture) userName(s string) string { return f.name(s) + "@example.com" }

var ctx = context.Background()

// cleanup deletes an object when the test ends; deleting something already gone is fine.
func (f *fixture) cleanup(kind model.Kind, id string) {
	f.t.Cleanup(func() {
		if err := f.c.Delete(ctx, kind, id); err != nil && !scim.IsNotFound(err) {
			f.t.Errorf("cleanup: %v", err)
		}
	})
}

func (f *fixture) createUser(u *model.User) string {
	f.t.Helper()
	id, err := f.c.CreateUser(ctx, u)
	if err != nil {
		f.t.Fatal(err)
	}
	f.cleanup(model.KindUser, id)
	return id
}

func (f *fixture) createSP(p *model.ServicePrincipal) (id, appID string) {
	f.t.Helper()
	id, appID, err := f.c.CreateServicePrincipal(ctx, p)
	if err != nil {
		f.t.Fatal(err)
	}
	f.cleanup(model.KindServicePrincipal, id)
	return id, appID
}

func (f *fixture) createGroup(g *model.Group) string {
	f.t.Helper()
	id, err := f.c.CreateGroup(ctx, g)
	if err != nil {
		f.t.Fatal(err)
	}
	f.cleanup(model.KindGroup, id)
	return id
}

// snapshot reads the live state and returns it with an index.
func (f *fixture) snapshot(ws ...model.Workspace) (*model.State, *model.Index) {
	f.t.Helper()
	st, err := f.c.Snapshot(ctx, ws)
	if err != nil {
		f.t.Fatal(err)
	}
	return st, model.NewIndex(st)
}

func TestConformanceUsers(t *testing.T) {
	forLevels(t, setup{}, func(t *testing.T, f *fixture) {
		un := f.userName("ada")
		id := f.createUser(&model.User{UserName: un, DisplayName: "Ada L", GivenName: "Ada", FamilyName: "L", ExternalID: "ext-ada", Active: true})

		got, err := f.c.Users().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		m := got.ToModel()
		if m.UserName != un || m.DisplayName != "Ada L" || m.GivenName != "Ada" || !m.Active || m.ExternalID != "ext-ada" {
			t.Errorf("Get after create = %+v", m)
		}

		found, err := f.c.Users().List(ctx, scim.ListOptions{Filter: fmt.Sprintf("userName eq %q", un)})
		if err != nil || len(found) != 1 || found[0].ID != id {
			t.Fatalf("List by userName = %v, %v", found, err)
		}

		if err := f.c.UpdateUser(ctx, id, &m, &model.User{UserName: un, DisplayName: "Ada Lovelace", GivenName: "Ada", FamilyName: "Lovelace", Active: false}); err != nil {
			t.Fatal(err)
		}
		got, _ = f.c.Users().Get(ctx, id)
		if m2 := got.ToModel(); m2.DisplayName != "Ada Lovelace" || m2.FamilyName != "Lovelace" || m2.Active || m2.ExternalID != "" {
			t.Errorf("Get after PATCH = %+v", m2)
		}

		put := scim.UserFromModel(&model.User{UserName: un, DisplayName: "Countess", Active: true}, false)
		if err := f.c.Users().Put(ctx, id, put); err != nil {
			t.Fatal(err)
		}
		got, _ = f.c.Users().Get(ctx, id)
		if m3 := got.ToModel(); m3.DisplayName != "Countess" || !m3.Active || m3.UserName != un {
			t.Errorf("Get after PUT = %+v", m3)
		}

		if err := f.c.Delete(ctx, model.KindUser, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.Users().Get(ctx, id); !scim.IsNotFound(err) {
			t.Errorf("Get after DELETE: err = %v, want not found", err)
		}
		_, err = f.c.CreateUser(ctx, &model.User{UserName: strings.ToUpper(f.userName("dup")), Active: true})
		if err != nil {
			t.Fatal(err)
		}
		found, _ = f.c.Users().List(ctx, scim.ListOptions{Filter: fmt.Sprintf("userName eq %q", f.userName("dup"))})
		for _, u := range found {
			f.cleanup(model.KindUser, u.ID)
		}
		_, err = f.c.Users().Create(ctx, &scim.User{Schemas: []string{scim.SchemaUser}, UserName: f.userName("dup")})
		if !scim.IsConflict(err) {
			t.Errorf("creating a duplicate userName: err = %v, want a conflict", err)
		}
	})
}

func TestConformanceServicePrincipals(t *testing.T) {
	forLevels(t, setup{}, func(t *testing.T, f *fixture) {
		id, appID := f.createSP(&model.ServicePrincipal{DisplayName: f.name("deployer"), Active: true})
		if id == "" || appID == "" {
			t.Fatalf("create returned id %q applicationId %q", id, appID)
		}
		found, err := f.c.ServicePrincipals().List(ctx, scim.ListOptions{Filter: fmt.Sprintf("applicationId eq %q", appID)})
		if err != nil || len(found) != 1 || found[0].ID != id {
			t.Fatalf("List by applicationId = %v, %v", found, err)
		}
		from := found[0].ToModel()
		to := from
		to.DisplayName, to.Active, to.ExternalID = f.name("deployer-2"), false, "ext-sp"
		if err := f.c.UpdateServicePrincipal(ctx, id, &from, &to); err != nil {
			t.Fatal(err)
		}
		got, err := f.c.ServicePrincipals().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m := got.ToModel(); m.DisplayName != to.DisplayName || m.Active || m.ExternalID != "ext-sp" || m.ApplicationID != appID {
			t.Errorf("Get after PATCH = %+v", m)
		}
		// PUT resends applicationId, which Azure requires.
		if err := f.c.ServicePrincipals().Put(ctx, id, &scim.ServicePrincipal{Schemas: []string{scim.SchemaServicePrincipal},
			ApplicationID: appID, DisplayName: f.name("deployer-3"), Active: scim.Bool(true)}); err != nil {
			t.Fatal(err)
		}
		got, _ = f.c.ServicePrincipals().Get(ctx, id)
		if got.DisplayName != f.name("deployer-3") || !*got.Active {
			t.Errorf("Get after PUT = %+v", got)
		}
		if err := f.c.Delete(ctx, model.KindServicePrincipal, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.ServicePrincipals().Get(ctx, id); !scim.IsNotFound(err) {
			t.Errorf("Get after DELETE: err = %v, want not found", err)
		}
	})
}

func TestConformanceGroups(t *testing.T) {
	forLevels(t, setup{}, func(t *testing.T, f *fixture) {
		id := f.createGroup(&model.Group{DisplayName: f.name("eng"), ExternalID: "ext-eng"})
		found, err := f.c.Groups().List(ctx, scim.ListOptions{Filter: fmt.Sprintf("displayName eq %q", f.name("eng"))})
		if err != nil || len(found) != 1 || found[0].ID != id || found[0].ExternalID != "ext-eng" {
			t.Fatalf("List by displayName = %+v, %v", found, err)
		}
		if err := f.c.UpdateGroup(ctx, id, &model.Group{DisplayName: f.name("eng"), ExternalID: "ext-eng"}, &model.Group{DisplayName: f.name("engineering")}); err != nil {
			t.Fatal(err)
		}
		got, err := f.c.Groups().Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != f.name("engineering") || got.ExternalID != "" {
			t.Errorf("Get after rename = %+v", got)
		}
		if err := f.c.Groups().Put(ctx, id, &scim.Group{Schemas: []string{scim.SchemaGroup}, DisplayName: f.name("eng-put")}); err != nil {
			t.Fatal(err)
		}
		if got, _ = f.c.Groups().Get(ctx, id); got.DisplayName != f.name("eng-put") {
			t.Errorf("Get after PUT = %+v", got)
		}
		if _, err := f.c.Groups().Create(ctx, &scim.Group{Schemas: []string{scim.SchemaGroup}, DisplayName: f.name("eng-put")}); !scim.IsConflict(err) {
			t.Errorf("duplicate group: err = %v, want a conflict", err)
		}
		if err := f.c.Delete(ctx, model.KindGroup, id); err != nil {
			t.Fatal(err)
		}
		if _, err := f.c.Groups().Get(ctx, id); !scim.IsNotFound(err) {
			t.Errorf("Get after DELETE: err = %v, want not found", err)
		}
	})
}

// memberIDs reads a group's member ids.
func (f *fixture) memberIDs(groupID string) []string {
	f.t.Helper()
	g, err := f.c.Groups().Get(ctx, groupID, "members")
	if err != nil {
		f.t.Fatal(err)
	}
	var ids []string
	for _, m := range g.Members {
		ids = append(ids, m.Value)
	}
	slices.Sort(ids)
	return ids
}

func sorted(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

func TestConformanceMembers(t *testing.T) {
	forLevels(t, setup{}, func(t *testing.T, f *fixture) {
		u1 := f.createUser(&model.User{UserName: f.userName("m1"), Active: true})
		u2 := f.createUser(&model.User{UserName: f.userName("m2"), Active: true})
		sp, _ := f.createSP(&model.ServicePrincipal{DisplayName: f.name("m-sp"), Active: true})
		child := f.createGroup(&model.Group{DisplayName: f.name("child")})
		parent := f.createGroup(&model.Group{DisplayName: f.name("parent")})

		if err := f.c.PatchMembers(ctx, parent, []string{u1, u2, sp, child}, nil); err != nil {
			t.Fatal(err)
		}
		if got, want := f.memberIDs(parent), sorted(u1, u2, sp, child); !slices.Equal(got, want) {
			t.Errorf("after add: members %v, want %v", got, want)
		}
		if err := f.c.PatchMembers(ctx, parent, nil, []string{u2, child}); err != nil {
			t.Fatal(err)
		}
		if got, want := f.memberIDs(parent), sorted(u1, sp); !slices.Equal(got, want) {
			t.Errorf("after remove: members %v, want %v", got, want)
		}
		if err := f.c.PatchMembers(ctx, parent, []string{u2}, []string{u1, sp}); err != nil {
			t.Fatal(err)
		}
		if got, want := f.memberIDs(parent), sorted(u2); !slices.Equal(got, want) {
			t.Errorf("after add and remove in one PATCH: members %v, want %v", got, want)
		}
	})
}

func TestConformancePatchForms(t *testing.T) {
	forLevels(t, setup{}, func(t *testing.T, f *fixture) {
		ws := f.level == model.LevelWorkspace
		role := "arn:aws:iam::123456789012:instance-profile/conformance"
		if f.emu == nil {
			role = "" // roles are real permissions on a real target
		}
		roles := func(rs ...string) []string {
			if role == "" {
				return nil
			}
			return rs
		}
		ents := func(es ...string) []string {
			if !ws {
				return nil
			}
			return es
		}
		ufrom := &model.User{UserName: f.userName("forms"), DisplayName: "A", GivenName: "G", FamilyName: "F", ExternalID: "x1",
			Active: true, Roles: roles(role), Entitlements: ents(model.EntAllowClusterCreate)}
		uid := f.createUser(ufrom)
		uto := &model.User{UserName: ufrom.UserName, DisplayName: "B", GivenName: "G2", Active: false,
			Roles: roles(role + "-2"), Entitlements: ents(model.EntDatabricksSQLAccess, model.EntWorkspaceAccess)}
		if err := f.c.UpdateUser(ctx, uid, ufrom, uto); err != nil {
			t.Fatal(err)
		}
		pfrom := &model.ServicePrincipal{DisplayName: f.name("forms-sp"), Active: false, ExternalID: "y", Roles: roles(role)}
		pid, app := f.createSP(pfrom)
		pfrom.ApplicationID = app
		pto := &model.ServicePrincipal{ApplicationID: app, DisplayName: f.name("forms-sp2"), Active: true, Entitlements: ents(model.EntWorkspaceAccess)}
		if err := f.c.UpdateServicePrincipal(ctx, pid, pfrom, pto); err != nil {
			t.Fatal(err)
		}
		gfrom := &model.Group{DisplayName: f.name("forms-g"), ExternalID: "z", Entitlements: ents(model.EntAllowInstancePoolCreate)}
		gid := f.createGroup(gfrom)
		gto := &model.Group{DisplayName: f.name("forms-g2"), Roles: roles(role), Entitlements: ents(model.EntWorkspaceAccess)}
		if err := f.c.UpdateGroup(ctx, gid, gfrom, gto); err != nil {
			t.Fatal(err)
		}
		if err := f.c.PatchMembers(ctx, gid, []string{uid, pid}, nil); err != nil {
			t.Fatal(err)
		}
		if err := f.c.PatchMembers(ctx, gid, nil, []string{pid}); err != nil {
			t.Fatal(err)
		}

		_, ix := f.snapshot()
		u := ix.Users[model.UserKey(uto.UserName)]
		p := ix.ServicePrincipals[model.ServicePrincipalKey(app)]
		g := ix.Groups[gto.DisplayName]
		if u == nil || p == nil || g == nil {
			t.Fatalf("snapshot lacks the objects: user %v sp %v group %v", u, p, g)
		}
		uto.ID, uto.UserName = uid, model.UserKey(uto.UserName)
		if diff := cmp.Diff(uto, u, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("user after PATCH (-want +got):\n%s", diff)
		}
		pto.ID = pid
		if diff := cmp.Diff(pto, p, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("service principal after PATCH (-want +got):\n%s", diff)
		}
		gto.ID, gto.Members = gid, model.Members{Users: []string{uto.UserName}}
		if diff := cmp.Diff(gto, g, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("group after PATCH (-want +got):\n%s", diff)
		}
		if f.emu != nil {
			for _, r := range f.emu.Requests() {
				if r.Method == http.MethodPatch && r.Status >= 300 {
					t.Errorf("PATCH %s answered %d", r.Path, r.Status)
				}
			}
		}
	})
}

func TestConformanceAssignmentsAndEntitlements(t *testing.T) {
	forLevels(t, setup{}, func(t *testing.T, f *fixture) {
		f.needAccount()
		wss := f.needWorkspaces(2)
		w1, w2 := wss[0], wss[1]
		uid := f.createUser(&model.User{UserName: f.userName("assigned"), Active: true})
		pid, app := f.createSP(&model.ServicePrincipal{DisplayName: f.name("assigned-sp"), Active: true})
		gid := f.createGroup(&model.Group{DisplayName: f.name("assigned-g")})
		for _, a := range []struct{ id, perm string }{{uid, model.PermissionUser}, {pid, model.PermissionUser}, {gid, model.PermissionAdmin}} {
			if err := f.c.SetWorkspacePermission(ctx, w1.ID, a.id, a.perm); err != nil {
				t.Fatal(err)
			}
			f.t.Cleanup(func() { _ = f.c.SetWorkspacePermission(ctx, w1.ID, a.id, "") })
		}
		if err := f.c.SetWorkspacePermission(ctx, w1.ID, uid, model.PermissionAdmin); err != nil {
			t.Fatal(err)
		}
		if err := f.c.SetWorkspacePermission(ctx, w1.ID, pid, ""); err != nil {
			t.Fatal(err)
		}
		list, err := f.c.ListPermissionAssignments(ctx, w1.ID)
		if err != nil {
			t.Fatal(err)
		}
		byID := map[string][]string{}
		for _, a := range list {
			byID[fmt.Sprint(a.Principal.PrincipalID)] = a.Permissions
		}
		if !slices.Contains(byID[uid], model.PermissionAdmin) || !slices.Contains(byID[gid], model.PermissionAdmin) || len(byID[pid]) != 0 {
			t.Errorf("assignments = %v", byID)
		}

		for _, e := range []struct {
			kind     model.Kind
			id       string
			add, rem []string
		}{
			{model.KindUser, uid, []string{model.EntWorkspaceAccess, model.EntAllowClusterCreate}, nil},
			{model.KindUser, uid, nil, []string{model.EntAllowClusterCreate}},
			{model.KindGroup, gid, []string{model.EntDatabricksSQLAccess}, nil},
		} {
			if err := f.c.PatchWorkspaceEntitlements(ctx, w1, e.kind, e.id, e.add, e.rem); err != nil {
				t.Fatal(err)
			}
		}
		// Removing what is already gone is not an error.
		if err := f.c.PatchWorkspaceEntitlements(ctx, w1, model.KindUser, uid, nil, []string{model.EntAllowClusterCreate}); err != nil {
			t.Errorf("removing an absent entitlement: %v", err)
		}

		st, _ := f.snapshot(w1, w2)
		if len(st.Workspaces) != 2 {
			t.Fatalf("workspaces = %+v", st.Workspaces)
		}
		user := model.Ref{Kind: model.KindUser, Key: model.UserKey(f.userName("assigned"))}
		group := model.Ref{Kind: model.KindGroup, Key: f.name("assigned-g")}
		sp := model.Ref{Kind: model.KindServicePrincipal, Key: model.ServicePrincipalKey(app)}
		got1 := st.Workspaces[0]
		perms := map[model.Ref]string{}
		for _, a := range got1.Assignments {
			perms[a.Principal] = a.Permission
		}
		if perms[user] != model.PermissionAdmin || perms[group] != model.PermissionAdmin || perms[sp] != "" {
			t.Errorf("workspace %s assignments = %v", w1.ID, perms)
		}
		entsOf := map[model.Ref][]string{}
		for _, e := range got1.Entitlements {
			entsOf[e.Principal] = e.Entitlements
		}
		if !slices.Equal(entsOf[user], []string{model.EntWorkspaceAccess}) || !slices.Equal(entsOf[group], []string{model.EntDatabricksSQLAccess}) {
			t.Errorf("workspace %s entitlements = %v", w1.ID, entsOf)
		}
		for _, e := range st.Workspaces[1].Entitlements {
			if e.Principal == user || e.Principal == group {
				t.Errorf("workspace %s has entitlements set in %s: %v", w2.ID, w1.ID, e)
			}
		}
		if f.emu != nil {
			hosts := map[string]bool{}
			for _, w := range f.ws {
				hosts[strings.TrimPrefix(w.Host, "https://")] = true
			}
			for _, r := range f.emu.Requests() {
				wsTree := strings.HasPrefix(r.Path, "/api/2.0/preview/scim/v2")
				if wsTree != hosts[r.Host] || r.WorkspaceID != "" {
					t.Errorf("%s %s went to host %q with %s %q; workspace trees are on workspace hosts, the rest on the account host, and no call needs the header",
						r.Method, r.Path, r.Host, scim.HeaderWorkspaceID, r.WorkspaceID)
				}
			}
		}
	})
}

func TestConformanceWorkspaceEntitlements(t *testing.T) {
	forLevels(t, setup{}, func(t *testing.T, f *fixture) {
		if f.level != model.LevelWorkspace {
			t.Skip("entitlements on the principals themselves exist at workspace level")
		}
		uid := f.createUser(&model.User{UserName: f.userName("ent"), Active: true, Entitlements: []string{model.EntWorkspaceAccess}})
		gid := f.createGroup(&model.Group{DisplayName: f.name("ent-g")})
		if err := f.c.PatchWorkspaceEntitlements(ctx, model.Workspace{}, model.KindGroup, gid, []string{model.EntAllowClusterCreate}, nil); err != nil {
			t.Fatal(err)
		}
		_, ix := f.snapshot()
		if u := ix.Users[model.UserKey(f.userName("ent"))]; u == nil || !slices.Equal(u.Entitlements, []string{model.EntWorkspaceAccess}) || u.ID != uid {
			t.Errorf("user = %+v", u)
		}
		if g := ix.Groups[f.name("ent-g")]; g == nil || !slices.Equal(g.Entitlements, []string{model.EntAllowClusterCreate}) {
			t.Errorf("group = %+v", g)
		}
	})
}

func TestConformanceIdentity(t *testing.T) {
	forLevels(t, setup{}, func(t *testing.T, f *fixture) {
		ref, ok, err := f.c.Identity(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if f.emu == nil {
			t.Logf("identity: %v (known %v)", ref, ok)
			return
		}
		if f.level == model.LevelAccount {
			if ok {
				t.Errorf("account level with a token: identity %v, want unknown", ref)
			}
			return
		}
		if !ok || ref != (model.Ref{Kind: model.KindUser, Key: emulator.DefaultMeUserName}) {
			t.Errorf("identity = %v %v, want the token's user", ref, ok)
		}
	})
}

// seedState is a small account: users, service principals, nested groups, and (at account
// level) assignments and per-workspace entitlements.
func seedState(level model.Level, users, groups int) *model.State {
	st := &model.State{}
	for i := range users {
		st.Users = append(st.Users, model.User{UserName: fmt.Sprintf("user%05d@example.com", i), DisplayName: fmt.Sprintf("User %d", i),
			GivenName: "User", FamilyName: fmt.Sprint(i), Active: i%7 != 0, ExternalID: fmt.Sprintf("ext-%d", i)})
	}
	st.ServicePrincipals = []model.ServicePrincipal{
		{ApplicationID: "00000000-0000-4000-8000-00000000000a", DisplayName: "etl", Active: true},
		{ApplicationID: "00000000-0000-4000-8000-00000000000b", DisplayName: "ci", Active: false, Roles: []string{model.RoleAccountAdmin}},
	}
	for i := range groups {
		g := model.Group{DisplayName: fmt.Sprintf("team-%02d", i), ExternalID: fmt.Sprintf("g-%d", i)}
		for j := i; j < users; j += groups {
			g.Members.Users = append(g.Members.Users, fmt.Sprintf("user%05d@example.com", j))
		}
		if i > 0 && i <= 5 {
			g.Members.Groups = []string{fmt.Sprintf("team-%02d", i-1)}
		}
		if i == 0 {
			g.Members.ServicePrincipals = []string{"00000000-0000-4000-8000-00000000000a"}
		}
		st.Groups = append(st.Groups, g)
	}
	if level == model.LevelWorkspace {
		st.Users[0].Entitlements = []string{model.EntWorkspaceAccess}
		st.Groups[0].Entitlements = []string{model.EntDatabricksSQLAccess}
		st.ServicePrincipals[1].Roles = nil
		return st
	}
	st.Workspaces = []model.Workspace{{
		ID: "1001",
		Assignments: []model.Assignment{
			{Principal: model.Ref{Kind: model.KindGroup, Key: "team-00"}, Permission: model.PermissionUser},
			{Principal: model.Ref{Kind: model.KindUser, Key: "user00001@example.com"}, Permission: model.PermissionAdmin},
		},
		Entitlements: []model.PrincipalEntitlements{
			{Principal: model.Ref{Kind: model.KindGroup, Key: "team-00"}, Entitlements: []string{model.EntWorkspaceAccess}},
			{Principal: model.Ref{Kind: model.KindUser, Key: "user00001@example.com"}, Entitlements: []string{model.EntAllowClusterCreate}},
		},
	}}
	return st
}

func TestConformanceSnapshotRoundTrip(t *testing.T) {
	for _, listMembers := range []bool{false, true} {
		t.Run(fmt.Sprintf("group lists with members %v", listMembers), func(t *testing.T) {
			forLevels(t, setup{opts: emulator.Options{GroupListMembers: listMembers}}, func(t *testing.T, f *fixture) {
				f.needEmulator("seeds the target")
				const users, groups = 300, 20
				if _, err := f.emu.Seed(seedState(f.level, users, groups)); err != nil {
					t.Fatal(err)
				}
				f.emu.Reset()
				got, err := f.c.Snapshot(ctx, f.ws)
				if err != nil {
					t.Fatal(err)
				}
				want := f.emu.State()
				for i := range want.Workspaces {
					want.Workspaces[i].Host = f.emu.WorkspaceHost(want.Workspaces[i].ID)
				}
				if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
					t.Errorf("snapshot differs from the emulator's state (-want +got):\n%s", diff)
				}
				// Calls: three lists of one page (totalResults says it is all), one member
				// read per group when lists lack members, and per workspace one assignment
				// list and three entitlement lists of one page each.
				wantCalls := 3
				if !(listMembers && f.level == model.LevelAccount) && f.level == model.LevelAccount {
					wantCalls += len(want.Groups)
				}
				if f.level == model.LevelAccount {
					wantCalls += len(f.ws) * 4
				}
				if n := f.emu.RequestCount(); n != wantCalls {
					t.Errorf("snapshot of %d users and %d groups took %d calls, want %d", len(want.Users), len(want.Groups), n, wantCalls)
				}
				t.Logf("snapshot of %d users, %d service principals, %d groups, %d workspaces: %d calls",
					len(got.Users), len(got.ServicePrincipals), len(got.Groups), len(got.Workspaces), f.emu.RequestCount())
			})
		})
	}
}

func TestConformancePaging25000Users(t *testing.T) {
	forLevels(t, setup{opts: emulator.Options{MaxPrincipals: -1, MaxPageSize: 1000}}, func(t *testing.T, f *fixture) {
		f.needEmulator("seeds 25,000 users")
		f.needAccount()
		const n = 25000
		st := &model.State{}
		for i := range n {
			st.Users = append(st.Users, model.User{UserName: fmt.Sprintf("bulk%05d@example.com", i), Active: true})
		}
		if _, err := f.emu.Seed(st); err != nil {
			t.Fatal(err)
		}
		f.emu.Reset()
		users, err := f.c.Users().List(ctx, scim.ListOptions{Attributes: []string{"id", "userName"}})
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, u := range users {
			seen[u.ID] = true
		}
		total := n + 1 // and the token's owner
		if len(users) != total || len(seen) != total {
			t.Errorf("listed %d users (%d distinct), want %d", len(users), len(seen), total)
		}
		// The client asks for 10000 per page; the server clamps to 1000 and echoes
		// startIndex, so the client reads 26 pages; totalResults spares it the empty one.
		if got, want := f.emu.RequestCount(http.MethodGet), (total+999)/1000; got != want {
			t.Errorf("list took %d requests, want %d", got, want)
		}
	})
}

// workload creates users, service principals without applicationId (the case where a
// duplicate create would go unnoticed) and groups, then fills the groups, concurrently.
func workload(f *fixture, users, sps, groups int) (userIDs, spIDs, groupIDs []string) {
	f.t.Helper()
	userIDs, spIDs, groupIDs = make([]string, users), make([]string, sps), make([]string, groups)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i := range users {
		g.Go(func() (err error) {
			userIDs[i], err = f.c.CreateUser(gctx, &model.User{UserName: f.userName(fmt.Sprintf("w%03d", i)), DisplayName: fmt.Sprint("W ", i), Active: true})
			return err
		})
	}
	for i := range sps {
		g.Go(func() (err error) {
			spIDs[i], _, err = f.c.CreateServicePrincipal(gctx, &model.ServicePrincipal{DisplayName: f.name(fmt.Sprintf("w-sp-%02d", i)), Active: true})
			return err
		})
	}
	for i := range groups {
		g.Go(func() (err error) {
			groupIDs[i], err = f.c.CreateGroup(gctx, &model.Group{DisplayName: f.name(fmt.Sprintf("w-g-%02d", i))})
			return err
		})
	}
	if err := g.Wait(); err != nil {
		f.t.Fatal(err)
	}
	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, gid := range groupIDs {
		g.Go(func() error {
			var add []string
			for j := i; j < users; j += groups {
				add = append(add, userIDs[j])
			}
			return f.c.PatchMembers(gctx, gid, append(add, spIDs[i%sps]), nil)
		})
	}
	if err := g.Wait(); err != nil {
		f.t.Fatal(err)
	}
	return userIDs, spIDs, groupIDs
}

func TestConformanceFaultsAbsorbedWithoutDuplicates(t *testing.T) {
	faults := emulator.Faults{Rate429: 0.1, Rate503: 0.05, RateLimit500: 0.05, RateReset: 0.05, RateCreateDrop: 0.2}
	forLevels(t, setup{opts: emulator.Options{Faults: faults, Seed: 42}}, func(t *testing.T, f *fixture) {
		f.needEmulator("injects faults")
		const users, sps, groups = 60, 10, 12
		workload(f, users, sps, groups)
		f.emu.SetFaults(emulator.Faults{})

		st := f.emu.ManagedState()
		if len(st.Users) != users || len(st.ServicePrincipals) != sps || len(st.Groups) != groups {
			t.Errorf("emulator holds %d users, %d service principals, %d groups; want %d, %d, %d (no duplicates)",
				len(st.Users), len(st.ServicePrincipals), len(st.Groups), users, sps, groups)
		}
		names := map[string]int{}
		for _, p := range st.ServicePrincipals {
			names[p.DisplayName]++
		}
		for name, n := range names {
			if n != 1 {
				t.Errorf("service principal %s exists %d times", name, n)
			}
		}
		members := 0
		for _, g := range st.Groups {
			members += g.Members.Len()
		}
		if members != users+groups {
			t.Errorf("memberships = %d, want %d", members, users+groups)
		}
		counters, stats := f.emu.Counters(), f.c.Stats()
		if counters.Faults[emulator.FaultCreateDrop] == 0 || counters.Faults[emulator.Fault429] == 0 || counters.Faults[emulator.FaultReset] == 0 {
			t.Errorf("the workload met too few faults to prove anything: %v", counters.Faults)
		}
		if stats.CreatesResolved != int64(counters.Faults[emulator.FaultCreateDrop]) {
			t.Errorf("creates resolved by lookup = %d, want one per dropped create (%d)", stats.CreatesResolved, counters.Faults[emulator.FaultCreateDrop])
		}
		if stats.Retries == 0 || stats.TooManyRequests < int64(counters.Faults[emulator.Fault429]) {
			t.Errorf("stats = %+v, emulator faults = %v", stats, counters.Faults)
		}
		t.Logf("faults %v absorbed; client stats %+v", counters.Faults, stats)
	})
}

func TestConformanceThrottling(t *testing.T) {
	if useReal() {
		t.Skip("needs the emulator's rate limiter; skipped against real Databricks")
	}
	if testing.Short() {
		t.Skip("throttling runs at the real 25 requests per second")
	}
	get := func(f *fixture, n, workers int) error {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(workers)
		for range n {
			g.Go(func() error {
				_, err := f.c.Users().List(gctx, scim.ListOptions{Count: 1, Filter: `userName eq "nobody@example.com"`})
				return err
			})
		}
		return g.Wait()
	}
	t.Run("at the server's rate nothing is throttled", func(t *testing.T) {
		f := emulatorFixture(t, model.LevelAccount, setup{
			opts: emulator.Options{RateLimit: 25},
			mod:  func(c *scim.Config) { c.RateLimit = 0 },
		})
		if err := get(f, 40, 8); err != nil {
			t.Fatal(err)
		}
		if c := f.emu.Counters(); c.TooManyRequests != 0 || c.Requests != 40 {
			t.Errorf("%d requests, %d throttled; want 40 and none", c.Requests, c.TooManyRequests)
		}
	})
	t.Run("a 429 storm slows the client down and every request succeeds", func(t *testing.T) {
		f := emulatorFixture(t, model.LevelAccount, setup{
			opts: emulator.Options{RateLimit: 25, Burst: 5},
			mod: func(c *scim.Config) {
				c.RateLimit = 200
				c.RetryBaseDelay, c.RetryMaxDelay = 0, 0 // the defaults
			},
		})
		if err := get(f, 40, 8); err != nil {
			t.Fatal(err)
		}
		st := f.c.Stats()
		if got, ok := st.VerbRateLimits[http.MethodGet]; st.TooManyRequests == 0 || !ok || got >= 200 {
			t.Errorf("stats = %+v: want 429s and a lowered GET rate", st)
		}
		if st.TooManyRequests != int64(f.emu.Counters().TooManyRequests) {
			t.Errorf("client counted %d 429s, emulator sent %d", st.TooManyRequests, f.emu.Counters().TooManyRequests)
		}
	})
	t.Run("Retry-After is honoured", func(t *testing.T) {
		// Two attempts per request: without waiting for Retry-After the second attempt
		// would be throttled too, and the request would fail.
		f := emulatorFixture(t, model.LevelAccount, setup{
			opts: emulator.Options{RateLimit: 2, Burst: 1, RetryAfter: true},
			mod:  func(c *scim.Config) { c.RateLimit, c.MaxAttempts = 100, 2 },
		})
		if err := get(f, 3, 1); err != nil {
			t.Fatalf("with Retry-After honoured every request succeeds: %v", err)
		}
		if c := f.emu.Counters(); c.TooManyRequests == 0 || c.TooManyRequests > 2 {
			t.Errorf("emulator throttled %d requests, want 1 or 2", c.TooManyRequests)
		}
	})
}

// tokenCalls counts the OAuth token requests the emulator saw.
func tokenCalls(emu *emulator.TestServer) int {
	n := 0
	for _, r := range emu.Requests() {
		if strings.HasSuffix(r.Path, "/v1/token") {
			n++
		}
	}
	return n
}

func oauthSetup(ttl time.Duration, secret string) setup {
	return setup{
		opts: emulator.Options{TokenTTL: ttl},
		mod: func(c *scim.Config) {
			c.Auth.Token = auth.Secret{}
			c.Auth.ClientID, c.Auth.ClientSecret = emulator.DefaultClientID, auth.NewSecret(secret)
		},
	}
}

func TestConformanceOAuth(t *testing.T) {
	forLevels(t, oauthSetup(time.Hour, emulator.DefaultClientSecret), func(t *testing.T, f *fixture) {
		f.needEmulator("counts token requests")
		for range 5 {
			if _, err := f.c.Users().List(ctx, scim.ListOptions{Count: 1, Filter: `userName eq "x@example.com"`}); err != nil {
				t.Fatal(err)
			}
		}
		if n := tokenCalls(f.emu); n != 1 {
			t.Errorf("token requests = %d, want 1 (cached)", n)
		}
		discovery := 0
		for _, r := range f.emu.Requests() {
			if strings.HasSuffix(r.Path, "/.well-known/oauth-authorization-server") {
				discovery++
			}
			if strings.HasSuffix(r.Path, "/v1/token") {
				want := "/oidc/v1/token"
				if f.level == model.LevelAccount {
					want = "/oidc/accounts/" + emulator.DefaultAccountID + "/v1/token"
				}
				if r.Path != want {
					t.Errorf("token endpoint %s, want %s", r.Path, want)
				}
			}
		}
		if (f.level == model.LevelWorkspace) != (discovery == 1) {
			t.Errorf("discovery requests = %d at %s level", discovery, f.level)
		}
		ref, ok, err := f.c.Identity(ctx)
		if err != nil || !ok || ref != (model.Ref{Kind: model.KindServicePrincipal, Key: model.ServicePrincipalKey(emulator.DefaultClientID)}) {
			t.Errorf("identity = %v %v %v, want the OAuth service principal", ref, ok, err)
		}
	})
	t.Run("tokens are refreshed before they expire", func(t *testing.T) {
		// A 5-second token is inside the refresh margin: each request gets a fresh one.
		forLevels(t, oauthSetup(5*time.Second, emulator.DefaultClientSecret), func(t *testing.T, f *fixture) {
			f.needEmulator("sets the token lifetime")
			for range 3 {
				if _, err := f.c.Groups().List(ctx, scim.ListOptions{Count: 1, Filter: `displayName eq "x"`}); err != nil {
					t.Fatal(err)
				}
			}
			if n := tokenCalls(f.emu); n != 3 {
				t.Errorf("token requests = %d, want 3", n)
			}
			if c := f.emu.Counters(); c.ByStatus[http.StatusUnauthorized] != 0 {
				t.Errorf("%d requests were refused with 401", c.ByStatus[http.StatusUnauthorized])
			}
		})
	})
	t.Run("a wrong secret is reported without the secret", func(t *testing.T) {
		forLevels(t, oauthSetup(time.Hour, "wrong-secret-value"), func(t *testing.T, f *fixture) {
			f.needEmulator("uses the emulator's client")
			_, err := f.c.Users().Get(ctx, "1")
			var te *auth.TokenError
			if !errors.As(err, &te) || te.Status != http.StatusUnauthorized {
				t.Fatalf("err = %v, want a 401 token error", err)
			}
			if !strings.Contains(err.Error(), "DATABRICKS_CLIENT_SECRET") || strings.Contains(err.Error(), "wrong-secret-value") {
				t.Errorf("error = %v", err)
			}
			if n := tokenCalls(f.emu); n != 1 {
				t.Errorf("a rejected secret was tried %d times", n)
			}
		})
	})
}

// authRecorder records the Authorization headers the client sends.
type authRecorder struct {
	mu      sync.Mutex
	headers map[string]bool
	next    http.RoundTripper
}

func (a *authRecorder) RoundTrip(r *http.Request) (*http.Response, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		a.mu.Lock()
		a.headers[strings.TrimPrefix(h, "Bearer ")] = true
		a.mu.Unlock()
	}
	return a.next.RoundTrip(r)
}

func TestConformanceNoSecretsInDebugLogs(t *testing.T) {
	for name, s := range map[string]setup{
		"token": {},
		"oauth": oauthSetup(5*time.Second, emulator.DefaultClientSecret),
	} {
		t.Run(name, func(t *testing.T) {
			rec := &authRecorder{headers: map[string]bool{}, next: http.DefaultTransport}
			var logs strings.Builder
			var mu sync.Mutex
			mod := s.mod
			s.opts.Faults = emulator.Faults{Rate429: 0.1, Rate503: 0.05, RateReset: 0.05, RateCreateDrop: 0.2}
			s.mod = func(c *scim.Config) {
				if mod != nil {
					mod(c)
				}
				c.HTTPClient = &http.Client{Transport: rec}
				c.Logger = debugLog(&logs, &mu)
			}
			forLevels(t, s, func(t *testing.T, f *fixture) {
				f.needEmulator("injects faults and records headers")
				workload(f, 10, 2, 3)
				_, _ = f.c.Users().Get(ctx, "999999")
				_, _ = f.c.Snapshot(ctx, f.ws)
				f.cfg.Logger.Debug("target", "auth", f.c.Auth())
			})
			mu.Lock()
			out := logs.String()
			mu.Unlock()
			if !strings.Contains(out, "level=DEBUG") || !strings.Contains(out, "status=") {
				t.Fatalf("no debug request records were logged:\n%.500s", out)
			}
			secrets := []string{emulator.DefaultToken, emulator.DefaultClientSecret}
			rec.mu.Lock()
			for h := range rec.headers {
				secrets = append(secrets, h)
			}
			rec.mu.Unlock()
			if len(secrets) < 3 {
				t.Fatalf("no bearer tokens were recorded")
			}
			for _, sec := range secrets {
				if strings.Contains(out, sec) {
					t.Errorf("debug logs contain a secret (%.12s…)", sec)
				}
			}
			if strings.Contains(out, "Authorization") || strings.Contains(out, "Bearer") {
				t.Error("debug logs mention the Authorization header")
			}
		})
	}
}

// lockedWriter serialises writes of concurrent log records into a builder.
type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

// debugLog returns a debug-level text logger writing into b under mu.
func debugLog(b *strings.Builder, mu *sync.Mutex) *slog.Logger {
	var w io.Writer = lockedWriter{mu: mu, b: b}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
