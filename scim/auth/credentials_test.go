package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/scimsync/scimsync/model"
)

// oidcServer is a token endpoint that records what it was sent.
type oidcServer struct {
	*httptest.Server
	expiresIn  int
	status     atomic.Int32 // when non-zero, token requests fail with this status
	fetches    atomic.Int32
	discovered atomic.Int32
	tokenPath  string
	mu         sync.Mutex
	forms      []string
	hang       chan struct{} // when non-nil, token requests block until it is closed
}

func newOIDCServer(t *testing.T, tokenPath string, expiresIn int) *oidcServer {
	s := &oidcServer{expiresIn: expiresIn, tokenPath: tokenPath}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/oidc/.well-known/oauth-authorization-server":
			s.discovered.Add(1)
			_ = json.NewEncoder(w).Encode(map[string]string{
				"issuer": s.URL + "/oidc", "token_endpoint": s.URL + "/oidc/v1/token",
			})
		case s.tokenPath:
			if s.hang != nil {
				<-s.hang
			}
			n := s.fetches.Add(1)
			id, secret, ok := r.BasicAuth()
			_ = r.ParseForm()
			s.mu.Lock()
			s.forms = append(s.forms, r.PostForm.Encode())
			s.mu.Unlock()
			if st := s.status.Load(); st != 0 {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(int(st))
				_, _ = fmt.Fprint(w, `{"error":"invalid_client","error_description":"Client authentication failed"}`)
				return
			}
			if !ok || id != "cid" || secret != "csecret" || r.PostForm.Get("client_id") != "" || r.PostForm.Get("client_secret") != "" {
				http.Error(w, "credentials must be in the Basic header only", http.StatusUnauthorized)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"access_token": fmt.Sprintf("access-%d", n), "token_type": "Bearer",
				"expires_in": s.expiresIn, "scope": "all-apis",
			})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func oauthConfig(host string, level model.Level) *Config {
	return &Config{Host: host, AccountID: "acc-1", Level: level, AuthType: AuthOAuthM2M,
		ClientID: "cid", ClientSecret: NewSecret("csecret")}
}

func TestOAuthAccountTokenIsCached(t *testing.T) {
	srv := newOIDCServer(t, "/oidc/accounts/acc-1/v1/token", 3600)
	creds := oauthConfig(srv.URL, model.LevelAccount).Credentials(srv.Client())
	for range 5 {
		tok, err := creds.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if tok.Reveal() != "access-1" {
			t.Fatalf("token = %q, want the cached access-1", tok.Reveal())
		}
	}
	if n := srv.fetches.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1", n)
	}
	if n := srv.discovered.Load(); n != 0 {
		t.Errorf("account level discovered the endpoint %d times; its token URL is fixed", n)
	}
	if srv.forms[0] != "grant_type=client_credentials&scope=all-apis" {
		t.Errorf("token request form = %q", srv.forms[0])
	}
}

func TestOAuthTokenRefreshedBeforeExpiry(t *testing.T) {
	// A token valid for 5 s is inside the refresh margin, so every call fetches a new one.
	srv := newOIDCServer(t, "/oidc/accounts/acc-1/v1/token", 5)
	creds := oauthConfig(srv.URL, model.LevelAccount).Credentials(srv.Client())
	var got []string
	for range 3 {
		tok, err := creds.Token(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, tok.Reveal())
	}
	if strings.Join(got, ",") != "access-1,access-2,access-3" {
		t.Errorf("tokens = %v, want a fresh one each time", got)
	}
}

func TestOAuthWorkspaceDiscovery(t *testing.T) {
	srv := newOIDCServer(t, "/oidc/v1/token", 3600)
	creds := oauthConfig(srv.URL, model.LevelWorkspace).Credentials(srv.Client())
	for range 3 {
		if _, err := creds.Token(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if d, f := srv.discovered.Load(), srv.fetches.Load(); d != 1 || f != 1 {
		t.Errorf("discoveries = %d, fetches = %d; want 1 and 1", d, f)
	}
}

func TestOAuthCredentialsForWorkspaceHost(t *testing.T) {
	acct := newOIDCServer(t, "/oidc/accounts/acc-1/v1/token", 3600)
	ws := newOIDCServer(t, "/oidc/v1/token", 3600)
	cfg := oauthConfig(acct.URL, model.LevelAccount)
	creds, err := cfg.CredentialsFor(ws.URL, ws.Client())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := creds.Token(context.Background()); err != nil {
		t.Fatal(err)
	}
	if ws.discovered.Load() != 1 || ws.fetches.Load() != 1 || acct.fetches.Load() != 0 {
		t.Errorf("workspace host: discovered %d, fetched %d; account fetched %d", ws.discovered.Load(), ws.fetches.Load(), acct.fetches.Load())
	}
	pat := &Config{Host: acct.URL, AuthType: AuthPAT, Token: NewSecret("dapi-x")}
	c2, err := pat.CredentialsFor(ws.URL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok, _ := c2.Token(context.Background()); tok.Reveal() != "dapi-x" {
		t.Errorf("a PAT is sent to every host as it is; got %q", tok.Reveal())
	}
	if _, err := cfg.CredentialsFor("http://example.com", nil); err == nil {
		t.Error("CredentialsFor accepted a plain-http remote host")
	}
}

func TestOAuthDiscoveryRefusesPlainHTTPTokenEndpoint(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = fmt.Fprint(w, `{"token_endpoint":"http://attacker.example/token"}`)
	}))
	defer srv.Close()
	_, err := oauthConfig(srv.URL, model.LevelWorkspace).Credentials(srv.Client()).Token(context.Background())
	if err == nil || !strings.Contains(err.Error(), "refusing token endpoint http://attacker.example/token") {
		t.Fatalf("err = %v", err)
	}
}

func TestOAuthRejectedCredentials(t *testing.T) {
	srv := newOIDCServer(t, "/oidc/accounts/acc-1/v1/token", 3600)
	srv.status.Store(http.StatusUnauthorized)
	_, err := oauthConfig(srv.URL, model.LevelAccount).Credentials(srv.Client()).Token(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || te.Status != 401 || te.Temporary() {
		t.Fatalf("err = %#v, want a permanent 401 TokenError", err)
	}
	for _, want := range []string{"401 Unauthorized", "invalid_client", "check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "csecret") {
		t.Errorf("error leaks the client secret: %v", err)
	}
	srv.status.Store(http.StatusServiceUnavailable)
	_, err = oauthConfig(srv.URL, model.LevelAccount).Credentials(srv.Client()).Token(context.Background())
	if !errors.As(err, &te) || !te.Temporary() {
		t.Errorf("503 from the token endpoint: err = %v, want a temporary TokenError", err)
	}
}

func TestOAuthTokenHonoursContext(t *testing.T) {
	srv := newOIDCServer(t, "/oidc/accounts/acc-1/v1/token", 3600)
	srv.hang = make(chan struct{})
	defer close(srv.hang)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := oauthConfig(srv.URL, model.LevelAccount).Credentials(srv.Client()).Token(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the context's deadline", err)
	}
}

func TestOAuthNetworkErrorIsTemporary(t *testing.T) {
	srv := newOIDCServer(t, "/oidc/accounts/acc-1/v1/token", 3600)
	url := srv.URL
	srv.Close()
	_, err := oauthConfig(url, model.LevelAccount).Credentials(nil).Token(context.Background())
	var te *TokenError
	if !errors.As(err, &te) || !te.Temporary() || te.Status != 0 {
		t.Fatalf("err = %v, want a temporary network TokenError", err)
	}
}
