package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/credorisk/credo/internal/config"
	"github.com/credorisk/credo/internal/fault"
)

const usage = `credo: credit-risk scoring and limit approval for B2B receivables

Usage: credo <command> [flags]

Commands:
  serve                      run the API server (applies pending migrations first)
  migrate                    apply pending database migrations
  import clients|invoices|payments --file F [--map field=Column,...] [--date-format iso|us|eu|LAYOUT]
                             import a CSV or NDJSON file into the ledger
  import solvency --file F [--map field=Column,...] [--date-format F] [--provider P] [--atomic]
                             import a bureau export (CSV) as solvency snapshots
  seed demo [--clients N] [--seed S] [--if-empty] [--out DIR]
                             generate a demo portfolio (or write it as import files)
  keys create --name N --role R | keys list | keys revoke NAME
                             manage API keys
  metrics [--client ID] [--as-of D] [--country C] [--sector S] [--horizon N] [--json]
                             receivables KPIs (and a collection forecast) of a client or the portfolio
  sanctions load --source ofac --dir DIR | --source un|eu|uk|fr --file F
  sanctions lists | sanctions search NAME [--type T] [--country C] [--birth-year Y] | sanctions refresh
                             load, inspect, search and download the sanctions lists
  policy test --dir DIR | push --dir DIR --comment C | list | replay VERSION --from D --to D | activate VERSION [--as NAME]
                             test a policy folder offline; push it as a draft; list, replay and activate versions
  score --all | score --client ID [--refresh] [--lang en|fr]
                             rescore every client (history, cache, summary), or explain one score
  solvency show CLIENT [--json] [--raw] | solvency refresh CLIENT [--json]
                             a client's solvency snapshots and merged view; fetch it from the providers now

Configuration comes from the environment (DATABASE_URL, REDIS_URL, CREDO_*); see README.md.
Run 'credo <command> -h' for a command's flags.
`

// errUsage marks a command line that could not be understood.
var errUsage = errors.New("usage")

// errHelp stops a command whose flags asked for help (-h): the usage is printed, nothing runs.
var errHelp = errors.New("help requested")

// run is the whole program; main only supplies the process's arguments, environment and streams.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return nil
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	logs := newLogWriter(stderr)
	defer logs.Close()
	env := &cli{ctx: ctx, cfg: cfg, stdout: stdout, stderr: stderr, log: newLogger(logs, cfg.LogLevel)}
	err = env.dispatch(args[0], args[1:])
	if errors.Is(err, errHelp) {
		return nil
	}
	return err
}

// dispatch runs one command.
func (env *cli) dispatch(cmd string, rest []string) error {
	switch cmd {
	case "serve":
		return env.serve(rest)
	case "migrate":
		return env.migrate(rest)
	case "import":
		if len(rest) > 0 && rest[0] == "solvency" {
			return env.importSolvency(rest[1:])
		}
		return env.importCmd(rest)
	case "seed":
		return env.seed(rest)
	case "metrics":
		return env.metricsCmd(rest)
	case "keys":
		return env.keys(rest)
	case "sanctions":
		return env.sanctionsCmd(rest)
	case "solvency":
		return env.solvencyCmd(rest)
	case "policy":
		return env.policyCmd(rest)
	case "score":
		return env.scoreCmd(rest)
	}
	fmt.Fprint(env.stderr, usage)
	return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
}

// cli carries what every command needs.
type cli struct {
	ctx            context.Context
	cfg            config.Config
	stdout, stderr io.Writer
	log            *slog.Logger
}

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(strings.ToUpper(level))); err != nil || level == "" {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// flags makes a command's flag set that reports errors instead of exiting.
func (c *cli) flags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("credo "+name, flag.ContinueOnError)
	fs.SetOutput(c.stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	return nil
}

// exitCode: 2 for a command line that could not be understood or bad input, 1 otherwise.
func exitCode(err error) int {
	if errors.Is(err, errUsage) || fault.Code(err) == fault.Invalid || fault.Code(err) == fault.BadRequest {
		return 2
	}
	return 1
}

// describe renders an error with its field errors for a terminal.
func describe(err error) string {
	var fe *fault.Error
	if !errors.As(err, &fe) || len(fe.Fields) == 0 {
		return err.Error()
	}
	var b strings.Builder
	b.WriteString(fe.Message)
	for _, f := range fe.Fields {
		if f.Line > 0 {
			fmt.Fprintf(&b, "\n  line %d: %s: %s", f.Line, f.Field, f.Message)
		} else {
			fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
		}
	}
	return b.String()
}
