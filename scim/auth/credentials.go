package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scimsync/scimsync/model"
)

// DefaultScope is the OAuth scope requested, as Databricks' SDKs request it.
const DefaultScope = "all-apis"

// tokenTimeout bounds one token or discovery request when the HTTP client has no timeout.
const tokenTimeout = 30 * time.Second

// Credentials supply the bearer token for a request. Implementations are safe for
// concurrent use and cache tokens: Token only goes to the network when it has no valid
// token. Token returns when ctx is done, even if a fetch is still running.
type Credentials interface {
	Token(ctx context.Context) (Secret, error)
}

// Credentials returns the credentials for requests to c.Host. OAuth tokens are fetched
// with hc (the SCIM client's HTTP client without its rate limiter); for an account the
// token endpoint is {host}/oidc/accounts/{account_id}/v1/token, for a workspace it is
// discovered from {host}/oidc/.well-known/oauth-authorization-server on first use.
func (c *Config) Credentials(hc *http.Client) Credentials {
	if c.AuthType == AuthPAT {
		return staticToken{c.Token}
	}
	o := newOAuth(c.ClientID, c.ClientSecret, c.Host, hc)
	if c.Level == model.LevelAccount {
		o.endpoint = c.Host + "/oidc/accounts/" + url.PathEscape(c.AccountID) + "/v1/token"
	}
	return o
}

// CredentialsFor returns the credentials for requests to another host with the same
// secrets: an account client calling a workspace's own host. A token is the same token; an
// OAuth client gets a workspace token from that host's discovered token endpoint. For
// c.Host it is the same as Credentials.
func (c *Config) CredentialsFor(host string, hc *http.Client) (Credentials, error) {
	h, err := NormalizeHost(host)
	if err != nil {
		return nil, err
	}
	if h == c.Host || c.AuthType == AuthPAT {
		return c.Credentials(hc), nil
	}
	return newOAuth(c.ClientID, c.ClientSecret, h, hc), nil
}

// staticToken is a token sent as it is.
type staticToken struct{ token Secret }

// Token returns the token; it never fails.
func (s staticToken) Token(context.Context) (Secret, error) { return s.token, nil }

// oauthM2M fetches tokens with the client-credentials grant and caches them until shortly
// before they expire (oauth2.ReuseTokenSource).
type oauthM2M struct {
	clientID string
	secret   Secret
	host     string
	hc       *http.Client

	mu       sync.Mutex
	endpoint string             // token endpoint; discovered when empty
	ts       oauth2.TokenSource // set once the endpoint is known
}

func newOAuth(clientID string, secret Secret, host string, hc *http.Client) *oauthM2M {
	if hc == nil {
		hc = &http.Client{}
	}
	if hc.Timeout == 0 {
		cp := *hc
		cp.Timeout = tokenTimeout
		hc = &cp
	}
	return &oauthM2M{clientID: clientID, secret: secret, host: host, hc: hc}
}

// Token returns a valid access token, fetching a new one when the cached one is about to
// expire.
func (o *oauthM2M) Token(ctx context.Context) (Secret, error) {
	ts, endpoint, err := o.source(ctx)
	if err != nil {
		return Secret{}, err
	}
	type result struct {
		tok *oauth2.Token
		err error
	}
	done := make(chan result, 1)
	go func() {
		tok, err := ts.Token()
		done <- result{tok, err}
	}()
	select {
	case <-ctx.Done():
		return Secret{}, fmt.Errorf("get OAuth token from %s: %w", endpoint, ctx.Err())
	case r := <-done:
		if r.err != nil {
			return Secret{}, tokenError(endpoint, r.err)
		}
		if r.tok.AccessToken == "" {
			return Secret{}, &TokenError{Endpoint: endpoint, Status: http.StatusOK, Description: "the response has no access_token"}
		}
		return NewSecret(r.tok.AccessToken), nil
	}
}

// source returns the caching token source, discovering the token endpoint first if needed.
func (o *oauthM2M) source(ctx context.Context) (oauth2.TokenSource, string, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ts != nil {
		return o.ts, o.endpoint, nil
	}
	if o.endpoint == "" {
		endpoint, err := discover(ctx, o.hc, o.host)
		if err != nil {
			return nil, "", err
		}
		o.endpoint = endpoint
	}
	cc := &clientcredentials.Config{
		ClientID:     o.clientID,
		ClientSecret: o.secret.Reveal(),
		TokenURL:     o.endpoint,
		Scopes:       []string{DefaultScope},
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	// The token source keeps this context for every fetch; it carries only the HTTP client.
	// Callers' contexts are honoured by Token, which stops waiting when they are done.
	fetchCtx := context.WithValue(context.Background(), oauth2.HTTPClient, o.hc)
	o.ts = oauth2.ReuseTokenSource(nil, cc.TokenSource(fetchCtx))
	return o.ts, o.endpoint, nil
}

// discover reads a workspace's OAuth authorization server metadata and returns its token
// endpoint, which must itself be https (or loopback http).
func discover(ctx context.Context, hc *http.Client, host string) (string, error) {
	u := host + "/oidc/.well-known/oauth-authorization-server"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("discover OAuth token endpoint: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return "", fmt.Errorf("discover OAuth token endpoint at %s: %w", u, ctx.Err())
		}
		return "", &TokenError{Endpoint: u, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return "", &TokenError{Endpoint: u, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return "", &TokenError{Endpoint: u, Status: resp.StatusCode, Description: "OAuth discovery failed; is the host a Databricks workspace URL?"}
	}
	var meta struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if err := json.Unmarshal(body, &meta); err != nil || meta.TokenEndpoint == "" {
		return "", fmt.Errorf("discover OAuth token endpoint at %s: the response has no token_endpoint", u)
	}
	tu, err := url.Parse(meta.TokenEndpoint)
	if err != nil || tu.Host == "" {
		return "", fmt.Errorf("discover OAuth token endpoint at %s: token_endpoint %q is not a URL", u, meta.TokenEndpoint)
	}
	if _, err := NormalizeHost(tu.Scheme + "://" + tu.Host); err != nil || tu.Scheme == "" {
		return "", fmt.Errorf("discover OAuth token endpoint at %s: refusing token endpoint %s: %w", u, meta.TokenEndpoint, err)
	}
	return meta.TokenEndpoint, nil
}

// TokenError is a failure to get an OAuth token or to discover where to get it. It never
// carries the client secret.
type TokenError struct {
	Endpoint    string // the token or discovery URL
	Status      int    // HTTP status; 0 when the request failed on the network
	Code        string // OAuth "error", when the server sent one
	Description string // OAuth "error_description", or what went wrong
	Err         error  // the network error, when Status is 0
}

// Error describes the failure and, for rejected credentials, what to check.
func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "get OAuth token from %s: ", e.Endpoint)
	if e.Status == 0 {
		fmt.Fprintf(&b, "%v", e.Err)
		return b.String()
	}
	fmt.Fprintf(&b, "%d %s", e.Status, http.StatusText(e.Status))
	if e.Code != "" {
		fmt.Fprintf(&b, ": %s", e.Code)
	}
	if e.Description != "" {
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	switch e.Status {
	case http.StatusBadRequest, http.StatusUnauthorized, http.StatusForbidden:
		fmt.Fprintf(&b, " (check %s and %s: the service principal needs an OAuth secret valid for this account or workspace)", EnvClientID, EnvClientSecret)
	}
	return b.String()
}

// Unwrap returns the network error, if any.
func (e *TokenError) Unwrap() error { return e.Err }

// CredentialsRejected reports a token endpoint that refused the client for good (an
// answer other than 429 or 5xx): no token will come from these credentials.
func (e *TokenError) CredentialsRejected() bool { return !e.Temporary() && e.Status >= 400 }

// Temporary reports whether trying again may succeed: network errors, 429 and 5xx
// responses (as Databricks' SDK retries token fetches).
func (e *TokenError) Temporary() bool {
	return e.Status == 0 || e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// tokenError converts an error from golang.org/x/oauth2 into a TokenError without the
// response body, which is not needed and is not ours to print.
func tokenError(endpoint string, err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{Endpoint: endpoint, Code: re.ErrorCode, Description: re.ErrorDescription}
		if re.Response != nil {
			te.Status = re.Response.StatusCode
		}
		return te
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &TokenError{Endpoint: endpoint, Err: ue.Err}
	}
	return &TokenError{Endpoint: endpoint, Status: http.StatusOK, Description: err.Error()}
}
