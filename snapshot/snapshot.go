// Package snapshot reads and writes snapshot files: the live state of a Databricks account
// or workspace at one moment, with the SCIM ids of its objects, as versioned JSON documented
// by schemas/snapshot.schema.json. `scimsync export --format snapshot` writes them, for
// backups and for `scimsync drift --snapshot`, which compares sources with a snapshot
// without any network access.
//
// Package snapshot imports model only.
package snapshot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/scimsync/scimsync/model"
)

// FormatVersion is the version of the snapshot format this build writes and reads. It
// changes whenever a field's meaning changes; Read refuses any other version.
const FormatVersion = 1

// Snapshot is the content of a snapshot file.
type Snapshot struct {
	FormatVersion int       `json:"formatVersion"`
	ToolVersion   string    `json:"toolVersion"`
	TakenAt       time.Time `json:"takenAt"`
	Target        Target    `json:"target"`
	// Identity is the identity that owns the credentials the state was read with, when it
	// is known; drift protects it as a plan would.
	Identity *model.Ref `json:"identity,omitempty"`
	// State is the live state: every user, service principal and group with its SCIM id
	// (built-in groups included), and the workspaces that were read, each with its
	// assignments and per-workspace entitlements.
	State model.State `json:"state"`
}

// Target names the account or workspace a snapshot was read from.
type Target struct {
	Level       model.Level `json:"level"`
	Host        string      `json:"host"`
	AccountID   string      `json:"accountId,omitempty"`
	WorkspaceID string      `json:"workspaceId,omitempty"`
}

// Write writes a snapshot file: indented JSON with the state normalised.
func Write(w io.Writer, s *Snapshot) error {
	c := *s
	c.FormatVersion = FormatVersion
	c.TakenAt = c.TakenAt.UTC()
	c.State.Normalize()
	out, err := json.MarshalIndent(&c, "", "  ")
	if err != nil {
		return fmt.Errorf("encode snapshot: %w", err)
	}
	_, err = w.Write(append(out, '\n'))
	return err
}

// ErrVersion is returned for a snapshot file of another format version.
var ErrVersion = errors.New("unsupported snapshot format version")

// Read reads a snapshot file. It refuses other format versions, unknown fields, trailing
// data and objects without a SCIM id, and returns the state normalised.
func Read(r io.Reader) (*Snapshot, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<30))
	if err != nil {
		return nil, fmt.Errorf("read snapshot: %w", err)
	}
	var head struct {
		FormatVersion *int `json:"formatVersion"`
	}
	if err := json.NewDecoder(bytes.NewReader(data)).Decode(&head); err != nil || head.FormatVersion == nil {
		return nil, errors.New("not a snapshot file: no formatVersion; write one with 'scimsync export --format snapshot'")
	}
	if *head.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("snapshot format version %d, this scimsync reads version %d: %w", *head.FormatVersion, FormatVersion, ErrVersion)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Snapshot
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("invalid snapshot file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("invalid snapshot file: trailing data after the snapshot")
	}
	if err := check(&s.State); err != nil {
		return nil, fmt.Errorf("invalid snapshot file: %w", err)
	}
	s.State.Normalize()
	return &s, nil
}

// check verifies that every object has the id and name drift needs.
func check(st *model.State) error {
	for _, u := range st.Users {
		if u.ID == "" || u.UserName == "" {
			return fmt.Errorf("user %q needs an id and a userName", u.UserName)
		}
	}
	for _, p := range st.ServicePrincipals {
		if p.ID == "" || p.ApplicationID == "" {
			return fmt.Errorf("service principal %q needs an id and an applicationId", p.DisplayName)
		}
	}
	for _, g := range st.Groups {
		if g.ID == "" || g.DisplayName == "" {
			return fmt.Errorf("group %q needs an id and a displayName", g.DisplayName)
		}
	}
	for _, w := range st.Workspaces {
		if w.ID == "" {
			return errors.New("a workspace needs an id")
		}
	}
	return nil
}
