package scim

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim/auth"
)

func TestRetryPolicyByStatus(t *testing.T) {
	const limit500 = "REQUEST_LIMIT_EXCEEDED: Workspace 1234 exceeded the concurrent limit of 4 requests."
	tests := map[string]struct {
		method   string
		status   int
		detail   string
		attempts int  // requests to the resource itself
		lookups  int  // GETs with a filter (create outcome checks)
		fails    bool // whether the call fails in the end
	}{
		"GET 429 is retried":                       {method: "GET", status: 429, attempts: 2},
		"GET 503 is retried":                       {method: "GET", status: 503, attempts: 2},
		"GET 500 REQUEST_LIMIT_EXCEEDED retried":   {method: "GET", status: 500, detail: limit500, attempts: 2},
		"GET other 500 is not retried":             {method: "GET", status: 500, detail: "boom", attempts: 1, fails: true},
		"GET 502 is retried":                       {method: "GET", status: 502, attempts: 2},
		"GET 504 is retried":                       {method: "GET", status: 504, attempts: 2},
		"GET 400 is not retried":                   {method: "GET", status: 400, attempts: 1, fails: true},
		"GET 404 is not retried":                   {method: "GET", status: 404, attempts: 1, fails: true},
		"GET 401 is not retried":                   {method: "GET", status: 401, attempts: 1, fails: true},
		"POST 429 is a refusal, retried at once":   {method: "POST", status: 429, attempts: 2},
		"POST 503 is looked up before a retry":     {method: "POST", status: 503, attempts: 2, lookups: 1},
		"POST 500 REQUEST_LIMIT_EXCEEDED retried":  {method: "POST", status: 500, detail: limit500, attempts: 2},
		"POST 502 is looked up before a retry":     {method: "POST", status: 502, attempts: 2, lookups: 1},
		"POST 504 is looked up before a retry":     {method: "POST", status: 504, attempts: 2, lookups: 1},
		"POST other 500 is not retried":            {method: "POST", status: 500, detail: "boom", attempts: 1, fails: true},
		"POST 409 without earlier attempts fails":  {method: "POST", status: 409, attempts: 1, fails: true},
		"PATCH 502 is retried":                     {method: "PATCH", status: 502, attempts: 2},
		"PUT 503 is retried":                       {method: "PUT", status: 503, attempts: 2},
		"DELETE 504 is retried":                    {method: "DELETE", status: 504, attempts: 2},
		"DELETE 429 is retried":                    {method: "DELETE", status: 429, attempts: 2},
		"PATCH 400 is not retried":                 {method: "PATCH", status: 400, attempts: 1, fails: true},
		"DELETE 404 on the first attempt is error": {method: "DELETE", status: 404, attempts: 1, fails: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			c, rec, _ := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet && r.URL.Query().Get("filter") != "" {
					_, _ = io.WriteString(w, `{"totalResults":0,"startIndex":1,"Resources":[]}`)
					return
				}
				if calls.Add(1) == 1 {
					scimError(w, tc.status, tc.detail)
					return
				}
				switch r.Method {
				case http.MethodPost:
					w.WriteHeader(http.StatusCreated)
					_, _ = io.WriteString(w, `{"id":"7","userName":"a@example.com"}`)
				case http.MethodDelete:
					w.WriteHeader(http.StatusNoContent)
				default:
					_, _ = io.WriteString(w, `{"id":"7","userName":"a@example.com"}`)
				}
			}, nil)
			waits := sleeps(c)
			ctx := context.Background()
			var err error
			switch tc.method {
			case "GET":
				_, err = c.Users().Get(ctx, "7")
			case "POST":
				// The plain create: apply's CreateUser adopts on 409 (TestCreateAdoptsOn409).
				_, err = c.Users().Create(ctx, &User{Schemas: []string{SchemaUser}, UserName: "a@example.com"})
			case "PATCH":
				err = c.UpdateUser(ctx, "7", &model.User{Active: true}, &model.User{Active: false})
			case "PUT":
				err = c.Users().Put(ctx, "7", &User{UserName: "a@example.com"})
			case "DELETE":
				err = c.Delete(ctx, model.KindUser, "7")
			}
			if (err != nil) != tc.fails {
				t.Fatalf("err = %v, want failure %v", err, tc.fails)
			}
			if got := int(calls.Load()); got != tc.attempts {
				t.Errorf("attempts = %d, want %d", got, tc.attempts)
			}
			lookups := 0
			for _, r := range rec.requests() {
				if r.Method == http.MethodGet && strings.Contains(r.Query, "filter=") {
					lookups++
				}
			}
			if lookups != tc.lookups {
				t.Errorf("lookups = %d, want %d", lookups, tc.lookups)
			}
			if len(*waits) != tc.attempts-1 {
				t.Errorf("waits = %v, want %d", *waits, tc.attempts-1)
			}
			if tc.fails {
				var se *Error
				if !errors.As(err, &se) || se.Status != tc.status {
					t.Errorf("err = %v, want a *scim.Error with status %d", err, tc.status)
				}
			}
			if st := c.Stats(); st.Retries != int64(tc.attempts-1) {
				t.Errorf("Stats.Retries = %d, want %d", st.Retries, tc.attempts-1)
			}
		})
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	for name, header := range map[string]string{
		"seconds":   "3",
		"HTTP date": time.Now().Add(3 * time.Second).UTC().Format(http.TimeFormat),
	} {
		t.Run(name, func(t *testing.T) {
			var calls atomic.Int32
			c, _, _ := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, r *http.Request) {
				if calls.Add(1) == 1 {
					w.Header().Set("Retry-After", header)
					scimError(w, http.StatusTooManyRequests, "slow down")
					return
				}
				_, _ = io.WriteString(w, `{"id":"1"}`)
			}, nil)
			waits := sleeps(c)
			if _, err := c.Users().Get(context.Background(), "1"); err != nil {
				t.Fatal(err)
			}
			// One wait before the retry (at least Retry-After), and possibly one more as
			// the limiter holds every request until the pause ends.
			if len(*waits) == 0 || (*waits)[0] < 2*time.Second {
				t.Fatalf("waits = %v, want the first at least ~3s", *waits)
			}
			st := c.Stats()
			if st.TooManyRequests != 1 || st.Throttled != 1 {
				t.Errorf("stats = %+v, want one 429", st)
			}
		})
	}
}

func TestRetryAfterBeyondBudgetGivesUp(t *testing.T) {
	c, _, _ := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "3600")
		scimError(w, http.StatusTooManyRequests, "slow down")
	}, func(cfg *Config) { cfg.RetryBudget = time.Minute })
	waits := sleeps(c)
	_, err := c.Users().Get(context.Background(), "1")
	if err == nil || !strings.Contains(err.Error(), "retry budget") || len(*waits) != 0 {
		t.Fatalf("err = %v, waits = %v; want giving up without waiting", err, *waits)
	}
	if !IsThrottled(err) {
		t.Errorf("IsThrottled(%v) = false", err)
	}
}

func TestGivesUpAfterMaxAttempts(t *testing.T) {
	var calls atomic.Int32
	c, _, _ := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		scimError(w, http.StatusServiceUnavailable, "maintenance")
	}, func(cfg *Config) { cfg.MaxAttempts = 3 })
	sleeps(c)
	_, err := c.Users().Get(context.Background(), "1")
	if err == nil || !strings.Contains(err.Error(), "giving up after 3 attempts") || !strings.Contains(err.Error(), "503") {
		t.Fatalf("err = %v", err)
	}
	if calls.Load() != 3 {
		t.Errorf("attempts = %d, want 3", calls.Load())
	}
}

func TestBackoffIsExponentialWithFullJitter(t *testing.T) {
	tr := &transport{baseDelay: 100 * time.Millisecond, maxDelay: time.Second}
	for attempt, ceiling := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 4: 800 * time.Millisecond, 5: time.Second, 40: time.Second} {
		var max time.Duration
		for range 200 {
			d := tr.backoff(attempt)
			if d < 0 || d > ceiling {
				t.Fatalf("backoff(%d) = %s, want within [0, %s]", attempt, d, ceiling)
			}
			max = maxDur(max, d)
		}
		if max < ceiling/2 {
			t.Errorf("backoff(%d) never came near its ceiling %s (max %s): no jitter range", attempt, ceiling, max)
		}
	}
}

func maxDur(a, b time.Duration) time.Duration {
	if a > b {
		return a
	}
	return b
}

func TestContextCancelStopsRetrying(t *testing.T) {
	c, _, _ := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, r *http.Request) {
		scimError(w, http.StatusServiceUnavailable, "maintenance")
	}, func(cfg *Config) { cfg.RetryBaseDelay, cfg.RetryMaxDelay = time.Hour, time.Hour })
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(20*time.Millisecond, cancel)
	done := make(chan error, 1)
	go func() {
		_, err := c.Users().Get(ctx, "1")
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a cancelled request kept waiting in its backoff")
	}
}

func TestInFlightCap(t *testing.T) {
	var cur, peak atomic.Int32
	c, _, _ := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		cur.Add(-1)
		_, _ = io.WriteString(w, `{"id":"1"}`)
	}, func(cfg *Config) { cfg.MaxInFlight = 2 })
	var wg sync.WaitGroup
	for range 12 {
		wg.Go(func() {
			if _, err := c.Users().Get(context.Background(), "1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p > 2 {
		t.Errorf("peak in flight = %d, want at most 2", p)
	}
	if got := c.Stats().Requests["GET"]; got != 12 {
		t.Errorf("Stats.Requests[GET] = %d, want 12", got)
	}
}

// roundTripFunc fakes the network below the client.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// wrote tells the request's trace that the request went out, as the real transport does.
func wrote(r *http.Request) {
	if tr := httptrace.ContextClientTrace(r.Context()); tr != nil && tr.WroteRequest != nil {
		tr.WroteRequest(httptrace.WroteRequestInfo{})
	}
}

func TestNetworkErrors(t *testing.T) {
	userList := `{"totalResults":1,"startIndex":1,"Resources":[{"id":"42","userName":"a@example.com"}]}`
	emptyList := `{"totalResults":0,"startIndex":1,"Resources":[]}`
	tests := map[string]struct {
		method    string
		afterSend bool   // the failure happens after the request was written
		lookup    string // the lookup's answer
		posts     int
		lookups   int
		wantID    string
	}{
		"POST refused before sending is retried without a lookup":   {method: "POST", posts: 2, wantID: "7"},
		"POST dropped after sending, object exists: no second POST": {method: "POST", afterSend: true, lookup: userList, posts: 1, lookups: 1, wantID: "42"},
		"POST dropped after sending, object absent: POST again":     {method: "POST", afterSend: true, lookup: emptyList, posts: 2, lookups: 1, wantID: "7"},
		"GET dropped after sending is retried":                      {method: "GET", afterSend: true},
		"DELETE dropped after sending is retried":                   {method: "DELETE", afterSend: true},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			var posts, lookups, calls atomic.Int32
			rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
				rec := httptest.NewRecorder()
				switch {
				case r.Method == http.MethodGet && r.URL.Query().Get("filter") != "":
					lookups.Add(1)
					_, _ = io.WriteString(rec, tc.lookup)
					return rec.Result(), nil
				case r.Method == http.MethodPost:
					posts.Add(1)
				}
				if calls.Add(1) == 1 {
					if tc.afterSend {
						wrote(r)
						return nil, io.ErrUnexpectedEOF
					}
					return nil, &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
				}
				wrote(r)
				switch r.Method {
				case http.MethodPost:
					rec.WriteHeader(http.StatusCreated)
					_, _ = io.WriteString(rec, `{"id":"7","userName":"a@example.com"}`)
				case http.MethodDelete:
					rec.WriteHeader(http.StatusNoContent)
				default:
					_, _ = io.WriteString(rec, `{"id":"7"}`)
				}
				return rec.Result(), nil
			})
			c, _, _ := testClient(t, model.LevelAccount, nil, func(cfg *Config) {
				cfg.HTTPClient = &http.Client{Transport: rt}
			})
			sleeps(c)
			ctx := context.Background()
			var (
				id  string
				err error
			)
			switch tc.method {
			case "POST":
				id, err = c.CreateUser(ctx, &model.User{UserName: "a@example.com", Active: true})
			case "GET":
				_, err = c.Users().Get(ctx, "7")
			case "DELETE":
				err = c.Delete(ctx, model.KindUser, "7")
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != tc.wantID || int(posts.Load()) != tc.posts || int(lookups.Load()) != tc.lookups {
				t.Errorf("id=%q posts=%d lookups=%d; want id=%q posts=%d lookups=%d", id, posts.Load(), lookups.Load(), tc.wantID, tc.posts, tc.lookups)
			}
			st := c.Stats()
			if st.NetworkErrors != 1 || st.Retries+st.CreatesResolved != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// userStore is a tiny in-memory SCIM user store for the unknown-outcome tests.
type userStore struct {
	mu      sync.Mutex
	users   map[string]string // userName → id
	visible map[string]bool
	posts   int
}

func (s *userStore) list(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var res []map[string]string
	for name, id := range s.users {
		if s.visible[name] && strings.Contains(r.URL.Query().Get("filter"), `"`+name+`"`) {
			res = append(res, map[string]string{"id": id, "userName": name})
		}
	}
	if r.URL.Query().Get("startIndex") != "1" {
		res = nil
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"startIndex": 1, "totalResults": len(res), "Resources": res})
}

func TestUnknownCreateOverRealConnections(t *testing.T) {
	tests := map[string]struct {
		// first handles the first POST: it may commit, and may hide the commit from
		// lookups until the next POST.
		commit, hide bool
		drop         bool // drop the connection; otherwise answer 504
		posts        int
		wantStatsRes int64
	}{
		"committed, then the connection dropped":       {commit: true, drop: true, posts: 1, wantStatsRes: 1},
		"not committed, then the connection dropped":   {drop: true, posts: 2},
		"committed, 504, visible to the lookup":        {commit: true, posts: 1, wantStatsRes: 1},
		"committed late: 504, lookup misses, then 409": {commit: true, hide: true, posts: 2, wantStatsRes: 1},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			st := &userStore{users: map[string]string{}, visible: map[string]bool{}}
			c, _, _ := testClient(t, model.LevelAccount, func(w http.ResponseWriter, r *http.Request) {
				if r.Method == http.MethodGet {
					st.list(w, r)
					return
				}
				var u User
				_ = json.NewDecoder(r.Body).Decode(&u)
				st.mu.Lock()
				st.posts++
				n := st.posts
				_, exists := st.users[u.UserName]
				if n > 1 {
					st.visible[u.UserName] = true
				}
				if exists {
					st.mu.Unlock()
					scimError(w, http.StatusConflict, "User with email "+u.UserName+" already exists in this account")
					return
				}
				if n > 1 || tc.commit {
					st.users[u.UserName] = fmt.Sprint(100 + n)
					st.visible[u.UserName] = n > 1 || !tc.hide
				}
				st.mu.Unlock()
				if n == 1 {
					if tc.drop {
						conn, _, err := w.(http.Hijacker).Hijack()
						if err == nil {
							_ = conn.Close()
						}
						return
					}
					scimError(w, http.StatusGatewayTimeout, "upstream timeout")
					return
				}
				w.WriteHeader(http.StatusCreated)
				_ = json.NewEncoder(w).Encode(User{ID: st.users[u.UserName], UserName: u.UserName})
			}, nil)
			sleeps(c)
			id, err := c.CreateUser(context.Background(), &model.User{UserName: "new@example.com", Active: true})
			if err != nil {
				t.Fatal(err)
			}
			if st.posts != tc.posts || len(st.users) != 1 || id != st.users["new@example.com"] {
				t.Errorf("posts=%d users=%v id=%q; want %d posts and one user with that id", st.posts, st.users, id, tc.posts)
			}
			s := c.Stats()
			if s.UnknownOutcomes < 1 || s.CreatesResolved != tc.wantStatsRes {
				t.Errorf("stats = %+v, want unknown outcomes and %d resolved", s, tc.wantStatsRes)
			}
		})
	}
}

func TestDeleteNotFoundAfterUnknownOutcomeSucceeds(t *testing.T) {
	var calls atomic.Int32
	c, _, _ := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			scimError(w, http.StatusBadGateway, "bad gateway") // the delete went through
			return
		}
		scimError(w, http.StatusNotFound, "User 7 not found")
	}, nil)
	sleeps(c)
	if err := c.Delete(context.Background(), model.KindUser, "7"); err != nil {
		t.Fatalf("delete after an unknown outcome then 404: %v", err)
	}
}

func TestTokenErrorsAreRetriedWhenTemporary(t *testing.T) {
	var tokenCalls atomic.Int32
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	mux.HandleFunc("/oidc/accounts/acc-unit/v1/token", func(w http.ResponseWriter, r *http.Request) {
		if tokenCalls.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"access_token":"oauth-access-1","token_type":"Bearer","expires_in":3600}`)
	})
	mux.HandleFunc("/api/2.0/accounts/acc-unit/scim/v2/Users/1", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer oauth-access-1" {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		_, _ = io.WriteString(w, `{"id":"1"}`)
	})
	c, err := New(Config{Auth: oauthSettings(srv.URL), RetryBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	sleeps(c)
	if _, err := c.Users().Get(context.Background(), "1"); err != nil {
		t.Fatal(err)
	}
	if tokenCalls.Load() != 2 {
		t.Errorf("token calls = %d, want 2", tokenCalls.Load())
	}
}

func oauthSettings(host string) auth.Settings {
	return auth.Settings{Host: host, Level: model.LevelAccount, AccountID: testAccount,
		ClientID: "cid", ClientSecret: auth.NewSecret("client-secret-do-not-log")}
}

func TestPermanentNetworkErrorsAreNotRetried(t *testing.T) {
	// The errors are made at the transport: no name is looked up and nothing is dialled.
	for name, fail := range map[string]error{
		"unknown host":   &net.DNSError{Err: "no such host", Name: "dbc-x.example", IsNotFound: true},
		"unknown issuer": x509.UnknownAuthorityError{},
	} {
		t.Run(name, func(t *testing.T) {
			calls := 0
			c, err := New(Config{
				Auth: auth.Settings{Host: "https://dbc-x.example", Level: model.LevelWorkspace, Token: auth.NewSecret("t")},
				HTTPClient: &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
					calls++
					return nil, fail
				})},
				RetryBaseDelay: time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Users().List(context.Background(), ListOptions{}); err == nil {
				t.Fatal("list succeeded")
			}
			if calls != 1 || c.Stats().Retries != 0 {
				t.Errorf("%d calls and %d retries, want 1 and 0", calls, c.Stats().Retries)
			}
		})
	}
}

// TestRefusedConnectionFailsFast checks that a refused connection before the host ever
// answered (a wrong port, a service that is down) fails at once, and that the same error
// after the host has answered is retried as a blip.
func TestRefusedConnectionFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	c, _, srv := testClient(t, model.LevelWorkspace, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, `{"id":"1","userName":"a@example.com"}`)
	}, func(cfg *Config) { cfg.MaxAttempts = 3 })
	waits := sleeps(c)
	real := c.t.hc.Transport
	if real == nil {
		real = http.DefaultTransport
	}
	refuse := false
	c.t.hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		if refuse {
			u := *r.URL
			u.Scheme, u.Host = "http", strings.TrimPrefix(closed, "http://")
			r = r.Clone(r.Context())
			r.URL = &u
		}
		return real.RoundTrip(r)
	})
	refuse = true
	_, err = c.Users().Get(context.Background(), "1")
	if !errors.Is(err, syscall.ECONNREFUSED) || len(*waits) != 0 || c.Stats().Total() != 1 {
		t.Fatalf("first contact: err = %v, waits %v, requests %d; want one refused attempt", err, *waits, c.Stats().Total())
	}
	refuse = false
	if _, err := c.Users().Get(context.Background(), "1"); err != nil {
		t.Fatalf("against %s: %v", srv.URL, err)
	}
	refuse = true
	_, err = c.Users().Get(context.Background(), "1")
	if !errors.Is(err, syscall.ECONNREFUSED) || len(*waits) != 2 || !strings.Contains(err.Error(), "giving up after 3 attempts") {
		t.Fatalf("after an answer: err = %v, waits %v; want 3 attempts", err, *waits)
	}
}

// TestSchemeMismatchFailsFast checks that an https URL for a plain-HTTP server fails at
// once: no retry makes the scheme right.
func TestSchemeMismatchFailsFast(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	defer plain.Close()
	c, _, _ := testClient(t, model.LevelWorkspace, nil, nil)
	waits := sleeps(c)
	c.t.hc.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
		u := *r.URL
		u.Scheme, u.Host = "https", strings.TrimPrefix(plain.URL, "http://")
		r = r.Clone(r.Context())
		r.URL = &u
		return http.DefaultTransport.RoundTrip(r)
	})
	_, err := c.Users().Get(context.Background(), "1")
	if err == nil || len(*waits) != 0 || c.Stats().Total() != 1 {
		t.Fatalf("err = %v, waits %v, requests %d; want one attempt", err, *waits, c.Stats().Total())
	}
}
