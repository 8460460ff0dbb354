package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/redact"
	"github.com/scimsync/scimsync/scim/auth"
)

func TestPathsAndHeaders(t *testing.T) {
	ctx := context.Background()
	type want struct {
		method, host, path, contentType, workspaceHeader string
	}
	tests := map[string]struct {
		level       model.Level
		workspaceID string
		unified     bool
		call        func(c *Client) error
		want        want
	}{
		"account user list": {
			level: model.LevelAccount, workspaceID: "77",
			call: func(c *Client) error { _, err := c.Users().Get(ctx, "1"); return err },
			want: want{method: "GET", path: "/api/2.0/accounts/acc-unit/scim/v2/Users/1"},
		},
		"account create sends scim+json and no workspace header": {
			level: model.LevelAccount, workspaceID: "77",
			call: func(c *Client) error { _, err := c.CreateGroup(ctx, &model.Group{DisplayName: "g"}); return err },
			want: want{method: "POST", path: "/api/2.0/accounts/acc-unit/scim/v2/Groups", contentType: contentTypeSCIM},
		},
		"workspace tree with the configured workspace id": {
			level: model.LevelWorkspace, workspaceID: "77",
			call: func(c *Client) error { return c.Delete(ctx, model.KindServicePrincipal, "5") },
			want: want{method: "DELETE", path: "/api/2.0/preview/scim/v2/ServicePrincipals/5", workspaceHeader: "77"},
		},
		"workspace tree without a workspace id": {
			level: model.LevelWorkspace,
			call: func(c *Client) error {
				return c.UpdateGroup(ctx, "5", &model.Group{DisplayName: "a"}, &model.Group{DisplayName: "b"})
			},
			want: want{method: "PATCH", path: "/api/2.0/preview/scim/v2/Groups/5", contentType: contentTypeSCIM},
		},
		"account entitlements go to the workspace's own host, without the header": {
			level: model.LevelAccount, workspaceID: "77",
			call: func(c *Client) error {
				return c.PatchWorkspaceEntitlements(ctx, model.Workspace{ID: "1001", Host: testWorkspaceHost}, model.KindGroup, "5", []string{"workspace-access"}, nil)
			},
			want: want{method: "PATCH", host: "dbc-1001.test.invalid", path: "/api/2.0/preview/scim/v2/Groups/5", contentType: contentTypeSCIM},
		},
		"account entitlements on a unified host go to the account host with the workspace id": {
			level: model.LevelAccount, workspaceID: "77", unified: true,
			call: func(c *Client) error {
				return c.PatchWorkspaceEntitlements(ctx, model.Workspace{ID: "1001"}, model.KindGroup, "5", []string{"workspace-access"}, nil)
			},
			want: want{method: "PATCH", path: "/api/2.0/preview/scim/v2/Groups/5", contentType: contentTypeSCIM, workspaceHeader: "1001"},
		},
		"workspace assignment PUT is plain JSON on the account API": {
			level: model.LevelAccount,
			call:  func(c *Client) error { return c.SetWorkspacePermission(ctx, "1001", "5", model.PermissionAdmin) },
			want:  want{method: "PUT", path: "/api/2.0/accounts/acc-unit/workspaces/1001/permissionassignments/principals/5", contentType: contentTypeJSON},
		},
		"workspace assignment removal": {
			level: model.LevelAccount,
			call:  func(c *Client) error { return c.SetWorkspacePermission(ctx, "1001", "5", "") },
			want:  want{method: "DELETE", path: "/api/2.0/accounts/acc-unit/workspaces/1001/permissionassignments/principals/5"},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			c, rec, _ := testClient(t, tc.level, func(w http.ResponseWriter, r *http.Request) {
				switch r.Method {
				case http.MethodPost:
					w.WriteHeader(http.StatusCreated)
					_, _ = io.WriteString(w, `{"id":"9"}`)
				case http.MethodDelete:
					w.WriteHeader(http.StatusNoContent)
				default:
					_, _ = io.WriteString(w, `{"id":"9"}`)
				}
			}, func(cfg *Config) {
				cfg.Auth.WorkspaceID = tc.workspaceID
				cfg.UnifiedHost = tc.unified
				withWorkspaceHost(cfg)
			})
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			reqs := rec.requests()
			if len(reqs) != 1 {
				t.Fatalf("requests = %d, want 1", len(reqs))
			}
			r := reqs[0]
			host := r.Host
			if tc.want.host == "" {
				host = "" // the test server's own address
			}
			got := want{method: r.Method, host: host, path: r.Path, contentType: r.Header.Get("Content-Type"), workspaceHeader: r.Header.Get(HeaderWorkspaceID)}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(want{})); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
			if r.Header.Get("Authorization") != "Bearer "+testToken {
				t.Errorf("Authorization header missing")
			}
		})
	}
}

func TestPutPermissionAssignmentChecksItemError(t *testing.T) {
	c, rec, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"principal":{"principal_id":5},"permissions":[],"error":"principal 5 is not in the account"}`)
	}, nil)
	err := c.SetWorkspacePermission(context.Background(), "1001", "5", model.PermissionUser)
	if err == nil || !strings.Contains(err.Error(), "principal 5 is not in the account") {
		t.Fatalf("err = %v, want the item's error", err)
	}
	if body := rec.requests()[0].Body; body != `{"permissions":["USER"]}` {
		t.Errorf("body = %s", body)
	}
	if err := c.SetWorkspacePermission(context.Background(), "1001", "5", "OWNER"); err == nil {
		t.Error("an unknown permission was sent")
	}
	w, _, _ := testClient(t, model.LevelWorkspace, ok200, nil)
	if err := w.SetWorkspacePermission(context.Background(), "1001", "5", model.PermissionUser); err == nil || !strings.Contains(err.Error(), "needs an account-level target") {
		t.Errorf("workspace-level assignment: err = %v", err)
	}
}

func TestParseError(t *testing.T) {
	tests := map[string]struct {
		status int
		body   string
		want   Error
	}{
		"SCIM body": {
			status: 409,
			body:   `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"User with username a@x already exists.","status":"409"}`,
			want:   Error{Status: 409, Detail: "User with username a@x already exists."},
		},
		"SCIM body with scimType": {
			status: 400,
			body:   `{"detail":"entitlements can only be managed at the workspace level","status":"400","scimType":"invalidValue"}`,
			want:   Error{Status: 400, Detail: "entitlements can only be managed at the workspace level", ScimType: "invalidValue"},
		},
		"throttle inside a 500": {
			status: 500,
			body:   `{"detail":"REQUEST_LIMIT_EXCEEDED: Workspace 1234 exceeded the concurrent limit of 4 requests.","status":"500"}`,
			want:   Error{Status: 500, Code: "REQUEST_LIMIT_EXCEEDED", Detail: "REQUEST_LIMIT_EXCEEDED: Workspace 1234 exceeded the concurrent limit of 4 requests."},
		},
		"Databricks API error": {
			status: 403,
			body:   `{"error_code":"PERMISSION_DENIED","message":"Only account admins can do this"}`,
			want:   Error{Status: 403, Code: "PERMISSION_DENIED", Detail: "Only account admins can do this"},
		},
		"detail null": {
			status: 500,
			body:   `{"detail":"null","status":"500"}`,
			want:   Error{Status: 500, Detail: "SCIM API internal error"},
		},
		"plain text": {
			status: 502,
			body:   "upstream connect error\n or disconnect",
			want:   Error{Status: 502, Detail: "upstream connect error or disconnect"},
		},
		"HTML page": {
			status: 503,
			body:   "<html><head><title>503 Service Temporarily Unavailable</title></head><body>...</body></html>",
			want:   Error{Status: 503, Detail: "503 Service Temporarily Unavailable"},
		},
		"HTML pre": {
			status: 404,
			body:   "<html><body><pre>RESOURCE_DOES_NOT_EXIST: no such workspace</pre></body></html>",
			want:   Error{Status: 404, Code: "RESOURCE_DOES_NOT_EXIST", Detail: "RESOURCE_DOES_NOT_EXIST: no such workspace"},
		},
		"empty": {status: 404, body: "", want: Error{Status: 404}},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got := parseError("GET", "/p", tc.status, []byte(tc.body))
			tc.want.Method, tc.want.Path = "GET", "/p"
			if diff := cmp.Diff(&tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
	long := parseError("GET", "/p", 500, []byte(strings.Repeat("x", 5000)))
	if len(long.Detail) > maxDetail+10 {
		t.Errorf("a long text body became a %d-byte detail", len(long.Detail))
	}
}

func TestErrorMessagesAndHelpers(t *testing.T) {
	tests := []struct {
		err   *Error
		check func(error) bool
		want  string
	}{
		{&Error{Status: 401, Method: "GET", Path: "/x", Detail: "invalid token"}, IsUnauthorized,
			"GET /x: 401 unauthorized: invalid token (the credentials were rejected: check DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET"},
		{&Error{Status: 403, Method: "POST", Path: "/x"}, IsForbidden, "POST /x: 403 forbidden (the identity lacks permission: SCIM writes need an account admin"},
		{&Error{Status: 404, Method: "GET", Path: "/x", ScimType: "invalidValue", Detail: "nope"}, IsNotFound, "GET /x: 404 not found: invalidValue nope"},
		{&Error{Status: 409, Method: "POST", Path: "/x"}, IsConflict, "POST /x: 409 conflict"},
		{&Error{Status: 400, Method: "PATCH", Path: "/x"}, IsBadRequest, "PATCH /x: 400 bad request"},
		{&Error{Status: 429, Method: "GET", Path: "/x"}, IsThrottled, "lower apply.rateLimit"},
		{&Error{Status: 500, Method: "GET", Path: "/x", Detail: "REQUEST_LIMIT_EXCEEDED: too many"}, IsThrottled, "lower apply.rateLimit"},
	}
	for _, tc := range tests {
		wrapped := fmt.Errorf("outer: %w", tc.err)
		if !tc.check(wrapped) {
			t.Errorf("%v: helper says no", tc.err)
		}
		if !strings.Contains(tc.err.Error(), tc.want) {
			t.Errorf("message %q does not contain %q", tc.err.Error(), tc.want)
		}
	}
	if IsNotFound(errors.New("404")) || IsThrottled(&Error{Status: 500, Detail: "boom"}) {
		t.Error("helpers matched errors they should not")
	}
}

func TestUnauthorizedErrorIsActionableAndSecretFree(t *testing.T) {
	c, _, _ := testClient(t, model.LevelAccount, ok200, func(cfg *Config) { cfg.Auth.Token = auth.NewSecret("wrong-token-value") })
	_, err := c.Users().Get(context.Background(), "1")
	if !IsUnauthorized(err) || !strings.Contains(err.Error(), "check DATABRICKS_TOKEN") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "wrong-token-value") {
		t.Errorf("error leaks the token: %v", err)
	}
}

func TestNewRefusesPlainHTTP(t *testing.T) {
	_, err := New(Config{Auth: auth.Settings{Host: "http://dbc.cloud.databricks.com", Token: auth.NewSecret("t")}})
	if err == nil || !strings.Contains(err.Error(), "plain http") {
		t.Fatalf("err = %v", err)
	}
}

func TestIdentity(t *testing.T) {
	ctx := context.Background()
	me := func(userName string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/api/2.0/preview/scim/v2/Me" || r.URL.Query().Get("excludedAttributes") != "entitlements,groups" {
				scimError(w, 400, "unexpected "+r.URL.String())
				return
			}
			_ = json.NewEncoder(w).Encode(User{ID: "1", UserName: userName})
		}
	}
	c, _, _ := testClient(t, model.LevelWorkspace, me("Admin@Example.com"), nil)
	if ref, ok, err := c.Identity(ctx); err != nil || !ok || ref != (model.Ref{Kind: model.KindUser, Key: "admin@example.com"}) {
		t.Errorf("workspace user: %v %v %v", ref, ok, err)
	}
	c, _, _ = testClient(t, model.LevelWorkspace, me("9A8B7C6D-0000-4000-8000-000000000001"), nil)
	if ref, ok, err := c.Identity(ctx); err != nil || !ok || ref != (model.Ref{Kind: model.KindServicePrincipal, Key: "9a8b7c6d-0000-4000-8000-000000000001"}) {
		t.Errorf("workspace service principal: %v %v %v", ref, ok, err)
	}
	c, rec, _ := testClient(t, model.LevelAccount, ok200, nil)
	if _, ok, err := c.Identity(ctx); err != nil || ok || len(rec.requests()) != 0 {
		t.Errorf("account token: ok=%v err=%v requests=%d; want unknown without a request", ok, err, len(rec.requests()))
	}
	o, err := New(Config{Auth: oauthSettings("http://127.0.0.1:1")})
	if err != nil {
		t.Fatal(err)
	}
	if ref, ok, err := o.Identity(ctx); err != nil || !ok || ref != (model.Ref{Kind: model.KindServicePrincipal, Key: "cid"}) {
		t.Errorf("account OAuth: %v %v %v", ref, ok, err)
	}
}

func TestDebugLogsHaveNoSecrets(t *testing.T) {
	var buf syncBuffer
	c, _, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			scimError(w, http.StatusConflict, "User with email a@x already exists in this account")
		default:
			w.Header().Set("Retry-After", "0")
			_, _ = io.WriteString(w, `{"id":"1","userName":"a@x"}`)
		}
	}, func(cfg *Config) { cfg.Logger = debugLogger(&buf) })
	ctx := context.Background()
	_, _ = c.Users().Get(ctx, "1")
	_, err := c.CreateUser(ctx, &model.User{UserName: "a@x", Active: true})
	if !IsConflict(err) {
		t.Fatalf("err = %v", err)
	}
	logs := buf.String()
	for _, want := range []string{"method=GET", "path=/api/2.0/accounts/acc-unit/scim/v2/Users/1", "status=200", "attempt=1", "duration=", "status=409"} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	for _, leak := range []string{testToken, "Bearer", "Authorization", "a@x already exists", `"userName"`} {
		if strings.Contains(logs, leak) {
			t.Errorf("logs contain %q:\n%s", leak, logs)
		}
	}
	if strings.Contains(c.Auth().String(), testToken) {
		t.Errorf("Auth().String() leaks the token")
	}
}

// TestEchoedAuthorizationIsRedacted: a server (or a proxy in front of it) whose error
// bodies echo the Authorization header, in JSON or in plain text, does not put the token
// into the error, and the redactor given in Config has learnt the token.
func TestEchoedAuthorizationIsRedacted(t *testing.T) {
	for name, write := range map[string]func(http.ResponseWriter, string){
		"scim json": func(w http.ResponseWriter, h string) {
			scimError(w, 400, "rejected: Authorization: "+h+" token "+strings.TrimPrefix(h, "Bearer "))
		},
		"plain text": func(w http.ResponseWriter, h string) {
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, "blocked\nAuthorization="+h+"\nraw="+strings.TrimPrefix(h, "Bearer "))
		},
		"databricks json": func(w http.ResponseWriter, h string) {
			w.WriteHeader(http.StatusNotFound)
			json.NewEncoder(w).Encode(map[string]string{"error_code": "NOT_FOUND", "message": "no " + strings.TrimPrefix(h, "Bearer ")})
		},
	} {
		t.Run(name, func(t *testing.T) {
			red := redact.New()
			c, _, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
				write(w, r.Header.Get("Authorization"))
			}, func(cfg *Config) { cfg.Redactor = red })
			_, err := c.Users().Get(context.Background(), "1")
			if err == nil {
				t.Fatal("want an error")
			}
			if strings.Contains(err.Error(), testToken) || !strings.Contains(err.Error(), redact.Mask) {
				t.Errorf("error = %q; want the token redacted", err)
			}
			if got := red.String("x " + testToken); got != "x "+redact.Mask {
				t.Errorf("the redactor did not learn the token: %q", got)
			}
		})
	}
}

// TestRejectedCredentialsStopRequests: once Databricks answers 401, no further request is
// sent with the same credentials; each fails at once as unauthorized, naming the first
// rejection.
func TestRejectedCredentialsStopRequests(t *testing.T) {
	var served atomic.Int64
	c, rec, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
		if served.Add(1) > 3 {
			scimError(w, http.StatusUnauthorized, "Token is expired")
			return
		}
		_ = json.NewEncoder(w).Encode(User{ID: "1", UserName: "a@example.com"})
	}, func(cfg *Config) { cfg.MaxInFlight = 1 })
	ctx := context.Background()
	var errs []error
	for range 50 {
		_, err := c.Users().Get(ctx, "1")
		errs = append(errs, err)
	}
	if n := len(rec.requests()); n != 4 {
		t.Errorf("%d requests reached the server, want 4: three answered and the one rejected", n)
	}
	for i, err := range errs {
		if i < 3 {
			if err != nil {
				t.Errorf("request %d: %v", i, err)
			}
			continue
		}
		if !IsUnauthorized(err) || !strings.Contains(err.Error(), "Token is expired") {
			t.Errorf("request %d: err = %v; want the first 401", i, err)
		}
	}
	if !strings.Contains(errs[49].Error(), "not sent") {
		t.Errorf("a later request does not say it was not sent: %v", errs[49])
	}
}

// TestUnknownCreateFindsItsOwnServicePrincipal: a service principal create whose outcome
// is unknown (a 502 after the server made it) is resolved by a lookup by displayName that
// keeps only the principal with the externalId the create sent: a look-alike with the same
// displayName is not taken for it, and the create is not sent twice.
func TestUnknownCreateFindsItsOwnServicePrincipal(t *testing.T) {
	var posts atomic.Int64
	c, _, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
		switch r.Method {
		case http.MethodPost:
			posts.Add(1)
			scimError(w, http.StatusBadGateway, "bad gateway") // the principal was made
		case http.MethodGet:
			if !strings.Contains(r.URL.Query().Get("filter"), `displayName eq "ml-serving"`) {
				scimError(w, 400, "unexpected filter "+r.URL.Query().Get("filter"))
				return
			}
			_ = json.NewEncoder(w).Encode(map[string]any{
				"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:ListResponse"}, "totalResults": 2, "startIndex": 1, "itemsPerPage": 2,
				"Resources": []map[string]any{
					{"id": "1", "applicationId": "11111111-1111-4111-8111-111111111111", "displayName": "ml-serving", "active": true},
					{"id": "2", "applicationId": "22222222-2222-4222-8222-222222222222", "displayName": "ml-serving", "externalId": "scimsync:abc", "active": true},
				},
			})
		}
	}, nil)
	sleeps(c)
	id, appID, err := c.CreateServicePrincipal(context.Background(), &model.ServicePrincipal{DisplayName: "ml-serving", ExternalID: "scimsync:abc", Active: true})
	if err != nil || id != "2" || appID != "22222222-2222-4222-8222-222222222222" {
		t.Errorf("create = %q, %q, %v; want the principal with the externalId sent", id, appID, err)
	}
	if posts.Load() != 1 {
		t.Errorf("%d POSTs, want 1", posts.Load())
	}
}

// TestRejectionIsPerHost: a token rejected by one host (a workspace it was not issued
// for) is still sent to another (the account host).
func TestRejectionIsPerHost(t *testing.T) {
	creds := (&auth.Config{AuthType: auth.AuthPAT, Token: auth.NewSecret("dapi-some-token")}).Credentials(nil)
	a := credentialsKey(creds, "https://accounts.example.test/api/2.0/accounts/1/scim/v2/Users")
	b := credentialsKey(creds, "https://accounts.example.test/api/2.0/accounts/1/scim/v2/Groups?x=1")
	w := credentialsKey(creds, "https://dbc-1.cloud.example.test/api/2.0/preview/scim/v2/Users")
	if a != b || a == w || a == nil {
		t.Errorf("keys: account %v, account again %v, workspace %v; want one per host", a, b, w)
	}
}
