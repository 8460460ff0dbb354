package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/redact"
	"github.com/scimsync/scimsync/scim/auth"
)

// DefaultPageSize is the count sent with list requests, as Databricks' Go SDK sends it. It
// is a page size, not a cap on the total: lists always read every page.
const DefaultPageSize = 10000

// Content types. SCIM calls send application/scim+json, the media type RFC 7644 §3.1
// defines, which Databricks' SCIM docs call required and which Terraform sends on every
// SCIM call against real accounts (reference §1.4; the Go SDK's application/json works
// too). The permission-assignment API is not SCIM and gets plain application/json.
const (
	contentTypeSCIM = "application/scim+json; charset=utf-8"
	contentTypeJSON = "application/json"
	acceptSCIM      = "application/scim+json, application/json"
)

// HeaderWorkspaceID selects the workspace of a workspace-tree call on hosts that serve
// several workspaces (and, at account level, the workspace an entitlement call is for).
const HeaderWorkspaceID = "X-Databricks-Workspace-Id"

// Config configures a Client. Only Auth (with Env) is needed; every other field has a
// default.
type Config struct {
	// Auth holds the explicit target and credential settings: host, account id, workspace
	// id, level, profile, token or client id and secret. Empty fields come from Env.
	Auth auth.Settings
	// Env is where unset Auth values come from: DATABRICKS_* variables and ~/.databrickscfg.
	// The zero Env means explicit settings only.
	Env auth.Env

	// RateLimit is the overall budget in requests per second. 0 means the rate_limit of
	// the Databricks environment or profile, else DefaultRateLimit.
	RateLimit float64
	// Burst is how many requests may go out at once after an idle spell. 0 means a fifth of
	// a second's budget (5 at 25 requests per second), which keeps a server-side bucket of
	// the same rate from refusing the first requests.
	Burst int
	// WriteRateLimit is a shared budget for POST, PUT, PATCH and DELETE, on top of the
	// overall budget. 0 means none.
	WriteRateLimit float64
	// VerbRateLimits are per-method ceilings (keys GET, POST, PUT, PATCH or DELETE, in any
	// case), below the overall budget. Without one, a method's budget is the overall one
	// until throttling teaches it the server's rate for that method (see ratelimit.go).
	VerbRateLimits map[string]float64
	// MaxInFlight caps the requests in flight at once. 0 means DefaultMaxInFlight.
	MaxInFlight int
	// MaxAttempts caps the attempts per request, the first included. 0 means
	// DefaultMaxAttempts.
	MaxAttempts int
	// RetryBudget caps the time one request may spend retrying. 0 means the profile's
	// retry_timeout_seconds, else DefaultRetryBudget.
	RetryBudget time.Duration
	// RetryBaseDelay and RetryMaxDelay shape the exponential backoff. 0 means the defaults.
	RetryBaseDelay time.Duration
	RetryMaxDelay  time.Duration
	// Timeout bounds one attempt. 0 means the profile's http_timeout_seconds, else
	// DefaultTimeout.
	Timeout time.Duration
	// PageSize is the count sent with list requests. 0 means DefaultPageSize.
	PageSize int
	// AdoptWait is how long a create answered 409 keeps looking for the existing object,
	// which may take a while to show in lists. 0 means DefaultAdoptWait.
	AdoptWait time.Duration
	// MaxListObjects caps the objects one list may return, so that a server sending fresh
	// pages without end cannot exhaust memory. 0 means 20 times the account's identity
	// limit for the resource (reference §6): 200,000 users or service principals, 100,000
	// groups.
	MaxListObjects int
	// MaxResponseBytes caps the size of one response body. 0 means DefaultMaxResponseBytes.
	MaxResponseBytes int64
	// HTTPClient sends the requests (tests point it at handlers). nil means a client of
	// its own. Its Timeout, if any, applies on top of Timeout.
	HTTPClient *http.Client
	// HostOverrides send the requests for some hosts to loopback URLs instead, keeping the
	// host's name in the Host header (see ParseHostOverrides): for tests and the emulator.
	HostOverrides map[string]string
	// UnifiedHost sends workspace SCIM calls of an account without a workspace host to the
	// account host with an X-Databricks-Workspace-Id header, as unified hosts take them
	// (reference §1.4). Off by default: a workspace's SCIM tree is on its own host (§1.2).
	UnifiedHost bool
	// Logger receives a debug record per attempt (method, path, status, attempt, duration),
	// never headers or bodies. nil means no logging.
	Logger *slog.Logger
	// Redactor learns the resolved token and client secret and every OAuth access token
	// as it is minted, and redacts the error bodies the client parses, so that a server
	// that echoes the Authorization header leaks nothing. nil means a Redactor of the
	// client's own; pass the one the outputs go through.
	Redactor *redact.Redactor
}

// Client is a Databricks SCIM client for one account or one workspace. It is safe for
// concurrent use. All requests share one overall rate limiter, one budget per HTTP method,
// one in-flight cap and one set of statistics.
type Client struct {
	auth     *auth.Config
	hc       *http.Client
	t        *transport
	log      *slog.Logger
	pageSize int
	// maxListObjects is Config.MaxListObjects; 0 means the default per resource.
	maxListObjects int
	home           *Tree
	unified        bool

	mu      sync.Mutex
	wsCreds map[string]auth.Credentials // credentials per workspace host (account level)

	// Read progress: objects listed, and groups whose members are read one by one.
	listed, membersRead, membersToRead atomic.Int64
}

// ReadProgress is how far the reads of a client have come, for progress reports.
type ReadProgress struct {
	Listed        int64 // users, service principals and groups read from lists
	MembersRead   int64 // groups whose members were read with a request of their own
	MembersToRead int64 // groups whose members are to be read so, read ones included
}

// ReadProgress returns how far the client's reads have come.
func (c *Client) ReadProgress() ReadProgress {
	return ReadProgress{Listed: c.listed.Load(), MembersRead: c.membersRead.Load(), MembersToRead: c.membersToRead.Load()}
}

// New resolves the credentials and builds a client. It does not contact Databricks; the
// first request does (and, for OAuth, fetches a token).
func New(cfg Config) (*Client, error) {
	ac, err := auth.Resolve(cfg.Auth, cfg.Env)
	if err != nil {
		return nil, err
	}
	red := cfg.Redactor
	if red == nil {
		red = redact.New()
	}
	red.Add(ac.Token.Reveal())
	red.Add(ac.ClientSecret.Reveal())
	hc := cfg.HTTPClient
	if hc == nil {
		hc = &http.Client{
			Transport: http.DefaultTransport.(*http.Transport).Clone(),
			// Never follow a redirect with a bearer token attached.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	hc, err = withHostOverrides(hc, cfg.HostOverrides)
	if err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rps := cfg.RateLimit
	if rps == 0 {
		rps = ac.RateLimit
	}
	if rps == 0 {
		rps = DefaultRateLimit
	}
	if rps < 0 || cfg.WriteRateLimit < 0 {
		return nil, fmt.Errorf("rate limits must be positive")
	}
	burst := cfg.Burst
	if burst <= 0 {
		burst = int(math.Max(1, math.Ceil(rps/5)))
	}
	verbs, err := parseVerbLimits(cfg.VerbRateLimits)
	if err != nil {
		return nil, err
	}
	t := &transport{
		hc:          hc,
		log:         log,
		limits:      newBudgets(rps, burst, cfg.WriteRateLimit, verbs),
		sem:         make(chan struct{}, orDefault(cfg.MaxInFlight, DefaultMaxInFlight)),
		maxAttempts: orDefault(cfg.MaxAttempts, DefaultMaxAttempts),
		budget:      orDefault(cfg.RetryBudget, orDefault(ac.RetryTimeout, DefaultRetryBudget)),
		baseDelay:   orDefault(cfg.RetryBaseDelay, DefaultRetryBaseDelay),
		maxDelay:    orDefault(cfg.RetryMaxDelay, DefaultRetryMaxDelay),
		timeout:     orDefault(cfg.Timeout, orDefault(ac.HTTPTimeout, DefaultTimeout)),
		maxBody:     cfg.MaxResponseBytes,
		adoptWait:   orDefault(cfg.AdoptWait, DefaultAdoptWait),
		stats:       counters{requests: map[string]*atomic.Int64{"OTHER": {}}},
		sleep:       sleep,
		authType:    ac.AuthType,
		redact:      red,
	}
	for _, m := range methods {
		t.stats.requests[m] = &atomic.Int64{}
	}
	c := &Client{
		auth:           ac,
		hc:             hc,
		t:              t,
		log:            log,
		pageSize:       orDefault(cfg.PageSize, DefaultPageSize),
		maxListObjects: cfg.MaxListObjects,
		unified:        cfg.UnifiedHost,
		wsCreds:        map[string]auth.Credentials{},
	}
	creds := ac.Credentials(hc)
	if ac.Level == model.LevelAccount {
		c.home = &Tree{c: c, level: model.LevelAccount, creds: creds, base: ac.Host + "/api/2.0/accounts/" + url.PathEscape(ac.AccountID) + "/scim/v2"}
	} else {
		c.home = &Tree{c: c, level: model.LevelWorkspace, creds: creds, base: ac.Host + workspaceSCIMPath, header: workspaceHeader(ac.WorkspaceID)}
	}
	return c, nil
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

// workspaceSCIMPath is the workspace SCIM tree.
const workspaceSCIMPath = "/api/2.0/preview/scim/v2"

func workspaceHeader(id string) http.Header {
	if id == "" {
		return nil
	}
	return http.Header{HeaderWorkspaceID: {id}}
}

// Auth returns the resolved target and credentials. Its String method is safe to log.
func (c *Client) Auth() *auth.Config { return c.auth }

// Level returns the target level: account or workspace.
func (c *Client) Level() model.Level { return c.auth.Level }

// Stats returns the transport's counters so far.
func (c *Client) Stats() Stats { return c.t.snapshot() }

// Users returns the target's users endpoint.
func (c *Client) Users() *Resource[User] { return c.home.Users() }

// Groups returns the target's groups endpoint.
func (c *Client) Groups() *Resource[Group] { return c.home.Groups() }

// ServicePrincipals returns the target's service principals endpoint.
func (c *Client) ServicePrincipals() *Resource[ServicePrincipal] {
	return c.home.ServicePrincipals()
}

// Tree returns the target's own SCIM tree: the account tree at account level, the
// workspace tree at workspace level.
func (c *Client) Tree() *Tree { return c.home }

// WorkspaceTree returns the workspace SCIM tree of ws, where an account manages the
// entitlements its principals have in that workspace. Requests go to ws.Host, the
// workspace's own host (reference §1.2), with credentials of their own for that host: for
// OAuth a token from the workspace's discovered token endpoint (§7), for a token the same
// token (a personal access token works only on its own workspace, and the account SCIM
// token on no workspace: see Preflight). A workspace without a host is an error, unless
// the client was configured for a unified host (Config.UnifiedHost): then requests go to
// the account host with X-Databricks-Workspace-Id: ws.ID and the account credentials
// (§1.4). At workspace level it returns the target's own tree.
func (c *Client) WorkspaceTree(ws model.Workspace) (*Tree, error) {
	if c.auth.Level == model.LevelWorkspace {
		return c.home, nil
	}
	if ws.ID == "" {
		return nil, fmt.Errorf("workspace has no id")
	}
	if ws.Host == "" {
		if !c.unified {
			return nil, fmt.Errorf("workspace %s has no host: its SCIM API is on its own URL; set host: https://... for it in the manifest", ws.ID)
		}
		return &Tree{c: c, level: model.LevelWorkspace, creds: c.home.creds, base: c.auth.Host + workspaceSCIMPath, header: workspaceHeader(ws.ID)}, nil
	}
	host, err := auth.NormalizeHost(ws.Host)
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", ws.ID, err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	creds := c.wsCreds[host]
	if creds == nil {
		creds, err = c.auth.CredentialsFor(host, c.hc)
		if err != nil {
			return nil, fmt.Errorf("workspace %s: %w", ws.ID, err)
		}
		c.wsCreds[host] = creds
	}
	return &Tree{c: c, level: model.LevelWorkspace, creds: creds, base: host + workspaceSCIMPath}, nil
}

// Tree is one SCIM endpoint tree: the account tree (/api/2.0/accounts/{id}/scim/v2) or a
// workspace tree (/api/2.0/preview/scim/v2) with its host, headers and credentials.
type Tree struct {
	c      *Client
	level  model.Level
	base   string // scheme://host/path of the tree
	header http.Header
	creds  auth.Credentials
}

// Level returns account for the account tree and workspace for a workspace tree.
func (t *Tree) Level() model.Level { return t.level }

// Users returns the tree's users endpoint.
func (t *Tree) Users() *Resource[User] {
	return &Resource[User]{tree: t, name: "Users",
		id: func(u *User) string { return u.ID },
		lookup: func(u *User) string {
			return filterEq("userName", u.UserName)
		},
	}
}

// Groups returns the tree's groups endpoint.
func (t *Tree) Groups() *Resource[Group] {
	return &Resource[Group]{tree: t, name: "Groups",
		id: func(g *Group) string { return g.ID },
		lookup: func(g *Group) string {
			return filterEq("displayName", g.DisplayName)
		},
	}
}

// ServicePrincipals returns the tree's service principals endpoint.
func (t *Tree) ServicePrincipals() *Resource[ServicePrincipal] {
	return &Resource[ServicePrincipal]{tree: t, name: "ServicePrincipals",
		id: func(p *ServicePrincipal) string { return p.ID },
		lookup: func(p *ServicePrincipal) string {
			if p.ApplicationID != "" {
				return filterEq("applicationId", p.ApplicationID)
			}
			return filterEq("displayName", p.DisplayName)
		},
		// displayNames are not unique (reference §2.5): a principal created with an
		// externalId (scimsync sets one, plan.ManagedExternalID) is told from look-alikes
		// by it. The filter stays on displayName, which is documented as filterable.
		mine: func(p, found *ServicePrincipal) bool {
			return p.ApplicationID != "" || p.ExternalID == "" || found.ExternalID == p.ExternalID
		},
		// Without an applicationId nothing keeps Databricks from making a second
		// principal with the same displayName (§6: applicationId is unique, names are
		// not), so a miss of the lookup is no proof that a create did not happen.
		weakKey: func(p *ServicePrincipal) bool { return p.ApplicationID == "" },
	}
}

// Me returns the user (or service principal, as a user whose userName is its
// applicationId) that owns the credentials. Only workspace trees have /Me. Entitlements
// and groups are not requested: they are expensive to compute and can be large.
func (t *Tree) Me(ctx context.Context) (*User, error) {
	if t.level != model.LevelWorkspace {
		return nil, fmt.Errorf("/Me exists only on workspace SCIM trees, not on the account tree")
	}
	var me User
	if err := t.json(ctx, http.MethodGet, "/Me", meQuery(), nil, &me, nil); err != nil {
		return nil, err
	}
	return &me, nil
}

// meQuery leaves out of /Me what is expensive to compute (entitlements) or large (groups).
func meQuery() url.Values { return url.Values{"excludedAttributes": {"entitlements,groups"}} }

// json sends one SCIM request with an optional JSON body and decodes a JSON response into
// out, if out is non-nil and the response has a body.
func (t *Tree) json(ctx context.Context, method, path string, q url.Values, in, out any, lookup func(context.Context) (string, bool, error)) error {
	res, err := t.send(ctx, method, path, q, in, lookup)
	if err != nil {
		return err
	}
	return decode(res, method, path, out)
}

func (t *Tree) send(ctx context.Context, method, path string, q url.Values, in any, lookup func(context.Context) (string, bool, error)) (*response, error) {
	return t.c.send(ctx, call{creds: t.creds, header: t.header, base: t.base, method: method, path: path,
		query: q, body: in, contentType: contentTypeSCIM, lookup: lookup})
}

// call is one request for send to build: where it goes (base URL, path and query), how
// (method, credentials, extra headers, the content type of its body), its body (encoded
// as JSON when not nil), and for a create, lookup, which finds what it created when its
// outcome is unknown (see transport).
type call struct {
	creds       auth.Credentials
	header      http.Header
	base        string
	method      string
	path        string
	query       url.Values
	body        any
	contentType string
	lookup      func(context.Context) (string, bool, error)
}

// send builds and sends one request through the transport.
func (c *Client) send(ctx context.Context, in call) (*response, error) {
	u, err := url.Parse(in.base + in.path)
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", in.method, in.path, err)
	}
	if len(in.query) > 0 {
		u.RawQuery = in.query.Encode()
	}
	r := &request{
		method:      in.method,
		url:         u.String(),
		path:        u.Path,
		header:      http.Header{"Accept": {acceptSCIM}},
		contentType: in.contentType,
		creds:       in.creds,
		lookup:      in.lookup,
	}
	for k, v := range in.header {
		r.header[k] = v
	}
	if in.body != nil {
		if r.body, err = json.Marshal(in.body); err != nil {
			return nil, fmt.Errorf("%s %s: encode body: %w", in.method, u.Path, err)
		}
	}
	return c.t.do(ctx, r)
}

// decode unmarshals a response body into out; an empty body leaves out unchanged.
func decode(res *response, method, path string, out any) error {
	if out == nil || len(strings.TrimSpace(string(res.body))) == 0 {
		return nil
	}
	if err := json.Unmarshal(res.body, out); err != nil {
		return fmt.Errorf("%s %s: decode response: %w", method, path, err)
	}
	return nil
}

// filterEq builds a SCIM filter "attr eq "value"" with the value quoted as a JSON string.
func filterEq(attr, value string) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(value) // encoding a string cannot fail
	return attr + " eq " + strings.TrimSpace(b.String())
}
