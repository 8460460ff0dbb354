package emulator

import (
	"math"
	"time"

	"github.com/scimsync/scimsync/model"
)

// Default values of Options.
const (
	DefaultAccountID    = "a1b2c3d4-0000-4000-8000-000000000001"
	DefaultToken        = "dapi-emulator-token"
	DefaultClientID     = "e3a1c0de-0000-4000-8000-00000000c11e" // an applicationId, a UUID as in Databricks (reference §7)
	DefaultClientSecret = "emulator-secret"
	DefaultMeUserName   = "admin@example.com"
	DefaultRateLimit    = 25
	DefaultPageSize     = 10000
	DefaultTokenTTL     = time.Hour
	// DefaultFirstID is the first SCIM id handed out. Real ids are 15- and 16-digit int64s.
	DefaultFirstID int64 = 1_000_000_000_000_001
)

// DefaultWorkspaces are the workspace ids an account has when Options.Workspaces is empty.
var DefaultWorkspaces = []string{"1001", "1002"}

// PatchResponse values: what a successful PUT or PATCH answers (an UNKNOWN, §4.1).
const (
	PatchResource  = "resource"  // 200 with the full resource
	PatchEmpty     = "empty"     // 200 with {}
	PatchNoContent = "nocontent" // 204
)

// Options configure a Server. The zero value is an account-level emulator with the defaults
// documented on each field.
type Options struct {
	// Level is model.LevelAccount (the default) or model.LevelWorkspace.
	Level model.Level
	// AccountID is the account id of the account tree; default DefaultAccountID.
	AccountID string
	// Token is the accepted bearer token (PAT or account SCIM token); default DefaultToken.
	// It belongs to the user MeUserName.
	Token string
	// ClientID and ClientSecret are the OAuth M2M credentials the token endpoints accept;
	// defaults DefaultClientID and DefaultClientSecret.
	ClientID, ClientSecret string
	// MeUserName is the user that owns Token and that /Me returns for it; default
	// DefaultMeUserName.
	MeUserName string
	// TokenTTL is the lifetime of OAuth tokens (expires_in); default DefaultTokenTTL.
	TokenTTL time.Duration
	// Workspaces are the workspace ids of the account, default DefaultWorkspaces. At
	// workspace level the first one is the workspace itself.
	Workspaces []string

	// RateLimit is the token bucket shared by all SCIM and assignment requests, in
	// requests per second; 0 means DefaultRateLimit (the product's 25 rps budget), a
	// negative value disables it.
	RateLimit float64
	// Burst is the bucket size; default ceil(RateLimit).
	Burst int
	// VerbRateLimits adds one bucket per HTTP method (for example "PATCH": 2, the
	// unconfirmed account limit of §5.3), each with burst ceil(rate). A request must pass
	// both its verb bucket and the shared one.
	VerbRateLimits map[string]float64
	// RetryAfter sends Retry-After (whole seconds, rounded up from the bucket's delay) on
	// rate-limit 429s. Whether Databricks sends it is UNKNOWN (§5.2, §5.3).
	RetryAfter bool
	// MaxConcurrent > 0 answers requests beyond this many in flight with HTTP 500 and a
	// REQUEST_LIMIT_EXCEEDED SCIM body (§5.1, §5.3; Databricks' limit was 4). 0 is unlimited.
	MaxConcurrent int
	// Latency is added to every SCIM and assignment request, plus a uniform random
	// [0, LatencyJitter).
	Latency       time.Duration
	LatencyJitter time.Duration

	// MaxPageSize clamps count; default 10000. The real cap is UNKNOWN (§3).
	MaxPageSize int
	// DefaultPageSize is the page size when count is absent; default 10000, UNKNOWN (§3).
	DefaultPageSize int
	// GroupListMembers makes the account GET /Groups list include members, as it did before
	// 2025-08-22 (§3). By default account group lists never carry members, even when
	// attributes asks for them; GET /Groups/{id} always does.
	GroupListMembers bool
	// StrictRemove rejects a remove operation that carries a value, as the account backend
	// does (§4.2 item 3), on every tree. The account tree is strict by default anyway;
	// LenientRemove turns that off. The workspace tree is lenient unless StrictRemove is set.
	StrictRemove  bool
	LenientRemove bool
	// CreateStatus is the status of a successful POST: 201 (default) or 200 (UNKNOWN, §4.1).
	CreateStatus int
	// PatchResponse is PatchResource (default), PatchEmpty or PatchNoContent (UNKNOWN, §4.1).
	PatchResponse string
	// CaseSensitiveUserNameFilter makes userName comparisons in filters case-sensitive. By
	// default they ignore case (UNKNOWN, §3; userNames are stored lower-cased, §2.3).
	CaseSensitiveUserNameFilter bool
	// IgnoreUnknownMembers makes a PATCH or PUT that adds a member id that does not exist
	// succeed without adding it, as Databricks was seen to do with applicationIds
	// (§6, terraform-provider-databricks#4194). By default such a request gets a 400.
	IgnoreUnknownMembers bool
	// SplitDisplayName fills name.givenName and name.familyName from a "Given Family"
	// displayName on user create when no name is sent, as one docs example shows (§2.3,
	// not confirmed as a rule). Off by default.
	SplitDisplayName bool
	// WorkspaceShowsUnassigned makes the workspace views of an account show every account
	// principal and group, not just those assigned to the workspace. Off by default.
	WorkspaceShowsUnassigned bool

	// Identity limits (§6): users plus service principals, groups, direct memberships per
	// principal, and nesting levels. 0 means the Databricks limit from package model; a
	// negative value means no limit.
	MaxPrincipals, MaxGroups, MaxDirectMemberships, MaxNestingDepth int
	// FirstID is the first SCIM id handed out; default DefaultFirstID. Ids increase by a
	// small pseudo-random step, so clients cannot assume they are contiguous.
	FirstID int64

	// Faults are injected at random, with Seed as the source of randomness.
	Faults Faults
	// Seed seeds latency jitter, faults, id steps and generated applicationIds.
	Seed int64
	// Now is the clock for rate limits, token expiry and the request log; default time.Now.
	Now func() time.Time

	// OnRequest, when set, is called with every request as it arrives, before the emulator
	// acts on it: Method, Path, Query, WorkspaceID and Time are set, Status, Duration, Fault
	// and Throttle are not. It runs on the request's goroutine, so the request waits until it
	// returns, and it may be called concurrently. Tests use it to act at a chosen point of a
	// client's run, such as killing the client process when its Nth write arrives; the
	// request log (Requests) is the record of what was answered.
	OnRequest func(Request)
}

// Faults are probabilities in [0,1], drawn once per SCIM or assignment request. The first
// four are exclusive (their sum should not exceed 1); RateCreateDrop is drawn separately and
// only for POSTs that create a SCIM resource.
type Faults struct {
	// Rate503 answers 503 with a SCIM error body.
	Rate503 float64
	// RateLimit500 answers HTTP 500 with a REQUEST_LIMIT_EXCEEDED SCIM body (§5.1).
	RateLimit500 float64
	// Rate429 answers 429 without Retry-After (§5.2, §8 item 7).
	Rate429 float64
	// RateReset resets the connection (RST) without a response, before doing anything.
	RateReset float64
	// RateCreateDrop commits a create and then closes the connection without a response.
	RateCreateDrop float64
}

// Fault names, as they appear in Request.Fault and Counters.Faults.
const (
	Fault503        = "503"
	FaultLimit500   = "request-limit-500"
	Fault429        = "429"
	FaultReset      = "reset"
	FaultCreateDrop = "create-drop"
)

func (o Options) withDefaults() Options {
	if o.Level == "" {
		o.Level = model.LevelAccount
	}
	if o.AccountID == "" {
		o.AccountID = DefaultAccountID
	}
	if o.Token == "" {
		o.Token = DefaultToken
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.MeUserName == "" {
		o.MeUserName = DefaultMeUserName
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = DefaultTokenTTL
	}
	if len(o.Workspaces) == 0 {
		o.Workspaces = DefaultWorkspaces
	}
	o.Workspaces = append([]string(nil), o.Workspaces...)
	if o.Level == model.LevelWorkspace {
		o.Workspaces = o.Workspaces[:1]
	}
	if o.RateLimit == 0 {
		o.RateLimit = DefaultRateLimit
	}
	if o.Burst <= 0 && o.RateLimit > 0 {
		o.Burst = int(math.Ceil(o.RateLimit))
	}
	if o.MaxPageSize <= 0 {
		o.MaxPageSize = DefaultPageSize
	}
	if o.DefaultPageSize <= 0 {
		o.DefaultPageSize = DefaultPageSize
	}
	if o.CreateStatus == 0 {
		o.CreateStatus = 201
	}
	if o.PatchResponse == "" {
		o.PatchResponse = PatchResource
	}
	o.MaxPrincipals = limit(o.MaxPrincipals, model.MaxPrincipals)
	o.MaxGroups = limit(o.MaxGroups, model.MaxGroups)
	o.MaxDirectMemberships = limit(o.MaxDirectMemberships, model.MaxDirectMemberships)
	o.MaxNestingDepth = limit(o.MaxNestingDepth, model.MaxNestingDepth)
	if o.FirstID <= 0 {
		o.FirstID = DefaultFirstID
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// limit turns the Options convention (0 default, negative unlimited) into a bound where
// math.MaxInt means unlimited.
func limit(v, def int) int {
	switch {
	case v == 0:
		return def
	case v < 0:
		return math.MaxInt
	}
	return v
}
