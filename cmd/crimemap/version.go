package main

import (
	"fmt"
	"runtime/debug"
	"strings"
)

// buildVersion is what the binary knows about its own build, from the
// build info the Go toolchain embeds (runtime/debug.ReadBuildInfo): the
// module version and, when it was built from a git checkout with VCS
// stamping (the default for go build and go run of the package), the
// commit, its time and whether the tree had uncommitted changes. Nothing
// is injected with -ldflags, so every build describes itself the same way.
type buildVersion struct {
	Module    string // module path, e.g. github.com/crimemap/crimemap
	Version   string // module version; "(devel)" for a build of a checkout without a version
	Revision  string // VCS commit; "" when the build has no VCS information
	Time      string // commit time (RFC 3339); "" when unknown
	Modified  bool   // the tree had uncommitted changes
	GoVersion string // toolchain, e.g. go1.26.8
}

// readBuildVersion reads the running binary's build info.
func readBuildVersion() buildVersion {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return versionOf(nil)
	}
	return versionOf(bi)
}

// versionOf extracts the version from bi (nil: a binary without build
// info). A test binary has an empty main module version and no VCS
// settings: both read as unknown rather than as an error.
func versionOf(bi *debug.BuildInfo) buildVersion {
	v := buildVersion{Module: "github.com/crimemap/crimemap", Version: "(devel)"}
	if bi == nil {
		return v
	}
	v.GoVersion = bi.GoVersion
	if bi.Main.Path != "" {
		v.Module = bi.Main.Path
	}
	if bi.Main.Version != "" {
		v.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	return v
}

// String is what `crimemap version` and `crimemap --version` print: the
// version on the first line (for scripts: `crimemap version | head -1`),
// then the module, the revision, its time and the toolchain.
func (v buildVersion) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "crimemap %s\n", v.Version)
	fmt.Fprintf(&b, "  module    %s\n", v.Module)
	switch {
	case v.Revision == "":
		b.WriteString("  revision  unknown (built without VCS information: go test, -buildvcs=false, or outside a git checkout)\n")
	case v.Modified:
		fmt.Fprintf(&b, "  revision  %s (modified: built with uncommitted changes)\n", v.Revision)
	default:
		fmt.Fprintf(&b, "  revision  %s\n", v.Revision)
	}
	if v.Time != "" {
		fmt.Fprintf(&b, "  time      %s\n", v.Time)
	}
	if v.GoVersion != "" {
		fmt.Fprintf(&b, "  go        %s\n", v.GoVersion)
	}
	return b.String()
}

// cmdVersion prints the build's version; it takes no arguments.
func cmdVersion(env *environment, args []string) error {
	fs := env.newFlags("version", "version  (or: crimemap --version)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return errUsage
	}
	fmt.Fprint(env.stdout, readBuildVersion())
	return nil
}
