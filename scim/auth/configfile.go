package auth

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// DefaultProfile is the section of ~/.databrickscfg used when no profile is selected.
const DefaultProfile = "DEFAULT"

// configFile is a parsed ~/.databrickscfg: sections by name, each a map of lower-cased keys
// to values.
type configFile struct {
	path     string
	sections map[string]map[string]string
}

// profileNames returns the section names in sorted order, for error messages.
func (f *configFile) profileNames() []string {
	names := make([]string, 0, len(f.sections))
	for name := range f.sections {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// parseConfigFile reads the INI dialect of ~/.databrickscfg that Databricks tools write:
//
//   - "[name]" starts a section; keys before the first section belong to DEFAULT;
//     a section named twice is merged, and a key set twice keeps its last value;
//   - "key = value" or "key: value"; keys are case-insensitive, section names are not;
//   - lines starting with '#' or ';' are comments, and so is the rest of a line from a '#'
//     or ';' that follows whitespace, unless the value is quoted;
//   - a value wrapped in matching double or single quotes has the quotes removed;
//   - a UTF-8 byte order mark and CRLF line endings are accepted.
//
// Errors name the file and line but never repeat the line, which may hold a secret.
func parseConfigFile(data []byte, path string) (*configFile, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	f := &configFile{path: path, sections: map[string]map[string]string{}}
	section := DefaultProfile
	for n, raw := range strings.Split(string(data), "\n") {
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			end := strings.IndexByte(line, ']')
			if end < 0 {
				return nil, fmt.Errorf("%s:%d: section header is missing its closing ']'", path, n+1)
			}
			if rest := strings.TrimSpace(line[end+1:]); rest != "" && rest[0] != '#' && rest[0] != ';' {
				return nil, fmt.Errorf("%s:%d: unexpected text after section header", path, n+1)
			}
			section = strings.TrimSpace(line[1:end])
			if section == "" {
				return nil, fmt.Errorf("%s:%d: empty section name", path, n+1)
			}
			if f.sections[section] == nil {
				f.sections[section] = map[string]string{}
			}
			continue
		}
		i := strings.IndexAny(line, "=:")
		if i <= 0 {
			return nil, fmt.Errorf("%s:%d: expected \"key = value\", a [section] header or a comment", path, n+1)
		}
		key := strings.ToLower(strings.TrimSpace(line[:i]))
		if f.sections[section] == nil {
			f.sections[section] = map[string]string{}
		}
		f.sections[section][key] = parseValue(strings.TrimSpace(line[i+1:]))
	}
	return f, nil
}

// parseValue unquotes a quoted value, or cuts an inline comment from an unquoted one.
func parseValue(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			return v[1 : end+1]
		}
	}
	for i := 1; i < len(v); i++ {
		if (v[i] == '#' || v[i] == ';') && (v[i-1] == ' ' || v[i-1] == '\t') {
			return strings.TrimSpace(v[:i])
		}
	}
	return v
}
