package cli

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/internal/golden"
	"github.com/scimsync/scimsync/model"
)

// TestAnnotationsGolden renders diagnostics and a failure as GitHub workflow commands:
// paths relative to the workspace, warnings as ::warning, directory entries in the message,
// and %, CR, LF (and in properties : and ,) escaped. testdata/annotations.golden; -update
// rewrites it.
func TestAnnotationsGolden(t *testing.T) {
	ws := t.TempDir()
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	inside, err := filepath.Rel(wd, filepath.Join(ws, "org", "identities", "users.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	related := model.Origin{File: "org/identities/groups.yaml", Line: 3, Column: 5}
	diags := diag.List{
		{Severity: diag.SevError, Origin: model.Origin{File: inside, Line: 12, Column: 7}, Rule: "invalid-email", Message: `userName "not-an-email" is not an email`},
		{Severity: diag.SevError, Origin: model.Origin{File: inside, Line: 20, Column: 5}, Rule: "duplicate-username", Message: "user \"ann@example.com\" is declared twice: 100% sure,\nreally", Related: &related},
		{Severity: diag.SevWarning, Origin: model.Origin{File: "/elsewhere/a,b:c.yaml", Line: 1}, Rule: "empty-source", Message: "no users"},
		{Severity: diag.SevError, Origin: model.Origin{File: "ldaps://ldap.example.com", Entry: "uid=ann,ou=people,dc=example,dc=com"}, Rule: "invalid-email", Message: "mail is not an email"},
	}
	var got bytes.Buffer
	a := newAnnotator(&got, env(map[string]string{"GITHUB_WORKSPACE": ws}))
	a.diagnostics(diags)
	a.failure(errors.New("the OAuth client id and secret were rejected: 401 Unauthorized"), "check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET")
	var none *annotator
	none.diagnostics(diags) // outside GitHub Actions: nothing, and no panic
	golden.Check(t, filepath.Join("testdata", "annotations.golden"), got.Bytes())
}
