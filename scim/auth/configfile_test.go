package auth

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseConfigFile(t *testing.T) {
	tests := map[string]struct {
		in   string
		want map[string]map[string]string
	}{
		"default and named profiles": {
			in: "[DEFAULT]\nhost = https://a.cloud.databricks.com\ntoken = dapi1\n\n[prod]\nhost=https://accounts.cloud.databricks.com\naccount_id = 42\n",
			want: map[string]map[string]string{
				"DEFAULT": {"host": "https://a.cloud.databricks.com", "token": "dapi1"},
				"prod":    {"host": "https://accounts.cloud.databricks.com", "account_id": "42"},
			},
		},
		"comments, blank lines, CRLF and BOM": {
			in:   "\xef\xbb\xbf# leading comment\r\n; another\r\n\r\n[p]\r\n  host =  https://h  \r\n# token = nope\r\n",
			want: map[string]map[string]string{"p": {"host": "https://h"}},
		},
		"keys before any section belong to DEFAULT": {
			in:   "host = https://h\n[x]\ntoken = t\n",
			want: map[string]map[string]string{"DEFAULT": {"host": "https://h"}, "x": {"token": "t"}},
		},
		"keys are case-insensitive, section names are not": {
			in:   "[Prod]\nHOST = https://h\n[prod]\nHost = https://other\n",
			want: map[string]map[string]string{"Prod": {"host": "https://h"}, "prod": {"host": "https://other"}},
		},
		"inline comments need whitespace before them": {
			in:   "[p]\nclient_secret = abc#def;ghi ; trailing comment\ntoken = t # comment\n",
			want: map[string]map[string]string{"p": {"client_secret": "abc#def;ghi", "token": "t"}},
		},
		"quoted values keep everything inside the quotes": {
			in:   "[p]\ntoken = \"a # b ; c\"\nclient_id = 'single'\n",
			want: map[string]map[string]string{"p": {"token": "a # b ; c", "client_id": "single"}},
		},
		"values may contain = and :": {
			in:   "[p]\nhost = https://h:8443/x?a=b\ntoken: colon=form\n",
			want: map[string]map[string]string{"p": {"host": "https://h:8443/x?a=b", "token": "colon=form"}},
		},
		"a section named twice is merged and the last value wins": {
			in:   "[p]\nhost = one\ntoken = t\n[q]\n[p]\nhost = two\n",
			want: map[string]map[string]string{"p": {"host": "two", "token": "t"}, "q": {}},
		},
		"empty values and sections with spaces in their names": {
			in:   "[ my profile ]\ntoken =\n",
			want: map[string]map[string]string{"my profile": {"token": ""}},
		},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			f, err := parseConfigFile([]byte(tc.in), "cfg")
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, f.sections); diff != "" {
				t.Errorf("sections (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseConfigFileErrors(t *testing.T) {
	tests := map[string]struct {
		in, want string
	}{
		"unclosed section":       {"[p\nhost = h\n", "cfg:1: section header is missing its closing ']'"},
		"empty section":          {"[]\n", "cfg:1: empty section name"},
		"text after section":     {"[p] junk\n", "cfg:1: unexpected text after section header"},
		"line without delimiter": {"[p]\nhost = h\ndapi-secret-value\n", "cfg:3: expected"},
		"missing key":            {"[p]\n= value\n", "cfg:2: expected"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfigFile([]byte(tc.in), "cfg")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "dapi-secret-value") {
				t.Errorf("error repeats the offending line: %v", err)
			}
		})
	}
}
