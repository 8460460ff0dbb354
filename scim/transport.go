package scim

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/scimsync/scimsync/audit"
	"github.com/scimsync/scimsync/redact"
	"github.com/scimsync/scimsync/scim/auth"
)

// Transport defaults. The rate is the Account SCIM API's budget of 25 requests per second.
const (
	DefaultRateLimit      = 25
	DefaultMaxInFlight    = 8
	DefaultMaxAttempts    = 10
	DefaultRetryBudget    = 5 * time.Minute
	DefaultTimeout        = 60 * time.Second
	DefaultRetryBaseDelay = 250 * time.Millisecond
	DefaultRetryMaxDelay  = 10 * time.Second
	// DefaultAdoptWait is how long a create answered 409 waits for the existing object to
	// show in a lookup.
	DefaultAdoptWait = 10 * time.Second
	// DefaultMaxResponseBytes caps one response body. A list page of 10,000 users with the
	// attributes Snapshot asks for is a few MB; a page of groups with their members can be
	// far larger, but not this large within the account limits (reference §6).
	DefaultMaxResponseBytes = 512 << 20
)

// Stats counts what a client's transport did. Requests counts attempts sent, so a retried
// request counts once per attempt.
type Stats struct {
	Requests        map[string]int64 `json:"requests"`        // attempts sent, by HTTP method
	Retries         int64            `json:"retries"`         // attempts that were retries
	Throttled       int64            `json:"throttled"`       // 429 and REQUEST_LIMIT_EXCEEDED responses
	TooManyRequests int64            `json:"tooManyRequests"` // 429 responses alone
	ServerErrors    int64            `json:"serverErrors"`    // other 5xx responses
	NetworkErrors   int64            `json:"networkErrors"`   // attempts that got no response
	UnknownOutcomes int64            `json:"unknownOutcomes"` // writes that may or may not have happened
	// CreatesResolved counts creates whose outcome was unknown and whose object was found
	// by a lookup, so the create was not sent again.
	CreatesResolved int64 `json:"createsResolved"`
	// CreatesAdopted counts apply's creates answered 409 at the first attempt whose object
	// was found by a lookup and adopted: made by an earlier apply or someone else.
	CreatesAdopted int64 `json:"createsAdopted"`
	// Replays counts writes that failed only because an earlier attempt of theirs had
	// already done them (a 404 on DELETE, a remove of a value already gone), counted done.
	Replays   int64   `json:"replays"`
	RateLimit float64 `json:"rateLimit"` // the overall limit
	// VerbRateLimits are the methods whose budget is below the overall limit now: the
	// configured ones, and those that throttling taught a lower rate.
	VerbRateLimits map[string]float64 `json:"verbRateLimits,omitempty"`
}

// Total returns the number of attempts sent.
func (s Stats) Total() int64 {
	var n int64
	for _, v := range s.Requests {
		n += v
	}
	return n
}

// methods are the HTTP methods counted separately; others count as "OTHER".
var methods = []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}

// counters are the transport's live statistics.
type counters struct {
	requests        map[string]*atomic.Int64
	retries         atomic.Int64
	throttled       atomic.Int64
	tooMany         atomic.Int64
	serverErrors    atomic.Int64
	networkErrors   atomic.Int64
	unknownOutcomes atomic.Int64
	createsResolved atomic.Int64
	createsAdopted  atomic.Int64
	replays         atomic.Int64
}

// transport sends requests under the rate limits and the in-flight cap, and retries what
// is safe to retry.
type transport struct {
	hc          *http.Client
	log         *slog.Logger
	limits      *budgets
	sem         chan struct{}
	maxAttempts int
	budget      time.Duration
	baseDelay   time.Duration
	maxDelay    time.Duration
	timeout     time.Duration
	adoptWait   time.Duration // how long a 409's lookup waits for the object to show
	maxBody     int64         // response body cap; 0 means DefaultMaxResponseBytes
	stats       counters
	// answered is set once any response came back: from then on a refused connection is
	// a blip worth retrying, not a wrong host or port.
	answered atomic.Bool
	// authType is the auth type of the credentials, for the hints of errors.
	authType string
	// sleep waits between attempts; tests replace it to observe the waits.
	sleep func(context.Context, time.Duration) error
	// redact learns each token sent and cleans the error bodies parsed.
	redact *redact.Redactor
	// rejected maps credentials (auth.Credentials) that Databricks rejected to the error
	// that said so: no further request is sent with them.
	rejected sync.Map
}

// request is one logical request; the transport may send it several times.
type request struct {
	method      string
	url         string // full URL, with query
	path        string // URL path, for logs and errors
	header      http.Header
	contentType string
	body        []byte
	creds       auth.Credentials
	// lookup, set on creates, finds the object a create may have made. It reports the
	// object's id and whether it exists. Without it, a create whose outcome is unknown is
	// not retried.
	lookup func(ctx context.Context) (id string, found bool, err error)
}

// response is a successful (2xx) response, or the object a create turned out to have made.
type response struct {
	status int
	header http.Header
	body   []byte
	// existingID is set when a create's outcome was unknown and a lookup found the object.
	existingID string
}

// do sends r until it succeeds, fails for good, or the attempt cap or retry budget is
// used up. It retries 429 and REQUEST_LIMIT_EXCEEDED 500s (refusals: the request was not
// executed) for every method; 502, 503, 504 and network errors after the request was sent
// may have been executed (a gateway answers 503 or 504 for a backend that carried on), so
// after them a write is retried only if it is idempotent, and a create is first resolved
// with r.lookup: if the object exists its id is returned, otherwise the create is sent
// again. A 409 on a create after such an attempt is resolved by the same lookup, tolerating an
// object that takes a while to show in lists (see adopt). A write that meets the answer
// to its own earlier execution counts as done: a DELETE's 404, a PATCH's 400 for a value
// to remove that is already gone. Every wait returns early with ctx's error when ctx is
// done.
//
// Once Databricks rejects a request's credentials (a 401, or a token endpoint that
// refuses the client), no further request is sent with them: each fails at once with
// the first rejection, so that an apply whose token expired or was revoked does not send
// every remaining write only to have each refused.
func (t *transport) do(ctx context.Context, r *request) (*response, error) {
	key := credentialsKey(r.creds, r.url)
	if key != nil {
		if first, ok := t.rejected.Load(key); ok {
			return nil, fmt.Errorf("%s %s: not sent, the credentials were rejected before: %w", r.method, r.path, first.(error))
		}
	}
	res, err := t.send(ctx, r)
	if err != nil && key != nil && credentialsRejected(err) {
		t.rejected.LoadOrStore(key, err)
	}
	return res, err
}

// credentialsKey returns creds and the host they are sent to as a map key (a token may be
// good for the account host and not for a workspace's), or nil when there are no
// credentials or their type cannot be compared.
func credentialsKey(creds auth.Credentials, rawURL string) any {
	if creds == nil || !reflect.TypeOf(creds).Comparable() {
		return nil
	}
	type key struct {
		creds auth.Credentials
		host  string
	}
	host := rawURL
	if u, err := url.Parse(rawURL); err == nil {
		host = u.Host
	}
	return key{creds: creds, host: host}
}

// credentialsRejected reports a 401 from Databricks or a token endpoint that refused the
// client (400, 401 or 403 with an OAuth error).
func credentialsRejected(err error) bool {
	var te *auth.TokenError
	if errors.As(err, &te) {
		return te.CredentialsRejected()
	}
	return IsUnauthorized(err)
}

// send is do without the check for rejected credentials.
func (t *transport) send(ctx context.Context, r *request) (*response, error) {
	start := time.Now()
	maybeDone := false // an earlier attempt may have been executed
	for attempt := 1; ; attempt++ {
		res, sent, err := t.attempt(ctx, r, attempt)
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, r.path, ctx.Err())
		}
		var (
			lastErr error
			wait    time.Duration
			unknown bool // this attempt may have been executed
		)
		switch {
		case err != nil:
			if permanent(err) || t.unreachable(err) {
				return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
			}
			var (
				te *auth.TokenError
				ce *auth.CredentialsError
			)
			if errors.As(err, &ce) {
				return nil, err // a tool or file that failed: trying again does not help
			}
			if errors.As(err, &te) {
				if !te.Temporary() {
					return nil, err
				}
				lastErr = err
				break
			}
			t.stats.networkErrors.Add(1)
			lastErr = fmt.Errorf("%s %s: %w", r.method, r.path, err)
			unknown = sent
		case res.status >= 200 && res.status < 300:
			t.limits.succeeded(r.method, time.Now())
			return res, nil
		default:
			e := parseError(r.method, r.path, res.status, res.body)
			e.AuthType = t.authType
			// A proxy or WAF may echo the request headers, Authorization included.
			e.Detail, e.ScimType, e.Code = t.redact.String(e.Detail), t.redact.String(e.ScimType), t.redact.String(e.Code)
			lastErr = e
			switch {
			case e.Throttled():
				t.stats.throttled.Add(1)
				if e.Status == http.StatusTooManyRequests {
					t.stats.tooMany.Add(1)
				}
				wait = retryAfter(res.header, time.Now())
				t.limits.throttled(r.method, time.Now(), wait)
			case e.Status == http.StatusServiceUnavailable:
				t.stats.serverErrors.Add(1)
				wait = retryAfter(res.header, time.Now())
				unknown = true
			case e.Status == http.StatusBadGateway || e.Status == http.StatusGatewayTimeout:
				t.stats.serverErrors.Add(1)
				unknown = true
			case maybeDone && replayDone(r, e):
				t.stats.replays.Add(1)
				t.log.DebugContext(ctx, "scim write already done by an earlier attempt", "method", r.method, "path", r.path, "status", e.Status)
				return &response{status: http.StatusNoContent}, nil
			case e.Status == http.StatusConflict && r.method == http.MethodPost && r.lookup != nil && maybeDone:
				id, err := t.adopt(ctx, r.lookup, e)
				if err != nil {
					return nil, err
				}
				t.stats.createsResolved.Add(1)
				return &response{status: http.StatusOK, existingID: id}, nil
			default:
				if e.Status >= 500 {
					t.stats.serverErrors.Add(1)
				}
				return nil, e
			}
		}
		if unknown {
			maybeDone = true
			if r.method == http.MethodPost {
				t.stats.unknownOutcomes.Add(1)
				if r.lookup == nil {
					return nil, fmt.Errorf("outcome unknown, not retried to avoid a duplicate: %w", lastErr)
				}
				id, found, lerr := r.lookup(ctx)
				if lerr != nil {
					return nil, fmt.Errorf("%s %s: outcome unknown (%v), and looking the object up failed: %w", r.method, r.path, lastErr, lerr)
				}
				if found {
					t.stats.createsResolved.Add(1)
					t.log.DebugContext(ctx, "scim create resolved by lookup", "method", r.method, "path", r.path, "id", id)
					return &response{status: http.StatusOK, existingID: id}, nil
				}
			}
		}
		if attempt >= t.maxAttempts {
			return nil, fmt.Errorf("giving up after %d attempts: %w", attempt, lastErr)
		}
		elapsed := time.Since(start)
		remaining := t.budget - elapsed
		if remaining <= 0 || wait > remaining {
			return nil, fmt.Errorf("giving up after %d attempts in %s (retry budget %s): %w", attempt, elapsed.Round(time.Millisecond), t.budget, lastErr)
		}
		delay := min(max(t.backoff(attempt), wait), remaining)
		t.stats.retries.Add(1)
		t.log.DebugContext(ctx, "scim retry", "method", r.method, "path", r.path, "attempt", attempt, "wait", delay, "reason", lastErr.Error())
		if err := t.sleep(ctx, delay); err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
		}
	}
}

// replayDone reports whether e is what a write answers when an earlier attempt of it was
// executed: a DELETE's 404, and a PATCH's 400 for a value to remove that is no longer
// there (RFC 7644 §3.5.2.2 noTarget, or Databricks' invalidPath for entitlements that are
// all gone, reference §4.2 item 5).
func replayDone(r *request, e *Error) bool {
	switch {
	case r.method == http.MethodDelete:
		return e.Status == http.StatusNotFound
	case r.method == http.MethodPatch && e.Status == http.StatusBadRequest:
		return e.ScimType == "noTarget" || (e.ScimType == "invalidPath" && strings.Contains(e.Detail, "No such attribute with the name : entitlements"))
	}
	return false
}

// adopt resolves a create answered 409 (the object exists: made by an earlier attempt
// whose answer was lost, by an earlier apply, or by someone else) by looking it up, and
// returns its id. A new object may take a while to show in lists and filters (consistency
// after create is UNKNOWN, reference §6), so the lookup is repeated with growing waits, in
// all up to adoptWait, before the conflict is reported. The lookup matches on the key the
// create was for (userName, displayName or applicationId), so only the object meant is
// found; an ambiguous match is an error.
func (t *transport) adopt(ctx context.Context, lookup func(context.Context) (string, bool, error), conflict error) (string, error) {
	return t.waitFor(ctx, lookup, conflict, t.adoptWait)
}

// waitFor repeats lookup with growing waits, in all up to budget, until it finds the
// object; if it never does, the error wraps notFound.
func (t *transport) waitFor(ctx context.Context, lookup func(context.Context) (string, bool, error), notFound error, budget time.Duration) (string, error) {
	conflict := notFound
	var waited time.Duration
	delay := 100 * time.Millisecond
	for {
		id, found, err := lookup(ctx)
		if err != nil {
			return "", fmt.Errorf("%w, and looking the object up failed: %w", conflict, err)
		}
		if found {
			t.log.DebugContext(ctx, "scim create found the existing object", "id", id)
			return id, nil
		}
		if waited+delay > budget {
			return "", fmt.Errorf("%w; the object did not show in a lookup within %s", conflict, budget)
		}
		if err := t.sleep(ctx, delay); err != nil {
			return "", err
		}
		waited += delay
		delay = min(2*delay, 2*time.Second)
	}
}

// attempt sends r once. sent reports whether the request was written to the connection,
// so that a failure may have been executed by the server.
func (t *transport) attempt(ctx context.Context, r *request, n int) (res *response, sent bool, err error) {
	tok, err := r.creds.Token(ctx)
	if err != nil {
		return nil, false, err
	}
	t.redact.Add(tok.Reveal())
	var extra http.Header
	if hc, ok := r.creds.(auth.HeaderCredentials); ok {
		if extra, err = hc.Headers(ctx); err != nil {
			return nil, false, err
		}
		for _, v := range extra {
			for _, s := range v {
				t.redact.Add(s)
			}
		}
	}
	select {
	case t.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, false, ctx.Err()
	}
	defer func() { <-t.sem }()
	release, err := t.limits.wait(ctx, r.method, t.sleep)
	if err != nil {
		return nil, false, err
	}
	defer release()

	actx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	var wrote atomic.Bool
	actx = httptrace.WithClientTrace(actx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				wrote.Store(true)
			}
		},
	})
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, r.url, body)
	if err != nil {
		return nil, false, err
	}
	for k, v := range r.header {
		req.Header[k] = v
	}
	for k, v := range extra {
		req.Header[k] = v
	}
	req.Header.Set("Authorization", "Bearer "+tok.Reveal())
	if r.body != nil {
		req.Header.Set("Content-Type", r.contentType)
	}
	t.count(r.method)
	began := time.Now()
	resp, err := t.hc.Do(req)
	if err != nil {
		t.log.DebugContext(ctx, "scim request", "method", r.method, "path", r.path, "attempt", n, "duration", time.Since(began), "error", err.Error())
		audit.FromContext(ctx).Attempt(r.method, r.path, 0, errors.New(netErrorText(err)))
		return nil, wrote.Load(), err
	}
	defer resp.Body.Close()
	t.answered.Store(true)
	limit := t.maxBody
	if limit <= 0 {
		limit = DefaultMaxResponseBytes
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err == nil && int64(len(data)) > limit {
		err = fmt.Errorf("%w (%d bytes)", errBodyTooLarge, limit)
	}
	t.log.DebugContext(ctx, "scim request", "method", r.method, "path", r.path, "status", resp.StatusCode, "attempt", n, "duration", time.Since(began))
	audit.FromContext(ctx).Attempt(r.method, r.path, resp.StatusCode, nil)
	if err != nil {
		return nil, true, fmt.Errorf("read response: %w", err)
	}
	return &response{status: resp.StatusCode, header: resp.Header, body: data}, true, nil
}

func (t *transport) count(method string) {
	if c, ok := t.stats.requests[method]; ok {
		c.Add(1)
		return
	}
	t.stats.requests["OTHER"].Add(1)
}

// backoff returns the wait before attempt+1: exponential with full jitter, a uniformly
// random duration between 0 and min(maxDelay, baseDelay·2^(attempt-1)).
func (t *transport) backoff(attempt int) time.Duration {
	ceiling := t.maxDelay
	if attempt-1 < 31 {
		if d := t.baseDelay << (attempt - 1); d > 0 && d < ceiling {
			ceiling = d
		}
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling + 1)
}

func (t *transport) snapshot() Stats {
	s := Stats{Requests: map[string]int64{}}
	for m, c := range t.stats.requests {
		if v := c.Load(); v > 0 {
			s.Requests[m] = v
		}
	}
	s.Retries = t.stats.retries.Load()
	s.Throttled = t.stats.throttled.Load()
	s.TooManyRequests = t.stats.tooMany.Load()
	s.ServerErrors = t.stats.serverErrors.Load()
	s.NetworkErrors = t.stats.networkErrors.Load()
	s.UnknownOutcomes = t.stats.unknownOutcomes.Load()
	s.CreatesResolved = t.stats.createsResolved.Load()
	s.CreatesAdopted = t.stats.createsAdopted.Load()
	s.Replays = t.stats.replays.Load()
	s.RateLimit = t.limits.overallRate
	if v := t.limits.rates(); len(v) > 0 {
		s.VerbRateLimits = v
	}
	return s
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date; 0 when absent.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if at, err := http.ParseTime(v); err == nil && at.After(now) {
		return at.Sub(now)
	}
	return 0
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// netErrorText names a network error for the audit log without the URL, which the
// *url.Error form repeats.
func netErrorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// errBodyTooLarge is a response body beyond the transport's cap; sending again would only
// fetch it again.
var errBodyTooLarge = errors.New("the response body is larger than the client accepts")

// unreachable reports a refused connection before the host ever answered: a wrong host
// or port, or a service that is not running, which retrying for seconds would only hide.
// Once the host has answered, a refused connection is retried like any network error.
func (t *transport) unreachable(err error) bool {
	return errors.Is(err, syscall.ECONNREFUSED) && !t.answered.Load()
}

// permanent reports errors that no retry can mend: a host name that does not resolve, a
// certificate that does not verify, an HTTPS request answered in plain HTTP (a URL with
// the wrong scheme), and a response body beyond the cap.
func permanent(err error) bool {
	if errors.Is(err, errBodyTooLarge) || errors.Is(err, http.ErrSchemeMismatch) {
		return true
	}

	var dns *net.DNSError
	if errors.As(err, &dns) && dns.IsNotFound {
		return true
	}
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	var verify *tls.CertificateVerificationError
	return errors.As(err, &unknownCA) || errors.As(err, &hostname) || errors.As(err, &invalid) || errors.As(err, &verify)
}
