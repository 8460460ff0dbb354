package cli

import (
	"strings"

	"github.com/scimsync/scimsync/emulator"
)

// orgEmulator returns an emulator set up as the account of examples/org: its workspaces
// on the hosts the example declares, and its break-glass admin owning the token. o sets
// everything else (rate limit, latency, faults).
func orgEmulator(o emulator.Options) *emulator.Server {
	o.MeUserName = "breakglass-admin@northwind.example"
	o.Workspaces = []string{"1234567890123456", "2345678901234567"}
	o.WorkspaceHosts = map[string]string{
		"1234567890123456": "https://northwind-prod.cloud.databricks.com",
		"2345678901234567": "https://northwind-ml.cloud.databricks.com",
	}
	return emulator.New(o)
}

// orgHostOverrides is the SCIMSYNC_HOST_OVERRIDES value that sends every workspace host of
// an orgEmulator to url, where it is served.
func orgHostOverrides(emu *emulator.Server, url string) string {
	var pairs []string
	for _, id := range []string{"1234567890123456", "2345678901234567"} {
		pairs = append(pairs, emu.WorkspaceHost(id)+"="+url)
	}
	return strings.Join(pairs, ",")
}
