package e2e

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/scimsync/scimsync/emulator"
	"github.com/scimsync/scimsync/scim/auth"
	"github.com/scimsync/scimsync/scim/auth/authtest"
)

// Secrets of the identity-provider fakes, distinctive so that any trace is found.
const (
	entraTenant       = "tenant-7b1e"
	entraSecret       = "ARM-SECRET-c81f0e22d4"
	githubSubject     = "repo:northwind/identities:ref:refs/heads/main"
	idpSigningKeyText = "idp-signing-key-for-tests"
)

// otherIssuer is the issuer of env-oidc and file-oidc ID tokens: another CI.
const otherIssuer = "https://ci.northwind.example"

// exchangeCount counts the token requests the emulator answered.
func exchangeCount(srv *emulator.TestServer) int {
	n := 0
	for _, r := range srv.Requests() {
		if strings.HasSuffix(r.Path, "/v1/token") && r.Status == 200 {
			n++
		}
	}
	return n
}

// authCase is one auth type run by the binary against the emulator and the fakes.
type authCase struct {
	authType string
	env      []string
	files    map[string]string
	// refreshes returns how many times the credentials were renewed during the runs.
	refreshes func() int
	// secrets must appear in no output.
	secrets []string
}

// TestAuthTypesAgainstFakes runs plan and export with every auth type that needs an
// identity provider or an ID token (pat and oauth-m2m are TestSecretsStayOut's), at debug log level, against the emulator (which accepts the tokens of
// those providers) and loopback fakes of the providers: each run must authenticate with a
// token of that type (the emulator refuses anything else), renew it when it expires, log
// the auth type, and print no token, secret or ID token anywhere.
func TestAuthTypesAgainstFakes(t *testing.T) {
	key := []byte(idpSigningKeyText)
	for _, name := range []string{"github-oidc", "env-oidc", "file-oidc", "azure-client-secret", "azure-client-secret-profile", "azure-msi", "azure-cli", "databricks-cli"} {
		t.Run(name, func(t *testing.T) {
			opts := emulator.Options{
				TokenTTL: 5 * time.Second, // within the client's 10 s margin: renewed on every request
				Federation: []emulator.FederationPolicy{
					{Issuer: authtest.GitHubIssuer, Subject: githubSubject, Key: key, ServicePrincipal: emulator.DefaultClientID},
					{Issuer: otherIssuer, Subject: "pipeline:identities", Key: key, ServicePrincipal: emulator.DefaultClientID},
				},
				Entra: &emulator.EntraTrust{Tenant: entraTenant, Key: key},
			}
			// A workspace's token is exchanged at its own token endpoint, which is then the
			// ID token's audience (reference §7): the policy accepts those audiences too.
			for _, id := range exampleWorkspaces {
				opts.Federation = append(opts.Federation, emulator.FederationPolicy{Issuer: authtest.GitHubIssuer, Subject: githubSubject,
					Key: key, ServicePrincipal: emulator.DefaultClientID, Audience: exampleHosts[id] + "/oidc/v1/token"})
			}
			a := newAccount(t, opts, map[string]string{"u.yaml": "users:\n  - userName: auth-test@northwind.example\n"})
			o := a.srv.Options()
			base := []string{"HOME=" + a.dir, "DATABRICKS_HOST=" + a.srv.URL, "DATABRICKS_ACCOUNT_ID=" + o.AccountID, overridesEnv(a.srv)}
			c := authCase{authType: strings.TrimSuffix(name, "-profile")}
			switch name {
			case "github-oidc":
				gh := authtest.NewGitHubOIDC(t, key, githubSubject)
				c.env = []string{"DATABRICKS_CLIENT_ID=" + o.ClientID, "ACTIONS_ID_TOKEN_REQUEST_URL=" + gh.URL, "ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + gh.RequestToken}
				c.refreshes = gh.Requests
				c.secrets = []string{gh.RequestToken, "eyJ"} // eyJ starts every JWT
			case "env-oidc", "file-oidc":
				// Another CI's ID token, for the account (audience: the account id).
				jwt := authtest.SignJWT(key, map[string]any{"iss": otherIssuer, "sub": "pipeline:identities", "aud": o.AccountID, "exp": time.Now().Add(time.Hour).Unix()})
				c.env = []string{"DATABRICKS_CLIENT_ID=" + o.ClientID}
				if name == "env-oidc" {
					c.env = append(c.env, "DATABRICKS_OIDC_TOKEN="+jwt)
				} else {
					c.files = map[string]string{"ci-id-token": jwt}
					// The file path and the client id are two methods to the SDK: the auth type picks.
					c.env = append(c.env, "DATABRICKS_AUTH_TYPE=file-oidc", "DATABRICKS_OIDC_TOKEN_FILEPATH="+filepath.Join(a.dir, "ci-id-token"))
				}
				c.refreshes = func() int { return exchangeCount(a.srv) }
				c.secrets = []string{"eyJ"}
			case "azure-client-secret", "azure-client-secret-profile":
				entra := authtest.NewEntra(t, key, entraTenant, o.ClientID, entraSecret)
				entra.TTL = 30 * time.Second
				c.env = []string{"ARM_CLIENT_ID=" + o.ClientID, "ARM_CLIENT_SECRET=" + entraSecret, "ARM_TENANT_ID=" + entraTenant,
					"AZURE_AUTHORITY_HOST=" + entra.AuthorityHost, "SSL_CERT_FILE=" + entra.CertFile}
				if name == "azure-client-secret" {
					c.env = append(c.env, "DATABRICKS_AUTH_TYPE=azure-client-secret")
				} else {
					// The reference's example: a profile names the auth type, ARM_* hold the secret.
					base = []string{"HOME=" + a.dir, "DATABRICKS_CONFIG_PROFILE=azure", overridesEnv(a.srv)}
					c.files = map[string]string{".databrickscfg": "[azure]\nhost = " + a.srv.URL + "\naccount_id = " + o.AccountID + "\nauth_type = azure-client-secret\n"}
				}
				c.refreshes = func() int { return entra.Requests(auth.AzureDatabricksAppID) }
				c.secrets = []string{entraSecret, "eyJ"}
			case "azure-msi":
				imds := authtest.NewIMDS(t, key, entraTenant, o.ClientID)
				imds.TTL = 30 * time.Second
				c.env = []string{"DATABRICKS_AUTH_TYPE=azure-msi", "ARM_USE_MSI=true", "ARM_CLIENT_ID=" + o.ClientID, "SCIMSYNC_AZURE_IMDS_ENDPOINT=" + imds.URL}
				c.refreshes = func() int { return imds.Requests(auth.AzureDatabricksAppID) }
				c.secrets = []string{"eyJ"}
			case "azure-cli":
				user := authtest.SignJWT(key, map[string]any{"tid": entraTenant, "aud": auth.AzureDatabricksAppID, "upn": exampleAdmin, "exp": time.Now().Add(time.Hour).Unix()})
				az := authtest.FakeAz(t, user, "management-token-3e9a", auth.AzureDatabricksAppID, 30*time.Second)
				c.env = []string{"DATABRICKS_AUTH_TYPE=azure-cli", "PATH=" + az.Dir + ":/usr/bin:/bin"}
				c.refreshes = func() int { return len(az.Calls()) }
				c.secrets = []string{"eyJ", "management-token-3e9a"}
			case "databricks-cli":
				// A login per host, as `databricks auth login` makes them: the account's and each
				// workspace's; each token is accepted on its own host only.
				u, _ := url.Parse(a.srv.URL)
				tok, err := a.srv.IssueToken(emulator.TokenSpec{Kind: emulator.TokenOAuth, Owner: exampleAdmin, Host: u.Host})
				if err != nil {
					t.Fatal(err)
				}
				perHost := map[string]string{"": tok}
				for _, host := range exampleHosts {
					wu, _ := url.Parse(host)
					wtok, err := a.srv.IssueToken(emulator.TokenSpec{Kind: emulator.TokenOAuth, Owner: exampleAdmin, Host: wu.Host})
					if err != nil {
						t.Fatal(err)
					}
					perHost[host] = wtok
					c.secrets = append(c.secrets, wtok)
				}
				cli := authtest.FakeDatabricksCLI(t, "v0.296.0", perHost, 5*time.Second)
				// The login that lets databricks-cli be chosen without an auth type.
				authtest.WriteCLITokenCache(t, a.dir, a.srv.URL+"/oidc/accounts/"+o.AccountID, tok, time.Now().Add(time.Hour))
				c.env = []string{"PATH=" + cli.Dir + ":/usr/bin:/bin"}
				c.refreshes = func() int { return len(cli.Calls()) }
				c.secrets = append(c.secrets, tok)
			}
			a.write(t, c.files)
			a.env = append(base, c.env...)
			var outputs []string
			for _, args := range [][]string{
				{"--log-level", "debug", "plan", "-o", "plan.json", "--detailed-exitcode"},
				{"--log-level", "debug", "--log-format", "json", "export", "-o", "snapshot.json"},
			} {
				want := 0
				if args[2] == "plan" {
					want = 2
				}
				r := a.run(t, args...)
				if r.code != want {
					t.Fatalf("scimsync %s: want exit %d, got %s", strings.Join(args, " "), want, r)
				}
				if !strings.Contains(r.stderr, "auth_type="+c.authType) && !strings.Contains(r.stderr, `"auth_type":"`+c.authType+`"`) {
					t.Errorf("scimsync %s: the log does not name auth type %s:\n%s", args[2], c.authType, r.stderr)
				}
				outputs = append(outputs, "scimsync "+strings.Join(args, " ")+"\n"+r.stdout+r.stderr)
			}
			t.Logf("%s: credentials fetched %d times", name, c.refreshes())
			if n := c.refreshes(); n < 3 {
				t.Errorf("the credentials were fetched %d times over two runs of tokens close to expiry; want them renewed on expiry", n)
			}
			for _, f := range []string{"plan.json", "snapshot.json"} {
				data, err := os.ReadFile(filepath.Join(a.dir, f))
				if err != nil {
					t.Fatal(err)
				}
				outputs = append(outputs, f+"\n"+string(data))
			}
			for _, out := range outputs {
				title, _, _ := strings.Cut(out, "\n")
				for _, s := range append(c.secrets, emulator.DefaultClientSecret, idpSigningKeyText) {
					if strings.Contains(out, s) {
						t.Errorf("%s holds the secret %q", title, s)
					}
				}
			}
		})
	}
}
