package emulator

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
)

// fast returns options without a rate limit, for tests that are not about throttling.
func fast(o Options) Options {
	if o.RateLimit == 0 {
		o.RateLimit = -1
	}
	return o
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// client talks to a test server with the emulator's token.
type client struct {
	t      testing.TB
	ts     *TestServer
	token  string
	ws     string // the workspace addressed: its host at account level, else the header
	header string // X-Databricks-Workspace-Id, if set
	http   *http.Client
}

func newClient(t testing.TB, opts Options) *client {
	t.Helper()
	ts := NewTestServer(t, opts)
	return &client{t: t, ts: ts, token: ts.opts.Token, http: &http.Client{Timeout: 30 * time.Second}}
}

// inWorkspace returns a copy of the client that addresses workspace ws.
func (c *client) inWorkspace(ws string) *client {
	cc := *c
	cc.ws = ws
	return &cc
}

// withHeader returns a copy of the client that sends X-Databricks-Workspace-Id: ws to
// whatever host it addresses.
func (c *client) withHeader(ws string) *client {
	cc := *c
	cc.header = ws
	return &cc
}

// reply is a decoded response.
type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// do sends a request. path is relative to the server URL; body is marshalled unless it is a
// string, which is sent as is. A map body of a POST or PUT to a SCIM resource gets the
// resource's schemas when it has none, as real clients send them (strict mode requires
// them); tests of that rule send string bodies.
func (c *client) do(method, path string, body any) reply {
	c.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case map[string]any:
		if _, ok := b["schemas"]; !ok && (method == "POST" || method == "PUT") && strings.Contains(path, "/scim/v2/") {
			for res, k := range kindOfResource {
				if strings.Contains(path, "/scim/v2/"+res) {
					b["schemas"] = resourceSchemas[k][:1]
				}
			}
		}
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			c.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.ts.URL+path, rd)
	if err != nil {
		c.t.Fatal(err)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	switch {
	case c.ws != "" && c.ts.opts.Level != model.LevelWorkspace:
		// At account level a workspace is addressed by its own host (hosts.go).
		req.Host = hostName(c.ts.WorkspaceHost(c.ws))
	case c.ws != "":
		req.Header.Set(HeaderWorkspaceID, c.ws)
	}
	if c.header != "" {
		req.Header.Set(HeaderWorkspaceID, c.header)
	}
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := c.http.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &r.body); err != nil {
			c.t.Fatalf("%s %s: decode %q: %v", method, path, raw, err)
		}
	}
	return r
}

// acct returns the account SCIM path of a resource.
func (c *client) acct(res string) string {
	return "/api/2.0/accounts/" + c.ts.opts.AccountID + "/scim/v2/" + res
}

// wsp returns the workspace SCIM path of a resource.
func wsp(res string) string { return "/api/2.0/preview/scim/v2/" + res }

// must fails the test unless the reply has the status.
func (r reply) must(t testing.TB, status int) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body %s", r.status, status, r.raw)
	}
	return r
}

// str returns a top-level string field.
func (r reply) str(key string) string {
	s, _ := r.body[key].(string)
	return s
}

// list returns the Resources of a list reply.
func (r reply) list() []map[string]any {
	var out []map[string]any
	items, _ := r.body["Resources"].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any))
	}
	return out
}

// values returns the "value" fields of a multi-valued attribute of a resource.
func values0(res map[string]any, attr string) []string {
	var out []string
	items, _ := res[attr].([]any)
	for _, it := range items {
		out = append(out, it.(map[string]any)["value"].(string))
	}
	return out
}

// wantSCIMError checks a SCIM error body (§5.1).
func (r reply) wantSCIMError(t testing.TB, status int, scimType, detailPart string) {
	t.Helper()
	r.must(t, status)
	if got := r.str("status"); got != itoa(int64(status)) {
		t.Errorf("error status field %q, want %q as a string", got, itoa(int64(status)))
	}
	if schemas, _ := r.body["schemas"].([]any); len(schemas) != 1 || schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("error schemas %v", r.body["schemas"])
	}
	if got := r.str("scimType"); got != scimType {
		t.Errorf("scimType %q, want %q (body %s)", got, scimType, r.raw)
	}
	if !strings.Contains(r.str("detail"), detailPart) {
		t.Errorf("detail %q does not contain %q", r.str("detail"), detailPart)
	}
}

func (c *client) createUser(userName string) string {
	c.t.Helper()
	r := c.do("POST", c.acct("Users"), map[string]any{"userName": userName}).must(c.t, 201)
	return r.str("id")
}

func (c *client) createGroup(name string, members ...string) string {
	c.t.Helper()
	var ms []map[string]string
	for _, m := range members {
		ms = append(ms, map[string]string{"value": m})
	}
	r := c.do("POST", c.acct("Groups"), map[string]any{"displayName": name, "members": ms}).must(c.t, 201)
	return r.str("id")
}

func (c *client) createSP(name string) (id, appID string) {
	c.t.Helper()
	r := c.do("POST", c.acct("ServicePrincipals"), map[string]any{"displayName": name}).must(c.t, 201)
	return r.str("id"), r.str("applicationId")
}

// patchOps builds a PatchOp body.
func patchOps(ops ...map[string]any) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": ops}
}

// users makes n seedable users u00000@example.com, ...
func users(n int) []model.User {
	out := make([]model.User, n)
	for i := range out {
		out[i] = model.User{UserName: "u" + pad(i) + "@example.com", DisplayName: "User " + pad(i), Active: true}
	}
	return out
}

func pad(i int) string {
	s := itoa(int64(i))
	return strings.Repeat("0", max(0, 5-len(s))) + s
}

// q escapes a query parameter value.
func q(s string) string { return url.QueryEscape(s) }

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }
