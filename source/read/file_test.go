//go:build unix

package read

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

func TestFile(t *testing.T) {
	dir := t.TempDir()
	regular := filepath.Join(dir, "users.csv")
	if err := os.WriteFile(regular, []byte("userName\nada@x.io\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.csv")
	if err := os.Symlink(regular, link); err != nil {
		t.Fatal(err)
	}
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name  string
		path  string
		limit int64
		rule  string // empty: read
		msg   string
	}{
		{"regular file", regular, 0, "", ""},
		{"symbolic link to a regular file", link, 0, "", ""},
		{"exactly at the limit", regular, 18, "", ""},
		{"over the limit", regular, 10, RuleTooLarge, "the file is 18 bytes, more than the source's limit of 10 bytes (maxFileSize)"},
		{"a FIFO does not block", fifo, 0, RuleNotAFile, "not a regular file but a named pipe (FIFO)"},
		{"a directory", dir, 0, RuleNotAFile, "not a regular file but a directory"},
		{"a device", os.DevNull, 0, RuleNotAFile, "not a regular file but a character device"},
		{"missing", filepath.Join(dir, "nope"), 0, RuleRead, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := File(tt.path, tt.limit)
			if tt.rule == "" {
				if err != nil || string(data) != "userName\nada@x.io\n" {
					t.Fatalf("got %q, %v", data, err)
				}
				return
			}
			var fe *FileError
			if !errors.As(err, &fe) || fe.Rule != tt.rule || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("got %v, want a %s error saying %q", err, tt.rule, tt.msg)
			}
			if strings.Contains(err.Error(), tt.path) {
				t.Errorf("error %q names the path, which the caller's diagnostic does", err)
			}
		})
	}
}

// TestFileProcEnviron: a source pointed at /proc/self/environ, directly or through a
// committed symbolic link, is refused before anything of it is read into a message.
func TestFileProcEnviron(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("procfs is Linux's")
	}
	const marker = "SCIMSYNC_TEST_SECRET_b1f4"
	t.Setenv("SCIMSYNC_TEST_TOKEN", marker)
	link := filepath.Join(t.TempDir(), "users.csv")
	if err := os.Symlink("/proc/self/environ", link); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/proc/self/environ", link} {
		data, err := File(p, 0)
		var fe *FileError
		if !errors.As(err, &fe) || fe.Rule != RuleNotAFile || data != nil {
			t.Fatalf("File(%s) = %d bytes, %v; want a not-a-file error", p, len(data), err)
		}
		if strings.Contains(err.Error(), marker) {
			t.Errorf("the error reveals the environment: %v", err)
		}
	}
}
