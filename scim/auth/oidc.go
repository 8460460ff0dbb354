package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/scimsync/scimsync/model"
)

// The RFC 8693 token exchange of workload identity federation, as the Databricks SDK sends
// it (sdk:config/experimental/auth/oidc/tokensource.go, reference §7).
const (
	grantTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	tokenTypeJWT       = "urn:ietf:params:oauth:token-type:jwt"
)

// federated exchanges an ID token (from GitHub Actions, an environment variable or a file)
// for a Databricks OAuth token at the token endpoint of host: accountEndpoint when set, else
// the discovered one. The ID token's audience is the configured audience, else the account
// id at account level, else the token endpoint (determineAudience in the SDK, which uses
// the account id for clients of account hosts). An account-level run uses the account id
// on workspace hosts too: the federation policy is the account's, and its audience
// defaults to the account id.
func (c *Config) federated(host, accountEndpoint string, hc *http.Client) Credentials {
	var (
		mu       sync.Mutex
		endpoint = accountEndpoint
	)
	tokenEndpoint := func(ctx context.Context) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		if endpoint == "" {
			e, err := discover(ctx, hc, host)
			if err != nil {
				return "", err
			}
			endpoint = e
		}
		return endpoint, nil
	}
	idToken := c.idTokenSource(hc)
	fetch := func(ctx context.Context) (*oauth2.Token, error) {
		endpoint, err := tokenEndpoint(ctx)
		if err != nil {
			return nil, err
		}
		audience := c.Audience
		if audience == "" && c.Level == model.LevelAccount {
			audience = c.AccountID
		}
		if audience == "" {
			audience = endpoint
		}
		jwt, err := idToken(ctx, audience)
		if err != nil {
			return nil, err
		}
		cc := &clientcredentials.Config{
			ClientID:  c.ClientID,
			AuthStyle: oauth2.AuthStyleInParams,
			TokenURL:  endpoint,
			Scopes:    []string{DefaultScope},
			EndpointParams: url.Values{
				"subject_token_type": {tokenTypeJWT},
				"subject_token":      {jwt.Reveal()},
				"grant_type":         {grantTokenExchange},
			},
		}
		tok, err := cc.Token(context.WithValue(ctx, oauth2.HTTPClient, hc))
		if err != nil {
			te := tokenError(endpoint, err)
			var e *TokenError
			if errors.As(te, &e) {
				e.Hint = fmt.Sprintf("check the federation policy of service principal %q: its issuer, subject and audience must match the ID token of %s", c.ClientID, c.AuthType)
			}
			return nil, te
		}
		return tok, nil
	}
	return newCachedToken("Databricks token by "+c.AuthType, 10*time.Second, fetch)
}

// idTokenSource returns where the ID token of an OIDC auth type comes from.
func (c *Config) idTokenSource(hc *http.Client) func(ctx context.Context, audience string) (Secret, error) {
	switch c.AuthType {
	case AuthEnvOIDC:
		tok := c.oidcToken
		return func(context.Context, string) (Secret, error) { return tok, nil }
	case AuthFileOIDC:
		path := c.OIDCTokenFilepath
		return func(context.Context, string) (Secret, error) {
			data, err := os.ReadFile(path)
			if err != nil {
				return Secret{}, fmt.Errorf("read the ID token of file-oidc: %w", err)
			}
			return NewSecret(strings.TrimSpace(string(data))), nil
		}
	}
	requestURL, requestToken := c.ActionsTokenURL, c.ActionsToken
	return func(ctx context.Context, audience string) (Secret, error) {
		return githubIDToken(ctx, hc, requestURL, requestToken, audience)
	}
}

// githubIDToken asks GitHub Actions for the job's ID token: GET
// $ACTIONS_ID_TOKEN_REQUEST_URL&audience=<aud> with the request token as a bearer token;
// the JSON answer's "value" is the JWT (sdk:config/experimental/auth/oidc/github.go).
func githubIDToken(ctx context.Context, hc *http.Client, requestURL string, requestToken Secret, audience string) (Secret, error) {
	u := requestURL
	if audience != "" {
		sep := "&"
		if !strings.Contains(u, "?") {
			sep = "?"
		}
		u += sep + "audience=" + url.QueryEscape(audience)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return Secret{}, fmt.Errorf("request the GitHub Actions ID token: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+requestToken.Reveal())
	req.Header.Set("Accept", "application/json")
	endpoint := strings.SplitN(requestURL, "?", 2)[0]
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Secret{}, &TokenError{Endpoint: endpoint, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return Secret{}, &TokenError{Endpoint: endpoint, Err: err}
	}
	if resp.StatusCode != http.StatusOK {
		return Secret{}, &TokenError{Endpoint: endpoint, Status: resp.StatusCode, Description: "GitHub refused the ID token request",
			Hint: "the workflow job needs permissions: id-token: write"}
	}
	var v struct {
		Value string `json:"value"`
	}
	if err := json.Unmarshal(body, &v); err != nil || v.Value == "" {
		return Secret{}, &TokenError{Endpoint: endpoint, Status: resp.StatusCode, Description: "the answer has no ID token (value)"}
	}
	return NewSecret(v.Value), nil
}
