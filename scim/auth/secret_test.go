package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

const secretValue = "dapi-0123456789abcdef-secret"

func TestSecretNeverPrints(t *testing.T) {
	s := NewSecret(secretValue)
	type holder struct {
		Public  Secret
		private Secret
		Ptr     *Secret
	}
	h := holder{Public: s, private: s, Ptr: &s}
	outputs := map[string]string{}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T"} {
		outputs["secret "+verb] = fmt.Sprintf(verb, s)
		outputs["holder "+verb] = fmt.Sprintf(verb, h)
		outputs["pointer "+verb] = fmt.Sprintf(verb, &h)
	}
	outputs["String"] = s.String()
	outputs["GoString"] = s.GoString()
	outputs["Sprint"] = fmt.Sprint(s, h)
	js, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	outputs["json"] = string(js)
	text, _ := s.MarshalText()
	outputs["text"] = string(text)
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("m", "secret", s, "holder", h)
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("m", "secret", s, "holder", h)
	outputs["slog"] = buf.String()
	outputs["error"] = fmt.Errorf("wrapped %v: %w", s, fmt.Errorf("inner %v", h)).Error()

	for name, out := range outputs {
		if strings.Contains(out, secretValue) || strings.Contains(out, fmt.Sprintf("%x", secretValue)) {
			t.Errorf("%s leaks the secret: %s", name, out)
		}
	}
	if got := fmt.Sprint(s); got != Redacted {
		t.Errorf("fmt.Sprint(secret) = %q, want %q", got, Redacted)
	}
	if string(js) != `{"Public":"REDACTED","Ptr":"REDACTED"}` {
		t.Errorf("json = %s", js)
	}
	if !strings.Contains(outputs["slog"], "secret=REDACTED") || !strings.Contains(outputs["slog"], `"secret":"REDACTED"`) {
		t.Errorf("slog output does not show REDACTED: %s", outputs["slog"])
	}
	if s.Reveal() != secretValue {
		t.Errorf("Reveal = %q", s.Reveal())
	}
}

func TestEmptySecret(t *testing.T) {
	var s Secret
	if !s.IsZero() || s.String() != "" || s.Reveal() != "" || !NewSecret("").IsZero() {
		t.Errorf("zero secret: IsZero=%v String=%q Reveal=%q", s.IsZero(), s.String(), s.Reveal())
	}
	if !NewSecret("a").Equal(NewSecret("a")) || NewSecret("a").Equal(NewSecret("b")) {
		t.Error("Equal compares values")
	}
}

func TestConfigDumpShowsAuthTypeNotSecrets(t *testing.T) {
	for _, vars := range []map[string]string{
		{EnvHost: "https://accounts.cloud.databricks.com", EnvAccountID: "acc", EnvClientID: "my-client", EnvClientSecret: secretValue},
		{EnvHost: "https://dbc.cloud.databricks.com", EnvToken: secretValue},
	} {
		c, err := Resolve(Settings{}, testEnv(t, vars, ""))
		if err != nil {
			t.Fatal(err)
		}
		js, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		slog.New(slog.NewTextHandler(&buf, nil)).Info("config", "auth", c)
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "auth", c, "value", *c)
		for name, out := range map[string]string{
			"String": c.String(), "%+v": fmt.Sprintf("%+v", *c), "%#v": fmt.Sprintf("%#v", c),
			"json": string(js), "slog": buf.String(),
		} {
			if strings.Contains(out, secretValue) {
				t.Errorf("%s leaks the secret: %s", name, out)
			}
		}
		if !strings.Contains(c.String(), "auth_type="+c.AuthType) || !strings.Contains(buf.String(), "auth.auth_type="+c.AuthType) {
			t.Errorf("dump does not name the auth type %s:\n%s\n%s", c.AuthType, c.String(), buf.String())
		}
	}
}
