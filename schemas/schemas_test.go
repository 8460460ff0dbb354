package schemas

import (
	"encoding/json"
	"io/fs"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEverySchemaCompilesAndHasItsID(t *testing.T) {
	names, err := fs.Glob(files, "*.schema.json")
	if err != nil || len(names) < 2 {
		t.Fatalf("embedded schemas: %v %v", names, err)
	}
	for _, n := range names {
		b, err := Bytes(Name(n))
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			ID string `json:"$id"`
		}
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if doc.ID != URL(Name(n)) {
			t.Errorf("%s: $id = %q, want %q", n, doc.ID, URL(Name(n)))
		}
		if _, err := Validate(Name(n), map[string]any{}); err != nil {
			t.Errorf("%s: %v", n, err)
		}
	}
}

func TestUnknownSchema(t *testing.T) {
	if _, err := Validate("nope.schema.json", map[string]any{}); err == nil {
		t.Fatal("Validate accepted a schema that is not embedded")
	}
	if _, err := Bytes("nope.schema.json"); err == nil {
		t.Fatal("Bytes returned a schema that is not embedded")
	}
}

func TestValidateYAML(t *testing.T) {
	tests := map[string]struct {
		schema Name
		in     string
		want   []string
	}{
		"valid manifest": {
			schema: Manifest,
			in: `users:
  - userName: a@example.com
    active: false
groups:
  - displayName: g
    members: {users: [a@example.com]}
workspaces:
  - id: 123
    assignments:
      - {group: g, permission: USER}
`,
		},
		"empty document": {schema: Manifest, in: "# nothing\n"},
		"missing required property": {
			schema: Manifest,
			in:     "users:\n  - displayName: A\n",
			want:   []string{"f.yaml:2:5: error: users[0].userName: missing required property [schema]"},
		},
		"unknown field at its key": {
			schema: Manifest,
			in:     "users:\n  - userName: a@example.com\n    emial: x\n",
			want:   []string{"f.yaml:3:5: error: users[0].emial: unknown field (known fields: active, displayName, entitlements, externalId, familyName, givenName, groups, roles, userName) [schema]"},
		},
		"unknown top-level key": {
			schema: Manifest,
			in:     "user: []\n",
			want:   []string{"f.yaml:1:1: error: user: unknown field; did you mean \"users\"? (known fields: groups, servicePrincipals, users, workspaces) [schema]"},
		},
		"wrong type": {
			schema: Manifest,
			in:     "users:\n  - userName: a@example.com\n    active: \"yes\"\n",
			want:   []string{`f.yaml:3:13: error: users[0].active: must be true or false, got a string [schema]`},
		},
		"enum": {
			schema: Manifest,
			in:     "workspaces:\n  - id: 1\n    assignments:\n      - user: a@example.com\n        permission: OWNER\n",
			want:   []string{`f.yaml:5:21: error: workspaces[0].assignments[0].permission: must be one of USER, ADMIN, got "OWNER" [schema]`},
		},
		"oneOf with x-error": {
			schema: Manifest,
			in:     "workspaces:\n  - id: 1\n    assignments:\n      - {user: a@example.com, group: g, permission: USER}\n",
			want:   []string{`f.yaml:4:9: error: workspaces[0].assignments[0]: must name exactly one of user, group or servicePrincipal [schema]`},
		},
		"pattern with x-error": {
			schema: Manifest,
			in:     "workspaces:\n  - id: \"12a\"\n",
			want:   []string{`f.yaml:2:9: error: workspaces[0].id: must be a numeric workspace id [schema]`},
		},
		"empty string": {
			schema: Manifest,
			in:     "groups:\n  - displayName: \"\"\n",
			want:   []string{`f.yaml:2:18: error: groups[0].displayName: must not be empty [schema]`},
		},
		"several errors at once": {
			schema: Manifest,
			in:     "users:\n  - {}\n  - userName: 3\ngroups: x\n",
			want: []string{
				"f.yaml:2:5: error: users[0].userName: missing required property [schema]",
				"f.yaml:3:15: error: users[1].userName: must be a string, got an integer [schema]",
				"f.yaml:4:9: error: groups: must be a list, got a string [schema]",
			},
		},
		"duplicate key": {
			schema: Manifest,
			in:     "users:\n  - userName: a@example.com\n    userName: b@example.com\n",
			want:   []string{"f.yaml:3:5: error: duplicate key \"userName\" (first at line 2) [duplicate-key] (see f.yaml:2:5)"},
		},
		"merge key": {
			schema: Manifest,
			in:     "x: &x {displayName: A}\nusers:\n  - <<: *x\n    userName: a@example.com\n",
			want:   []string{"f.yaml:3:5: error: merge keys (<<) are not supported; repeat the fields or alias a whole value [yaml]"},
		},
		"aliases are followed": {
			schema: Manifest,
			in:     "groups:\n  - displayName: g\n    entitlements: &e [workspace-access]\n  - displayName: h\n    entitlements: *e\n    roles: *e\n",
		},
		"binary tag": {
			schema: Manifest,
			in:     "users:\n  - userName: !!binary YWRhQGV4YW1wbGUuY29t\n",
			want:   []string{"f.yaml:2:15: error: unsupported YAML tag !!binary: binary values have no JSON equivalent; write the text itself [yaml]"},
		},
		"set tag on a mapping": {
			schema: Manifest,
			in:     "users: !!set\n  ? a\n",
			want:   []string{"f.yaml:1:8: error: unsupported YAML tag !!set: only plain mappings and lists have a JSON equivalent [yaml]"},
		},
		"omap tag on a list": {
			schema: Manifest,
			in:     "users: !!omap\n  - userName: a@example.com\n",
			want:   []string{"f.yaml:1:8: error: unsupported YAML tag !!omap: only plain mappings and lists have a JSON equivalent [yaml]"},
		},
		"local tag on a mapping": {
			schema: Manifest,
			in:     "users:\n  - !user {userName: a@example.com}\n",
			want:   []string{"f.yaml:2:5: error: unsupported YAML tag !user: only plain mappings and lists have a JSON equivalent [yaml]"},
		},
		"config duration": {
			schema: Config,
			in:     "apply:\n  timeout: 30 seconds\n",
			want:   []string{`f.yaml:2:12: error: apply.timeout: must be a duration such as "30s" or "2m" [schema]`},
		},
		"config path string or list": {
			schema: Config,
			in:     "sources:\n  - kind: yaml\n    path: a\n  - kind: yaml\n    path: [a, b]\n  - kind: yaml\n    path: 3\n",
			want:   []string{`f.yaml:7:11: error: sources[2].path: must be a string or a list, got an integer [schema]`},
		},
		"config yaml source needs a path": {
			schema: Config,
			in:     "sources:\n  - kind: yaml\n",
			want:   []string{`f.yaml:2:5: error: sources[0].path: missing required property [schema]`},
		},
		"config unknown kind": {
			schema: Config,
			in:     "sources:\n  - kind: excel\n    path: x\n",
			want:   []string{`f.yaml:2:11: error: sources[0].kind: must be one of yaml, csv, ldif, ldap, entra, okta, jumpcloud, google, got "excel" [schema]`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			docs, diags := ParseYAML([]byte(tc.in), "f.yaml")
			if len(diags) > 0 {
				t.Fatalf("ParseYAML: %v", diags)
			}
			for _, doc := range docs {
				diags = append(diags, ValidateYAML(doc, "f.yaml", tc.schema)...)
			}
			if len(docs) == 0 {
				diags = ValidateYAML(nil, "f.yaml", tc.schema)
			}
			diags.Sort()
			var got []string
			for _, d := range diags {
				got = append(got, d.String())
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseYAMLErrors(t *testing.T) {
	tests := map[string]struct {
		in   string
		want string
	}{
		"invalid utf-8": {in: "users:\n  - userName: a\xff\n", want: "f.yaml:2:16: error: file is not valid UTF-8 text [yaml]"},
		"syntax error":  {in: "users:\n  - userName: a\n\tbad: x\n", want: "f.yaml:2: error: invalid YAML: found a tab character"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, diags := ParseYAML([]byte(tc.in), "f.yaml")
			if len(diags) != 1 || !strings.HasPrefix(diags[0].String(), tc.want) {
				t.Fatalf("got %v, want one diagnostic starting %q", diags, tc.want)
			}
		})
	}
}

func TestMultipleDocuments(t *testing.T) {
	docs, diags := ParseYAML([]byte("users: []\n---\ngroups: []\n"), "f.yaml")
	if len(diags) > 0 || len(docs) != 2 {
		t.Fatalf("got %d documents, %v", len(docs), diags)
	}
}

func TestAliasBombIsRefused(t *testing.T) {
	// Nine levels of ten aliases each expand to 10^9 values.
	var b strings.Builder
	b.WriteString("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n")
	for i := 1; i <= 9; i++ {
		p := "*a" + string(rune('0'+i-1))
		b.WriteString("a" + string(rune('0'+i)) + ": &a" + string(rune('0'+i)) + " [")
		for j := 0; j < 10; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString(p)
		}
		b.WriteString("]\n")
	}
	docs, diags := ParseYAML([]byte(b.String()), "bomb.yaml")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	diags = ValidateYAML(docs[0], "bomb.yaml", Manifest)
	if len(diags) != 1 || diags[0].Rule != RuleYAML || !strings.Contains(diags[0].Message, "aliases expand") {
		t.Fatalf("got %v, want the alias bomb refused", diags)
	}
}

func TestDeepNestingIsRefused(t *testing.T) {
	in := strings.Repeat("[", MaxDepth+5) + strings.Repeat("]", MaxDepth+5)
	docs, diags := ParseYAML([]byte("users: "+in+"\n"), "deep.yaml")
	if len(diags) > 0 {
		t.Fatal(diags)
	}
	diags = ValidateYAML(docs[0], "deep.yaml", Manifest)
	if len(diags) != 1 || diags[0].Rule != RuleYAML {
		t.Fatalf("got %v, want one yaml diagnostic", diags)
	}
}

func TestViolationPath(t *testing.T) {
	tests := map[string]struct {
		v    Violation
		want string
	}{
		"root":        {Violation{}, ""},
		"index":       {Violation{Pointer: "/users/3", Property: "userName"}, "users[3].userName"},
		"escaped":     {Violation{Pointer: "/a~1b/0"}, `["a/b"][0]`},
		"odd key":     {Violation{Pointer: "/x", Property: "has space"}, `x["has space"]`},
		"numeric key": {Violation{Pointer: "/1"}, `["1"]`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			if got := tc.v.Path(); got != tc.want {
				t.Errorf("Path() = %q, want %q", got, tc.want)
			}
		})
	}
}
