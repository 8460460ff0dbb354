package cli

import (
	"errors"
	"fmt"
	"os"

	"github.com/scimsync/scimsync/config"
	"github.com/scimsync/scimsync/diag"
	"github.com/scimsync/scimsync/model"
	"github.com/scimsync/scimsync/source"
)

// Sources are the options every command that reads the desired state shares: a config
// file (the global -c flag) and manifest paths.
type Sources struct {
	ConfigFlag
	Paths []string `arg:"" optional:"" name:"paths" help:"Manifest files or directories, read as one more YAML source."`
}

// ConfigFlag gives a command the global -c/--config flag, which may come before the
// command or after it. Kong fills it after parsing, through AfterApply.
type ConfigFlag struct {
	Config string `kong:"-"`
}

// AfterApply copies the global flag into the command.
func (f *ConfigFlag) AfterApply(g *grammar) error {
	f.Config = g.Config
	return nil
}

// errNothingToRead is returned when there is neither a config file nor a manifest path.
var errNothingToRead = &Error{
	Err:  errors.New("nothing to read: no config file and no manifest paths"),
	Hint: "pass manifest files or directories, or a config file with -c (./" + config.DefaultFile + " is read when it exists)",
}

// configFile returns the config file to read: the one named, or ./scimsync.yaml when it
// exists, or "" for none.
func (s *Sources) configFile() string {
	if s.Config != "" {
		return s.Config
	}
	if _, err := os.Stat(config.DefaultFile); err == nil {
		return config.DefaultFile
	}
	return ""
}

// Load reads the config and every source and checks the result. The config is nil, and
// the state too, when the diagnostics hold errors that stopped reading early; the error
// is for problems that are not about the input, such as having nothing to read.
func (s *Sources) Load(rt *Runtime) (*config.Config, *model.State, diag.List, error) {
	cfg, state, _, diags, err := s.load(rt)
	return cfg, state, diags, err
}

// load is Load that also returns what each source read (see configSummaries).
func (s *Sources) load(rt *Runtime) (*config.Config, *model.State, []source.Summary, diag.List, error) {
	file := s.configFile()
	if file == "" && len(s.Paths) == 0 {
		return nil, nil, nil, nil, errNothingToRead
	}
	cfg := config.Defaults()
	if file != "" {
		rt.Log.Debug("read config", "file", file)
		var diags diag.List
		cfg, diags = config.Load(file)
		if diags.HasErrors() {
			return nil, nil, nil, diags, nil
		}
	}
	rt.Log.Debug("read sources", "sources", len(cfg.Sources), "paths", len(s.Paths))
	state, summaries, diags := source.LoadWithSummaries(rt.Ctx, cfg, s.Paths)
	if err := rt.Ctx.Err(); err != nil {
		return nil, nil, nil, nil, fmt.Errorf("read sources: %w", err)
	}
	return cfg, state, summaries, diags, nil
}

// configSummaries returns the read summaries of the sources a config declares, one line
// each: "ldif source at scimsync.yaml:3:5: 12 users, 3 groups; skipped: 2 guests". YAML
// manifests are left out unless they skipped something (through exclude or
// scope.groups): they declare exactly what they hold, and validate counts it anyway.
func configSummaries(summaries []source.Summary) []string {
	var lines []string
	for _, sum := range summaries {
		if !sum.Origin.IsZero() && (sum.Kind != config.SourceYAML || len(sum.Skipped) > 0) {
			lines = append(lines, sum.String())
		}
	}
	return lines
}

// loadValid is Load for commands that need a valid desired state: it returns the
// diagnostics as an error when they hold errors, and prints the warnings to IO.Err.
func (s *Sources) loadValid(rt *Runtime) (*config.Config, *model.State, error) {
	cfg, desired, _, err := s.loadValidSummaries(rt)
	return cfg, desired, err
}

// loadValidSummaries is loadValid that also returns what each source read.
func (s *Sources) loadValidSummaries(rt *Runtime) (*config.Config, *model.State, []source.Summary, error) {
	cfg, desired, summaries, diags, err := s.load(rt)
	if err != nil {
		return nil, nil, nil, err
	}
	if diags.HasErrors() {
		return nil, nil, nil, diags.Err()
	}
	for _, d := range diags {
		fmt.Fprintln(rt.IO.Err, d)
	}
	rt.annotator().diagnostics(diags)
	return cfg, desired, summaries, nil
}

// loadConfig reads a config file, or returns the defaults when file is "".
func loadConfig(file string) (*config.Config, error) {
	if file == "" {
		return config.Defaults(), nil
	}
	cfg, diags := config.Load(file)
	if diags.HasErrors() {
		return nil, diags.Err()
	}
	return cfg, nil
}
