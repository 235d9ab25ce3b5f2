package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/credorisk/credo/internal/cache"
	"github.com/credorisk/credo/internal/config"
	"github.com/credorisk/credo/internal/decision"
	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/policy"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/policies"
)

// policyBus carries activation notices on the cache's bus.
type policyBus struct{ bus *cache.Bus }

func (b policyBus) Publish(ctx context.Context, topic string, payload []byte) error {
	return b.bus.Publish(ctx, topic, payload)
}

func (b policyBus) Subscribe(topic string, fn func([]byte, bool)) func() {
	return b.bus.Subscribe(topic, func(m cache.Message) { fn(m.Payload, m.Gap) })
}

// openPolicies wires the policy lifecycle and this replica's provider onto the cache's bus:
//
//	CREDO_POLICY_FOUR_EYES        refuse an activation by the version's author (default true)
//	CREDO_POLICY_POLL_INTERVAL    how often the active version is read from Postgres (default 2s)
//	CREDO_POLICY_EVAL_TIMEOUT     the deadline of one evaluation (default 50ms)
//	CREDO_POLICY_REPLAY_WORKERS   evaluating goroutines of a replay (default GOMAXPROCS)
//	CREDO_POLICY_REPLAY_TIMEOUT   the longest a replay asked through the API may take (default 10m)
func (c *cli) openPolicies(a *app) error {
	getenv := c.cfg.Env
	fourEyes, err := config.Bool(getenv, "CREDO_POLICY_FOUR_EYES", true)
	if err != nil {
		return err
	}
	poll, err := config.Duration(getenv, "CREDO_POLICY_POLL_INTERVAL", policy.DefaultPollInterval)
	if err != nil {
		return err
	}
	timeout, err := config.Duration(getenv, "CREDO_POLICY_EVAL_TIMEOUT", decision.DefaultEvalTimeout)
	if err != nil {
		return err
	}
	workers, err := config.Int(getenv, "CREDO_POLICY_REPLAY_WORKERS", 0)
	if err != nil {
		return err
	}
	replayTimeout, err := config.Duration(getenv, "CREDO_POLICY_REPLAY_TIMEOUT", 10*time.Minute)
	if err != nil {
		return err
	}
	if poll <= 0 || timeout <= 0 || replayTimeout <= 0 {
		return fmt.Errorf("CREDO_POLICY_POLL_INTERVAL, CREDO_POLICY_EVAL_TIMEOUT and CREDO_POLICY_REPLAY_TIMEOUT must be above zero")
	}
	store := postgres.NewPolicies(a.db)
	opts := decision.Options{EvalTimeout: timeout}
	engines := policy.NewEngines(store, opts, 0)
	var bus policy.Bus
	if a.cache != nil {
		bus = policyBus{a.cache.Bus()}
	}
	serving := prometheus.NewGauge(prometheus.GaugeOpts{Name: "credo_policy_serving_version", Help: "The policy version this replica serves."})
	a.registry.MustRegister(serving)
	a.policyProvider = policy.NewProvider(store, engines, bus, policy.ProviderConfig{
		PollInterval: poll, Bootstrap: policies.FS, Log: c.log,
		Swapped: func(_, to int) { serving.Set(float64(to)) },
	})
	a.policies = &policy.Service{
		Store: store, Decisions: store, Engines: engines, Provider: a.policyProvider, Bus: bus,
		ReplayEngines:  policy.NewEngines(store, policy.ReplayOptions(opts), 2),
		FourEyes:       fourEyes,
		CompileOptions: opts,
		ReplayWorkers:  int(workers),
		ReplayTimeout:  replayTimeout,
		Log:            c.log,
	}
	return nil
}

const policyUsage = `credo policy test --dir DIR [--json]
credo policy push --dir DIR --comment C [--author NAME] [--parent N]
credo policy list [--status draft|active|retired] [--limit N]
credo policy replay VERSION --from D --to D [--limit N] [--sample N] [--as NAME] [--json]
credo policy activate VERSION [--as NAME] [--comment C]`

func (c *cli) policyCmd(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w:\n%s", errUsage, policyUsage)
	}
	if args[0] == "test" {
		return c.policyTest(args[1:]) // offline: no database
	}
	switch args[0] {
	case "push", "list", "replay", "activate":
	default:
		return fmt.Errorf("%w: unknown policy command %q\n%s", errUsage, args[0], policyUsage)
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	// Commands run beside the servers, not as one: this process serves nothing, so an activation
	// only tells the replicas (bus, and their poll).
	svc := a.policies
	svc.Provider = nil
	if _, err := policy.Bootstrap(c.ctx, svc.Store, policies.FS); err != nil {
		return err
	}
	switch args[0] {
	case "push":
		return c.policyPush(svc, args[1:])
	case "list":
		return c.policyList(svc, args[1:])
	case "replay":
		return c.policyReplay(svc, args[1:])
	default:
		return c.policyActivate(svc, args[1:])
	}
}

func (c *cli) policyTest(args []string) error {
	fs := c.flags("policy test")
	dir := fs.String("dir", "", "the policy folder: *.rego (tests included) and data.json (required)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return fmt.Errorf("%w: --dir is required", errUsage)
	}
	modules, data, err := decision.ReadSource(os.DirFS(*dir))
	if err != nil {
		return err
	}
	rep, err := policy.RunTests(c.ctx, modules, data)
	if err != nil {
		return compileFailure(err)
	}
	if *asJSON {
		if err := json.NewEncoder(c.stdout).Encode(rep); err != nil {
			return err
		}
	} else {
		tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
		for _, t := range rep.Tests {
			fmt.Fprintf(tw, "%s\t%s\t%.3fms\t%s\n", strings.ToUpper(t.Result), t.Name, t.DurationMS, oneLine(t.Message))
		}
		fmt.Fprintf(tw, "%d passed, %d failed, %d errors, %d skipped\n", rep.Counts.Pass, rep.Counts.Fail, rep.Counts.Error, rep.Counts.Skip)
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if !rep.Passed {
		return fmt.Errorf("the policy's tests do not pass (%d failed, %d errors, %d passed)", rep.Counts.Fail, rep.Counts.Error, rep.Counts.Pass)
	}
	return nil
}

// compileFailure spells out a policy that does not compile, one diagnostic a line.
func compileFailure(err error) error {
	var ce *decision.CompileError
	if !errors.As(err, &ce) {
		return err
	}
	lines := make([]string, len(ce.Diagnostics))
	for i, d := range ce.Diagnostics {
		lines[i] = "  " + d.String()
	}
	return fmt.Errorf("%w:\n%s", fault.Validation("the policy does not compile"), strings.Join(lines, "\n"))
}

// described shows an error with its fields, keeping its code for the exit status.
type described struct{ error }

func (d described) Error() string { return describe(d.error) }
func (d described) Unwrap() error { return d.error }

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// versionArg takes VERSION from before or after the flags.
func versionArg(args []string) (int, []string, error) {
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 {
			return 0, nil, fmt.Errorf("%w: %q is not a version number", errUsage, args[0])
		}
		return n, args[1:], nil
	}
	return 0, args, nil
}

func (c *cli) policyPush(svc *policy.Service, args []string) error {
	fs := c.flags("policy push")
	dir := fs.String("dir", "", "the policy folder: *.rego (tests included) and data.json (required)")
	comment := fs.String("comment", "", "what the version changes (required)")
	author := fs.String("author", "cli", "the author recorded (four-eyes: another name must activate it)")
	parent := fs.Int("parent", 0, "the version the draft is made from (recorded; the folder is the whole version)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" || *comment == "" {
		return fmt.Errorf("%w: --dir and --comment are required", errUsage)
	}
	modules, data, err := decision.ReadSource(os.DirFS(*dir))
	if err != nil {
		return err
	}
	d := policy.Draft{Modules: map[string]*string{}, Data: data, Comment: *comment}
	for name, src := range modules {
		d.Modules[name] = &src
	}
	if *parent > 0 {
		// The folder is the whole version: files of the parent it does not hold are removed.
		p, err := svc.Get(c.ctx, *parent)
		if err != nil {
			return err
		}
		for name := range p.Modules {
			if _, ok := d.Modules[name]; !ok {
				d.Modules[name] = nil
			}
		}
		d.Parent = parent
	}
	v, err := svc.Create(c.ctx, d, *author)
	if err != nil {
		if cerr := compileFailure(err); cerr != err {
			return cerr
		}
		return described{err}
	}
	fmt.Fprintf(c.stdout, "version %d (draft) by %s, %s, files: %s\n", v.Version, v.Author, v.Hash, strings.Join(v.Files, ", "))
	return nil
}

func (c *cli) policyList(svc *policy.Service, args []string) error {
	fs := c.flags("policy list")
	status := fs.String("status", "", "only versions in this status: draft, active or retired")
	limit := fs.Int("limit", 50, "at most this many versions, newest first")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	list, err := svc.List(c.ctx, policy.ListFilter{Status: policy.Status(*status), Limit: max(*limit, 1)})
	if err != nil {
		return described{err}
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERSION\tSTATUS\tPARENT\tAUTHOR\tCREATED\tACTIVATED\tHASH\tCOMMENT")
	for _, v := range list {
		parent, activated := "-", "-"
		if v.Parent != nil {
			parent = strconv.Itoa(*v.Parent)
		}
		if v.ActivatedAt != nil {
			activated = v.ActivatedAt.UTC().Format("2006-01-02 15:04") + " by " + v.ActivatedBy
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", v.Version, v.Status, parent, v.Author,
			v.CreatedAt.UTC().Format("2006-01-02 15:04"), activated, strings.TrimPrefix(v.Hash, "sha256:")[:12], oneLine(v.Comment))
	}
	return tw.Flush()
}

func (c *cli) policyReplay(svc *policy.Service, args []string) error {
	version, args, err := versionArg(args)
	if err != nil {
		return err
	}
	fs := c.flags("policy replay")
	from := fs.String("from", "", "the first day (YYYY-MM-DD) or instant (RFC 3339) of the decisions replayed (required)")
	to := fs.String("to", "", "the last day (through its end) or the instant before which decisions are replayed (required)")
	limit := fs.Int("limit", 0, "replay at most this many decisions, oldest first (0: all)")
	sample := fs.Int("sample", 10, "show this many changed decisions")
	as := fs.String("as", "cli", "the name recorded in the audit log")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if version == 0 {
		if version, _, err = versionArg(fs.Args()); err != nil || version == 0 {
			return fmt.Errorf("%w: credo policy replay VERSION --from D --to D", errUsage)
		}
	}
	req := policy.ReplayRequest{Limit: *limit, SampleSize: *sample}
	if req.From, err = cliInstant("from", *from, false); err != nil {
		return err
	}
	if req.To, err = cliInstant("to", *to, true); err != nil {
		return err
	}
	// This process does nothing else: a lazier garbage collector (a fifth of a replay's CPU at
	// the default) is worth the memory here, where it would not be in a server.
	defer debug.SetGCPercent(debug.SetGCPercent(400))
	rep, err := svc.Replay(c.ctx, version, req, *as)
	if err != nil {
		return described{err}
	}
	if *asJSON {
		return json.NewEncoder(c.stdout).Encode(rep)
	}
	w := c.stdout
	fmt.Fprintf(w, "version %d on decisions from %s to %s: %d evaluated, %d changed, limit delta %s, %d fail-safe, %.0f ms\n",
		version, rep.From.Format(time.RFC3339), rep.To.Format(time.RFC3339), rep.Evaluated, rep.Changed, rep.LimitDelta, rep.FailSafe, rep.DurationMS)
	for _, k := range slices.Sorted(maps.Keys(rep.Transitions)) {
		fmt.Fprintf(w, "  %-20s %d\n", k, rep.Transitions[k])
	}
	for _, s := range rep.Sample {
		fmt.Fprintf(w, "  %s %s %s: %s %s -> %s %s\n", s.DecisionID, s.QuoteID, s.ClientID,
			s.Logged.Outcome, s.Logged.CreditLimit, s.Replayed.Outcome, s.Replayed.CreditLimit)
	}
	return nil
}

// cliInstant reads a required date or RFC 3339 time; a date as an end means through its end.
func cliInstant(name, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, fmt.Errorf("%w: --%s is required", errUsage, name)
	}
	if d, err := ledger.ParseDate(v); err == nil {
		if end {
			d++
		}
		return d.Time(), nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --%s must be a date (YYYY-MM-DD) or an RFC 3339 time", errUsage, name)
	}
	return t, nil
}

func (c *cli) policyActivate(svc *policy.Service, args []string) error {
	version, args, err := versionArg(args)
	if err != nil {
		return err
	}
	fs := c.flags("policy activate")
	as := fs.String("as", "cli", "who activates (four-eyes: not the version's author)")
	comment := fs.String("comment", "", "why")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if version == 0 {
		if version, _, err = versionArg(fs.Args()); err != nil || version == 0 {
			return fmt.Errorf("%w: credo policy activate VERSION [--as NAME]", errUsage)
		}
	}
	res, err := svc.Activate(c.ctx, version, *comment, *as)
	if err != nil {
		return described{err}
	}
	what := "activated"
	if res.Rollback {
		what = "activated again (rollback)"
	}
	fmt.Fprintf(c.stdout, "version %d %s by %s; version %d retired; %d tests passed\n", version, what, *as, res.Previous, res.Tests.Pass)
	return nil
}
