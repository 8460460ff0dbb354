package scim

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim/auth"
)

const (
	testToken   = "dapi-unit-test-token-do-not-log"
	testAccount = "acc-unit"
)

// recorded is one request a test server saw.
type recorded struct {
	Method, Host, Path, Query string
	Header                    http.Header
	Body                      string
}

// recorder is an http.Handler that records requests and hands them to a route function.
type recorder struct {
	mu    sync.Mutex
	reqs  []recorded
	route http.HandlerFunc
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	r.mu.Lock()
	r.reqs = append(r.reqs, recorded{Method: req.Method, Host: req.Host, Path: req.URL.Path, Query: req.URL.RawQuery, Header: req.Header.Clone(), Body: string(body)})
	r.mu.Unlock()
	if req.Header.Get("Authorization") != "Bearer "+testToken {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"invalid token","status":"401"}`)
		return
	}
	r.route(w, req)
}

func (r *recorder) requests() []recorded {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]recorded(nil), r.reqs...)
}

// count returns how many requests had the method (any method when "") and a path ending
// in suffix.
func (r *recorder) count(method, suffix string) int {
	n := 0
	for _, q := range r.requests() {
		if (method == "" || q.Method == method) && strings.HasSuffix(q.Path, suffix) {
			n++
		}
	}
	return n
}

// testClient builds a client against a test server running route, with fast retries and
// a high rate limit. level chooses the account or workspace tree.
func testClient(t *testing.T, level model.Level, route http.HandlerFunc, mod func(*Config)) (*Client, *recorder, *httptest.Server) {
	t.Helper()
	rec := &recorder{route: route}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	cfg := Config{
		Auth:           auth.Settings{Host: srv.URL, Level: level, AccountID: testAccount, Token: auth.NewSecret(testToken)},
		RateLimit:      10000,
		RetryBaseDelay: time.Millisecond,
		RetryMaxDelay:  2 * time.Millisecond,
		Timeout:        5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c, rec, srv
}

// testWorkspaceHost is the host of workspace 1001 in tests; testClient's server answers
// for it when the client is built with withWorkspaceHost.
const testWorkspaceHost = "https://dbc-1001.test.invalid"

// withWorkspaceHost sends testWorkspaceHost's requests to the test server (cfg.Auth.Host).
func withWorkspaceHost(cfg *Config) {
	cfg.HostOverrides = map[string]string{testWorkspaceHost: cfg.Auth.Host}
}

// sleeps replaces a client's sleep with one that records the waits and returns at once.
func sleeps(c *Client) *[]time.Duration {
	var mu sync.Mutex
	waits := &[]time.Duration{}
	c.t.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*waits = append(*waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return waits
}

// scimError writes a SCIM error body with status.
func scimError(w http.ResponseWriter, status int, detail string) {
	w.Header().Set("Content-Type", "application/scim+json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"`+detail+`","status":"`+strconv.Itoa(status)+`"}`)
}

// debugLogger returns a logger that writes debug records to buf.
func debugLogger(buf *syncBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
