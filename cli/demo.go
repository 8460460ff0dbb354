package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
)

// DemoCmd starts the built-in emulator on loopback, seeds it with an account that already
// exists, and walks the GitOps loop over the example organisation: validate, plan, apply,
// plan again, drift.
// The global -c flag names another example configuration.
type DemoCmd struct {
	ConfigFlag
}

// demoConfig is the configuration the demo walks through without -c.
const demoConfig = "examples/org/scimsync.yaml"

// The people and groups the demo's existing account has besides those of the example.
const (
	demoLeaver     = "morgan.reed@northwind.example"
	demoContractor = "alex.kim@contractors.northwind.example"
	demoVendor     = "vendor-acme"
	demoIntern     = "pat.intern@northwind.example"
	demoShadow     = "shadow-admins"
	// demoRateLimit lifts the client's rate limit: the emulator is local and unthrottled.
	demoRateLimit = "1000"
)

// demoStep is one command the demo runs, with the exit code it expects.
type demoStep struct {
	note string
	args []string
	exit int
}

// Run runs the demo; it fails when a step does not end as expected.
func (c *DemoCmd) Run(rt *Runtime) error {
	if c.Config == "" {
		c.Config = demoConfig
	}
	if _, err := os.Stat(c.Config); err != nil {
		return &Error{
			Err:  fmt.Errorf("demo: read %s: %w", c.Config, errors.Unwrap(err)),
			Hint: "run the demo from the root of the scimsync repository (go run ./cmd/scimsync demo), or pass -c with the path of examples/org/scimsync.yaml",
		}
	}
	src := Sources{ConfigFlag: c.ConfigFlag}
	cfg, desired, err := src.loadValid(rt)
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	me := emulator.DefaultMeUserName
	if len(cfg.Policy.Protected.Users) > 0 {
		me = cfg.Policy.Protected.Users[0]
	}
	var workspaces []string
	hosts := map[string]string{}
	for _, w := range desired.Workspaces {
		workspaces = append(workspaces, w.ID)
		hosts[w.ID] = w.Host
	}
	srv := emulator.New(emulator.Options{RateLimit: -1, MeUserName: me, Workspaces: workspaces, WorkspaceHosts: hosts})
	seeded, err := srv.Seed(existingAccount(desired))
	if err != nil {
		return fmt.Errorf("demo: seed the emulator: %w", err)
	}
	url, stop, err := serve(rt.Ctx, srv)
	if err != nil {
		return err
	}
	defer stop()
	dir, err := os.MkdirTemp("", "scimsync-demo-")
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	defer os.RemoveAll(dir)
	planFile := filepath.Join(dir, "plan.json")
	var overrides []string
	for _, id := range workspaces {
		overrides = append(overrides, srv.WorkspaceHost(id)+"="+url)
	}
	env := map[string]string{
		"DATABRICKS_HOST":          url,
		"DATABRICKS_ACCOUNT_ID":    emulator.DefaultAccountID,
		"DATABRICKS_CLIENT_ID":     emulator.DefaultClientID,
		"DATABRICKS_CLIENT_SECRET": emulator.DefaultClientSecret,
		"SCIMSYNC_RATE_LIMIT":      demoRateLimit,
		"SCIMSYNC_HOST_OVERRIDES":  strings.Join(overrides, ","),
	}
	out := rt.IO.Out
	fmt.Fprintf(out, "A Databricks SCIM emulator is listening at %s. It holds Northwind's existing\n"+
		"account: %s, %s and %s. Among them:\n"+
		"  - a user whose display name is out of date;\n"+
		"  - %s, who has left and is in no manifest;\n"+
		"  - groups under the old names that %s renames with previously:;\n"+
		"  - contractors (%s, group %s)\n"+
		"    that policy.scope.ignore leaves to another team.\n\n"+
		"The commands below talk to it with this environment:\n\n",
		url, plural(len(seeded.Users), "user"), plural(len(seeded.ServicePrincipals), "service principal"),
		plural(len(seeded.Groups), "group"), demoLeaver, filepath.Dir(c.Config), demoContractor, demoVendor)
	for _, k := range []string{"DATABRICKS_HOST", "DATABRICKS_ACCOUNT_ID", "DATABRICKS_CLIENT_ID"} {
		fmt.Fprintf(out, "  export %s=%s\n", k, env[k])
	}
	fmt.Fprintf(out, "  export DATABRICKS_CLIENT_SECRET=...  # the emulator's, not shown\n")
	fmt.Fprintf(out, "  export SCIMSYNC_RATE_LIMIT=%s  # the emulator is local\n", demoRateLimit)
	fmt.Fprintf(out, "  export SCIMSYNC_HOST_OVERRIDES=%s  # the workspaces' hosts, served by the emulator\n", env["SCIMSYNC_HOST_OVERRIDES"])
	fmt.Fprintf(out, "  DEMO=%s  # a scratch directory for the plan file, removed at the end\n", dir)

	getenv := demoEnv(env, rt.IO.Getenv)
	steps := []demoStep{
		{"Validate the manifests: every problem would be reported at once, with file:line:column.",
			[]string{"validate", "-c", c.Config}, ExitOK},
		{"Plan: compare them with the account. Existing identities are adopted, not duplicated.",
			[]string{"plan", "-c", c.Config, "-o", planFile, "--detailed-exitcode"}, ExitChanges},
		{"Apply the reviewed plan. It is refused if the account changed since the plan was made.",
			[]string{"apply", "-c", c.Config, planFile}, ExitOK},
		{"Plan again: nothing is left to do.",
			[]string{"plan", "-c", c.Config, "--detailed-exitcode"}, ExitOK},
		{"Check for drift: the account matches the manifests.",
			[]string{"drift", "-c", c.Config}, ExitOK},
	}
	for _, s := range steps {
		if err := c.step(rt, s, getenv, planFile); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "\n# Meanwhile someone creates %s and a group %s by hand in the account\n"+
		"# console, and makes the group an admin of workspace %s.\n", demoIntern, demoShadow, workspaces[0])
	if _, err := srv.Seed(outOfBand(workspaces[0])); err != nil {
		return fmt.Errorf("demo: change the emulator: %w", err)
	}
	last := demoStep{"Drift finds what changed outside Git, and exits 2.", []string{"drift", "-c", c.Config}, ExitChanges}
	if err := c.step(rt, last, getenv, planFile); err != nil {
		return err
	}
	fmt.Fprintf(out, `
What just happened
  - validate read the example organisation in %[1]s.
  - plan adopted the identities that already existed, created the missing ones, renamed
    groups in place (previously:), fixed an outdated display name, and deactivated
    %[2]s, who is in no manifest; the contractors and the break-glass admin
    were left alone. The removal guards allowed one deactivation.
  - apply carried out the reviewed plan file, and a second plan had nothing to do.
  - drift compared the manifests with the account, and caught a change made by hand.

Next steps
  - Point scimsync at your account: set DATABRICKS_HOST, DATABRICKS_ACCOUNT_ID and
    DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET (or a ~/.databrickscfg profile).
  - Adopt it: scimsync export --format manifest -o identities.yaml writes it as it is.
  - Review changes in pull requests with the GitHub Action: see examples/github.
`, filepath.Dir(c.Config), demoLeaver)
	return nil
}

// step prints a step's command as a user would type it and runs it through Main.
func (c *DemoCmd) step(rt *Runtime, s demoStep, getenv func(string) string, planFile string) error {
	shown := strings.ReplaceAll(strings.Join(s.args, " "), filepath.Dir(planFile), "$DEMO")
	fmt.Fprintf(rt.IO.Out, "\n# %s\n$ scimsync %s\n", s.note, shown)
	dir := filepath.Dir(planFile)
	code := Main(rt.Ctx, s.args, IO{
		In: strings.NewReader(""), Out: &replacer{w: rt.IO.Out, old: dir, new: "$DEMO"}, Err: &replacer{w: rt.IO.Err, old: dir, new: "$DEMO"},
		OutIsTerminal: rt.IO.OutIsTerminal, ErrIsTerminal: rt.IO.ErrIsTerminal,
		Getenv: getenv,
	})
	if err := rt.Ctx.Err(); err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	if code != s.exit {
		return fmt.Errorf("demo: 'scimsync %s' exited %d, expected %d", shown, code, s.exit)
	}
	fmt.Fprintf(rt.IO.Out, "[exit %d]\n", code)
	return nil
}

// replacer writes to w with old replaced by new, so that the demo's output shows its
// scratch directory as $DEMO, as the commands it prints do. Each write is replaced on its
// own: the commands write whole lines.
type replacer struct {
	w        io.Writer
	old, new string
}

func (r *replacer) Write(p []byte) (int, error) {
	if _, err := io.WriteString(r.w, strings.ReplaceAll(string(p), r.old, r.new)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// demoEnv returns the environment of the demo's commands: the emulator's settings, no
// other Databricks or scimsync setting and no ~/.databrickscfg of the user, and the rest
// of the environment (NO_COLOR, ...) as it is.
func demoEnv(env map[string]string, getenv func(string) string) func(string) string {
	return func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		if k == "HOME" || strings.HasPrefix(k, "DATABRICKS_") || strings.HasPrefix(k, "SCIMSYNC_") {
			return ""
		}
		return getenv(k)
	}
}

// serve serves the emulator on a free loopback port until stop is called or ctx ends.
func serve(ctx context.Context, h http.Handler) (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("demo: listen on loopback: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, BaseContext: func(net.Listener) context.Context { return ctx }}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// existingAccount derives the account the demo starts from out of the desired state: most
// users exist (one with an outdated displayName), groups with previously: names exist under
// their first old name, and the account has a leaver and contractors nobody declares.
func existingAccount(desired *model.State) *model.State {
	s := &model.State{}
	oldName := map[string]string{}
	for _, g := range desired.Groups {
		if len(g.Previously) > 0 {
			oldName[g.Key()] = g.Previously[0]
		}
	}
	rename := func(key string) string {
		if old, ok := oldName[key]; ok {
			return old
		}
		return key
	}
	exists := map[model.Ref]bool{}
	for i, u := range desired.Users {
		if i%8 == 7 {
			continue // a new hire
		}
		u.Origin = model.Origin{}
		if i == 0 && u.GivenName != "" && u.FamilyName != "" {
			u.DisplayName = u.FamilyName + ", " + u.GivenName
		}
		s.Users = append(s.Users, u)
		exists[model.Ref{Kind: model.KindUser, Key: u.Key()}] = true
	}
	for _, p := range desired.ServicePrincipals {
		p.Origin = model.Origin{}
		s.ServicePrincipals = append(s.ServicePrincipals, p)
		exists[model.Ref{Kind: model.KindServicePrincipal, Key: p.Key()}] = true
	}
	for _, g := range desired.Groups {
		exists[model.Ref{Kind: model.KindGroup, Key: g.Key()}] = true
	}
	present := func(kind model.Kind, keys []string, name func(string) string) []string {
		var out []string
		for _, k := range keys {
			if exists[model.Ref{Kind: kind, Key: k}] {
				out = append(out, name(k))
			}
		}
		return out
	}
	same := func(k string) string { return k }
	for _, g := range desired.Groups {
		s.Groups = append(s.Groups, model.Group{
			DisplayName: rename(g.Key()), ExternalID: g.ExternalID, Roles: g.Roles, Entitlements: g.Entitlements,
			Members: model.Members{
				Users:             present(model.KindUser, g.Members.Users, same),
				Groups:            present(model.KindGroup, g.Members.Groups, rename),
				ServicePrincipals: present(model.KindServicePrincipal, g.Members.ServicePrincipals, same),
			},
		})
	}
	ref := func(r model.Ref) (model.Ref, bool) {
		if r.Kind == model.KindGroup {
			r.Key = rename(r.Key)
		}
		return r, exists[model.Ref{Kind: r.Kind, Key: r.Key}] || r.Kind == model.KindGroup
	}
	for _, w := range desired.Workspaces {
		sw := model.Workspace{ID: w.ID}
		for _, a := range w.Assignments {
			if r, ok := ref(a.Principal); ok {
				sw.Assignments = append(sw.Assignments, model.Assignment{Principal: r, Permission: a.Permission})
			}
		}
		for _, e := range w.Entitlements {
			if r, ok := ref(e.Principal); ok {
				sw.Entitlements = append(sw.Entitlements, model.PrincipalEntitlements{Principal: r, Entitlements: slices.Clone(e.Entitlements)})
			}
		}
		s.Workspaces = append(s.Workspaces, sw)
	}
	// The leaver is still in the first team group; the contractors have a group of their own.
	s.Users = append(s.Users,
		model.User{UserName: demoLeaver, DisplayName: "Morgan Reed", GivenName: "Morgan", FamilyName: "Reed", Active: true},
		model.User{UserName: demoContractor, DisplayName: "Alex Kim", Active: true})
	for i := range s.Groups {
		if g := &s.Groups[i]; len(g.Members.Users) > 0 {
			g.Members.Users = append(g.Members.Users, demoLeaver)
			break
		}
	}
	s.Groups = append(s.Groups, model.Group{DisplayName: demoVendor, Members: model.Members{Users: []string{demoContractor}}})
	s.Normalize()
	return s
}

// outOfBand is what someone adds by hand after the demo's apply.
func outOfBand(workspace string) *model.State {
	return &model.State{
		Users:  []model.User{{UserName: demoIntern, DisplayName: "Pat Intern", Active: true}},
		Groups: []model.Group{{DisplayName: demoShadow, Members: model.Members{Users: []string{demoIntern}}}},
		Workspaces: []model.Workspace{{ID: workspace, Assignments: []model.Assignment{
			{Principal: model.Ref{Kind: model.KindGroup, Key: demoShadow}, Permission: model.PermissionAdmin}}}},
	}
}
