package ldap

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/directory"
	"github.com/scimsync/scimsync/source/ldap/ldaptest"
	"github.com/scimsync/scimsync/source/ldif"
	"github.com/scimsync/scimsync/source/mapping"
	"github.com/scimsync/scimsync/source/sourcetest"
)

// directoryLDIF returns a directory with n users under ou=people, a group with all of
// them, a posixGroup with the first three by memberUid, a nested group, and a disabled
// Active Directory-style user.
func directoryLDIF(n int) string {
	var b strings.Builder
	b.WriteString(`dn: ou=people,dc=example,dc=test
objectClass: organizationalUnit
ou: people

dn: ou=groups,dc=example,dc=test
objectClass: organizationalUnit
ou: groups

`)
	for i := range n {
		fmt.Fprintf(&b, `dn: uid=user%04d,ou=people,dc=example,dc=test
objectClass: inetOrgPerson
objectClass: posixAccount
uid: user%04d
cn: User %04d
sn: %04d
givenName: User
mail: user%04d@example.test
uidNumber: %d
gidNumber: 1000
homeDirectory: /home/user%04d

`, i, i, i, i, i, 10000+i, i)
	}
	b.WriteString(`dn: cn=everyone,ou=groups,dc=example,dc=test
objectClass: groupOfNames
cn: everyone
`)
	for i := range n {
		fmt.Fprintf(&b, "member: uid=user%04d,ou=people,dc=example,dc=test\n", i)
	}
	b.WriteString(`
dn: cn=posix-devs,ou=groups,dc=example,dc=test
objectClass: posixGroup
cn: posix-devs
gidNumber: 2000
memberUid: user0000
memberUid: USER0001
memberUid: user0002

dn: cn=parents,ou=groups,dc=example,dc=test
objectClass: groupOfNames
cn: parents
member: CN=Posix-Devs,OU=Groups,DC=Example,DC=Test
member: cn=ghost,ou=people,dc=example,dc=test

dn: cn=Disabled Person,ou=people,dc=example,dc=test
objectClass: user
cn: Disabled Person
userPrincipalName: disabled@example.test
userAccountControl: 514
sn: Person
instanceType: 4
nTSecurityDescriptor: AA==
objectCategory: cn=Person,cn=Schema,cn=Configuration,dc=example,dc=test
objectGUID:: EjRWeJq83vAAESIzRFVmdw==
`)
	return b.String()
}

// adSchemas are a stock OpenLDAP's schemas plus msuser, which defines Active Directory's
// user class that directoryLDIF's disabled user has.
var adSchemas = append(slices.Clone(ldaptest.DefaultSchemas), "msuser")

func source(t *testing.T, url string, ldap Connection) config.Source {
	return sourceWith(t, url, ldap, directory.Mapping{})
}

func sourceWith(t *testing.T, url string, ldap Connection, m directory.Mapping) config.Source {
	ldap.URL = url
	if ldap.BaseDN == "" {
		ldap.BaseDN = ldaptest.DefaultSuffix
	}
	return config.Source{Kind: config.SourceLDAP, Settings: sourcetest.Node(t, Settings{LDAP: ldap, Mapping: m}),
		Origin: model.Origin{File: "scimsync.yaml", Line: 7}}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func rootEnv(srv *ldaptest.Server) func(string) string {
	return env(map[string]string{"LDAP_BIND_DN": srv.RootDN, "LDAP_BIND_PASSWORD": srv.RootPassword})
}

func TestReadPagedSearch(t *testing.T) {
	const users = 1200
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: directoryLDIF(users), SizeLimit: 500, Schemas: adSchemas})

	// The server refuses to return more than 500 entries without paging, so that reading
	// 1,200 users proves the pages were followed.
	conn, err := goldap.DialURL(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Search(goldap.NewSearchRequest(srv.Suffix, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, "(objectClass=inetOrgPerson)", []string{"dn"}, nil))
	conn.Close()
	if !goldap.IsErrorWithCode(err, goldap.LDAPResultSizeLimitExceeded) {
		t.Fatalf("unpaged search: got %v, want size limit exceeded", err)
	}

	res, diags := readSource(context.Background(), source(t, srv.URL, Connection{PageSize: 500}), rootEnv(srv))
	state := res.State
	if diags.HasErrors() {
		t.Fatalf("diagnostics: %v", diags)
	}
	if len(state.Users) != users+1 {
		t.Fatalf("got %d users, want %d", len(state.Users), users+1)
	}
	groups := map[string]model.Group{}
	for _, g := range state.Groups {
		groups[g.DisplayName] = g
	}
	if got := len(groups["everyone"].Members.Users); got != users {
		t.Errorf("everyone has %d members, want %d", got, users)
	}
	if diff := cmp.Diff([]string{"user0000@example.test", "user0001@example.test", "user0002@example.test"},
		groups["posix-devs"].Members.Users); diff != "" {
		t.Errorf("posix-devs members (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(model.Members{Groups: []string{"posix-devs"}}, groups["parents"].Members); diff != "" {
		t.Errorf("parents members (-want +got):\n%s", diff)
	}
	var disabled *model.User
	for i := range state.Users {
		if state.Users[i].UserName == "disabled@example.test" {
			disabled = &state.Users[i]
		}
	}
	if disabled == nil || disabled.Active {
		t.Errorf("disabled user: got %+v, want present and inactive", disabled)
	}
	wantWarn := []string{"member-not-found"}
	var gotWarn []string
	for _, d := range diags {
		gotWarn = append(gotWarn, d.Rule)
		if d.Origin.File != srv.URL || d.Origin.Entry != "cn=parents,ou=groups,dc=example,dc=test" {
			t.Errorf("warning origin %v, want %s entry cn=parents", d.Origin, srv.URL)
		}
	}
	if diff := cmp.Diff(wantWarn, gotWarn); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestReadFailures(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: directoryLDIF(3), Schemas: adSchemas})
	wrong := env(map[string]string{"LDAP_BIND_DN": srv.RootDN, "LDAP_BIND_PASSWORD": "not-the-password"})
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		src     config.Source
		env     func(string) string
		rule    string
		message string // a substring of the message
	}{
		{"wrong password", context.Background(), source(t, srv.URL, Connection{}), wrong, RuleBind,
			fmt.Sprintf("bind to %s as %q", srv.URL, srv.RootDN)},
		{"custom variables", context.Background(), source(t, srv.URL, Connection{BindDNEnv: "DN", PasswordEnv: "PW"}),
			env(map[string]string{"DN": srv.RootDN, "PW": "nope"}), RuleBind, "Invalid Credentials"},
		{"no such base", context.Background(), source(t, srv.URL, Connection{BaseDN: "dc=other,dc=test"}), rootEnv(srv),
			RuleSearch, `under "dc=other,dc=test"`},
		{"cancelled", cancelled, source(t, srv.URL, Connection{}), rootEnv(srv), RuleConnect, "context canceled"},
		{"nothing listening", context.Background(), source(t, "ldap://127.0.0.1:1", Connection{Timeout: time.Second}),
			rootEnv(srv), RuleConnect, "connect to ldap://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := readSource(tt.ctx, tt.src, tt.env)
			d := onlyError(t, diags)
			if d.Rule != tt.rule || !strings.Contains(d.Message, tt.message) {
				t.Errorf("got %s, want rule %s and a message with %q", d, tt.rule, tt.message)
			}
			if strings.Contains(d.String(), "not-the-password") || strings.Contains(d.String(), srv.RootPassword) {
				t.Errorf("the diagnostic reveals the password: %s", d)
			}
		})
	}
}

func onlyError(t *testing.T, diags diag.List) diag.Diagnostic {
	t.Helper()
	var errs []diag.Diagnostic
	for _, d := range diags {
		if d.Severity == diag.SevError {
			errs = append(errs, d)
		}
	}
	if len(errs) != 1 {
		t.Fatalf("got %d errors, want 1: %v", len(errs), diags)
	}
	return errs[0]
}

func TestReadTLS(t *testing.T) {
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: directoryLDIF(2), TLS: true, Schemas: adSchemas})
	tests := []struct {
		name string
		ldap Connection
		url  string
		rule string // empty when the read must succeed
	}{
		{"StartTLS", Connection{StartTLS: true, CACert: srv.CACertFile}, srv.URL, ""},
		{"LDAPS", Connection{CACert: srv.CACertFile}, srv.LDAPSURL, ""},
		{"LDAPS by host name", Connection{CACert: srv.CACertFile}, strings.Replace(srv.LDAPSURL, "127.0.0.1", "localhost", 1), ""},
		{"StartTLS with an unknown CA", Connection{StartTLS: true}, srv.URL, RuleConnect},
		{"LDAPS with an unknown CA", Connection{}, srv.LDAPSURL, RuleConnect},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, diags := readSource(context.Background(), source(t, tt.url, tt.ldap), rootEnv(srv))
			state := res.State
			if tt.rule == "" {
				if diags.HasErrors() || len(state.Users) != 3 {
					t.Fatalf("got %d users, diagnostics %v; want 3 users", len(state.Users), diags)
				}
				return
			}
			d := onlyError(t, diags)
			if d.Rule != tt.rule || !strings.Contains(d.Message, "certificate") {
				t.Errorf("got %s, want a %s error about the certificate", d, tt.rule)
			}
		})
	}
}

// TestConformsToLDIF loads the LDIF source's fixture into a slapd with a stock schema
// (no Active Directory classes, which the default filters name) and checks that the live
// search yields the same state as reading the file.
func TestConformsToLDIF(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "ldif", "testdata", "openldap.ldif"))
	if err != nil {
		t.Fatal(err)
	}
	srv := ldaptest.Start(t, ldaptest.Options{Suffix: "dc=example,dc=org", LDIF: string(data)})
	mappings := map[string]directory.Mapping{
		"default": {},
		"scoped": {
			Users:     directory.UserScope{BaseDN: "ou=People,dc=example,dc=org"},
			Groups:    directory.GroupScope{NamePattern: "^(Engineering|Platform)$"},
			GroupName: directory.GroupName{NameRule: mapping.NameRule{Prefix: "ldap-", Lowercase: true}},
		},
	}
	for name, m := range mappings {
		t.Run(name, func(t *testing.T) {
			fromRes, fd := ldif.Read(context.Background(), config.Source{Kind: config.SourceLDIF,
				Paths: []string{filepath.Join("..", "ldif", "testdata", "openldap.ldif")}, Settings: sourcetest.Node(t, ldif.Settings{Mapping: m})})
			src := sourceWith(t, srv.URL, Connection{BaseDN: "dc=example,dc=org", PageSize: 2}, m)
			liveRes, ld := readSource(context.Background(), src, rootEnv(srv))
			fromFile, live := fromRes.State, liveRes.State
			if fd.HasErrors() || ld.HasErrors() {
				t.Fatalf("diagnostics: file %v, live %v", fd, ld)
			}
			if diff := cmp.Diff(fromFile, live, cmpopts.IgnoreFields(model.User{}, "Origin"),
				cmpopts.IgnoreFields(model.Group{}, "Origin")); diff != "" {
				t.Errorf("live state differs from the LDIF's (-file +live):\n%s", diff)
			}
			for _, u := range live.Users {
				if u.Origin.File != srv.URL || u.Origin.Entry == "" {
					t.Errorf("user %s has origin %v, want the URL and its DN", u.UserName, u.Origin)
				}
			}
		})
	}
}

func TestConfigure(t *testing.T) {
	ca := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(ca, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	creds := env(map[string]string{"LDAP_BIND_DN": "cn=reader,dc=x", "LDAP_BIND_PASSWORD": "s3cret"})
	tests := []struct {
		name string
		ldap Connection
		env  func(string) string
		want []string // messages, without origin
	}{
		{"valid LDAPS", Connection{URL: "ldaps://dc1.corp.example", BaseDN: "dc=corp,dc=example"}, creds, nil},
		{"valid StartTLS", Connection{URL: "ldap://dc1.corp.example:389", StartTLS: true, BaseDN: "dc=x"}, creds, nil},
		{"plain LDAP on loopback", Connection{URL: "ldap://localhost:3389", BaseDN: "dc=x"}, creds, nil},
		{"anonymous", Connection{URL: "ldaps://h", BaseDN: "dc=x"}, env(nil), nil},
		{"plain LDAP elsewhere", Connection{URL: "ldap://dc1.corp.example", BaseDN: "dc=x"}, creds, []string{
			"ldap://dc1.corp.example is not encrypted: use ldaps:// or set ldap.startTLS: true (plain ldap:// is accepted only on loopback)"}},
		{"StartTLS on LDAPS", Connection{URL: "ldaps://h", StartTLS: true, BaseDN: "dc=x"}, creds, []string{
			"ldap.startTLS is for ldap:// URLs; an ldaps:// connection is encrypted already"}},
		{"missing URL and base", Connection{}, creds, []string{
			"ldap.baseDN is required",
			"ldap.url is required (ldaps://host or ldap://host with startTLS: true)"}},
		{"credentials in the URL", Connection{URL: "ldaps://admin:hunter2@h", BaseDN: "dc=x"}, creds, []string{
			"ldap.url must not hold credentials: put the bind DN and password in the environment variables LDAP_BIND_DN and LDAP_BIND_PASSWORD"}},
		{"other scheme", Connection{URL: "http://h", BaseDN: "dc=x"}, creds, []string{
			`ldap.url "http://h": the scheme must be ldaps or ldap`}},
		{"bad filter and base", Connection{URL: "ldaps://h", BaseDN: "nope", UserFilter: "(uid=a"}, creds, []string{
			`ldap.baseDN "nope": DN ended with incomplete type, value pair`,
			`ldap.userFilter "(uid=a": LDAP Result Code 201 "Filter Compile Error": ldap: unexpected end of filter`}},
		{"bad CA file", Connection{URL: "ldaps://h", BaseDN: "dc=x", CACert: ca}, creds, []string{
			"ldap.caCert: " + ca + " holds no PEM certificate"}},
		{"CA file that is a directory", Connection{URL: "ldaps://h", BaseDN: "dc=x", CACert: filepath.Dir(ca)}, creds, []string{
			"ldap.caCert: read " + filepath.Dir(ca) + ": not a regular file but a directory; sources read only regular files"}},
		{"DN without password", Connection{URL: "ldaps://h", BaseDN: "dc=x", BindDNEnv: "MY_DN"},
			env(map[string]string{"MY_DN": "cn=x"}), []string{
				"MY_DN is set but LDAP_BIND_PASSWORD is empty; an LDAP bind with an empty password is an unauthenticated bind"}},
		{"password without DN", Connection{URL: "ldaps://h", BaseDN: "dc=x", PasswordEnv: "MY_PW"},
			env(map[string]string{"MY_PW": "pw"}), []string{"MY_PW is set but LDAP_BIND_DN is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := configure(tt.ldap, model.Origin{}, tt.env)
			var got []string
			for _, d := range diags {
				got = append(got, d.Message)
				if strings.Contains(d.Message, "hunter2") || strings.Contains(d.Message, "s3cret") {
					t.Errorf("a message reveals a password: %s", d.Message)
				}
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

// rangeServer answers the base searches completeRanges makes, as Active Directory does,
// from a list of values served at most max at a time.
type rangeServer struct {
	values   []string
	max      int
	requests []string
}

func (s *rangeServer) Search(req *goldap.SearchRequest) (*goldap.SearchResult, error) {
	want := req.Attributes[0]
	s.requests = append(s.requests, want)
	m := rangeOption.FindStringSubmatch(want)
	start, _ := strconv.Atoi(m[2])
	end, last := start+s.max-1, ""
	if end >= len(s.values)-1 {
		end, last = len(s.values)-1, "*"
	} else {
		last = strconv.Itoa(end)
	}
	attr := goldap.NewEntryAttribute(fmt.Sprintf("member;range=%d-%s", start, last), s.values[start:end+1])
	return &goldap.SearchResult{Entries: []*goldap.Entry{{DN: req.BaseDN, Attributes: []*goldap.EntryAttribute{attr}}}}, nil
}

func TestCompleteRanges(t *testing.T) {
	var values []string
	for i := range 3400 {
		values = append(values, fmt.Sprintf("cn=u%d,dc=x", i))
	}
	srv := &rangeServer{values: values, max: 1500}
	e := &goldap.Entry{DN: "cn=big,dc=x", Attributes: []*goldap.EntryAttribute{
		goldap.NewEntryAttribute("cn", []string{"big"}),
		goldap.NewEntryAttribute("member;range=0-1499", values[:1500]),
	}}
	if err := completeRanges(context.Background(), srv, e); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"member;range=1500-*", "member;range=3000-*"}, srv.requests); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if got := e.GetAttributeValues("member"); !cmp.Equal(got, values) {
		t.Errorf("got %d members, want all %d in order", len(got), len(values))
	}
	if got := e.GetAttributeValues("cn"); !cmp.Equal(got, []string{"big"}) {
		t.Errorf("cn = %v, want it untouched", got)
	}
}

func TestReadUnusedSettings(t *testing.T) {
	src := source(t, "ldaps://ldap.invalid", Connection{})
	src.Paths = []string{"export.ldif"}
	src.Settings = sourcetest.YAML(t, "kind: ldap\npath: export.ldif\ngroups: groups.csv\nldap: {url: 'ldaps://ldap.invalid', baseDN: 'dc=x'}\n")
	_, diags := readSource(context.Background(), src, env(nil))
	want := []string{
		"scimsync.yaml:3:1: error: groups is not used by ldap sources (they read ldap, mapping here) [unused-setting]",
		"scimsync.yaml:7: error: path is not used by ldap sources: they read the directory that ldap.url names [unused-setting]",
	}
	var got []string
	for _, d := range diags {
		got = append(got, d.String())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}
