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

// HeaderCredentials are credentials that send headers besides the bearer token: the
// Azure service principal management token and workspace resource id
// (sdk:config/oauth_visitors.go serviceToServiceVisitor, azureVisitor). Header values may
// be secrets; they are set on requests and never logged.
type HeaderCredentials interface {
	Credentials
	Headers(ctx context.Context) (http.Header, error)
}

// Credentials returns the credentials for requests to c.Host (see CredentialsFor).
func (c *Config) Credentials(hc *http.Client) Credentials {
	creds, err := c.credentialsFor(c.Host, hc)
	if err != nil {
		return failed{err}
	}
	return creds
}

// CredentialsFor returns the credentials for requests to host: c.Host, or a workspace's own
// host at account level. Every auth type follows the Databricks SDK's strategy of the same
// name:
//
//   - pat: the token, sent as it is (sdk:config/auth_pat.go);
//   - oauth-m2m: client credentials at the account token endpoint
//     {host}/oidc/accounts/{account_id}/v1/token for the account host, else at the token
//     endpoint discovered from {host}/oidc/.well-known/oauth-authorization-server
//     (sdk:config/auth_m2m.go);
//   - github-oidc, env-oidc, file-oidc: an ID token exchanged (RFC 8693) at the same token
//     endpoint (sdk:config/experimental/auth/oidc/tokensource.go);
//   - azure-client-secret, azure-msi, azure-cli: an Entra ID token for the Azure Databricks
//     application, through azidentity, with the management token header
//     (sdk:config/auth_azure_*.go);
//   - databricks-cli: `databricks auth token` (sdk:config/cli_token_source.go).
//
// OAuth tokens are fetched with hc (the SCIM client's HTTP client without its rate limiter)
// and cached until shortly before they expire.
func (c *Config) CredentialsFor(host string, hc *http.Client) (Credentials, error) {
	h, err := NormalizeHost(host)
	if err != nil {
		return nil, err
	}
	return c.credentialsFor(h, hc)
}

func (c *Config) credentialsFor(host string, hc *http.Client) (Credentials, error) {
	hc = withTimeout(hc)
	home := host == c.Host
	var accountEndpoint string
	if home && c.Level == model.LevelAccount {
		accountEndpoint = c.Host + "/oidc/accounts/" + url.PathEscape(c.AccountID) + "/v1/token"
	}
	switch c.AuthType {
	case AuthPAT:
		return staticToken{c.Token}, nil
	case AuthOAuthM2M:
		o := newOAuth(c.ClientID, c.ClientSecret, host, hc)
		o.endpoint = accountEndpoint
		return o, nil
	case AuthGitHubOIDC, AuthEnvOIDC, AuthFileOIDC:
		return c.federated(host, accountEndpoint, hc), nil
	case AuthAzureClientSecret, AuthAzureMSI, AuthAzureCLI:
		return c.azure(hc)
	case AuthDatabricksCLI:
		return c.databricksCLICredentials(host, home)
	}
	return nil, fmt.Errorf("auth_type %q is not supported", c.AuthType)
}

// withTimeout returns hc, or a default client, with tokenTimeout when it has no timeout.
func withTimeout(hc *http.Client) *http.Client {
	if hc == nil {
		hc = &http.Client{}
	}
	if hc.Timeout == 0 {
		cp := *hc
		cp.Timeout = tokenTimeout
		hc = &cp
	}
	return hc
}

// failed are credentials that could not be set up; every Token call returns the error.
type failed struct{ err error }

// Token returns the error.
func (f failed) Token(context.Context) (Secret, error) { return Secret{}, f.err }

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
	hc = withTimeout(hc)
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
	// Hint says what to check when the credentials were refused; empty means the OAuth
	// client id and secret.
	Hint string
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
	switch {
	case e.Status != http.StatusBadRequest && e.Status != http.StatusUnauthorized && e.Status != http.StatusForbidden:
	case e.Hint != "":
		fmt.Fprintf(&b, " (%s)", e.Hint)
	default:
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
