package emulator

import (
	"fmt"
	"strings"
)

// Unknown is one behaviour the reference leaves open (its UNKNOWN list), with the setting
// that turns on the variant the emulator does not do by default. Tests run the client
// against each, and `scimsync emulator --unknown NAME` serves it.
type Unknown struct {
	Name   string
	Source string // the reference section that leaves it open
	Set    func(*Options)
}

// Unknowns are the UNKNOWN settings, each the non-default side of one open question.
var Unknowns = []Unknown{
	{"create-200", "§4.1 POST status", func(o *Options) { o.CreateStatus = 200 }},
	{"patch-empty", "§4.1 PUT/PATCH bodies", func(o *Options) { o.PatchResponse = PatchEmpty }},
	{"patch-204", "§4.1 PUT/PATCH bodies", func(o *Options) { o.PatchResponse = PatchNoContent }},
	{"page-size-100", "§3 max page size", func(o *Options) { o.MaxPageSize, o.DefaultPageSize = 100, 100 }},
	{"case-sensitive-username-filter", "§3 userName case in filters", func(o *Options) { o.CaseSensitiveUserNameFilter = true }},
	{"schemaless-resources", "§2.2 schemas on account bodies", func(o *Options) { o.SchemalessResources = true }},
	{"strict-remove", "§4.2 item 3 remove with a value (workspace tree)", func(o *Options) { o.StrictRemove = true }},
	{"lenient-remove", "§4.2 item 3 remove with a value (account tree)", func(o *Options) { o.LenientRemove = true }},
	{"remove-absent-fails", "RFC 7644 §3.5.2.2 noTarget; Databricks UNKNOWN", func(o *Options) { o.RemoveAbsentFails = true }},
	{"ignore-unknown-members", "§6 member ids (TF #4194)", func(o *Options) { o.IgnoreUnknownMembers = true }},
	{"group-list-members", "§3 account group lists before 2025-08-22", func(o *Options) { o.GroupListMembers = true }},
	{"workspace-shows-unassigned", "§6 workspace views", func(o *Options) { o.WorkspaceShowsUnassigned = true }},
	{"split-display-name", "§2.3 create response example", func(o *Options) { o.SplitDisplayName = true }},
	{"concurrency-429", "§5.3 the concurrent limit of 4, answered 429", func(o *Options) { o.MaxConcurrent, o.ConcurrencyStatus = 4, 429 }},
	{"overlapping-pages", "§3 ordering across pages", func(o *Options) { o.PageOverlap = 3 }},
}

// SetUnknown applies the Unknown called name to o.
func (o *Options) SetUnknown(name string) error {
	var names []string
	for _, u := range Unknowns {
		if u.Name == name {
			u.Set(o)
			return nil
		}
		names = append(names, u.Name)
	}
	return fmt.Errorf("unknown setting %q (known: %s)", name, strings.Join(names, ", "))
}
