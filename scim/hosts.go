package scim

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strings"

	"github.com/scimsync/scimsync/scim/auth"
)

// EnvHostOverrides is the environment variable that holds host overrides (see
// ParseHostOverrides); the config's target.hostOverrides adds to it.
const EnvHostOverrides = "SCIMSYNC_HOST_OVERRIDES"

// ParseHostOverrides parses "HOST=URL[,HOST=URL...]": each Databricks host (such as
// https://dbc-1234.cloud.databricks.com) is reached at a loopback URL (such as
// http://127.0.0.1:8765) instead. Spaces around entries are ignored; an empty string is no
// override. The map it returns is checked by New.
func ParseHostOverrides(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, entry := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\n' }) {
		host, to, ok := strings.Cut(entry, "=")
		if !ok || host == "" || to == "" {
			return nil, fmt.Errorf("%s: entry %q is not HOST=URL", EnvHostOverrides, entry)
		}
		out[host] = to
	}
	return out, nil
}

// hostOverrides send requests for some hosts to loopback addresses, keeping the host's
// name in the Host header: this is how tests and the demo reach the emulator's workspace
// hosts (emulator/hosts.go) while scimsync addresses each workspace by its own host, as it
// does against Databricks (reference §1.2). Only loopback targets are allowed, so that an
// override can never send a token anywhere else.
type hostOverrides struct {
	base http.RoundTripper
	to   map[string]*url.URL // normalised scheme://host → loopback scheme://host:port
}

// newHostOverrides checks overrides: each key must be a host NormalizeHost accepts and
// each value a loopback http(s) URL without a path.
func newHostOverrides(base http.RoundTripper, overrides map[string]string) (*hostOverrides, error) {
	h := &hostOverrides{base: base, to: make(map[string]*url.URL, len(overrides))}
	keys := make([]string, 0, len(overrides))
	for k := range overrides {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		from, err := auth.NormalizeHost(k)
		if err != nil {
			return nil, fmt.Errorf("host override %s: %w", k, err)
		}
		v := strings.TrimSuffix(strings.TrimSpace(overrides[k]), "/")
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || !loopbackName(u.Hostname()) {
			return nil, fmt.Errorf("host override %s: %q must be a loopback URL such as http://127.0.0.1:8765 (overrides exist for tests and the emulator)", k, v)
		}
		h.to[strings.ToLower(from)] = u
	}
	return h, nil
}

func loopbackName(name string) bool {
	if strings.EqualFold(name, "localhost") {
		return true
	}
	ip := net.ParseIP(name)
	return ip != nil && ip.IsLoopback()
}

// RoundTrip sends r to its host's override, if any, with the original host in Host.
func (h *hostOverrides) RoundTrip(r *http.Request) (*http.Response, error) {
	to, ok := h.to[strings.ToLower(r.URL.Scheme+"://"+r.URL.Host)]
	if !ok {
		return h.base.RoundTrip(r)
	}
	r = r.Clone(r.Context())
	r.Host = r.URL.Host
	r.URL.Scheme, r.URL.Host = to.Scheme, to.Host
	return h.base.RoundTrip(r)
}

// withHostOverrides returns hc with its transport wrapped by the overrides, or hc itself
// when there are none.
func withHostOverrides(hc *http.Client, overrides map[string]string) (*http.Client, error) {
	if len(overrides) == 0 {
		return hc, nil
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	rt, err := newHostOverrides(base, overrides)
	if err != nil {
		return nil, err
	}
	cp := *hc
	cp.Transport = rt
	return &cp, nil
}
