package cli

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"syscall"

	"github.com/scimsync/scimsync/scim"
	"github.com/scimsync/scimsync/scim/auth"
)

// hostHint is the hint of every error that means the host is wrong.
const hostHint = "check DATABRICKS_HOST (or target.host in the config): its scheme, name and port, and that the service is running"

// accountHint is the hint of every error that means the account id is wrong.
const accountHint = "check DATABRICKS_ACCOUNT_ID (or target.accountId in the config): the account console shows the id under the user menu, and it must be the account of DATABRICKS_HOST"

// accountPath finds the account id in an account-level URL or path.
var accountPath = regexp.MustCompile(`/accounts/([^/]+)/`)

// rootCause rewrites an error whose root cause the user can act on, so that its first
// words name that cause ("the OAuth client id and secret were rejected") rather than the
// first read that met it ("read entitlements in workspace 1: list Groups: ..."), and gives
// it its hint once. Other errors are returned as they are.
func rootCause(err error) error {
	var te *auth.TokenError
	if errors.As(err, &te) && te.Status != 0 {
		return tokenCause(te)
	}
	var se *scim.Error
	if errors.As(err, &se) {
		return scimCause(se, err)
	}
	return networkCause(err)
}

// tokenCause explains an answer of an OAuth token endpoint.
func tokenCause(te *auth.TokenError) error {
	what := fmt.Sprintf("%d %s", te.Status, http.StatusText(te.Status))
	for _, s := range []string{te.Code, te.Description} {
		if s != "" {
			what += ": " + s
		}
	}
	switch {
	case (te.Status == http.StatusBadRequest || te.Status == http.StatusUnauthorized || te.Status == http.StatusForbidden) && te.Hint != "":
		// Another auth type than OAuth client credentials: its token request says what to check.
		return &Error{
			Err:  fmt.Errorf("the token request was refused: %s (%s)", what, te.Endpoint),
			Hint: te.Hint,
		}
	case te.Status == http.StatusBadRequest || te.Status == http.StatusUnauthorized || te.Status == http.StatusForbidden:
		return &Error{
			Err:  fmt.Errorf("the OAuth client id and secret were rejected: %s (token endpoint %s)", what, te.Endpoint),
			Hint: fmt.Sprintf("check %s and %s: the service principal needs an OAuth secret valid for this account or workspace", auth.EnvClientID, auth.EnvClientSecret),
		}
	case te.Status == http.StatusNotFound:
		if m := accountPath.FindStringSubmatch(te.Endpoint); m != nil {
			return &Error{
				Err:  fmt.Errorf("account %s is unknown at %s: its OAuth token endpoint answered %s", m[1], hostOf(te.Endpoint), what),
				Hint: accountHint,
			}
		}
		return &Error{
			Err:  fmt.Errorf("%s has no OAuth endpoint: %s answered %s", hostOf(te.Endpoint), te.Endpoint, what),
			Hint: hostHint,
		}
	}
	return te
}

// scimCause explains a SCIM error answer whose cause is the credentials or the target.
func scimCause(se *scim.Error, err error) error {
	what := fmt.Sprintf("%d %s", se.Status, strings.ToLower(http.StatusText(se.Status)))
	if msg := strings.TrimSpace(se.ScimType + " " + se.Detail); msg != "" {
		what += ": " + msg
	}
	req := fmt.Sprintf("(%s %s)", se.Method, se.Path)
	switch se.Status {
	case http.StatusUnauthorized:
		cause := "the credentials were rejected"
		if se.AuthType != "" {
			cause += " (auth type " + se.AuthType + ")"
		}
		return &Error{Err: fmt.Errorf("%s: %s %s", cause, what, req), Hint: scim.RejectedHint(se.AuthType)}
	case http.StatusForbidden:
		return &Error{
			Err:  fmt.Errorf("the credentials' identity lacks permission: %s %s", what, req),
			Hint: "SCIM writes need an account admin (account level) or a workspace admin (workspace level)",
		}
	case http.StatusNotFound:
		// A list of an account's identities answers 404 only when the account is unknown.
		if m := accountPath.FindStringSubmatch(se.Path); m != nil && se.Method == http.MethodGet && isCollection(se.Path) {
			return &Error{Err: fmt.Errorf("account %s is unknown: %s %s", m[1], what, req), Hint: accountHint}
		}
	}
	return err
}

// isCollection reports whether a SCIM path names a collection, such as .../scim/v2/Users.
func isCollection(path string) bool {
	for _, c := range []string{"/Users", "/Groups", "/ServicePrincipals"} {
		if strings.HasSuffix(path, c) {
			return true
		}
	}
	return false
}

// networkCause explains a request that got no answer: a refused connection, a host name
// that does not resolve, a plain-HTTP server asked in HTTPS.
func networkCause(err error) error {
	var ue *url.Error
	var te *auth.TokenError
	where := "the host"
	if errors.As(err, &te) {
		where = hostOf(te.Endpoint)
	} else if errors.As(err, &ue) {
		where = hostOf(ue.URL)
	}
	var dns *net.DNSError
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		var op *net.OpError
		if errors.As(err, &op) && op.Addr != nil {
			where = op.Addr.String()
		}
		return &Error{Err: fmt.Errorf("connection refused by %s: nothing listens there", where), Hint: hostHint}
	case errors.As(err, &dns) && dns.IsNotFound:
		return &Error{Err: fmt.Errorf("unknown host %s: the name does not resolve", dns.Name), Hint: hostHint}
	case errors.Is(err, http.ErrSchemeMismatch):
		return &Error{
			Err:  fmt.Errorf("%s answered plain HTTP to an HTTPS request", where),
			Hint: "write DATABRICKS_HOST with its scheme: a host without one is taken as https://, and plain http:// is allowed only for loopback addresses such as the emulator's",
		}
	}
	return err
}

// hostOf returns the scheme and host of a URL, or the URL when it does not parse.
func hostOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return raw
	}
	return u.Scheme + "://" + u.Host
}
