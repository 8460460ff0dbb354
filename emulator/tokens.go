package emulator

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/scim/auth"
)

// Token kinds (issue 12 point 2; reference §7, seeds 000 and 002). Each kind says which
// APIs a token opens and whose it is.
const (
	// TokenAny is accepted on every API of the emulator and belongs to MeUserName. It is the
	// default kind of Options.Token, for tests that are not about credential scope.
	TokenAny = "any"
	// TokenPAT is a personal access token: it belongs to a user in one workspace, opens
	// only that workspace's SCIM tree, and stops working when the user is deactivated.
	// Whether PATs work on account APIs is UNKNOWN (§7); AllowPATOnAccount offers that.
	TokenPAT = "pat"
	// TokenAccountSCIM is the account SCIM (provisioning) token: "restricted to the Account
	// SCIM API" (seed 002), so it opens the account SCIM tree and nothing else.
	TokenAccountSCIM = "account-scim"
	// TokenOAuth is an OAuth access token minted by a token endpoint of a host, accepted on
	// that host only. Its owner, a service principal or a user, acts on the account only as
	// an account admin and on a workspace only where it is an admin (seed 002).
	TokenOAuth = "oauth"
)

// TokenSpec is a token the emulator accepts besides Options.Token and the OAuth tokens its
// endpoints mint.
type TokenSpec struct {
	Kind  string // TokenPAT, TokenAccountSCIM, TokenOAuth or TokenAny
	Value string
	// Owner is the userName of a user or the applicationId of a service principal; it must
	// exist. Empty means MeUserName. Not used for TokenAccountSCIM, which is the account's.
	Owner string
	// Workspace is the workspace id of a PAT; default the first workspace.
	Workspace string
	// Host, for TokenOAuth, is the host:port it was minted for; empty means every host.
	Host string
	// Expiry is when the token stops working; zero means never.
	Expiry time.Time
}

// FederationPolicy is a service principal's federation policy (workload identity
// federation, reference §7): an ID token with this issuer, subject and audience, signed with
// Key (standing in for the issuer's published keys), is exchanged for an OAuth token of the
// service principal with the RFC 8693 token-exchange grant.
type FederationPolicy struct {
	Issuer  string
	Subject string
	// Audience is the aud the ID token must have; empty means the account id.
	Audience string
	Key      []byte
	// ServicePrincipal is the applicationId, sent as client_id with the exchange.
	ServicePrincipal string
}

// EntraTrust makes the emulator an Azure Databricks account: it accepts Microsoft Entra ID
// access tokens of Tenant for the Azure Databricks application, signed with Key (standing
// in for Entra's keys). A token's appid names a service principal by applicationId; a
// token with upn and no appid is a user's (the Azure CLI's login).
type EntraTrust struct {
	Tenant string
	Key    []byte
}

// issued is a token the emulator accepts.
type issued struct {
	kind      string
	owner     string // userName or applicationId
	sp        bool   // owner is a service principal
	workspace string // PAT
	host      string // OAuth: where it was minted; "" for any
	expiry    time.Time
}

// registerTokens sets up Options.Token and Options.Tokens; invalid options panic, as they
// are a test's mistake.
func (s *Server) registerTokens() {
	kind := s.opts.TokenKind
	if kind == "" {
		kind = TokenAny
	}
	it, err := s.specToken(TokenSpec{Kind: kind, Owner: s.opts.MeUserName})
	if err != nil {
		panic("emulator: Options.Token: " + err.Error())
	}
	s.optionToken = it
	for i, spec := range s.opts.Tokens {
		if _, err := s.IssueToken(spec); err != nil {
			panic(fmt.Sprintf("emulator: Options.Tokens[%d]: %v", i, err))
		}
	}
}

// newToken returns a random token value with prefix.
func newToken(prefix string) string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// IssueToken registers a token and returns its value (spec.Value, or a new one); tests use
// it for PATs, account SCIM tokens and the OAuth tokens of a user's login (databricks-cli).
func (s *Server) IssueToken(spec TokenSpec) (string, error) {
	it, err := s.specToken(spec)
	if err != nil {
		return "", err
	}
	v := spec.Value
	if v == "" {
		v = newToken("emu-" + spec.Kind + "-")
	}
	s.tokMu.Lock()
	s.tokens[v] = it
	s.tokMu.Unlock()
	return v, nil
}

func (s *Server) specToken(spec TokenSpec) (*issued, error) {
	it := &issued{kind: spec.Kind, owner: spec.Owner, workspace: spec.Workspace, host: spec.Host, expiry: spec.Expiry}
	switch spec.Kind {
	case TokenAny, TokenPAT, TokenOAuth, TokenAccountSCIM:
	default:
		return nil, fmt.Errorf("token kind %q: want %s, %s, %s or %s", spec.Kind, TokenPAT, TokenAccountSCIM, TokenOAuth, TokenAny)
	}
	if it.owner == "" {
		it.owner = s.opts.MeUserName
	}
	if spec.Kind == TokenPAT && it.workspace == "" {
		it.workspace = s.opts.Workspaces[0]
	}
	if spec.Kind == TokenPAT && !s.isWorkspace(it.workspace) {
		return nil, fmt.Errorf("PAT of workspace %s: no such workspace", it.workspace)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if _, ok := s.st.users[model.UserKey(it.owner)]; ok {
		it.owner = model.UserKey(it.owner)
		return it, nil
	}
	if _, ok := s.st.sps[model.ServicePrincipalKey(it.owner)]; ok && spec.Kind != TokenPAT {
		it.sp = true
		return it, nil
	}
	if spec.Kind == TokenAccountSCIM {
		return it, nil
	}
	return nil, fmt.Errorf("token owner %q: no such user or service principal", spec.Owner)
}

// authenticate checks the bearer token of r for the API rt addresses: that the emulator
// knows it, that it has not expired, that its owner is active, that the API is within the
// token kind's scope and, for OAuth tokens, that it was minted for this host and that its
// owner has the admin role the API needs. It answers the id of the token's owner (0 for
// the account SCIM token, which is the account's), or a 401 (unknown, expired, revoked,
// another host's) or 403 (outside the token's scope or the owner's permissions) error.
func (s *Server) authenticate(r *http.Request, rt route) (int64, *apiError) {
	unauth := &apiError{status: http.StatusUnauthorized, detail: "Invalid access token."}
	scheme, tok, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return 0, unauth
	}
	var it *issued
	if subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1 {
		it = s.optionToken
	} else if strings.Count(tok, ".") == 2 && s.opts.Entra != nil {
		it = s.entraToken(tok)
	} else {
		s.tokMu.Lock()
		it = s.tokens[tok]
		if it != nil && !it.expiry.IsZero() && !s.opts.Now().Before(it.expiry) {
			delete(s.tokens, tok)
			it = nil
		}
		s.tokMu.Unlock()
	}
	if it == nil {
		return 0, unauth
	}
	if it.host != "" && !strings.EqualFold(it.host, r.Host) {
		return 0, &apiError{status: http.StatusUnauthorized, detail: "Invalid access token: it was issued for another host."}
	}
	account := rt.kind == routeAssign || (rt.kind == routeSCIM && rt.view.account)
	ws := rt.view.ws
	if rt.kind == routeAssign {
		ws = ""
	}
	switch it.kind {
	case TokenAccountSCIM:
		if rt.kind != routeSCIM || !rt.view.account {
			return 0, &apiError{status: http.StatusForbidden, detail: "The account SCIM token can be used with the Account SCIM API only."}
		}
		return 0, nil
	case TokenPAT:
		if account && !s.opts.AllowPATOnAccount {
			return 0, &apiError{status: http.StatusForbidden, detail: "A personal access token cannot be used with account APIs."}
		}
		if !account && ws != it.workspace {
			return 0, unauth
		}
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var id int64
	if it.sp {
		id = s.st.sps[model.ServicePrincipalKey(it.owner)]
	} else {
		id = s.st.users[model.UserKey(it.owner)]
	}
	o := s.st.byID[id]
	if o == nil || !o.active {
		// Deleting or deactivating the owner revokes its tokens (seed 000).
		return 0, unauth
	}
	if it.kind == TokenAny || it.kind == TokenPAT {
		return id, nil
	}
	switch {
	case account && !slices.Contains(o.roles, model.RoleAccountAdmin):
		return 0, &apiError{status: http.StatusForbidden, detail: fmt.Sprintf("%s is not an account admin.", o.name())}
	case !account && !s.st.isWorkspaceAdmin(ws, o):
		return 0, &apiError{status: http.StatusForbidden, detail: fmt.Sprintf("%s is not an admin of workspace %s.", o.name(), ws)}
	}
	return id, nil
}

// isWorkspaceAdmin reports whether o is an admin of workspace ws: assigned ADMIN at account
// level, a member of the admins group at workspace level.
func (s *store) isWorkspaceAdmin(ws string, o *object) bool {
	if s.accountLevel() {
		return s.assign[ws][o.id] == model.PermissionAdmin
	}
	admins := s.byID[s.groups[groupAdmins]]
	_, ok := admins.members[o.id]
	return ok
}

// entraToken checks an Entra ID access token (EntraTrust) and returns it as an OAuth token
// of its service principal or user, or nil.
func (s *Server) entraToken(tok string) *issued {
	claims := verifyJWT(tok, s.opts.Entra.Key)
	if claims == nil || claims.str("tid") != s.opts.Entra.Tenant || claims.str("aud") != auth.AzureDatabricksAppID ||
		!claims.live(s.opts.Now()) {
		return nil
	}
	if app := claims.str("appid"); app != "" {
		return &issued{kind: TokenOAuth, owner: app, sp: true}
	}
	if upn := claims.str("upn"); upn != "" {
		return &issued{kind: TokenOAuth, owner: upn}
	}
	return nil
}

// jwtClaims are the claims of a verified JWT.
type jwtClaims map[string]any

func (c jwtClaims) str(k string) string { v, _ := c[k].(string); return v }

// live reports whether now is before exp (and not before nbf).
func (c jwtClaims) live(now time.Time) bool {
	exp, ok := c["exp"].(float64)
	if !ok || !now.Before(time.Unix(int64(exp), 0)) {
		return false
	}
	nbf, ok := c["nbf"].(float64)
	return !ok || !now.Before(time.Unix(int64(nbf), 0))
}

// verifyJWT checks an HS256 JWT against key and returns its claims, or nil.
func verifyJWT(tok string, key []byte) jwtClaims {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 || len(key) == 0 {
		return nil
	}
	enc := base64.RawURLEncoding
	var header struct {
		Alg string `json:"alg"`
	}
	hb, err := enc.DecodeString(parts[0])
	if err != nil || json.Unmarshal(hb, &header) != nil || header.Alg != "HS256" {
		return nil
	}
	sig, err := enc.DecodeString(parts[2])
	if err != nil {
		return nil
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil
	}
	body, err := enc.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims jwtClaims
	if json.Unmarshal(body, &claims) != nil {
		return nil
	}
	return claims
}

// exchange implements the RFC 8693 token-exchange grant of workload identity federation
// (reference §7): subject_token is an ID token that a FederationPolicy of the service
// principal client_id accepts.
//
// A policy without an audience accepts the account id, the default of Databricks'
// federation policies, and the token endpoint the exchange is sent to, the audience the
// SDK asks for on workspace hosts.
func (s *Server) exchange(r *http.Request) (owner string, oauthErr *apiError) {
	form := r.PostForm
	get := func(k string) string {
		if v := form[k]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	bad := func(code, desc string) *apiError {
		return &apiError{status: http.StatusBadRequest, scimType: code, detail: desc}
	}
	if get("subject_token_type") != "urn:ietf:params:oauth:token-type:jwt" {
		return "", bad("invalid_request", "subject_token_type must be urn:ietf:params:oauth:token-type:jwt.")
	}
	client := get("client_id")
	if client == "" {
		return "", bad("invalid_request", "client_id is required: account-wide token federation is not emulated.")
	}
	if get("client_secret") != "" {
		return "", bad("invalid_request", "A token exchange carries no client secret.")
	}
	subject := get("subject_token")
	for _, p := range s.opts.Federation {
		if !strings.EqualFold(p.ServicePrincipal, client) {
			continue
		}
		claims := verifyJWT(subject, p.Key)
		auds := []string{p.Audience}
		if p.Audience == "" {
			auds = []string{s.opts.AccountID, s.baseURL(r) + r.URL.Path}
		}
		if claims == nil || claims.str("iss") != p.Issuer || claims.str("sub") != p.Subject || !slices.Contains(auds, claims.str("aud")) || !claims.live(s.opts.Now()) {
			continue
		}
		return p.ServicePrincipal, nil
	}
	return "", &apiError{status: http.StatusUnauthorized, scimType: "invalid_grant", detail: "No federation policy of the service principal accepts the subject token."}
}
