package cli

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/model"
)

// TestWorkspaceExportValidates exports a workspace emulator, whose OAuth client is a
// service principal, as a manifest, and validates the manifest: every applicationId in it
// must be a UUID, as Databricks' are.
func TestWorkspaceExportValidates(t *testing.T) {
	srv := emulator.New(emulator.Options{Level: model.LevelWorkspace, RateLimit: -1})
	if _, err := srv.Seed(&model.State{Users: []model.User{{UserName: "ada@example.com", Active: true}}}); err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	defer hs.Close()
	dir := t.TempDir()
	manifest := filepath.Join(dir, "adopted.yaml")
	vars := map[string]string{"DATABRICKS_HOST": hs.URL, "DATABRICKS_TOKEN": emulator.DefaultToken}
	run := func(args ...string) (string, int) {
		var out bytes.Buffer
		code := Main(context.Background(), args, IO{Out: &out, Err: &out, Getenv: env(vars)})
		return out.String(), code
	}
	if out, code := run("export", "--format", "manifest", "-o", manifest); code != 0 {
		t.Fatalf("export: exit %d\n%s", code, out)
	}
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), "applicationId: "+emulator.DefaultClientID) {
		t.Fatalf("the OAuth client is not exported:\n%s", data)
	}
	if out, code := run("validate", manifest); code != 0 {
		t.Errorf("validate the export: exit %d\n%s", code, out)
	}
}
