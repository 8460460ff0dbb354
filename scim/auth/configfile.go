package auth

import (
	"fmt"
	"sort"
	"strings"

	"gopkg.in/ini.v1"
)

// DefaultProfile is the section of ~/.databrickscfg used when no profile is selected.
const DefaultProfile = "DEFAULT"

// settingsSection is the section of ~/.databrickscfg that holds the Databricks CLI's own
// settings (default_profile), not a profile (sdk:config/config_file.go resolveProfile).
const settingsSection = "__settings__"

// configFile is a parsed ~/.databrickscfg: sections by name, each a map of keys to values.
type configFile struct {
	path     string
	sections map[string]map[string]string
	// defaultProfile is [__settings__] default_profile, "" when unset.
	defaultProfile string
}

// profileNames returns the names of the profiles (sections with keys) in sorted order, for
// error messages.
func (f *configFile) profileNames() []string {
	names := make([]string, 0, len(f.sections))
	for name, keys := range f.sections {
		if name != settingsSection && len(keys) > 0 {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	return names
}

// parseConfigFile reads ~/.databrickscfg exactly as the Databricks Go SDK v0.175.0 reads it
// (sdk:config/config_file.go LoadFile): with gopkg.in/ini.v1 and the load option
// SpaceBeforeInlineComment, so that
//
//   - keys and section names are case-sensitive: "HOST =" is a key the SDK never looks up,
//     so it is ignored;
//   - an inline comment starts at " #" or, when the line has no " #", at " ;" (a space, not
//     a tab, before the mark): "client_secret = x;y" is "x;y", "x ;y" is "x";
//   - keys before the first section belong to DEFAULT, a section named twice is merged and a
//     key set twice keeps its last value;
//   - values in double quotes, back quotes or triple quotes are unquoted by ini.v1.
//
// The SDK's issue #594 explains the option: secrets may contain '#'. Errors name the file
// but never repeat a line, which may hold a secret.
func parseConfigFile(data []byte, path string) (*configFile, error) {
	f, err := ini.LoadSources(ini.LoadOptions{SpaceBeforeInlineComment: true}, data)
	if err != nil {
		return nil, iniError(err, data, path)
	}
	cf := &configFile{path: path, sections: map[string]map[string]string{}}
	for _, s := range f.Sections() {
		cf.sections[s.Name()] = s.KeysHash()
	}
	if s, ok := cf.sections[settingsSection]; ok {
		cf.defaultProfile = strings.TrimSpace(s["default_profile"])
	}
	return cf, nil
}

// iniError turns an ini.v1 parse error, which quotes the offending line, into one that
// names the file and line number instead: the line may hold a secret.
func iniError(err error, data []byte, path string) error {
	kind, quoted, ok := strings.Cut(err.Error(), ": ")
	if !ok {
		return fmt.Errorf("%s: cannot parse Databricks config file", path)
	}
	for n, line := range strings.Split(string(data), "\n") {
		if strings.TrimSpace(line) == strings.TrimSpace(quoted) {
			return fmt.Errorf("%s:%d: %s", path, n+1, kind)
		}
	}
	return fmt.Errorf("%s: %s", path, kind)
}

// profile returns the section to read and whether it was chosen explicitly (by name, or
// by [__settings__] default_profile); DEFAULT otherwise, as the SDK's resolveProfile does.
func (f *configFile) profile(requested string) (name string, explicit bool, err error) {
	switch {
	case requested == settingsSection || (requested == "" && f.defaultProfile == settingsSection):
		return "", false, fmt.Errorf("%s: %s is a reserved section name and cannot be used as a profile", f.path, settingsSection)
	case requested != "":
		return requested, true, nil
	case f.defaultProfile != "":
		return f.defaultProfile, true, nil
	}
	return DefaultProfile, false, nil
}
