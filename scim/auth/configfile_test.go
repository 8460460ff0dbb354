package auth

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParseConfigFile pins the quirks of ~/.databrickscfg as the Databricks Go SDK v0.175.0
// reads it: gopkg.in/ini.v1 with SpaceBeforeInlineComment (sdk:config/config_file.go).
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
			want: map[string]map[string]string{"DEFAULT": {}, "p": {"host": "https://h"}},
		},
		"keys before any section belong to DEFAULT": {
			in:   "host = https://h\n[x]\ntoken = t\n",
			want: map[string]map[string]string{"DEFAULT": {"host": "https://h"}, "x": {"token": "t"}},
		},
		"keys and section names are case-sensitive: HOST is not host": {
			in:   "[Prod]\nHOST = https://h\n[prod]\nHost = https://other\nhost = https://lower\n",
			want: map[string]map[string]string{"DEFAULT": {}, "Prod": {"HOST": "https://h"}, "prod": {"Host": "https://other", "host": "https://lower"}},
		},
		"a semicolon or hash without a space before it is part of the value": {
			in:   "[p]\nclient_secret = x;y\ntoken = abc#def\n",
			want: map[string]map[string]string{"DEFAULT": {}, "p": {"client_secret": "x;y", "token": "abc#def"}},
		},
		"a space before ; or # starts a comment": {
			in:   "[p]\nclient_secret = x ;y\ntoken = t # comment\n",
			want: map[string]map[string]string{"DEFAULT": {}, "p": {"client_secret": "x", "token": "t"}},
		},
		"a tab before # is not a space": {
			in:   "[p]\ntoken = t\t#not a comment\n",
			want: map[string]map[string]string{"DEFAULT": {}, "p": {"token": "t\t#not a comment"}},
		},
		"' #' is looked for before ' ;'": {
			in:   "[p]\ntoken = a ;b #c\n",
			want: map[string]map[string]string{"DEFAULT": {}, "p": {"token": "a ;b"}},
		},
		"double quotes are removed": {
			in:   "[p]\ntoken = \"a;b\"\n",
			want: map[string]map[string]string{"DEFAULT": {}, "p": {"token": "a;b"}},
		},
		"double quotes do not protect ' #' (ini.v1 v1.67.0, the SDK's version)": {
			in:   "[p]\ntoken = \"a # b\"\n",
			want: map[string]map[string]string{"DEFAULT": {}, "p": {"token": "\"a"}},
		},
		"values may contain = and :": {
			in:   "[p]\nhost = https://h:8443/x?a=b\ntoken: colon=form\n",
			want: map[string]map[string]string{"DEFAULT": {}, "p": {"host": "https://h:8443/x?a=b", "token": "colon=form"}},
		},
		"a section named twice is merged and the last value wins": {
			in:   "[p]\nhost = one\ntoken = t\n[q]\n[p]\nhost = two\n",
			want: map[string]map[string]string{"DEFAULT": {}, "p": {"host": "two", "token": "t"}, "q": {}},
		},
		"empty values": {
			in:   "[my profile]\ntoken =\n",
			want: map[string]map[string]string{"DEFAULT": {}, "my profile": {"token": ""}},
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
	tests := map[string]struct{ in, want string }{
		"unclosed section":       {"[p\nhost = x\n", "cfg:1: unclosed section"},
		"line without delimiter": {"[p]\nhost = x\ntoken very-secret\n", "cfg:3: key-value delimiter not found"},
		"missing key":            {"[p]\n= very-secret\n", "cfg:2: empty key name"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			_, err := parseConfigFile([]byte(tc.in), "cfg")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tc.want)
			}
			if strings.Contains(err.Error(), "very-secret") {
				t.Errorf("error repeats the line: %v", err)
			}
		})
	}
}

func TestConfigFileProfile(t *testing.T) {
	f, err := parseConfigFile([]byte("[__settings__]\ndefault_profile = prod\n[prod]\nhost = h\n"), "cfg")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		requested, want string
		explicit        bool
	}{{"", "prod", true}, {"other", "other", true}} {
		got, explicit, err := f.profile(tc.requested)
		if err != nil || got != tc.want || explicit != tc.explicit {
			t.Errorf("profile(%q) = %q, %v, %v; want %q, %v", tc.requested, got, explicit, err, tc.want, tc.explicit)
		}
	}
	if _, _, err := f.profile("__settings__"); err == nil {
		t.Error("the reserved __settings__ section was accepted as a profile")
	}
	if got := f.profileNames(); !cmp.Equal(got, []string{"prod"}) {
		t.Errorf("profileNames = %v", got)
	}
}
