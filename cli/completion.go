package cli

import (
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/alecthomas/kong"
	"github.com/posener/complete"
	"github.com/willabides/kongplete"
)

// CompletionCmd prints the script that makes a shell ask scimsync for completions. The
// shell then runs scimsync with COMP_LINE (and COMP_POINT) set to the line typed so far,
// and Main prints the candidates instead of running a command: the protocol of bash's
// `complete -C`, which the zsh and fish scripts follow too.
type CompletionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"The shell: bash, zsh or fish."`
}

// completionScripts are the scripts, by shell. scimsync must be on the PATH.
var completionScripts = map[string]string{
	"bash": `# scimsync completion for bash: add to ~/.bashrc
#   source <(scimsync completion bash)
complete -o default -o bashdefault -C scimsync scimsync
`,
	"zsh": `# scimsync completion for zsh: add to ~/.zshrc
#   source <(scimsync completion zsh)
autoload -U +X bashcompinit && bashcompinit
complete -o default -o bashdefault -C scimsync scimsync
`,
	"fish": `# scimsync completion for fish: add to ~/.config/fish/config.fish
#   scimsync completion fish | source
function __complete_scimsync
    set -lx COMP_LINE (commandline -cp)
    test -z (commandline -ct)
    and set COMP_LINE "$COMP_LINE "
    command scimsync
end
complete -f -c scimsync -a "(__complete_scimsync)"
`,
}

// Run prints the script of the shell asked for.
func (c *CompletionCmd) Run(rt *Runtime) error {
	_, err := io.WriteString(rt.IO.Out, completionScripts[c.Shell])
	return err
}

// printCompletions prints to w the completions of the command line typed so far, line, up to the
// cursor at point (all of it when point is not a number). The candidates come from the
// grammar, through kongplete: commands, flags, enum values and file names.
func printCompletions(parser *kong.Kong, line, point string, w io.Writer) error {
	cmd, err := kongplete.Command(parser)
	if err != nil {
		return fmt.Errorf("complete: %w", err)
	}
	if p, err := strconv.Atoi(point); err == nil && p >= 0 && p < len(line) {
		line = line[:p]
	}
	words := strings.Fields(line)
	if len(words) > 0 {
		words = words[1:] // the program's name
	}
	args := complete.Args{All: words, Completed: words}
	if !strings.HasSuffix(line, " ") && len(words) > 0 {
		args.Last = words[len(words)-1]
		args.Completed = words[:len(words)-1]
	}
	if n := len(args.Completed); n > 0 {
		args.LastCompleted = args.Completed[n-1]
	}
	for _, option := range cmd.Predict(args) {
		if strings.HasPrefix(option, args.Last) {
			fmt.Fprintln(w, option)
		}
	}
	return nil
}

// HelpCmd prints the help of scimsync, or of the command named.
type HelpCmd struct {
	Command []string `arg:"" optional:"" name:"command" help:"The command, such as plan."`
}

// Run prints the help. An unknown command is a usage error.
func (c *HelpCmd) Run(kctx *kong.Context) error {
	hctx, err := kong.Trace(kctx.Kong, c.Command)
	if err != nil {
		return err
	}
	if hctx.Error != nil {
		return &Error{Err: hctx.Error, Hint: "run 'scimsync --help' for usage"}
	}
	return hctx.PrintUsage(false)
}
