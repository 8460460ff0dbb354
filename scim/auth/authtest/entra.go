package authtest

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Entra is Entra ID's token endpoint for one tenant, served over TLS (azidentity refuses an
// authority host without https): the OpenID configuration that MSAL reads and the v2.0
// client-credentials grant with a client secret. Access tokens are JWTs whose aud is the
// requested resource, appid the client id and tid the tenant.
type Entra struct {
	srv *httptest.Server
	// AuthorityHost is AZURE_AUTHORITY_HOST for azidentity ("https://127.0.0.1:port/").
	AuthorityHost string
	// CertFile is the PEM file of the server's certificate, for SSL_CERT_FILE.
	CertFile string
	Tenant   string
	// ClientID and ClientSecret are the application's credentials.
	ClientID, ClientSecret string
	Key                    []byte
	// TTL is expires_in; default an hour.
	TTL time.Duration

	mu       sync.Mutex
	requests map[string]int // token requests by resource
	refused  int
}

// NewEntra starts the fake for tenant on loopback; it stops when the test ends.
func NewEntra(t testing.TB, key []byte, tenant, clientID, clientSecret string) *Entra {
	e := &Entra{Tenant: tenant, ClientID: clientID, ClientSecret: clientSecret, Key: key, TTL: time.Hour, requests: map[string]int{}}
	e.srv = httptest.NewTLSServer(http.HandlerFunc(e.serve))
	t.Cleanup(e.srv.Close)
	e.AuthorityHost = e.srv.URL + "/"
	e.CertFile = filepath.Join(t.TempDir(), "entra-cert.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: e.srv.Certificate().Raw})
	if err := os.WriteFile(e.CertFile, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return e
}

// Client returns an HTTP client that trusts the fake's certificate.
func (e *Entra) Client() *http.Client { return e.srv.Client() }

func (e *Entra) serve(w http.ResponseWriter, r *http.Request) {
	base := e.srv.URL + "/" + e.Tenant
	switch r.URL.Path {
	case "/" + e.Tenant + "/v2.0/.well-known/openid-configuration":
		writeJSON(w, http.StatusOK, map[string]any{
			"issuer":                        base + "/v2.0",
			"authorization_endpoint":        base + "/oauth2/v2.0/authorize",
			"token_endpoint":                base + "/oauth2/v2.0/token",
			"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
			"jwks_uri":                      e.srv.URL + "/common/discovery/v2.0/keys",
			"tenant_region_scope":           "EU",
		})
	case "/" + e.Tenant + "/oauth2/v2.0/token":
		e.token(w, r)
	default:
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not_found"})
	}
}

func (e *Entra) token(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type"})
		return
	}
	if f.Get("client_id") != e.ClientID || f.Get("client_secret") != e.ClientSecret {
		e.mu.Lock()
		e.refused++
		e.mu.Unlock()
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client",
			"error_description": "AADSTS7000215: Invalid client secret provided. Trace ID: 1\r\nCorrelation ID: 2",
			"error_codes":       []int{7000215}})
		return
	}
	resource := resourceOf(f.Get("scope"))
	e.mu.Lock()
	e.requests[resource]++
	e.mu.Unlock()
	now := time.Now()
	writeJSON(w, http.StatusOK, map[string]any{
		"token_type": "Bearer", "expires_in": int(e.TTL.Seconds()), "ext_expires_in": int(e.TTL.Seconds()),
		"access_token": SignJWT(e.Key, map[string]any{
			"aud": resource, "iss": "https://sts.windows.net/" + e.Tenant + "/", "tid": e.Tenant,
			"appid": e.ClientID, "oid": "00000000-0000-4000-8000-0000000000aa",
			"iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		}),
	})
}

// resourceOf turns "RESOURCE/.default ..." into RESOURCE.
func resourceOf(scope string) string {
	for _, s := range strings.Fields(scope) {
		if strings.HasSuffix(s, "/.default") {
			return strings.TrimSuffix(s, "/.default")
		}
	}
	return scope
}

// Requests returns how many tokens were issued for resource.
func (e *Entra) Requests(resource string) int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.requests[resource]
}

// Refused returns how many token requests had wrong credentials.
func (e *Entra) Refused() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.refused
}

// IMDS is the Azure instance metadata service's managed identity endpoint, GET
// /metadata/identity/oauth2/token?api-version=2018-02-01&resource=R with Metadata: true.
type IMDS struct {
	srv *httptest.Server
	// URL is the address to use instead of http://169.254.169.254.
	URL string
	// ClientID is the managed identity's application id (appid of its tokens).
	ClientID string
	Tenant   string
	Key      []byte
	// TTL is the tokens' lifetime; default an hour.
	TTL time.Duration

	mu       sync.Mutex
	requests map[string]int
}

// NewIMDS starts the fake on loopback; it stops when the test ends.
func NewIMDS(t testing.TB, key []byte, tenant, clientID string) *IMDS {
	m := &IMDS{ClientID: clientID, Tenant: tenant, Key: key, TTL: time.Hour, requests: map[string]int{}}
	m.srv = httptest.NewServer(http.HandlerFunc(m.serve))
	t.Cleanup(m.srv.Close)
	m.URL = m.srv.URL
	return m
}

func (m *IMDS) serve(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case r.URL.Path != "/metadata/identity/oauth2/token":
		writeJSON(w, http.StatusNotFound, map[string]any{"error": "not_found"})
	case r.Header.Get("Metadata") != "true":
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "Required metadata header not specified"})
	case q.Get("api-version") == "" || q.Get("resource") == "":
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "api-version and resource are required"})
	case q.Get("client_id") != "" && q.Get("client_id") != m.ClientID:
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "invalid_request", "error_description": "Identity not found"})
	default:
		resource := q.Get("resource")
		m.mu.Lock()
		m.requests[resource]++
		m.mu.Unlock()
		now := time.Now()
		exp := now.Add(m.TTL)
		writeJSON(w, http.StatusOK, map[string]any{
			"access_token": SignJWT(m.Key, map[string]any{
				"aud": resource, "iss": "https://sts.windows.net/" + m.Tenant + "/", "tid": m.Tenant,
				"appid": m.ClientID, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
			}),
			"client_id": m.ClientID, "expires_in": strconv.Itoa(int(m.TTL.Seconds())),
			"expires_on": strconv.FormatInt(exp.Unix(), 10), "ext_expires_in": strconv.Itoa(int(m.TTL.Seconds())),
			"not_before": strconv.FormatInt(now.Unix(), 10), "resource": resource, "token_type": "Bearer",
		})
	}
}

// Requests returns how many tokens were issued for resource.
func (m *IMDS) Requests(resource string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.requests[resource]
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
