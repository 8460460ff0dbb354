package scim

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/scimsync/scimsync/scim/auth"
)

// Error is a failed SCIM (or account API) request: the HTTP status, the server's detail and
// scimType, and the request it answered. It is built from SCIM error bodies, from Databricks'
// {"error_code","message"} bodies and from bodies that are not JSON at all.
type Error struct {
	Status   int    // HTTP status code
	Detail   string // the server's explanation
	ScimType string // SCIM error type such as invalidValue or uniqueness; often empty
	Code     string // Databricks error code such as REQUEST_LIMIT_EXCEEDED, when one was sent
	Method   string // request method
	Path     string // request path, without query
	// AuthType is the auth type of the credentials sent, for the hint of a 401.
	AuthType string
}

// Error formats the failure as "METHOD path: status text: detail", followed by a hint for
// statuses where the user can do something about it.
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.Status, strings.ToLower(http.StatusText(e.Status)))
	msg := strings.TrimSpace(e.ScimType + " " + e.Detail)
	if msg != "" {
		fmt.Fprintf(&b, ": %s", msg)
	}
	if h := e.Hint(); h != "" {
		fmt.Fprintf(&b, " (%s)", h)
	}
	return b.String()
}

// Hint says what the user can do about the failure, or "" when there is nothing specific.
func (e *Error) Hint() string {
	switch e.Status {
	case http.StatusUnauthorized:
		return "the credentials were rejected: " + RejectedHint(e.AuthType)
	case http.StatusForbidden:
		return "the identity lacks permission: SCIM writes need an account admin (account level) or a workspace admin (workspace level)"
	case http.StatusTooManyRequests:
		return "Databricks throttled the requests: lower apply.rateLimit or apply.concurrency"
	case http.StatusMethodNotAllowed:
		return "the endpoint is not supported here: check the target level (account or workspace) and the host"
	}
	if e.Throttled() {
		return "Databricks throttled the requests: lower apply.rateLimit or apply.concurrency"
	}
	return ""
}

// CredentialsRejected reports a 401: the credentials were rejected, and no request sent
// with them will succeed. plan.Execute stops on it.
func (e *Error) CredentialsRejected() bool { return e.Status == http.StatusUnauthorized }

// RejectedHint says what to check when Databricks rejects the credentials of an auth type
// with a 401.
func RejectedHint(authType string) string {
	switch authType {
	case auth.AuthPAT:
		return "check DATABRICKS_TOKEN (auth type pat): that it belongs to this host, has not expired, and that its owner is still active"
	case auth.AuthOAuthM2M:
		return "check DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET (auth type oauth-m2m) and that the service principal is active in this account or workspace"
	case auth.AuthGitHubOIDC, auth.AuthEnvOIDC, auth.AuthFileOIDC:
		return "check that the service principal DATABRICKS_CLIENT_ID (auth type " + authType + ") is active in this account or workspace"
	case auth.AuthAzureClientSecret, auth.AuthAzureMSI, auth.AuthAzureCLI:
		return "check that the Entra ID application or user (auth type " + authType + ") is added to this Azure Databricks account or workspace and is active"
	case auth.AuthDatabricksCLI:
		return "log in again with `databricks auth login` for this host (auth type databricks-cli)"
	}
	return "check DATABRICKS_TOKEN or DATABRICKS_CLIENT_ID/DATABRICKS_CLIENT_SECRET, that they belong to this host, and that a token has not expired"
}

// Throttled reports whether the server refused the request for load: 429, or a SCIM 500
// whose detail says REQUEST_LIMIT_EXCEEDED.
func (e *Error) Throttled() bool {
	return e.Status == http.StatusTooManyRequests || (e.Status >= 500 && strings.Contains(e.Code+" "+e.Detail, "REQUEST_LIMIT_EXCEEDED"))
}

func hasStatus(err error, status int) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == status
}

// IsNotFound reports whether err is a SCIM 404.
func IsNotFound(err error) bool { return hasStatus(err, http.StatusNotFound) }

// IsConflict reports whether err is a SCIM 409, such as a duplicate userName.
func IsConflict(err error) bool { return hasStatus(err, http.StatusConflict) }

// IsBadRequest reports whether err is a SCIM 400.
func IsBadRequest(err error) bool { return hasStatus(err, http.StatusBadRequest) }

// IsUnauthorized reports whether err is a 401: the credentials were rejected.
func IsUnauthorized(err error) bool { return hasStatus(err, http.StatusUnauthorized) }

// IsForbidden reports whether err is a 403: the identity lacks permission.
func IsForbidden(err error) bool { return hasStatus(err, http.StatusForbidden) }

// IsThrottled reports whether err is a 429 or a REQUEST_LIMIT_EXCEEDED 500.
func IsThrottled(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Throttled()
}

var (
	codePrefix = regexp.MustCompile(`^([A-Z][A-Z_]+): (.*)$`)
	htmlPre    = regexp.MustCompile(`(?is)<pre>(.*?)</pre>`)
	htmlTitle  = regexp.MustCompile(`(?is)<title>(.*?)</title>`)
)

// maxDetail bounds the detail taken from a body that is not JSON.
const maxDetail = 300

// parseError builds an Error from a failed response. The body may be a SCIM error, a
// Databricks API error, plain text or HTML.
func parseError(method, path string, status int, body []byte) *Error {
	e := &Error{Status: status, Method: method, Path: path}
	var scimBody struct {
		ErrorBody
		Status    json.RawMessage `json:"status"` // a string in SCIM, sometimes a number
		ErrorCode string          `json:"error_code"`
		Message   string          `json:"message"`
	}
	if err := json.Unmarshal(body, &scimBody); err == nil {
		e.Detail, e.ScimType, e.Code = scimBody.Detail, scimBody.ScimType, scimBody.ErrorCode
		if e.Detail == "" {
			e.Detail = scimBody.Message
		}
		if e.Detail == "null" {
			e.Detail = "SCIM API internal error"
		}
		if e.Status == 0 {
			e.Status, _ = strconv.Atoi(strings.Trim(string(scimBody.Status), `"`))
		}
	} else {
		text := strings.TrimSpace(string(body))
		if m := htmlPre.FindStringSubmatch(text); m != nil {
			text = m[1]
		} else if m := htmlTitle.FindStringSubmatch(text); m != nil {
			text = m[1]
		}
		text = strings.Join(strings.Fields(text), " ")
		if len(text) > maxDetail {
			cut := maxDetail
			for cut > 0 && !utf8.RuneStart(text[cut]) {
				cut--
			}
			text = text[:cut] + "…"
		}
		e.Detail = text
	}
	if e.Code == "" {
		if m := codePrefix.FindStringSubmatch(e.Detail); m != nil {
			e.Code = m[1]
		}
	}
	return e
}
