package e2e

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/source/ldap/ldaptest"
)

// TestSourceFailuresNeverRemove applies the example organisation, then points the binary
// at sources that read nothing, failed, were cut short or lost half of the users: an
// identity-provider export with only its header, a live LDAP directory searched under a
// base DN that does not exist and bound with a wrong password, a CSV export truncated in
// the middle of a row, and a manifest directory that drops half of the users. Each must
// end in a source error or a refused plan, exit 1, and make no write.
func TestSourceFailuresNeverRemove(t *testing.T) {
	a := newAccount(t, emulator.Options{}, nil)
	a.converge(t)

	dir := ldaptest.Start(t, ldaptest.Options{LDIF: `dn: ou=people,dc=example,dc=test
objectClass: organizationalUnit
ou: people

dn: uid=ada,ou=people,dc=example,dc=test
objectClass: inetOrgPerson
uid: ada
cn: Ada Lovelace
sn: Lovelace
mail: ahmed.hassan@northwind.example
`})
	identities, err := filepath.Abs("../examples/org/identities")
	if err != nil {
		t.Fatal(err)
	}
	policy := "policy:\n  guards: {maxRemovals: 10, maxRemovalPercent: 5}\n  protected:\n    users: [" + exampleAdmin + "]\n    servicePrincipals: [7e3c5a2b-1d4f-4e6a-8b9c-0d1e2f3a4b5c]\napply:\n  rateLimit: 1000\n"
	var csvRows strings.Builder
	csvRows.WriteString("userName,displayName\n")
	for _, u := range a.desired(t).Users {
		csvRows.WriteString(u.UserName + "," + u.DisplayName + "\n")
	}
	half := csvRows.String()[:csvRows.Len()/2]
	comma := strings.LastIndex(half, ",")
	cutInName := half[:comma-2]    // inside the userName of a row: one field
	cutInDisplay := half[:comma+3] // inside the displayName: a whole row, half the users

	tests := []struct {
		name  string
		files map[string]string
		env   []string
		want  string // a regular expression the output must match
	}{
		{
			name: "entra-export-with-only-a-header",
			files: map[string]string{
				"entra.csv":     "userPrincipalName,displayName,surname,mail,givenName,id,userType,jobTitle,department,accountEnabled\n",
				"scimsync.yaml": "sources:\n  - kind: entra\n    path: entra.csv\n" + policy,
			},
			want: `entra\.csv: error: the file lists no users; .*\[empty-source\]`,
		},
		{
			name: "ldap-search-under-a-wrong-base-dn",
			files: map[string]string{
				"scimsync.yaml": "sources:\n  - kind: ldap\n    ldap:\n      url: " + dir.URL + "\n      baseDN: ou=nowhere,dc=example,dc=test\n" + policy,
			},
			env:  []string{"LDAP_BIND_DN=" + dir.RootDN, "LDAP_BIND_PASSWORD=" + dir.RootPassword},
			want: `error: search ldap://127\.0\.0\.1:\d+ for users under "ou=nowhere,dc=example,dc=test".*No Such Object.*\[ldap-search\]`,
		},
		{
			name: "ldap-bind-with-a-wrong-password",
			files: map[string]string{
				"scimsync.yaml": "sources:\n  - kind: ldap\n    ldap:\n      url: " + dir.URL + "\n      baseDN: dc=example,dc=test\n" + policy,
			},
			env:  []string{"LDAP_BIND_DN=" + dir.RootDN, "LDAP_BIND_PASSWORD=not-the-password"},
			want: `error: bind to ldap://127\.0\.0\.1:\d+ as "cn=admin,dc=example,dc=test": .*Invalid Credentials.*\[ldap-bind\]`,
		},
		{
			name: "csv-export-truncated-in-a-user-name",
			files: map[string]string{
				"users.csv":     cutInName,
				"scimsync.yaml": "sources:\n  - kind: csv\n    users: users.csv\n" + policy,
			},
			want: `users\.csv:\d+: error: row has 1 fields?, the header has 2 \[csv-field-count\]`,
		},
		{
			// The cut leaves a row that parses: only the guard can tell.
			name: "csv-export-truncated-in-a-display-name",
			files: map[string]string{
				"users.csv":     cutInDisplay,
				"scimsync.yaml": "sources:\n  - kind: csv\n    users: users.csv\n" + policy,
			},
			want: `error: plan refused by the removal guard: the plan deactivates or deletes \d+ (of \d+ managed )?identities`,
		},
		{
			name: "manifest-that-drops-half-of-the-users",
			files: map[string]string{
				"scimsync.yaml": "sources:\n  - kind: yaml\n    path:\n" +
					"      - " + filepath.Join(identities, "groups.yaml") + "\n" +
					"      - " + filepath.Join(identities, "service-principals.yaml") + "\n" +
					"      - " + filepath.Join(identities, "workspaces.yaml") + "\n" +
					"      - " + filepath.Join(identities, "users", "engineering.yaml") + "\n" + policy,
			},
			want: `error: plan refused by the removal guard: the plan deactivates or deletes \d+ (of \d+ managed )?identities`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := *a
			b.dir = t.TempDir()
			b.env = append(append([]string{}, a.env...), tc.env...)
			b.write(t, tc.files)
			re := regexp.MustCompile(tc.want)
			a.quiesce(t)
			before := a.obs.writes.Load()
			for _, args := range [][]string{{"plan", "-o", "plan.json"}, {"apply", "--auto-approve"}} {
				r := b.run(t, args...)
				if r.code != 1 || !re.MatchString(r.stdout+r.stderr) {
					t.Errorf("scimsync %s: want exit 1 and output matching %q, got %s", strings.Join(args, " "), tc.want, r)
				}
				if strings.Contains(r.stdout, "Saved the plan") {
					t.Errorf("scimsync %s saved a plan", strings.Join(args, " "))
				}
			}
			a.quiesce(t)
			if n := a.obs.writes.Load() - before; n != 0 {
				t.Errorf("a failed or incomplete source led to %d writes", n)
			}
		})
	}
	// The account is as the example organisation declares it.
	if r := a.run(t, "plan", "--detailed-exitcode"); r.code != 0 {
		t.Errorf("the account changed: %s", r)
	}
}
