package authtest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// GitHubIssuer is the issuer of GitHub Actions ID tokens.
const GitHubIssuer = "https://token.actions.githubusercontent.com"

// GitHubOIDC is GitHub Actions' ID token endpoint: GET with the job's request token as a
// bearer token and the audience as a query parameter answers {"value": "<JWT>"}.
type GitHubOIDC struct {
	srv *httptest.Server
	// URL is ACTIONS_ID_TOKEN_REQUEST_URL (it has a query, as GitHub's has).
	URL string
	// RequestToken is ACTIONS_ID_TOKEN_REQUEST_TOKEN.
	RequestToken string
	// Key signs the ID tokens; Subject is their sub claim.
	Key     []byte
	Subject string
	// TTL is the lifetime of the ID tokens; default 5 minutes.
	TTL time.Duration

	requests  atomic.Int64
	mu        sync.Mutex
	audiences []string
}

// NewGitHubOIDC starts the endpoint on loopback; it stops when the test ends.
func NewGitHubOIDC(t testing.TB, key []byte, subject string) *GitHubOIDC {
	g := &GitHubOIDC{RequestToken: "ghs-REQUEST-TOKEN-5a1d9e", Key: key, Subject: subject, TTL: 5 * time.Minute}
	g.srv = httptest.NewServer(http.HandlerFunc(g.serve))
	t.Cleanup(g.srv.Close)
	g.URL = g.srv.URL + "/_apis/distributedtask/hubs/build/plans/1/jobs/2/idtoken?api-version=2.0"
	return g
}

func (g *GitHubOIDC) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet || r.URL.Path != "/_apis/distributedtask/hubs/build/plans/1/jobs/2/idtoken" {
		http.NotFound(w, r)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+g.RequestToken {
		http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
		return
	}
	g.requests.Add(1)
	aud := r.URL.Query().Get("audience")
	g.mu.Lock()
	g.audiences = append(g.audiences, aud)
	g.mu.Unlock()
	now := time.Now()
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": SignJWT(g.Key, map[string]any{
		"iss": GitHubIssuer, "sub": g.Subject, "aud": aud,
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(g.TTL).Unix(),
		"repository": "northwind/identities", "ref": "refs/heads/main",
	})})
}

// Requests returns how many ID tokens were issued.
func (g *GitHubOIDC) Requests() int { return int(g.requests.Load()) }

// Audiences returns the audiences asked for, in order.
func (g *GitHubOIDC) Audiences() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]string(nil), g.audiences...)
}
