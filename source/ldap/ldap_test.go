package ldap

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"
	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/ldap/ldaptest"
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

func source(url string, ldap config.LDAP) config.Source {
	ldap.URL = url
	if ldap.BaseDN == "" {
		ldap.BaseDN = ldaptest.DefaultSuffix
	}
	return config.Source{Kind: config.SourceLDAP, LDAP: ldap, Origin: model.Origin{File: "scimsync.yaml", Line: 7}}
}

func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

func rootEnv(srv *ldaptest.Server) func(string) string {
	return env(map[string]string{"LDAP_BIND_DN": srv.RootDN, "LDAP_BIND_PASSWORD": srv.RootPassword})
}

func TestReadPagedSearch(t *testing.T) {
	const users = 1200
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: directoryLDIF(users), SizeLimit: 500})

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

	state, diags := read(context.Background(), source(srv.URL, config.LDAP{PageSize: 500}), rootEnv(srv))
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
	srv := ldaptest.Start(t, ldaptest.Options{LDIF: directoryLDIF(3)})
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
		{"wrong password", context.Background(), source(srv.URL, config.LDAP{}), wrong, RuleBind,
			fmt.Sprintf("bind to %s as %q", srv.URL, srv.RootDN)},
		{"custom variables", context.Background(), source(srv.URL, config.LDAP{BindDNEnv: "DN", PasswordEnv: "PW"}),
			env(map[string]string{"DN": srv.RootDN, "PW": "nope"}), RuleBind, "Invalid Credentials"},
		{"no such base", context.Background(), source(srv.URL, config.LDAP{BaseDN: "dc=other,dc=test"}), rootEnv(srv),
			RuleSearch, `under "dc=other,dc=test"`},
		{"empty result", context.Background(),
			source(srv.URL, config.LDAP{UserFilter: "(uid=nobody)"}), rootEnv(srv), RuleEmpty, "yields no users"},
		{"cancelled", cancelled, source(srv.URL, config.LDAP{}), rootEnv(srv), RuleConnect, "context canceled"},
		{"nothing listening", context.Background(), source("ldap://127.0.0.1:1", config.LDAP{Timeout: time.Second}),
			rootEnv(srv), RuleConnect, "connect to ldap://127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, diags := read(tt.ctx, tt.src, tt.env)
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
