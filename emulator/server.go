package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/scimsync/scimsync/scim"
)

// HeaderWorkspaceID chooses the workspace view of the workspace tree at account level
// (§1.4, the unified-host convention of this emulator).
const HeaderWorkspaceID = "X-Databricks-Workspace-Id"

// headerOrgID is set on workspace responses (§1.4) and accepted on requests as the legacy
// name of HeaderWorkspaceID (§7).
const headerOrgID = "X-Databricks-Org-Id"

// maxBody bounds request bodies.
const maxBody = 32 << 20

// Server is the emulator. It implements http.Handler and is safe for concurrent use.
type Server struct {
	opts Options

	mu sync.RWMutex // guards st
	st *store

	tokMu       sync.Mutex
	tokens      map[string]*issued // OAuth access tokens minted, and Options.Tokens (tokens.go)
	optionToken *issued            // what Options.Token is

	limMu   sync.Mutex
	limiter *rate.Limiter
	verbLim map[string]*rate.Limiter

	rngMu       sync.Mutex
	rng         *rand.Rand // latency jitter and faults
	faults      Faults
	faultFilter func(Request) bool

	inflight    atomic.Int64
	gatewayTurn atomic.Int64 // alternates FaultGateway between 502 and 504

	logMu    sync.Mutex
	log      []Request
	counters Counters
}

// Request is one entry of the request log. Bodies and headers are not logged: they may
// carry secrets.
type Request struct {
	Method      string
	Path        string
	Query       string
	WorkspaceID string // the X-Databricks-Workspace-Id header, if any
	// Host is the host name the request was addressed to (its Host header, without port).
	Host     string
	Status   int // 0 when the connection was dropped before any response
	Time     time.Time
	Duration time.Duration
	// Fault names the injected fault (Fault503, ...), or is empty.
	Fault string
	// Throttle is "rate-limit" for a 429 of the token bucket and "concurrency" for a 500
	// of MaxConcurrent, or empty.
	Throttle string
}

// Counters summarise the request log.
type Counters struct {
	Requests int
	ByMethod map[string]int
	ByStatus map[int]int
	// TooManyRequests counts 429s of the rate limiter (not injected ones).
	TooManyRequests int
	// ConcurrencyRejected counts 500s of MaxConcurrent.
	ConcurrencyRejected int
	// FaultsInjected counts injected faults; Faults counts them by name.
	FaultsInjected int
	Faults         map[string]int
	// MaxInFlight is the largest number of SCIM and assignment requests seen in flight at
	// once.
	MaxInFlight int
}

// New returns an emulator with the built-in groups and the token owners already created.
func New(opts Options) *Server {
	opts = opts.withDefaults()
	s := &Server{
		opts:   opts,
		tokens: make(map[string]*issued),
		rng:    rand.New(rand.NewPCG(uint64(opts.Seed), 0xfa17)),
		faults: opts.Faults,
	}
	s.st = newStore(&s.opts)
	if opts.RateLimit > 0 {
		s.limiter = rate.NewLimiter(rate.Limit(opts.RateLimit), opts.Burst)
	}
	for verb, r := range opts.VerbRateLimits {
		if r > 0 {
			if s.verbLim == nil {
				s.verbLim = make(map[string]*rate.Limiter)
			}
			s.verbLim[strings.ToUpper(verb)] = rate.NewLimiter(rate.Limit(r), int(math.Ceil(r)))
		}
	}
	s.counters = newCounters()
	s.registerTokens()
	return s
}

func newCounters() Counters {
	return Counters{ByMethod: map[string]int{}, ByStatus: map[int]int{}, Faults: map[string]int{}}
}

// Options returns the options in force, with defaults filled in.
func (s *Server) Options() Options { return s.opts }

// SetFaults changes the injected faults.
func (s *Server) SetFaults(f Faults) {
	s.rngMu.Lock()
	s.faults = f
	s.rngMu.Unlock()
}

// SetFaultFilter limits injected faults to the requests for which keep returns true (nil:
// all). It is called once per SCIM or assignment request, with Method, Path and Query set,
// before a fault is drawn. Tests use it to spoil chosen attempts, such as every first
// attempt of a write.
func (s *Server) SetFaultFilter(keep func(Request) bool) {
	s.rngMu.Lock()
	s.faultFilter = keep
	s.rngMu.Unlock()
}

// Requests returns a copy of the request log.
func (s *Server) Requests() []Request {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	return append([]Request(nil), s.log...)
}

// RequestCount returns the number of requests logged, optionally only those of one method.
func (s *Server) RequestCount(method ...string) int {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	if len(method) == 0 {
		return len(s.log)
	}
	n := 0
	for _, r := range s.log {
		for _, m := range method {
			if strings.EqualFold(r.Method, m) {
				n++
			}
		}
	}
	return n
}

// Counters returns a copy of the counters.
func (s *Server) Counters() Counters {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	c := s.counters
	c.ByMethod, c.ByStatus, c.Faults = map[string]int{}, map[int]int{}, map[string]int{}
	for k, v := range s.counters.ByMethod {
		c.ByMethod[k] = v
	}
	for k, v := range s.counters.ByStatus {
		c.ByStatus[k] = v
	}
	for k, v := range s.counters.Faults {
		c.Faults[k] = v
	}
	return c
}

// Reset clears the request log and the counters. The stored objects stay.
func (s *Server) Reset() {
	s.logMu.Lock()
	s.log = nil
	s.counters = newCounters()
	s.logMu.Unlock()
}

func (s *Server) record(r Request) {
	s.logMu.Lock()
	defer s.logMu.Unlock()
	s.log = append(s.log, r)
	c := &s.counters
	c.Requests++
	c.ByMethod[r.Method]++
	c.ByStatus[r.Status]++
	if r.Fault != "" {
		c.FaultsInjected++
		c.Faults[r.Fault]++
	}
	switch r.Throttle {
	case "rate-limit":
		c.TooManyRequests++
	case "concurrency":
		c.ConcurrencyRejected++
	}
}

func (s *Server) noteInFlight(n int64) {
	s.logMu.Lock()
	if int(n) > s.counters.MaxInFlight {
		s.counters.MaxInFlight = int(n)
	}
	s.logMu.Unlock()
}

// statusWriter remembers the status a handler sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// bufferWriter holds a response so that a create can be committed and its answer dropped.
type bufferWriter struct {
	header http.Header
	status int
	body   []byte
}

func (w *bufferWriter) Header() http.Header { return w.header }
func (w *bufferWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}
func (w *bufferWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body = append(w.body, b...)
	return len(b), nil
}

// ServeHTTP answers one request. SCIM and assignment requests pass, in this order, the
// concurrency limit, the latency, the rate limiter, fault injection and authentication.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	entry := Request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery,
		WorkspaceID: r.Header.Get(HeaderWorkspaceID), Host: hostName(r.Host), Time: s.opts.Now()}
	if s.opts.OnRequest != nil {
		s.opts.OnRequest(entry)
	}
	sw := &statusWriter{ResponseWriter: w}
	logged := false
	// logNow records the request; a connection about to be dropped is logged first, so
	// that a client that sees the drop finds it in the log.
	logNow := func() {
		if logged {
			return
		}
		logged = true
		entry.Status = sw.status
		entry.Duration = time.Since(start)
		s.record(entry)
	}
	defer logNow()

	rt := s.route(r)
	if rt.kind == routeOIDC {
		s.serveOIDC(sw, r, rt)
		return
	}

	n := s.inflight.Add(1)
	defer s.inflight.Add(-1)
	s.noteInFlight(n)
	if mc := s.opts.MaxConcurrent; mc > 0 && n > int64(mc) {
		entry.Throttle = "concurrency"
		s.fail(sw, rt, &apiError{status: s.opts.ConcurrencyStatus, detail: s.limitText(rt, mc)})
		return
	}
	if err := s.sleep(r.Context()); err != nil {
		return
	}
	if ok, wait := s.throttle(r.Method, s.opts.Now()); !ok {
		entry.Throttle = "rate-limit"
		if s.opts.RetryAfter {
			sw.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		}
		s.fail(sw, rt, &apiError{status: http.StatusTooManyRequests, detail: "Too many requests. Please wait a moment and try again."})
		return
	}
	write := r.Method == http.MethodPost || r.Method == http.MethodPut || r.Method == http.MethodPatch || r.Method == http.MethodDelete
	create := rt.kind == routeSCIM && r.Method == http.MethodPost && rt.id == "" && rt.resource != "Me"
	fault, after := s.drawFault(entry, create, write)
	entry.Fault = fault
	switch fault {
	case Fault503:
		s.fail(sw, rt, &apiError{status: http.StatusServiceUnavailable, detail: "Service is temporarily unavailable."})
		return
	case FaultLimit500:
		mc := s.opts.MaxConcurrent
		if mc <= 0 {
			mc = 4
		}
		s.fail(sw, rt, &apiError{status: http.StatusInternalServerError, detail: s.limitText(rt, mc)})
		return
	case Fault429, Fault429RA:
		if fault == Fault429RA {
			sw.Header().Set("Retry-After", "1")
		}
		s.fail(sw, rt, &apiError{status: http.StatusTooManyRequests, detail: "Too many requests. Please wait a moment and try again."})
		return
	case FaultReset:
		logNow()
		resetConn(w, true)
		return
	case FaultGateway:
		status := http.StatusBadGateway
		if s.gatewayTurn.Add(1)%2 == 0 {
			status = http.StatusGatewayTimeout
		}
		writeGatewayHTML(sw, status)
		return
	}

	owner, aerr := s.authenticate(r, rt)
	if aerr != nil {
		s.fail(sw, rt, aerr)
		return
	}
	if !after {
		s.dispatch(sw, r, rt, owner)
		return
	}
	// A fault after commit: do the request, then spoil its answer. A request that failed
	// is answered as it is, without a fault.
	buf := &bufferWriter{header: make(http.Header)}
	s.dispatch(buf, r, rt, owner)
	if buf.status >= 300 {
		entry.Fault = ""
		buf.copyTo(sw)
		return
	}
	switch fault {
	case FaultCreateDrop, FaultWriteDrop:
		sw.status = buf.status
		logNow()
		resetConn(w, false)
	case FaultCommit503:
		s.fail(sw, rt, &apiError{status: http.StatusServiceUnavailable, detail: "Service is temporarily unavailable."})
	case FaultCommit504:
		writeGatewayHTML(sw, http.StatusGatewayTimeout)
	case FaultSlowCommit:
		t := time.NewTimer(s.opts.SlowCommit)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
		}
		buf.copyTo(sw)
	case FaultTruncate:
		sw.status = buf.status
		logNow()
		truncate(w, buf)
	}
}

// writeGatewayHTML answers as a gateway in front of the service does: an HTML page.
func writeGatewayHTML(w http.ResponseWriter, status int) {
	text := strconv.Itoa(status) + " " + http.StatusText(status)
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n</body>\r\n</html>\r\n", text, text)
}

// copyTo writes the buffered response to w.
func (b *bufferWriter) copyTo(w http.ResponseWriter) {
	for k, v := range b.header {
		w.Header()[k] = v
	}
	w.WriteHeader(b.status)
	_, _ = w.Write(b.body)
}

// truncate writes the buffered response's status line, headers (with the full
// Content-Length) and half its body straight to the connection, then closes it.
func truncate(w http.ResponseWriter, b *bufferWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, rw, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	defer conn.Close()
	status := b.status
	if status == 0 {
		status = http.StatusOK
	}
	fmt.Fprintf(rw, "HTTP/1.1 %d %s\r\n", status, http.StatusText(status))
	for k, vs := range b.header {
		if k == "Content-Length" {
			continue
		}
		for _, v := range vs {
			fmt.Fprintf(rw, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(rw, "Content-Length: %d\r\nConnection: close\r\n\r\n", len(b.body))
	_, _ = rw.Write(b.body[:len(b.body)/2])
	_ = rw.Flush()
}

// resetConn closes the client connection without an answer; with rst it makes the close
// send a TCP reset.
func resetConn(w http.ResponseWriter, rst bool) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	if tc, ok := conn.(*net.TCPConn); ok && rst {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func (s *Server) dispatch(w http.ResponseWriter, r *http.Request, rt route, owner int64) {
	switch rt.kind {
	case routeSCIM:
		s.serveSCIM(w, r, rt, owner)
	case routeAssign:
		s.serveAssignments(w, r, rt)
	default:
		writeRESTError(w, http.StatusNotFound, "ENDPOINT_NOT_FOUND", fmt.Sprintf("No API found for '%s %s'", r.Method, r.URL.Path))
	}
}

// limitText is Databricks' concurrency-limit text (§5.1).
func (s *Server) limitText(rt route, n int) string {
	ws := rt.view.ws
	if ws == "" {
		ws = s.opts.Workspaces[0]
	}
	return fmt.Sprintf("REQUEST_LIMIT_EXCEEDED: Workspace %s exceeded the concurrent limit of %d requests.", ws, n)
}

func (s *Server) sleep(ctx context.Context) error {
	d := s.opts.Latency
	if j := s.opts.LatencyJitter; j > 0 {
		s.rngMu.Lock()
		d += time.Duration(s.rng.Int64N(int64(j)))
		s.rngMu.Unlock()
	}
	if d <= 0 {
		return nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// throttle takes a token from the shared bucket and the method's bucket, or from neither;
// when it cannot, it reports how long the caller should wait.
func (s *Server) throttle(method string, now time.Time) (bool, time.Duration) {
	s.limMu.Lock()
	defer s.limMu.Unlock()
	var rs []*rate.Reservation
	if s.limiter != nil {
		rs = append(rs, s.limiter.ReserveN(now, 1))
	}
	if l := s.verbLim[method]; l != nil {
		rs = append(rs, l.ReserveN(now, 1))
	}
	var wait time.Duration
	for _, r := range rs {
		if d := r.DelayFrom(now); d > wait {
			wait = d
		}
	}
	if wait == 0 {
		return true, 0
	}
	for _, r := range rs {
		r.CancelAt(now)
	}
	return false, wait
}

// drawFault picks at most one of the refusals and, for requests that get past them, at
// most one fault after commit; after reports that the fault is one of the latter.
func (s *Server) drawFault(r Request, create, write bool) (string, bool) {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	f := s.faults
	if f == (Faults{}) || (s.faultFilter != nil && !s.faultFilter(r)) {
		return "", false
	}
	u := s.rng.Float64()
	for _, c := range []struct {
		p    float64
		name string
	}{{f.Rate503, Fault503}, {f.RateLimit500, FaultLimit500}, {f.Rate429, Fault429}, {f.Rate429RetryAfter, Fault429RA},
		{f.RateReset, FaultReset}, {f.RateGateway, FaultGateway}} {
		if u < c.p {
			return c.name, false
		}
		u -= c.p
	}
	u = s.rng.Float64()
	for _, c := range []struct {
		p    float64
		name string
		ok   bool
	}{{f.RateCreateDrop, FaultCreateDrop, create}, {f.RateWriteDrop, FaultWriteDrop, write},
		{f.RateCommit503, FaultCommit503, write}, {f.RateCommit504, FaultCommit504, write},
		{f.RateSlowCommit, FaultSlowCommit, write}, {f.RateTruncate, FaultTruncate, true}} {
		if u < c.p {
			if c.ok {
				return c.name, true
			}
			return "", false
		}
		u -= c.p
	}
	return "", false
}

// routeKind says which API a path belongs to.
type routeKind int

const (
	routeUnknown routeKind = iota
	routeSCIM
	routeAssign
	routeOIDC
)

// route is a parsed request path.
type route struct {
	kind     routeKind
	view     view
	resource string // SCIM: Users, Groups, ServicePrincipals, Me, or anything else (405)
	id       string // SCIM: the id segment; assignments: the principal id
	extra    bool   // SCIM: segments beyond the id (405)
	// assignments: "list", "principal" or "permissions"; "" is an unknown path
	assign string
	ws     string
	// err is answered after authentication: a wrong account id, a missing or unknown
	// workspace header.
	err *apiError
}

// route parses the request path into the API and view it addresses.
func (s *Server) route(r *http.Request) route {
	p := r.URL.Path
	account := s.st.accountLevel()
	hostWS, onWS := s.hostWorkspace(r)
	onWS = onWS && account
	switch {
	case strings.HasPrefix(p, "/oidc/"):
		return route{kind: routeOIDC}
	case strings.HasPrefix(p, "/api/2.0/preview/scim/v2"):
		// A workspace's tree is served on its own host, or with UnifiedHost on the accounts
		// host (hosts.go).
		if account && !onWS && !s.opts.UnifiedHost {
			return route{}
		}
		rt := scimRoute(strings.TrimPrefix(p, "/api/2.0/preview/scim/v2"))
		rt.view.ws = s.opts.Workspaces[0]
		if onWS {
			rt.view.ws = hostWS
		}
		h := strings.TrimSpace(r.Header.Get(HeaderWorkspaceID))
		if h == "" {
			// SDKs older than the header's rename send the legacy name (§7).
			h = strings.TrimSpace(r.Header.Get(headerOrgID))
		}
		switch {
		case account && !onWS && h == "":
			rt.err = errBadRequest("invalidValue", "The %s header is required to address a workspace on this host.", HeaderWorkspaceID)
		case h != "" && (!s.isWorkspace(h) || (onWS && h != hostWS)):
			rt.err = &apiError{status: http.StatusNotFound, detail: fmt.Sprintf("Workspace %s does not exist.", h)}
		case h != "":
			rt.view.ws = h
		}
		return rt
	case account && (onWS || s.opts.UnifiedHost) && strings.HasPrefix(p, "/api/2.0/account/scim/v2"):
		rt := scimRoute(strings.TrimPrefix(p, "/api/2.0/account/scim/v2"))
		rt.view = view{account: true}
		return rt
	}
	if onWS {
		// The account APIs are served on the accounts host only.
		return route{}
	}
	var rest string
	for _, prefix := range []string{"/api/2.0/accounts/", "/api/2.0/preview/accounts/"} {
		if strings.HasPrefix(p, prefix) {
			rest = strings.TrimPrefix(p, prefix)
		}
	}
	if rest == "" || !account {
		return route{}
	}
	acct, rest, _ := strings.Cut(rest, "/")
	var acctErr *apiError
	if acct != s.opts.AccountID {
		acctErr = &apiError{status: http.StatusNotFound, detail: fmt.Sprintf("Account %s does not exist.", acct)}
	}
	if strings.HasPrefix(rest, "scim/v2") && strings.HasPrefix(p, "/api/2.0/accounts/") {
		rt := scimRoute(strings.TrimPrefix(rest, "scim/v2"))
		rt.view = view{account: true}
		if acctErr != nil {
			rt.err = acctErr
		}
		return rt
	}
	parts := strings.Split(rest, "/")
	if len(parts) < 3 || parts[0] != "workspaces" || parts[2] != "permissionassignments" {
		return route{}
	}
	rt := route{kind: routeAssign, ws: parts[1], err: acctErr, view: view{ws: parts[1]}}
	switch {
	case len(parts) == 3:
		rt.assign = "list"
	case len(parts) == 4 && parts[3] == "permissions":
		rt.assign = "permissions"
	case len(parts) == 5 && parts[3] == "principals":
		rt.assign, rt.id = "principal", parts[4]
	}
	if rt.err == nil && !s.isWorkspace(rt.ws) {
		rt.err = &apiError{status: http.StatusNotFound, detail: fmt.Sprintf("Workspace %s does not exist.", rt.ws)}
	}
	return rt
}

// scimRoute parses the part of a SCIM path after the v2 base.
func scimRoute(rest string) route {
	rt := route{kind: routeSCIM}
	rest = strings.TrimPrefix(rest, "/")
	parts := strings.Split(rest, "/")
	rt.resource = parts[0]
	if len(parts) > 1 {
		rt.id = parts[1]
		rt.extra = len(parts) > 2 || parts[1] == ""
	}
	return rt
}

func (s *Server) isWorkspace(id string) bool {
	for _, w := range s.opts.Workspaces {
		if w == id {
			return true
		}
	}
	return false
}

// fail answers an error in the shape of the API the route belongs to.
func (s *Server) fail(w http.ResponseWriter, rt route, e *apiError) {
	if rt.kind == routeAssign || rt.kind == routeUnknown {
		writeRESTError(w, e.status, restCode(e.status), e.Error())
		return
	}
	writeSCIMError(w, e)
}

func restCode(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "INVALID_PARAMETER_VALUE"
	case http.StatusUnauthorized:
		return "UNAUTHENTICATED"
	case http.StatusForbidden:
		return "PERMISSION_DENIED"
	case http.StatusNotFound:
		return "RESOURCE_DOES_NOT_EXIST"
	case http.StatusTooManyRequests:
		return "TOO_MANY_REQUESTS"
	case http.StatusServiceUnavailable:
		return "TEMPORARILY_UNAVAILABLE"
	case http.StatusInternalServerError:
		return "INTERNAL_ERROR"
	}
	return "UNKNOWN"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"detail":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// writeSCIMError writes a SCIM error body (§5.1): status as a string, scimType only when set.
func writeSCIMError(w http.ResponseWriter, e *apiError) {
	writeJSON(w, e.status, scim.ErrorBody{
		Schemas:  []string{scim.SchemaError},
		Detail:   e.detail,
		Status:   strconv.Itoa(e.status),
		ScimType: e.scimType,
	})
}

// writeRESTError writes a Databricks REST API error body.
func writeRESTError(w http.ResponseWriter, status int, code, message string) {
	writeJSON(w, status, map[string]string{"error_code": code, "message": message})
}
