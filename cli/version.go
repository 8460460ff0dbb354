package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// version is set at build time with -ldflags "-X github.com/scimsync/scimsync/cli.version=v1.2.3";
// without it the module version from the build info is used.
var version string

// Version returns the version of this build of scimsync: the one set at build time, the
// module version when installed with go install, or "(devel)".
func Version() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}

// versionLine is what both `scimsync version` and `scimsync --version` print:
// "scimsync <version> (<go version> <os>/<arch>)".
func versionLine() string {
	return fmt.Sprintf("scimsync %s (%s %s/%s)", Version(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Run prints the version line.
func (c *VersionCmd) Run(rt *Runtime) error {
	_, err := fmt.Fprintln(rt.IO.Out, versionLine())
	return err
}
