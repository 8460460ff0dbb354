package scim

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim/auth"
)

func TestParseHostOverrides(t *testing.T) {
	got, err := ParseHostOverrides(" https://a.cloud.databricks.com=http://127.0.0.1:1, https://b.example=http://[::1]:2 ")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"https://a.cloud.databricks.com": "http://127.0.0.1:1", "https://b.example": "http://[::1]:2"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if _, err := ParseHostOverrides("https://a.example"); err == nil {
		t.Error("an entry without = was accepted")
	}
	if got, err := ParseHostOverrides(""); err != nil || len(got) != 0 {
		t.Errorf("empty: %v %v", got, err)
	}
}

func TestHostOverridesOnlyToLoopback(t *testing.T) {
	for _, to := range []string{"http://10.0.0.1:80", "https://evil.example", "http://127.0.0.1:1/path", "ftp://127.0.0.1"} {
		_, err := New(Config{Auth: auth.Settings{Host: "https://accounts.cloud.databricks.com", AccountID: testAccount, Token: auth.NewSecret(testToken)}, HostOverrides: map[string]string{"https://dbc-1.cloud.databricks.com": to}})
		if err == nil || !strings.Contains(err.Error(), "loopback") {
			t.Errorf("override to %s: err = %v, want a loopback error", to, err)
		}
	}
}

func TestWorkspaceTreeNeedsHost(t *testing.T) {
	c, rec, _ := testClient(t, model.LevelAccount, ok200, nil)
	err := c.PatchWorkspaceEntitlements(context.Background(), model.Workspace{ID: "1001"}, model.KindUser, "5", []string{"workspace-access"}, nil)
	if err == nil || !strings.Contains(err.Error(), "workspace 1001 has no host") {
		t.Errorf("err = %v, want a missing host error", err)
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestOverrideKeepsHostName(t *testing.T) {
	c, rec, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:ListResponse"],"totalResults":0,"startIndex":1,"itemsPerPage":0,"Resources":[]}`)
	}, withWorkspaceHost)
	tree, err := c.WorkspaceTree(model.Workspace{ID: "1001", Host: strings.ToUpper(testWorkspaceHost)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tree.Users().List(context.Background(), ListOptions{}); err != nil {
		t.Fatal(err)
	}
	if r := rec.requests()[0]; !strings.EqualFold(r.Host, "dbc-1001.test.invalid") || r.Header.Get(HeaderWorkspaceID) != "" {
		t.Errorf("request to host %q with header %q", r.Host, r.Header.Get(HeaderWorkspaceID))
	}
}
