package source

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/model"
)

// files writes files into a new directory and returns it.
func files(t *testing.T, m map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range m {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoad(t *testing.T) {
	tests := map[string]struct {
		files  map[string]string
		config string   // scimsync.yaml content; none when empty
		paths  []string // extra paths, relative to the directory
		want   []string // diagnostics, with the directory removed
		users  int
	}{
		"config with a directory that holds it": {
			files: map[string]string{
				"users.yaml":  "users:\n  - userName: a@x.io\n    groups: [eng]\n",
				"groups.yaml": "groups:\n  - displayName: eng\n",
			},
			config: "sources:\n  - kind: yaml\n    path: .\n",
			users:  1,
		},
		"command-line paths only": {
			files: map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n"},
			paths: []string{"m.yaml"},
			users: 1,
		},
		"groups get members from two sources": {
			files: map[string]string{
				"a/m.yaml": "users:\n  - userName: a@x.io\ngroups:\n  - displayName: eng\n    members: {users: [a@x.io]}\n",
				"b/m.yaml": "users:\n  - userName: b@x.io\ngroups:\n  - displayName: eng\n    members: {users: [b@x.io]}\n",
			},
			config: "sources:\n  - kind: yaml\n    path: a\n  - kind: yaml\n    path: b\n",
			users:  2,
		},
		"conflict across sources names both": {
			files: map[string]string{
				"a/m.yaml": "users:\n  - userName: a@x.io\n    displayName: A\n",
				"b/m.yaml": "users:\n  - userName: A@x.io\n    displayName: B\n",
			},
			config: "sources:\n  - kind: yaml\n    path: a\n  - kind: yaml\n    path: b\n",
			want:   []string{`b/m.yaml:2:5: error: user "a@x.io" is declared twice with different attributes: displayName "A" and "B" [duplicate-username] (see a/m.yaml:2:5)`},
		},
		"empty source": {
			files:  map[string]string{"sps/m.yaml": "servicePrincipals:\n  - displayName: bot\n", "users/m.yaml": "users:\n  - userName: a@x.io\n"},
			config: "sources:\n  - kind: yaml\n    path: users\n  - kind: yaml\n    path: sps\n",
			want:   []string{"scimsync.yaml:4:5: error: this yaml source yields no users; set allowEmpty: true on the source if that is intended [empty-source]"},
		},
		"empty source allowed": {
			files:  map[string]string{"sps/m.yaml": "servicePrincipals:\n  - displayName: bot\n", "users/m.yaml": "users:\n  - userName: a@x.io\n"},
			config: "sources:\n  - kind: yaml\n    path: users\n  - kind: yaml\n    path: sps\n    allowEmpty: true\n",
			users:  1,
		},
		"empty users.csv of a csv source": {
			files:  map[string]string{"users.csv": "userName,displayName\n", "groups.csv": "displayName\neng\n"},
			config: "sources:\n  - kind: csv\n    path: .\n",
			want:   []string{"users.csv:1: error: the file lists no users; set allowEmpty: true on the source if that is intended [empty-source]"},
		},
		"empty users.csv allowed": {
			files:  map[string]string{"users.csv": "userName,displayName\n", "groups.csv": "displayName\neng\n", "m.yaml": "users:\n  - userName: a@x.io\n"},
			config: "sources:\n  - kind: csv\n    path: .\n    allowEmpty: true\n",
			paths:  []string{"m.yaml"},
			users:  1,
		},
		"export of guests only": {
			files:  map[string]string{"users.csv": "userPrincipalName,mail,userType,accountEnabled\nann_x.io#EXT#@t.onmicrosoft.com,ann@x.io,Guest,True\n"},
			config: "sources:\n  - kind: entra\n    path: users.csv\n",
			want:   []string{"users.csv: error: the file lists no users (skipped: 1 guest); set mapping.includeGuests: true to keep guests; set allowEmpty: true on the source if that is intended [empty-source]"},
		},
		"ldif export without users": {
			files:  map[string]string{"d.ldif": "dn: cn=g,dc=x\nobjectClass: groupOfNames\ncn: g\nmember:\n"},
			config: "sources:\n  - kind: ldif\n    path: d.ldif\n",
			want:   []string{"scimsync.yaml:2:5: error: this ldif source yields no users; set allowEmpty: true on the source if that is intended [empty-source]"},
		},
		"settings of another kind": {
			files:  map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n"},
			config: "sources:\n  - kind: yaml\n    path: m.yaml\n    mapping: {userName: mail}\n",
			want:   []string{"scimsync.yaml:4:5: error: mapping is not used by yaml sources [unused-setting]"},
		},
		"a cycle is rejected by default": {
			files:  map[string]string{"m.yaml": "users:\n  - userName: a@x.io\ngroups:\n  - displayName: a\n    members: {groups: [b]}\n  - displayName: b\n    members: {groups: [a]}\n"},
			config: "sources:\n  - kind: yaml\n    path: m.yaml\n",
			want:   []string{"m.yaml:4:5: error: membership cycle: a > b > a (a source with cycles: break drops the membership that closes it) [membership-cycle]"},
		},
		"cycles: break drops the closing membership": {
			files:  map[string]string{"m.yaml": "users:\n  - userName: a@x.io\ngroups:\n  - displayName: a\n    members: {groups: [b]}\n  - displayName: b\n    members: {groups: [c]}\n  - displayName: c\n    members: {groups: [a]}\n"},
			config: "sources:\n  - kind: yaml\n    path: m.yaml\n    cycles: break\n",
			want:   []string{`m.yaml:8:5: warning: membership cycle a > b > c > a broken (cycles: break): group "a" is no longer a member of group "c" [membership-cycle]`},
			users:  1,
		},
		"exclude drops groups and their memberships": {
			files:  map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n    groups: [eng, tmp-1]\ngroups:\n  - displayName: eng\n    members: {groups: [tmp-1]}\n  - displayName: tmp-1\n    members: {groups: [eng]}\n"},
			config: "sources:\n  - kind: yaml\n    path: m.yaml\n    exclude: ['^tmp-', '(']\n",
			want:   []string{"scimsync.yaml:4:24: error: exclude[1]: error parsing regexp: missing closing ): `(` [invalid-setting]"},
		},
		"scope.groups names a group the source lacks": {
			files:  map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n"},
			config: "sources:\n  - kind: yaml\n    path: m.yaml\n    scope:\n      groups: [databricks-users]\n",
			want:   []string{`scimsync.yaml:5:16: error: scope.groups names group "databricks-users", which this yaml source does not declare; its users would all be left out [invalid-setting]`},
		},
		"scope.groups leaving nobody is an empty source": {
			files:  map[string]string{"m.yaml": "users:\n  - userName: a@x.io\ngroups:\n  - displayName: databricks-users\n"},
			config: "sources:\n  - kind: yaml\n    path: m.yaml\n    scope:\n      groups: [databricks-users]\n",
			want:   []string{"scimsync.yaml:2:5: error: this yaml source yields no users (skipped: 1 user outside scope.groups); set allowEmpty: true on the source if that is intended [empty-source]"},
		},
		"reader errors do not hide semantic checks": {
			files: map[string]string{
				"m.yaml": "users:\n  - userName: bob\n",
				"d.ldif": "dn: uid=a b,dc=x\nobjectClass: inetOrgPerson\nuid: a b\n\ndn: uid=c,dc=x\nobjectClass: inetOrgPerson\nuid: c\nmail: c@nodot\n\n" +
					"dn: cn=g,dc=x\nobjectClass: groupOfNames\ncn: g\nmember: cn=h,dc=x\n\ndn: cn=h,dc=x\nobjectClass: groupOfNames\ncn: h\nmember: cn=g,dc=x\n",
			},
			config: "sources:\n  - kind: ldif\n    path: d.ldif\n    mapping:\n      userName: [mail, '{uid}@x.io']\n  - kind: yaml\n    path: m.yaml\n",
			want: []string{
				`d.ldif:1 (dn: uid=a b,dc=x): error: no e-mail address for the userName: {uid}@x.io gives "a b@x.io"; map userName to an attribute or template that yields one (see docs/sources.md) [invalid-value]`,
				"d.ldif:10 (dn: cn=g,dc=x): error: membership cycle: g > h > g (a source with cycles: break drops the membership that closes it) [membership-cycle]",
				`m.yaml:2:5: error: userName "bob" is not an email address [invalid-email]`,
			},
		},
		"unrendered placeholders": {
			files:  map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n    displayName: '{{ NAME }}'\n"},
			config: "sources:\n  - kind: ldif\n    path: '${EXPORT}'\n  - kind: yaml\n    path: m.yaml\n",
			want: []string{
				`m.yaml:2:5: error: user "a@x.io": "{{ NAME }}" holds the unrendered placeholder {{ NAME }}: render the file before scimsync reads it (the template step of the pipeline did not run, or a variable is missing) [unrendered-placeholder]`,
				`scimsync.yaml:3:11: error: "${EXPORT}" holds the unrendered placeholder ${EXPORT}: render the file before scimsync reads it (the template step of the pipeline did not run, or a variable is missing) [unrendered-placeholder]`,
			},
		},
		"a placeholder is reported, not what it breaks": {
			files:  map[string]string{"d.ldif": "dn: uid=a,dc=x\nobjectClass: inetOrgPerson\nmail: a@x.io\n"},
			config: "sources:\n  - kind: ldif\n    path: d.ldif\n    mapping: {users: {baseDN: '{{ BASE_DN }}'}}\n",
			want: []string{
				`scimsync.yaml:4:31: error: "{{ BASE_DN }}" holds the unrendered placeholder {{ BASE_DN }}: render the file before scimsync reads it (the template step of the pipeline did not run, or a variable is missing) [unrendered-placeholder]`,
			},
		},
		"empty command line source": {
			files: map[string]string{"m.yaml": "groups: []\n"},
			paths: []string{"m.yaml"},
			want:  []string{"error: the manifests given on the command line (m.yaml) declare no users; a source without users would remove every user [empty-source]"},
		},
		"semantic checks run after a clean read": {
			files: map[string]string{"m.yaml": "users:\n  - userName: a@x.io\ngroups:\n  - displayName: admins\n"},
			paths: []string{"m.yaml"},
			want:  []string{`m.yaml:4:5: error: group "admins" is a built-in Databricks group and cannot be declared [reserved-group]`},
		},
		"semantic checks run after conflicts and unknown groups": {
			files: map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n    groups: [nope]\n  - userName: A@x.io\n    active: false\ngroups:\n  - displayName: admins\n"},
			paths: []string{"m.yaml"},
			want: []string{
				`m.yaml:3:14: error: user "a@x.io" lists group "nope", which is not declared in this source [unknown-reference]`,
				`m.yaml:4:5: error: user "a@x.io" is declared twice with different attributes: active true and false [duplicate-username] (see m.yaml:2:5)`,
				`m.yaml:7:5: error: group "admins" is a built-in Databricks group and cannot be declared [reserved-group]`,
			},
		},
		"semantic checks wait for schema errors to be fixed": {
			files: map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n    bogus: 1\ngroups:\n  - displayName: admins\n"},
			paths: []string{"m.yaml"},
			want:  []string{`m.yaml:3:5: error: users[0].bogus: unknown field (known fields: active, displayName, entitlements, externalId, familyName, givenName, groups, roles, userName) [schema]`},
		},
		"no sources": {
			config: "target:\n  level: account\n",
			want:   []string{"scimsync.yaml: error: no sources: give manifest paths, or a config file that lists sources [no-sources]"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if tc.files == nil {
				tc.files = map[string]string{}
			}
			if tc.config != "" {
				tc.files["scimsync.yaml"] = tc.config
			}
			dir := files(t, tc.files)
			t.Chdir(dir)
			cfg := config.Defaults()
			if tc.config != "" {
				loaded, problems := config.Load("scimsync.yaml")
				if len(problems) > 0 {
					t.Fatalf("config: %v", problems)
				}
				cfg = loaded
			}
			s, diags := Load(context.Background(), cfg, tc.paths)
			if diff := cmp.Diff(tc.want, strs(diags)); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
			if len(tc.want) == 0 && len(s.Users) != tc.users {
				t.Errorf("got %d users, want %d", len(s.Users), tc.users)
			}
		})
	}
}

func TestLoadUsesTargetLevel(t *testing.T) {
	dir := files(t, map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n    entitlements: [workspace-access]\n"})
	p := filepath.Join(dir, "m.yaml")
	cfg := config.Defaults()
	if _, diags := Load(context.Background(), cfg, []string{p}); len(diags) != 1 || diags[0].Rule != RuleWrongLevel {
		t.Errorf("account level: got %v, want a wrong-level error", strs(diags))
	}
	cfg.Target.Level = model.LevelWorkspace
	if _, diags := Load(context.Background(), cfg, []string{p}); len(diags) != 0 {
		t.Errorf("workspace level: got %v, want none", strs(diags))
	}
}

func TestLoadUnknownKind(t *testing.T) {
	dir := files(t, map[string]string{"m.yaml": "users:\n  - userName: a@x.io\n"})
	cfg := config.Defaults()
	cfg.Sources = []config.Source{
		{Kind: config.SourceYAML, Paths: []string{filepath.Join(dir, "m.yaml")}},
		{Kind: "excel", Paths: []string{"x.xlsx"}, Origin: model.Origin{File: "scimsync.yaml", Line: 4, Column: 5}},
	}
	_, diags := Load(context.Background(), cfg, nil)
	want := []string{`scimsync.yaml:4:5: error: unknown source kind "excel"; this build reads ` + strings.Join(Kinds(), ", ") + ` [unknown-source-kind]`}
	if diff := cmp.Diff(want, strs(diags)); diff != "" {
		t.Errorf("diagnostics (-want +got):\n%s", diff)
	}
}

func TestKinds(t *testing.T) {
	if got := Kinds(); !strings.Contains(strings.Join(got, ","), config.SourceYAML) {
		t.Errorf("Kinds() = %v, want yaml among them", got)
	}
}
