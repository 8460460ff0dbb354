package cli

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// runCommand runs a command with options as parsed, in dir, and returns its output and
// exit code: the second half of a command's tests.
func runCommand(t *testing.T, dir string, cmd interface{ Run(*Runtime) error }, stdio IO) (stdout, stderr string, code int) {
	t.Helper()
	t.Chdir(dir)
	var out, errOut bytes.Buffer
	stdio.Out, stdio.Err = &out, &errOut
	if stdio.Getenv == nil {
		stdio.Getenv = env(nil)
	}
	rt := &Runtime{Ctx: context.Background(), IO: stdio, Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	code = ExitOK
	if err := cmd.Run(rt); err != nil {
		code = report(&errOut, err)
	}
	return out.String(), errOut.String(), code
}

func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
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

const (
	validManifest = `users:
  - userName: ann@example.com
    groups: [eng]
  - userName: bob@example.com
servicePrincipals:
  - displayName: ci
groups:
  - displayName: eng
workspaces:
  - id: 1
    host: https://dbc-1.cloud.databricks.com
    assignments:
      - {group: eng, permission: USER}
`
	invalidManifest = `users:
  - userName: ann@example.com
    groups: [eng, nope]
  - userName: not-an-email
groups:
  - displayName: eng
`
)

func TestValidate(t *testing.T) {
	tests := map[string]struct {
		files      map[string]string
		cmd        ValidateCmd
		stdio      IO
		wantOut    string
		wantErrOut string
		wantCode   int
	}{
		"valid paths": {
			files:    map[string]string{"m/a.yaml": validManifest},
			cmd:      ValidateCmd{Sources: Sources{Paths: []string{"m"}}, Format: "text"},
			wantOut:  "valid: 2 users, 1 service principal, 1 group, 1 workspace\n",
			wantCode: 0,
		},
		"default config file": {
			files: map[string]string{
				"scimsync.yaml": "sources:\n  - kind: yaml\n    path: .\n",
				"a.yaml":        validManifest,
			},
			cmd:      ValidateCmd{Format: "text"},
			wantOut:  "valid: 2 users, 1 service principal, 1 group, 1 workspace\n",
			wantCode: 0,
		},
		"schema errors": {
			files: map[string]string{"a.yaml": "users:\n  - displayName: x\n", "b.yaml": "groups: {}\n"},
			cmd:   ValidateCmd{Sources: Sources{Paths: []string{"."}}, Format: "text"},
			wantOut: "a.yaml:2:5: error: users[0].userName: missing required property [schema]\n" +
				"b.yaml:1:9: error: groups: must be a list, got a mapping [schema]\n" +
				"2 errors in 2 files\n",
			wantCode: 1,
		},
		"semantic errors": {
			files: map[string]string{"a.yaml": invalidManifest},
			cmd:   ValidateCmd{Sources: Sources{Paths: []string{"a.yaml"}}, Format: "text"},
			wantOut: `a.yaml:3:19: error: user "ann@example.com" lists group "nope", which is not declared in this source [unknown-reference]` + "\n" +
				`a.yaml:4:5: error: userName "not-an-email" is not an email address [invalid-email]` + "\n" +
				"2 errors in 1 file\n",
			wantCode: 1,
		},
		"semantic errors after merge": {
			files: map[string]string{"a.yaml": "users:\n  - userName: not-an-email\n  - userName: b@example.com\n"},
			cmd:   ValidateCmd{Sources: Sources{Paths: []string{"a.yaml"}}, Format: "text"},
			wantOut: `a.yaml:2:5: error: userName "not-an-email" is not an email address [invalid-email]` + "\n" +
				"1 error in 1 file\n",
			wantCode: 1,
		},
		"json": {
			files: map[string]string{"a.yaml": "users:\n  - userName: not-an-email\n"},
			cmd:   ValidateCmd{Sources: Sources{Paths: []string{"a.yaml"}}, Format: "json"},
			wantOut: `{
  "valid": false,
  "counts": {
    "users": 1,
    "servicePrincipals": 0,
    "groups": 0,
    "workspaces": 0
  },
  "diagnostics": [
    {
      "severity": "error",
      "origin": {
        "file": "a.yaml",
        "line": 2,
        "column": 5
      },
      "rule": "invalid-email",
      "message": "userName \"not-an-email\" is not an email address"
    }
  ]
}
`,
			wantCode: 1,
		},
		"json valid": {
			files:    map[string]string{"a.yaml": validManifest},
			cmd:      ValidateCmd{Sources: Sources{Paths: []string{"a.yaml"}}, Format: "json"},
			wantOut:  "{\n  \"valid\": true,\n  \"counts\": {\n    \"users\": 2,\n    \"servicePrincipals\": 1,\n    \"groups\": 1,\n    \"workspaces\": 1\n  },\n  \"diagnostics\": []\n}\n",
			wantCode: 0,
		},
		"bad config": {
			files:    map[string]string{"c.yaml": "sources:\n  - kind: yaml\n"},
			cmd:      ValidateCmd{Sources: Sources{ConfigFlag: ConfigFlag{Config: "c.yaml"}}, Format: "text"},
			wantOut:  "c.yaml:2:5: error: sources[0].path: missing required property [schema]\n1 error in 1 file\n",
			wantCode: 1,
		},
		"missing config": {
			cmd:      ValidateCmd{Sources: Sources{ConfigFlag: ConfigFlag{Config: "nope.yaml"}}, Format: "text"},
			wantOut:  "nope.yaml: error: read config: no such file or directory [read]\n1 error in 1 file\n",
			wantCode: 1,
		},
		"nothing to read": {
			cmd:        ValidateCmd{Format: "text"},
			wantErrOut: "error: nothing to read: no config file and no manifest paths\nhint: pass manifest files or directories, or a config file with -c (./scimsync.yaml is read when it exists)\n",
			wantCode:   1,
		},
		"colour on a terminal": {
			files:    map[string]string{"a.yaml": "users:\n  - userName: x\n"},
			cmd:      ValidateCmd{Sources: Sources{Paths: []string{"a.yaml"}}, Format: "text"},
			stdio:    IO{OutIsTerminal: true},
			wantOut:  "a.yaml:2:5: \x1b[31merror:\x1b[0m userName \"x\" is not an email address [invalid-email]\n1 error in 1 file\n",
			wantCode: 1,
		},
		"NO_COLOR": {
			files:    map[string]string{"a.yaml": "users:\n  - userName: x\n"},
			cmd:      ValidateCmd{Sources: Sources{Paths: []string{"a.yaml"}}, Format: "text"},
			stdio:    IO{OutIsTerminal: true, Getenv: env(map[string]string{"NO_COLOR": "1"})},
			wantOut:  "a.yaml:2:5: error: userName \"x\" is not an email address [invalid-email]\n1 error in 1 file\n",
			wantCode: 1,
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			dir := tree(t, tc.files)
			out, errOut, code := runCommand(t, dir, &tc.cmd, tc.stdio)
			if diff := cmp.Diff(tc.wantOut, out); diff != "" {
				t.Errorf("stdout (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantErrOut, errOut); diff != "" {
				t.Errorf("stderr (-want +got):\n%s", diff)
			}
			if code != tc.wantCode {
				t.Errorf("exit code = %d, want %d", code, tc.wantCode)
			}
		})
	}
}
