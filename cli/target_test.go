package cli

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
)

// TestIdentityErrorSaysItOnce checks that a failed look-up of the credentials' identity
// names what was being done once, followed by the request that failed.
func TestIdentityErrorSaysItOnce(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/scim+json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"403","detail":"no access"}`)
	}))
	defer srv.Close()
	c, err := scim.New(scim.Config{
		Auth: auth.Settings{Host: srv.URL, Level: model.LevelWorkspace, Token: auth.NewSecret("dapi-test")},
	})
	if err != nil {
		t.Fatal(err)
	}
	rt := &Runtime{Ctx: context.Background(), Log: slog.New(slog.DiscardHandler)}
	_, err = (&connection{client: c}).identity(rt)
	if err == nil {
		t.Fatal("no error for a /Me answered with 403")
	}
	msg := err.Error()
	if n := strings.Count(msg, "find the identity of the credentials"); n != 1 {
		t.Errorf("the context appears %d times: %s", n, msg)
	}
	if !strings.Contains(msg, "/Me") || !strings.Contains(msg, "403") {
		t.Errorf("the error does not name the request that failed: %s", msg)
	}
}
