package config

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/policy"
	"github.com/scimsync/scimsync/schemas"
)

func writeConfig(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	p := filepath.Join(dir, "scimsync.yaml")
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	p := writeConfig(t, `target:
  level: workspace
  host: https://dbc-1.cloud.databricks.com
  workspaceId: 123
sources:
  - kind: yaml
    path: identities
  - kind: yaml
    path: [a.yaml, /abs/b.yaml]
    allowEmpty: true
  - kind: csv
    users: csv/users.csv
    servicePrincipals: csv/sps.csv
policy:
  scope:
    ignore: ["user:*@contractor.example.com"]
  guards:
    maxRemovals: 0
  protected:
    users: [breakglass@example.com]
apply:
  timeout: 30s
  rateLimit: 10
  rateLimits: {PATCH: 2, POST: 5}
`)
	dir := filepath.Dir(p)
	got, diags := Load(p)
	if len(diags) > 0 {
		t.Fatalf("diagnostics: %v", diags)
	}
	want := Defaults()
	want.File = p
	want.Target = Target{Level: model.LevelWorkspace, Host: "https://dbc-1.cloud.databricks.com", WorkspaceID: "123"}
	want.Sources = []Source{
		{Kind: SourceYAML, Paths: []string{filepath.Join(dir, "identities")}, Dir: dir, Origin: model.Origin{File: p, Line: 6, Column: 5}},
		{Kind: SourceYAML, Paths: []string{filepath.Join(dir, "a.yaml"), "/abs/b.yaml"}, AllowEmpty: true, Dir: dir, Origin: model.Origin{File: p, Line: 8, Column: 5}},
		{Kind: SourceCSV, Dir: dir, Origin: model.Origin{File: p, Line: 11, Column: 5}},
	}
	want.Policy.Scope.Ignore = []string{"user:*@contractor.example.com"}
	want.Policy.Guards.MaxRemovals = 0 // explicit 0: no limit
	want.Policy.Protected.Users = []string{"breakglass@example.com"}
	want.Apply.Timeout = 30 * time.Second
	want.Apply.RateLimit = 10
	want.Apply.RateLimits = map[string]float64{"PATCH": 2, "POST": 5}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Source{}, "Settings")); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
	// The settings of a kind stay in the source's entry, for its reader to decode.
	if s := got.Sources[2].Settings; s == nil || len(s.Content) != 6 || s.Content[2].Value != "users" || s.Content[3].Value != "csv/users.csv" {
		t.Errorf("csv source settings = %+v, want its whole entry", s)
	}
}

func TestLoadDefaults(t *testing.T) {
	tests := map[string]string{
		"empty file":            "",
		"comments only":         "# nothing yet\n",
		"explicit level":        "target:\n  level: account\n",
		"guards set elsewhere":  "policy:\n  removal:\n    users: deactivate\n",
		"empty document marker": "---\n",
	}
	for name, content := range tests {
		t.Run(name, func(t *testing.T) {
			p := writeConfig(t, content)
			got, diags := Load(p)
			if len(diags) > 0 {
				t.Fatalf("diagnostics: %v", diags)
			}
			want := Defaults()
			want.File = p
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
			if got.Policy.Guards != policy.Default().Guards {
				t.Errorf("guards = %+v, want the defaults", got.Policy.Guards)
			}
		})
	}
}

func TestLoadProblems(t *testing.T) {
	tests := map[string]struct {
		content string
		want    []string
	}{
		"unknown field": {
			content: "target:\n  level: account\n  acount: x\n",
			want:    []string{"scimsync.yaml:3:3: error: target.acount: unknown field (known fields: accountId, authType, host, hostOverrides, level, profile, unifiedHost, workspaceId) [schema]"},
		},
		"several problems at once": {
			content: "target:\n  level: galaxy\npolicy:\n  guards:\n    maxRemovals: -1\n  removal:\n    groups: deactivate\n",
			want: []string{
				`scimsync.yaml:2:10: error: target.level: must be one of account, workspace, got "galaxy" [schema]`,
				`scimsync.yaml:5:18: error: policy.guards.maxRemovals: must be at least 0, got -1 [schema]`,
				`scimsync.yaml:7:13: error: policy.removal.groups: must be one of delete, ignore, got "deactivate" [schema]`,
			},
		},
		"per-verb limits": {
			content: "apply:\n  rateLimits:\n    PATCH: 0\n    FETCH: 3\n",
			want: []string{
				"scimsync.yaml:3:12: error: apply.rateLimits.PATCH: must be greater than 0, got 0 [schema]",
				"scimsync.yaml:4:5: error: apply.rateLimits.FETCH: unknown field (known fields: DELETE, GET, PATCH, POST, PUT) [schema]",
			},
		},
		"two documents": {
			content: "target: {}\n---\ntarget: {}\n",
			want:    []string{"scimsync.yaml:2:1: error: a config file holds one YAML document, this one has 2 [yaml]"},
		},
		"absurd apply settings": {
			content: "apply:\n  rateLimit: 0.0001\n  writeRateLimit: 0.5\n  concurrency: 1000\n",
			want: []string{
				"scimsync.yaml:2:14: error: apply.rateLimit: must be at least 1, got 0.0001 [schema]",
				"scimsync.yaml:3:19: error: apply.writeRateLimit: must be 0 (the overall budget only) or between 1 and 10000 requests per second [schema]",
				"scimsync.yaml:4:16: error: apply.concurrency: must be at most 64, got 1000 [schema]",
			},
		},
		"absurd timeouts": {
			content: "apply:\n  timeout: 1ns\n",
			want:    []string{"scimsync.yaml:2:12: error: apply.timeout: 1ns is outside 1s to 1h0m0s [absurd-setting]"},
		},
		"malformed ignore globs": {
			content: "policy:\n  scope:\n    ignore:\n      - user:*@contractors.example.com\n      - user:[a-\n      - 'group:x\\'\n",
			want: []string{
				`scimsync.yaml:5:9: error: policy.scope.ignore[1]: "user:[a-" is not a valid glob pattern (path.Match syntax: * ? [a-z] and \ to escape) [invalid-glob]`,
				`scimsync.yaml:6:9: error: policy.scope.ignore[2]: "group:x\\" is not a valid glob pattern (path.Match syntax: * ? [a-z] and \ to escape) [invalid-glob]`,
			},
		},
		"duplicate key": {
			content: "apply:\n  concurrency: 2\n  concurrency: 3\n",
			want:    []string{`scimsync.yaml:3:3: error: duplicate key "concurrency" (first at line 2) [duplicate-key] (see scimsync.yaml:2:3)`},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			p := writeConfig(t, tc.content)
			cfg, diags := Load(p)
			if cfg != nil {
				t.Errorf("Load returned a config with errors: %+v", cfg)
			}
			diags.Sort()
			var got []string
			for _, d := range diags {
				got = append(got, strings.ReplaceAll(d.String(), filepath.Dir(p)+string(filepath.Separator), ""))
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("diagnostics (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, diags := Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if len(diags) != 1 || diags[0].Rule != RuleRead || !strings.Contains(diags[0].Message, "no such file") {
		t.Fatalf("got %v", diags)
	}
}

// TestSchemaDescribesEveryField keeps config.schema.json in step with the Go types: every
// yaml-tagged field of Config, and of the types it contains, must be a property of the
// corresponding schema object.
func TestSchemaDescribesEveryField(t *testing.T) {
	b, err := schemas.Bytes(schemas.Config)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	deref := func(s map[string]any) map[string]any {
		for {
			ref, ok := s["$ref"].(string)
			if !ok {
				return s
			}
			s = doc["$defs"].(map[string]any)[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
		}
	}
	var walk func(path string, typ reflect.Type, s map[string]any)
	walk = func(path string, typ reflect.Type, s map[string]any) {
		s = deref(s)
		switch typ.Kind() {
		case reflect.Slice:
			items, ok := s["items"].(map[string]any)
			if !ok {
				t.Errorf("%s: schema has no items", path)
				return
			}
			walk(path+"[]", typ.Elem(), items)
			return
		case reflect.Struct:
		default:
			return
		}
		props, _ := s["properties"].(map[string]any)
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			p, ok := props[tag].(map[string]any)
			if !ok {
				t.Errorf("%s.%s (%s.%s): not described by config.schema.json", path, tag, typ.Name(), f.Name)
				continue
			}
			walk(path+"."+tag, f.Type, p)
		}
	}
	walk("config", reflect.TypeOf(Config{}), doc)
}
