package emulator

import (
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/scimsync/scimsync/scim"
)

// serveOIDC answers the OAuth endpoints (§7): the account token endpoint, the workspace
// token endpoint and the workspace (and account) discovery documents.
func (s *Server) serveOIDC(w http.ResponseWriter, r *http.Request, _ route) {
	p := r.URL.Path
	base := s.baseURL(r)
	// Workspace endpoints are served on workspace hosts, account ones on the accounts host.
	_, onWS := s.hostWorkspace(r)
	account := s.st.accountLevel() && !onWS
	acctPrefix := "/oidc/accounts/" + s.opts.AccountID
	switch {
	case onWS && p == "/oidc/.well-known/oauth-authorization-server" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, scim.OAuthMetadata{
			Issuer:                base + "/oidc",
			AuthorizationEndpoint: base + "/oidc/v1/authorize",
			TokenEndpoint:         base + "/oidc/v1/token",
		})
	case account && p == acctPrefix+"/.well-known/oauth-authorization-server" && r.Method == http.MethodGet:
		writeJSON(w, http.StatusOK, scim.OAuthMetadata{
			Issuer:                base + acctPrefix,
			AuthorizationEndpoint: base + acctPrefix + "/v1/authorize",
			TokenEndpoint:         base + acctPrefix + "/v1/token",
		})
	case (onWS && p == "/oidc/v1/token") || (account && p == acctPrefix+"/v1/token"):
		s.token(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "not_found", "error_description": "No such OAuth endpoint."})
	}
}

// token implements the client-credentials grant, with the client id and secret in an HTTP
// Basic header, as the Go SDK sends them, or as form fields, and the RFC 8693
// token-exchange grant of workload identity federation (§7, tokens.go). The token is
// minted for this host (r.Host) and owned by the service principal.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	oauthErr := func(status int, code, desc string) {
		writeJSON(w, status, map[string]string{"error": code, "error_description": desc})
	}
	if r.Method != http.MethodPost {
		oauthErr(http.StatusMethodNotAllowed, "invalid_request", "The token endpoint accepts POST only.")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthErr(http.StatusBadRequest, "invalid_request", "The request body is not a form.")
		return
	}
	var owner string
	switch gt := r.PostForm.Get("grant_type"); gt {
	case "client_credentials":
		id, secret, ok := r.BasicAuth()
		if !ok {
			id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
		}
		if subtle.ConstantTimeCompare([]byte(id), []byte(s.opts.ClientID)) != 1 ||
			subtle.ConstantTimeCompare([]byte(secret), []byte(s.opts.ClientSecret)) != 1 {
			w.Header().Set("WWW-Authenticate", `Basic realm="oidc"`)
			oauthErr(http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
			return
		}
		owner = s.opts.ClientID
	case "urn:ietf:params:oauth:grant-type:token-exchange":
		var e *apiError
		if owner, e = s.exchange(r); e != nil {
			oauthErr(e.status, e.scimType, e.detail)
			return
		}
	default:
		oauthErr(http.StatusBadRequest, "unsupported_grant_type", "Only the client_credentials and token-exchange grants are supported.")
		return
	}
	scope := strings.TrimSpace(r.PostForm.Get("scope"))
	if scope == "" {
		scope = "all-apis"
	}
	tok := newToken("emu-oauth-")
	s.tokMu.Lock()
	s.tokens[tok] = &issued{kind: TokenOAuth, owner: owner, sp: true, host: r.Host, expiry: s.opts.Now().Add(s.opts.TokenTTL)}
	s.tokMu.Unlock()
	writeJSON(w, http.StatusOK, scim.TokenResponse{
		AccessToken: tok,
		TokenType:   "Bearer",
		ExpiresIn:   int(s.opts.TokenTTL.Seconds()),
		Scope:       scope,
	})
}
