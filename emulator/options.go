package emulator

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/scimsync/scimsync/model"
)

// Default values of Options.
const (
	DefaultAccountID = "a1b2c3d4-0000-4000-8000-000000000001"
	DefaultToken     = "dapi-emulator-token"
	// DefaultClientID is a UUID, as Databricks OAuth client ids are: a service
	// principal's applicationId (§2.5, §7).
	DefaultClientID     = "7e3c5a2b-1d4f-4e6a-8b9c-0d1e2f3a4b5c"
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
	// TokenKind is the kind of Token: TokenAny (the default), TokenPAT (of the first
	// workspace) or TokenAccountSCIM. See tokens.go for what each kind opens.
	TokenKind string
	// Tokens are further tokens the emulator accepts, with their kind, owner and scope.
	Tokens []TokenSpec
	// AllowPATOnAccount lets PATs call account APIs; whether Databricks does is UNKNOWN
	// (§7). Off by default.
	AllowPATOnAccount bool
	// Federation are the federation policies the token endpoints accept ID tokens of
	// (workload identity federation, §7).
	Federation []FederationPolicy
	// Entra, when set, makes the emulator accept Microsoft Entra ID tokens of a tenant, as
	// Azure Databricks does.
	Entra *EntraTrust
	// Workspaces are the workspace ids of the account, default DefaultWorkspaces. At
	// workspace level the first one is the workspace itself.
	Workspaces []string
	// WorkspaceHosts maps workspace ids to the host that serves their SCIM tree, as
	// https://NAME; a workspace not listed gets DefaultWorkspaceHost. At account level a
	// request reaches a workspace's tree only when its Host header names that host (see
	// hosts.go).
	WorkspaceHosts map[string]string
	// UnifiedHost also serves the workspace SCIM trees, and the account SCIM proxy, on the
	// accounts host, with the X-Databricks-Workspace-Id header choosing the workspace: the
	// unified-host convention of §1.4. Off by default: the accounts host answers 404 for
	// workspace paths.
	UnifiedHost bool

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
	// ConcurrencyStatus is the status of a MaxConcurrent refusal: 500 (default, the
	// recorded production body) or 429, the variant also seen (§5.3).
	ConcurrencyStatus int
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
	// Lenient turns strict mode off. In strict mode, the default, the emulator accepts only
	// the request shapes the reference documents (see the table in doc.go): a JSON
	// Content-Type on bodies and an Accept that allows JSON, schemas on resources and
	// PatchOps, no unknown fields, attribute values of the documented types (active as a
	// boolean in resources, as a string or Terraform's list form in PATCH). Lenient accepts
	// any body that decodes, as the emulator did before.
	Lenient bool
	// SchemalessResources accepts POST and PUT bodies without schemas. Terraform always sends
	// them; the Go SDK's V2 account request types have none, so the account API presumably
	// accepts their absence (§2.2, an inference: UNKNOWN). Off by default: schemas required.
	SchemalessResources bool
	// RemoveAbsentFails answers a filtered remove (members[value eq "x"], roles[value eq
	// "x"]) that matches nothing with 400 noTarget, as RFC 7644 §3.5.2.2 has it. Whether
	// Databricks does is UNKNOWN; by default such a remove is a no-op.
	RemoveAbsentFails bool
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

	// VisibilityDelay hides a newly created object from list and filter results for this
	// long, per resource ("Users", "Groups", "ServicePrincipals"); GET by id and writes see
	// it at once. Whether Databricks is consistent after create is UNKNOWN (§6); by default
	// it is.
	VisibilityDelay map[string]time.Duration
	// PageOverlap makes every list page after the first start this many objects early,
	// echoing the startIndex it used, as pages that overlap would (§3: the SDK's older
	// list APIs de-duplicate by id).
	PageOverlap int
	// RepeatPastEnd answers a startIndex beyond the last object with the first page again,
	// echoing the startIndex asked for, as an independent SCIM server did (issue 13).
	RepeatPastEnd bool
	// TotalResultsOffset is added to every list's totalResults: a count that lies.
	TotalResultsOffset int
	// SlowCommit is how long a FaultSlowCommit holds its answer after committing; default
	// DefaultSlowCommit. Tests set it past the client's per-attempt timeout.
	SlowCommit time.Duration

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

// Faults are probabilities in [0,1], drawn once per SCIM or assignment request (the OAuth
// endpoints are never faulted). The refusals (Rate503 to RateGateway) happen before the
// request is executed and are exclusive: their sum should not exceed 1. The faults after
// commit (RateCreateDrop to RateTruncate) are drawn separately, only for requests that
// succeed, and are exclusive among themselves too.
type Faults struct {
	// Rate503 answers 503 with a SCIM error body.
	Rate503 float64
	// RateLimit500 answers HTTP 500 with a REQUEST_LIMIT_EXCEEDED SCIM body (§5.1).
	RateLimit500 float64
	// Rate429 answers 429 without Retry-After (§5.2, §8 item 7).
	Rate429 float64
	// Rate429RetryAfter answers 429 with Retry-After: 1.
	Rate429RetryAfter float64
	// RateReset resets the connection (RST) without a response, before doing anything.
	RateReset float64
	// RateGateway answers 502 or 504 (one each in turn) with an HTML body, as a gateway in
	// front of the service would, without doing anything.
	RateGateway float64

	// RateCreateDrop commits a create (POST of a SCIM resource) and then closes the
	// connection without a response.
	RateCreateDrop float64
	// RateWriteDrop does the same for every write: POST, PUT, PATCH and DELETE of SCIM
	// resources and of permission assignments.
	RateWriteDrop float64
	// RateCommit503 and RateCommit504 commit a write and then answer 503 (SCIM body) or
	// 504 (gateway HTML), as a gateway that gave up waiting would.
	RateCommit503, RateCommit504 float64
	// RateSlowCommit commits a write and holds the answer for Options.SlowCommit, so that
	// a client with a shorter timeout gives up on a request that did happen.
	RateSlowCommit float64
	// RateTruncate does any request and then cuts its answer off half-way through the body
	// (the full Content-Length announced, the connection closed).
	RateTruncate float64
}

// Fault names, as they appear in Request.Fault and Counters.Faults.
const (
	Fault503          = "503"
	FaultLimit500     = "request-limit-500"
	Fault429          = "429"
	Fault429RA        = "429-retry-after"
	FaultReset        = "reset"
	FaultGateway      = "gateway"
	FaultCreateDrop   = "create-drop"
	FaultWriteDrop    = "write-drop"
	FaultCommit503    = "commit-503"
	FaultCommit504    = "commit-504"
	FaultSlowCommit   = "slow-commit"
	FaultTruncate     = "truncate"
	DefaultSlowCommit = 2 * time.Second
)

// FaultNames are the names SetFault accepts, in the order of the Faults fields.
var FaultNames = []string{Fault503, FaultLimit500, Fault429, Fault429RA, FaultReset, FaultGateway,
	FaultCreateDrop, FaultWriteDrop, FaultCommit503, FaultCommit504, FaultSlowCommit, FaultTruncate}

// Set sets the rate of the fault called name (one of FaultNames).
func (f *Faults) Set(name string, rate float64) error {
	if rate < 0 || rate > 1 {
		return fmt.Errorf("fault %s: rate %v must be between 0 and 1", name, rate)
	}
	p := map[string]*float64{
		Fault503: &f.Rate503, FaultLimit500: &f.RateLimit500, Fault429: &f.Rate429, Fault429RA: &f.Rate429RetryAfter,
		FaultReset: &f.RateReset, FaultGateway: &f.RateGateway, FaultCreateDrop: &f.RateCreateDrop,
		FaultWriteDrop: &f.RateWriteDrop, FaultCommit503: &f.RateCommit503, FaultCommit504: &f.RateCommit504,
		FaultSlowCommit: &f.RateSlowCommit, FaultTruncate: &f.RateTruncate,
	}[name]
	if p == nil {
		return fmt.Errorf("unknown fault %q (known: %s)", name, strings.Join(FaultNames, ", "))
	}
	*p = rate
	return nil
}

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
	hosts := make(map[string]string, len(o.WorkspaceHosts))
	for id, h := range o.WorkspaceHosts {
		if h = strings.ToLower(strings.TrimSpace(h)); h != "" {
			if !strings.Contains(h, "://") {
				h = "https://" + h
			}
			hosts[id] = strings.TrimSuffix(h, "/")
		}
	}
	o.WorkspaceHosts = hosts
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
	if o.ConcurrencyStatus == 0 {
		o.ConcurrencyStatus = 500
	}
	if o.SlowCommit <= 0 {
		o.SlowCommit = DefaultSlowCommit
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
