package authtest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Tool is a fake command-line tool: a shell script in Dir, for PATH, that appends its
// arguments to a log and prints a canned answer.
type Tool struct {
	// Dir holds the script; put it on PATH.
	Dir string
	log string
}

// Calls returns the argument lists the tool was run with, one string each.
func (t *Tool) Calls() []string {
	data, err := os.ReadFile(t.log)
	if err != nil {
		return nil
	}
	return strings.Split(strings.TrimSpace(string(data)), "\n")
}

// writeTool writes script as dir/name and returns the Tool.
func writeTool(t testing.TB, name, script string) *Tool {
	t.Helper()
	dir := t.TempDir()
	tool := &Tool{Dir: dir, log: filepath.Join(dir, name+".calls")}
	body := "#!/bin/sh\necho \"$*\" >> '" + tool.log + "'\n" + script
	if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return tool
}

// FailingTool writes a tool name that prints message to standard error and exits 1, as a
// CLI whose login is missing or expired does.
func FailingTool(t testing.TB, name, message string) *Tool {
	return writeTool(t, name, "echo '"+message+"' >&2\nexit 1\n")
}

// FakeAz writes an az that answers `az account get-access-token --resource R` as the Azure
// CLI does: mainToken for the Azure Databricks application, managementToken for any other
// resource (the management API), each with expiresOn and expires_on ttl from now.
func FakeAz(t testing.TB, mainToken, managementToken string, databricksAppID string, ttl time.Duration) *Tool {
	exp := time.Now().Add(ttl)
	answer := func(tok string) string {
		return fmt.Sprintf(`{"accessToken": "%s", "expiresOn": "%s", "expires_on": %d, "subscription": "sub", "tenant": "tid", "tokenType": "Bearer"}`,
			tok, exp.Local().Format("2006-01-02 15:04:05.000000"), exp.Unix())
	}
	return writeTool(t, "az", `case "$*" in
  *"account get-access-token"*"--resource `+databricksAppID+`"*) echo '`+answer(mainToken)+`' ;;
  *"account get-access-token"*) echo '`+answer(managementToken)+`' ;;
  *) echo "ERROR: unexpected arguments" >&2; exit 2 ;;
esac
`)
}

// FakeDatabricksCLI writes a databricks CLI of the given version ("v0.296.0") whose
// `auth token` prints a token with an expiry ttl from now, as `databricks auth token` prints
// the token of its cache (~/.databricks/token-cache.json): tokens["https://HOST"] for
// --host https://HOST, tokens[""] otherwise (--profile, or a host without a token of its
// own).
func FakeDatabricksCLI(t testing.TB, version string, tokens map[string]string, ttl time.Duration) *Tool {
	exp := time.Now().Add(ttl).UTC().Format(time.RFC3339Nano)
	answer := func(tok string) string {
		return `echo '{"access_token": "` + tok + `", "token_type": "Bearer", "expiry": "` + exp + `"}'`
	}
	var cases strings.Builder
	for host, tok := range tokens {
		if host != "" {
			fmt.Fprintf(&cases, "      *\" --host %s \"*) %s ;;\n", host, answer(tok))
		}
	}
	return writeTool(t, "databricks", `case "$1" in
  version) echo "Databricks CLI `+version+`" ;;
  auth)
    case " $* " in
`+cases.String()+`      *) `+answer(tokens[""])+` ;;
    esac ;;
  *) echo "Error: unknown command" >&2; exit 1 ;;
esac
`)
}

// WriteCLITokenCache writes the Databricks CLI's token cache, home/.databricks/token-cache.json,
// as `databricks auth login` leaves it: the token of key (a host, or host/oidc/accounts/ID
// for an account) with a refresh token and its expiry.
func WriteCLITokenCache(t testing.TB, home, key, token string, expiry time.Time) {
	t.Helper()
	dir := filepath.Join(home, ".databricks")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`{"version": 1, "tokens": {%q: {"access_token": %q, "token_type": "Bearer", "refresh_token": "refresh-%s", "expiry": %q}}}`,
		key, token, token, expiry.UTC().Format(time.RFC3339Nano))
	if err := os.WriteFile(filepath.Join(dir, "token-cache.json"), []byte(body+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}
