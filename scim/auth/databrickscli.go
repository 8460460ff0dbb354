package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"golang.org/x/mod/semver"
	"golang.org/x/oauth2"

	"github.com/scimsync/scimsync/model"
)

// The Databricks CLI versions that added the flags the SDK passes
// (sdk:config/cli_token_source.go).
const (
	cliVersionForProfile      = "v0.207.1"
	cliVersionForForceRefresh = "v0.296.0"
)

// databricksCLICredentials run `databricks auth token`, as the SDK's databricks-cli
// strategy does: with --profile for the configured profile's own host when the CLI knows
// the flag, else with --host (and --account-id for an account), and --force-refresh when
// the CLI knows it, so that a token close to expiry in the CLI's cache
// (~/.databricks/token-cache.json) is refreshed by the CLI.
func (c *Config) databricksCLICredentials(host string, home bool) (Credentials, error) {
	path, err := c.lookPath(c.databricksCLI())
	if err != nil {
		return nil, fmt.Errorf("databricks-cli: %w", err)
	}
	var version string
	args := func(ctx context.Context) []string {
		if version == "" {
			version = cliVersion(ctx, path)
		}
		var a []string
		if home && c.Profile != "" && semver.Compare(version, cliVersionForProfile) >= 0 {
			a = []string{"auth", "token", "--profile", c.Profile}
		} else {
			a = []string{"auth", "token", "--host", host}
			if home && c.Level == model.LevelAccount {
				a = append(a, "--account-id", c.AccountID)
			}
		}
		if semver.Compare(version, cliVersionForForceRefresh) >= 0 {
			a = append(a, "--force-refresh")
		}
		return a
	}
	fetch := func(ctx context.Context) (*oauth2.Token, error) {
		cmd := exec.CommandContext(ctx, path, args(ctx)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			msg := firstLine(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return nil, fmt.Errorf("databricks auth token: %s (log in with `databricks auth login --host %s`)", msg, host)
		}
		var resp struct {
			AccessToken string `json:"access_token"`
			TokenType   string `json:"token_type"`
			Expiry      string `json:"expiry"`
		}
		if err := json.Unmarshal(out, &resp); err != nil {
			return nil, errors.New("databricks auth token: the output is not the JSON of a token")
		}
		expiry, err := parseCLIExpiry(resp.Expiry)
		if err != nil {
			return nil, fmt.Errorf("databricks auth token: %w", err)
		}
		return &oauth2.Token{AccessToken: resp.AccessToken, TokenType: resp.TokenType, Expiry: expiry}, nil
	}
	return newCachedToken("Databricks token from the Databricks CLI", 10*time.Second, fetch), nil
}

// cliVersion returns the CLI's version ("v0.296.0"), or "" when it cannot be told; the
// SDK then falls back to the flags every version knows.
func cliVersion(ctx context.Context, path string) string {
	out, err := exec.CommandContext(ctx, path, "version").Output()
	if err != nil {
		return ""
	}
	v := strings.TrimPrefix(strings.TrimSpace(string(out)), "Databricks CLI ")
	if !semver.IsValid(v) {
		return ""
	}
	return v
}

// parseCLIExpiry reads the expiry the CLI prints: RFC 3339, or "2006-01-02 15:04:05" with
// optional fractions (sdk:config/cli_token_source.go parseExpiry).
func parseCLIExpiry(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("cannot parse the token expiry %q", s)
}
