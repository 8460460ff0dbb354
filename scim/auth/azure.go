package auth

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"golang.org/x/oauth2"
)

// AzureDatabricksAppID is the Entra ID application of Azure Databricks: Entra tokens for
// Databricks APIs are issued for it (sdk:config/environments.go AzureApplicationID).
const AzureDatabricksAppID = "2ff814a6-3304-4ab8-85cb-cd0e6f879c1d"

// azureManagementResource is the Azure Service Management resource, whose token the SDK
// sends as X-Databricks-Azure-SP-Management-Token (sdk:config/environments.go).
const azureManagementResource = "https://management.core.windows.net/"

// The headers the SDK adds to every request of the Azure auth types
// (sdk:config/auth_azure_cli.go, sdk:config/oauth_visitors.go).
const (
	HeaderAzureManagementToken = "X-Databricks-Azure-SP-Management-Token"
	HeaderAzureResourceID      = "X-Databricks-Azure-Workspace-Resource-Id"
)

// azureEarly is how long before their expiry Entra tokens are renewed: Azure Databricks
// refuses tokens that expire within 30 seconds (sdk:config/oauth_visitors.go
// azureReuseTokenSource).
const azureEarly = 40 * time.Second

// imdsHost is the Azure instance metadata service, where managed identities get tokens.
const imdsHost = "169.254.169.254"

// azureCredentials hold an Entra ID token for Azure Databricks and, when the SDK sends one,
// a management token.
type azureCredentials struct {
	main       *cachedToken
	management *cachedToken
	// managementOptional skips the management header when its token cannot be had, as the
	// SDK does for azure-cli (a user login may not reach the management API).
	managementOptional bool
	resourceID         string
}

// Token returns the Entra ID token for Azure Databricks.
func (a *azureCredentials) Token(ctx context.Context) (Secret, error) { return a.main.Token(ctx) }

// Headers returns the management token and the workspace resource id, as the SDK sends them
// on every request.
func (a *azureCredentials) Headers(ctx context.Context) (http.Header, error) {
	h := http.Header{}
	if a.resourceID != "" {
		h.Set(HeaderAzureResourceID, a.resourceID)
	}
	tok, err := a.management.Token(ctx)
	switch {
	case err != nil && a.managementOptional:
	case err != nil:
		return nil, err
	default:
		h.Set(HeaderAzureManagementToken, tok.Reveal())
	}
	return h, nil
}

// azure builds the credentials of the Azure auth types with azidentity: a client secret
// (ClientSecretCredential), a managed identity (ManagedIdentityCredential, at the instance
// metadata service) or the Azure CLI's login (AzureCLICredential, which runs
// `az account get-access-token --resource <app>`). The authority host is
// AZURE_AUTHORITY_HOST when set (tests point it at loopback), else Entra ID's public cloud.
func (c *Config) azure(hc *http.Client) (Credentials, error) {
	opts := azcore.ClientOptions{Transport: imdsTransport{hc: hc, imds: c.AzureIMDS}}
	custom := c.AzureAuthorityHost != ""
	if custom {
		opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: c.AzureAuthorityHost}
	}
	var (
		cred     azcore.TokenCredential
		err      error
		optional bool
	)
	switch c.AuthType {
	case AuthAzureClientSecret:
		cred, err = azidentity.NewClientSecretCredential(c.AzureTenantID, c.AzureClientID, c.AzureClientSecret.Reveal(),
			&azidentity.ClientSecretCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: custom})
	case AuthAzureMSI:
		mo := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if c.AzureClientID != "" {
			mo.ID = azidentity.ClientID(c.AzureClientID)
		}
		cred, err = azidentity.NewManagedIdentityCredential(mo)
	case AuthAzureCLI:
		cred, err = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: c.AzureTenantID})
		optional = true
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", c.AuthType, err)
	}
	fetch := func(scope string) fetchFunc {
		return func(ctx context.Context) (*oauth2.Token, error) {
			at, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
			if err != nil {
				return nil, azureError(c.AuthType, err)
			}
			return &oauth2.Token{AccessToken: at.Token, TokenType: "Bearer", Expiry: at.ExpiresOn}, nil
		}
	}
	return &azureCredentials{
		main:               newCachedToken("Entra ID token for Azure Databricks", azureEarly, fetch(AzureDatabricksAppID+"/.default")),
		management:         newCachedToken("Entra ID token for Azure management", azureEarly, fetch(azureManagementResource+"/.default")),
		managementOptional: optional,
		resourceID:         c.AzureResourceID,
	}, nil
}

// azureError shortens azidentity's multi-line errors to the status and the Entra error
// code and description; neither holds a secret.
func azureError(authType string, err error) error {
	var af *azidentity.AuthenticationFailedError
	if errors.As(err, &af) && af.RawResponse != nil {
		te := &TokenError{Endpoint: af.RawResponse.Request.URL.Scheme + "://" + af.RawResponse.Request.URL.Host + af.RawResponse.Request.URL.Path,
			Status: af.RawResponse.StatusCode, Description: firstLine(af.Error())}
		if code := entraCode(af.Error()); code != "" {
			te.Description = code
		}
		switch authType {
		case AuthAzureClientSecret:
			te.Hint = "check " + EnvARMClientID + ", " + EnvARMSecret + " and " + EnvARMTenantID + ": the Entra ID application needs a valid client secret in that tenant"
		case AuthAzureMSI:
			te.Hint = "check that the managed identity is assigned to this machine and, for a user-assigned one, " + EnvARMClientID
		}
		return te
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return &TokenError{Endpoint: ue.URL, Err: ue.Err}
	}
	return fmt.Errorf("get Entra ID token (%s): %s", authType, firstLine(err.Error()))
}

// entraCode finds the AADSTS error code in an azidentity error, if any.
func entraCode(msg string) string {
	i := strings.Index(msg, "AADSTS")
	if i < 0 {
		return ""
	}
	end := i + 6
	for end < len(msg) && msg[end] >= '0' && msg[end] <= '9' {
		end++
	}
	return msg[i:end]
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return strings.TrimSpace(s[:i])
	}
	return s
}

// imdsTransport sends azidentity's requests with the SCIM client's HTTP client. When imds
// is set (tests), requests to the instance metadata service go to that loopback address
// instead of 169.254.169.254.
type imdsTransport struct {
	hc   *http.Client
	imds string
}

// Do sends r.
func (t imdsTransport) Do(r *http.Request) (*http.Response, error) {
	if t.imds != "" && r.URL.Hostname() == imdsHost {
		u, err := url.Parse(t.imds)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", EnvAzureIMDS, err)
		}
		r = r.Clone(r.Context())
		r.URL.Scheme, r.URL.Host, r.Host = u.Scheme, u.Host, u.Host
	}
	return t.hc.Do(r)
}
