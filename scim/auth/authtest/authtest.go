// Package authtest holds fakes of the identity providers that Databricks authentication
// talks to, each on loopback: GitHub Actions' ID token endpoint, Entra ID's token endpoint,
// the Azure instance metadata service, and the az and databricks command-line tools as
// scripts on PATH. Tokens they issue are JWTs signed with HS256 and a key the test chooses,
// standing in for the issuers' published keys, so that the emulator can check them.
//
// Package authtest imports only the standard library; tests of scim/auth, scim, e2e and
// action use it.
package authtest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
)

// SignJWT returns a compact JWT of claims signed with HS256 and key.
func SignJWT(key []byte, claims map[string]any) string {
	enc := base64.RawURLEncoding
	header := enc.EncodeToString([]byte(`{"alg":"HS256","typ":"JWT"}`))
	body, _ := json.Marshal(claims)
	signing := header + "." + enc.EncodeToString(body)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(signing))
	return signing + "." + enc.EncodeToString(mac.Sum(nil))
}

// Claims returns the claims of a JWT without checking its signature, or nil.
func Claims(jwt string) map[string]any {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return nil
	}
	body, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return nil
	}
	var claims map[string]any
	if json.Unmarshal(body, &claims) != nil {
		return nil
	}
	return claims
}
