// Package ldap reads users and groups from a live LDAP directory (OpenLDAP, Active
// Directory, or any LDAPv3 server) with the same mapping as LDIF exports: the entries a
// search returns become identities through source/directory.
//
// Connections are encrypted — LDAPS, or StartTLS on ldap:// — with certificate
// verification always on (a CA certificate file may be given); unencrypted ldap:// is
// accepted only to a loopback address. The bind DN and password are read from the
// environment variables the config names (by default LDAP_BIND_DN and LDAP_BIND_PASSWORD)
// and never appear in messages. Searches use the simple paged results control, so that
// directories larger than the server's size limit are read whole, and Active Directory's
// ranged attribute values (member;range=0-1499) are fetched to the end. A dial timeout and
// a per-operation timeout bound every wait, and cancelling the context closes the
// connection.
//
// Package ldap imports model, diag, config, source/read, source/directory and go-ldap.
package ldap

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source/directory"
	"github.com/scimsync/scimsync/source/read"
)

// Rules of the diagnostics this package reports, besides those of source/directory.
const (
	RuleConfig  = "ldap-config"  // the connection settings are incomplete or unsafe
	RuleConnect = "ldap-connect" // the server cannot be reached, or TLS fails
	RuleBind    = "ldap-bind"    // the bind is refused
	RuleSearch  = "ldap-search"  // a search fails
)

// Settings are the settings of an ldap source besides those of every source.
type Settings struct {
	Mapping directory.Mapping `yaml:"mapping"`
	LDAP    Connection        `yaml:"ldap"`
}

// Connection holds live LDAP connection settings. The bind DN and password are read from
// the environment variables named here, never from the file.
type Connection struct {
	URL         string        `yaml:"url"` // ldap:// or ldaps://
	StartTLS    bool          `yaml:"startTLS"`
	CACert      string        `yaml:"caCert"`
	BindDNEnv   string        `yaml:"bindDNEnv"`   // default LDAP_BIND_DN
	PasswordEnv string        `yaml:"passwordEnv"` // default LDAP_BIND_PASSWORD
	BaseDN      string        `yaml:"baseDN"`
	UserFilter  string        `yaml:"userFilter"`
	GroupFilter string        `yaml:"groupFilter"`
	PageSize    int           `yaml:"pageSize"`
	Timeout     time.Duration `yaml:"timeout"`
}

// maxCACert is the largest CA certificate file read: a bundle of a few hundred
// certificates.
const maxCACert = 4 << 20

// Defaults for Connection fields left empty.
const (
	DefaultBindDNEnv   = "LDAP_BIND_DN"
	DefaultPasswordEnv = "LDAP_BIND_PASSWORD"
	DefaultPageSize    = 500
	DefaultTimeout     = 30 * time.Second
)

// Read searches the directory a source names and maps the users and groups found. Every
// failure (dial, TLS, bind, search) is an error diagnostic naming the URL and, for binds,
// the bind DN.
func Read(ctx context.Context, src config.Source) (*read.Result, diag.List) {
	return readSource(ctx, src, os.Getenv)
}

// settings are a source's LDAP settings with defaults applied and checked.
type settings struct {
	Connection
	url      *url.URL
	display  string // the URL as shown in messages
	tls      *tls.Config
	bindDN   string
	password string
}

// readSource is Read with the environment passed in, for tests.
func readSource(ctx context.Context, src config.Source, getenv func(string) string) (*read.Result, diag.List) {
	empty := &model.State{}
	var set Settings
	diags := read.Settings(src, &set)
	mapper, md := directory.NewMapper(set.Mapping, src.Origin)
	diags = append(diags, md...)
	set.LDAP.CACert = read.Path(src, set.LDAP.CACert)
	s, sd := configure(set.LDAP, src.Origin, getenv)
	diags = append(diags, sd...)
	if len(src.Paths) > 0 {
		diags.Errorf(src.Origin, read.RuleUnusedSetting, "path is not used by ldap sources: they read the directory that ldap.url names")
	}
	if diags.HasErrors() {
		return &read.Result{State: empty}, diags
	}
	at := model.Origin{File: s.display}
	fail := func(rule, format string, args ...any) (*read.Result, diag.List) {
		if err := ctx.Err(); err != nil {
			diags.Errorf(at, rule, "read %s: %v", s.display, err)
			return &read.Result{State: empty}, diags
		}
		diags.Errorf(at, rule, format, args...)
		return &read.Result{State: empty}, diags
	}

	conn, err := dial(ctx, s)
	if err != nil {
		return fail(RuleConnect, "connect to %s: %v", s.display, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	conn.SetTimeout(s.Timeout)

	if s.StartTLS {
		if err := conn.StartTLS(s.tls); err != nil {
			return fail(RuleConnect, "StartTLS with %s: %v", s.display, err)
		}
	}
	if s.bindDN != "" {
		if err := conn.Bind(s.bindDN, s.password); err != nil {
			return fail(RuleBind, "bind to %s as %q: %v", s.display, s.bindDN, err)
		}
	}

	userFilter, groupFilter := mapper.Filters()
	if s.UserFilter != "" {
		userFilter = s.UserFilter
	}
	if s.GroupFilter != "" {
		groupFilter = s.GroupFilter
	}
	searches := []struct {
		what, base, filter string
	}{
		{"users", firstNonEmpty(set.Mapping.Users.BaseDN, s.BaseDN), userFilter},
		{"groups", firstNonEmpty(set.Mapping.Groups.BaseDN, s.BaseDN), groupFilter},
	}
	var entries []directory.Entry
	seen := map[string]bool{}
	for _, q := range searches {
		found, err := search(ctx, conn, q.base, q.filter, mapper.Attributes(), uint32(s.PageSize))
		if err != nil {
			return fail(RuleSearch, "search %s for %s under %q with filter %s: %v", s.display, q.what, q.base, q.filter, err)
		}
		for _, e := range found {
			if k := strings.ToLower(e.DN); !seen[k] {
				seen[k] = true
				entries = append(entries, convert(e, s.display))
			}
		}
	}
	state, skipped, bd := mapper.Build(entries)
	diags = append(diags, bd...)
	return &read.Result{State: state, Skipped: skipped}, diags
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

// configure checks a source's LDAP settings, applies defaults, reads the credentials from
// the environment and loads the CA certificate.
func configure(c Connection, at model.Origin, getenv func(string) string) (*settings, diag.List) {
	var diags diag.List
	s := &settings{Connection: c}
	if s.BindDNEnv == "" {
		s.BindDNEnv = DefaultBindDNEnv
	}
	if s.PasswordEnv == "" {
		s.PasswordEnv = DefaultPasswordEnv
	}
	if s.PageSize == 0 {
		s.PageSize = DefaultPageSize
	}
	if s.Timeout == 0 {
		s.Timeout = DefaultTimeout
	}
	if s.PageSize < 0 || s.Timeout < 0 {
		diags.Errorf(at, RuleConfig, "ldap.pageSize and ldap.timeout must not be negative")
	}
	if s.BaseDN == "" {
		diags.Errorf(at, RuleConfig, "ldap.baseDN is required")
	} else if _, err := goldap.ParseDN(s.BaseDN); err != nil {
		diags.Errorf(at, RuleConfig, "ldap.baseDN %q: %v", s.BaseDN, err)
	}
	for _, f := range []struct{ name, filter string }{{"userFilter", s.UserFilter}, {"groupFilter", s.GroupFilter}} {
		if f.filter == "" {
			continue
		}
		if _, err := goldap.CompileFilter(f.filter); err != nil {
			diags.Errorf(at, RuleConfig, "ldap.%s %q: %v", f.name, f.filter, err)
		}
	}
	u, err := url.Parse(s.URL)
	switch {
	case s.URL == "":
		diags.Errorf(at, RuleConfig, "ldap.url is required (ldaps://host or ldap://host with startTLS: true)")
		return s, diags
	case err != nil:
		diags.Errorf(at, RuleConfig, "ldap.url: %v", err)
		return s, diags
	case u.User != nil:
		diags.Errorf(at, RuleConfig, "ldap.url must not hold credentials: put the bind DN and password in the environment variables %s and %s",
			s.BindDNEnv, s.PasswordEnv)
		u.User = nil
	}
	s.url = u
	s.display = u.String()
	switch u.Scheme {
	case "ldaps":
		if s.StartTLS {
			diags.Errorf(at, RuleConfig, "ldap.startTLS is for ldap:// URLs; an ldaps:// connection is encrypted already")
		}
	case "ldap":
		if !s.StartTLS && !isLoopback(u.Hostname()) {
			diags.Errorf(at, RuleConfig, "%s is not encrypted: use ldaps:// or set ldap.startTLS: true (plain ldap:// is accepted only on loopback)", s.display)
		}
	default:
		diags.Errorf(at, RuleConfig, "ldap.url %q: the scheme must be ldaps or ldap", s.display)
	}
	if u.Hostname() == "" {
		diags.Errorf(at, RuleConfig, "ldap.url %q names no host", s.display)
	}
	s.tls = &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	if s.CACert != "" {
		pem, err := read.File(s.CACert, maxCACert)
		if err != nil {
			diags.Errorf(at, RuleConfig, "ldap.caCert: read %s: %v", s.CACert, err)
		} else {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				diags.Errorf(at, RuleConfig, "ldap.caCert: %s holds no PEM certificate", s.CACert)
			}
			s.tls.RootCAs = pool
		}
	}
	s.bindDN, s.password = getenv(s.BindDNEnv), getenv(s.PasswordEnv)
	switch {
	case s.bindDN != "" && s.password == "":
		diags.Errorf(at, RuleConfig, "%s is set but %s is empty; an LDAP bind with an empty password is an unauthenticated bind",
			s.BindDNEnv, s.PasswordEnv)
	case s.bindDN == "" && s.password != "":
		diags.Errorf(at, RuleConfig, "%s is set but %s is empty", s.PasswordEnv, s.BindDNEnv)
	}
	return s, diags
}

// isLoopback reports whether host is a loopback address or localhost.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// dial connects to the server, honouring the context and the timeout, and performs the
// TLS handshake of an ldaps:// URL.
func dial(ctx context.Context, s *settings) (*goldap.Conn, error) {
	port := s.url.Port()
	if port == "" {
		port = goldap.DefaultLdapPort
		if s.url.Scheme == "ldaps" {
			port = goldap.DefaultLdapsPort
		}
	}
	addr := net.JoinHostPort(s.url.Hostname(), port)
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	nd := &net.Dialer{Timeout: s.Timeout}
	if s.url.Scheme == "ldaps" {
		c, err := (&tls.Dialer{NetDialer: nd, Config: s.tls}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		conn := goldap.NewConn(c, true)
		conn.Start()
		return conn, nil
	}
	c, err := nd.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	conn := goldap.NewConn(c, false)
	conn.Start()
	return conn, nil
}

// searcher is the part of *goldap.Conn that searches use.
type searcher interface {
	Search(*goldap.SearchRequest) (*goldap.SearchResult, error)
}

// search runs a subtree search with the simple paged results control (RFC 2696), asking
// for pages of pageSize entries until the server returns an empty cookie, then completes
// the ranged attribute values of the entries found.
func search(ctx context.Context, conn searcher, base, filter string, attrs []string, pageSize uint32) ([]*goldap.Entry, error) {
	paging := goldap.NewControlPaging(pageSize)
	req := goldap.NewSearchRequest(base, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases,
		0, 0, false, filter, attrs, []goldap.Control{paging})
	var entries []*goldap.Entry
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		res, err := conn.Search(req)
		if err != nil {
			return nil, err
		}
		entries = append(entries, res.Entries...)
		p, ok := goldap.FindControl(res.Controls, goldap.ControlTypePaging).(*goldap.ControlPaging)
		if !ok || len(p.Cookie) == 0 {
			break
		}
		paging.SetCookie(p.Cookie)
	}
	for _, e := range entries {
		if err := completeRanges(ctx, conn, e); err != nil {
			return nil, err
		}
	}
	return entries, nil
}

// rangeOption matches Active Directory's range option of an attribute description:
// member;range=0-1499 or member;range=1500-*.
var rangeOption = regexp.MustCompile(`(?i)^([^;]+);range=([0-9]+)-([0-9]+|\*)$`)

// completeRanges replaces every ranged attribute of an entry (Active Directory returns at
// most 1,500 values of member at once, as member;range=0-1499) with all its values, read
// range by range with base searches on the entry.
func completeRanges(ctx context.Context, conn searcher, e *goldap.Entry) error {
	for i, a := range e.Attributes {
		m := rangeOption.FindStringSubmatch(a.Name)
		if m == nil {
			continue
		}
		name, end := m[1], m[3]
		values := append([][]byte(nil), a.ByteValues...)
		for end != "*" {
			if err := ctx.Err(); err != nil {
				return err
			}
			last, err := strconv.Atoi(end)
			if err != nil {
				return fmt.Errorf("entry %q: range %q: %w", e.DN, a.Name, err)
			}
			want := fmt.Sprintf("%s;range=%d-*", name, last+1)
			req := goldap.NewSearchRequest(e.DN, goldap.ScopeBaseObject, goldap.NeverDerefAliases,
				0, 0, false, "(objectClass=*)", []string{want}, nil)
			res, err := conn.Search(req)
			if err != nil {
				return fmt.Errorf("entry %q: read %s: %w", e.DN, want, err)
			}
			var next *goldap.EntryAttribute
			if len(res.Entries) == 1 {
				for _, ra := range res.Entries[0].Attributes {
					if rm := rangeOption.FindStringSubmatch(ra.Name); rm != nil && strings.EqualFold(rm[1], name) {
						next = ra
						end = rm[3]
						if start, _ := strconv.Atoi(rm[2]); start != last+1 {
							return fmt.Errorf("entry %q: asked for %s, got %s", e.DN, want, ra.Name)
						}
					}
				}
			}
			if next == nil {
				return fmt.Errorf("entry %q: the server returned no values for %s", e.DN, want)
			}
			values = append(values, next.ByteValues...)
		}
		e.Attributes[i] = &goldap.EntryAttribute{Name: name, ByteValues: values, Values: byteStrings(values)}
	}
	return nil
}

func byteStrings(values [][]byte) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = string(v)
	}
	return out
}

// convert turns a search result entry into a directory entry, keeping binary values
// (such as objectGUID) byte for byte.
func convert(e *goldap.Entry, origin string) directory.Entry {
	d := directory.Entry{DN: e.DN, Attrs: map[string][]string{}, Origin: model.Origin{File: origin, Entry: e.DN}}
	for _, a := range e.Attributes {
		name := a.Name
		if i := strings.Index(strings.ToLower(name), ";binary"); i >= 0 {
			name = name[:i] + name[i+len(";binary"):]
		}
		for _, v := range a.ByteValues {
			d.Add(name, string(v))
		}
	}
	return d
}
