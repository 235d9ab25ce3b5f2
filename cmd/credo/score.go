package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/credorisk/credo/internal/cache"
	"github.com/credorisk/credo/internal/config"
	"github.com/credorisk/credo/internal/postgres"
	"github.com/credorisk/credo/internal/sanctions"
	"github.com/credorisk/credo/internal/scoring"
	"github.com/credorisk/credo/models"
)

// sanctionsWatchInterval is how often serve checks whether the sanctions lists changed (every
// cached score names the list versions it was computed with).
const sanctionsWatchInterval = 2 * time.Second

// openScores opens the cache (REDIS_URL, CREDO_REDIS_*, CREDO_CACHE_*) and the scoring service
// (CREDO_MODEL, CREDO_SCORE_TTL, CREDO_MODELS_DIR), and makes ledger writes, imports and
// screening changes drop the affected clients' cached scores once committed.
func (c *cli) openScores(a *app) error {
	getenv := c.cfg.Env
	opts, err := cache.OptionsFromEnv(getenv)
	if err != nil {
		return err
	}
	opts.Log, opts.Registerer = c.log, a.registry
	ttl, err := config.Duration(getenv, "CREDO_SCORE_TTL", 24*time.Hour)
	if err != nil {
		return err
	}
	if ttl < time.Millisecond {
		return fmt.Errorf("CREDO_SCORE_TTL must be at least 1ms, got %q", getenv("CREDO_SCORE_TTL"))
	}
	all, active, err := loadModels(getenv)
	if err != nil {
		return err
	}
	if a.cache, err = cache.Open(c.cfg.RedisURL, c.cfg.RedisPrefix, opts); err != nil {
		return fmt.Errorf("REDIS_URL: %w", err)
	}
	a.scores, err = scoring.NewService(scoring.Config{
		Models: all, Model: active, Facts: a.metrics, Store: postgres.NewScores(a.db),
		Cache:            a.cache.Namespace("score", ttl),
		Solvency:         a.solvency,
		SanctionsVersion: sanctionsVersion(a.sanctions),
		Log:              c.log,
	})
	if err != nil {
		return err
	}
	ledgerChanged := a.ledger.ClientsChanged
	a.ledger.ClientsChanged = func(ctx context.Context, ids []string) {
		a.scores.Invalidate(ctx, ids...)
		if ledgerChanged != nil {
			ledgerChanged(ctx, ids)
		}
	}
	screeningChanged := a.sanctions.ScreeningChanged
	a.sanctions.ScreeningChanged = func(ctx context.Context, ids []string) {
		a.scores.Invalidate(ctx, ids...)
		if screeningChanged != nil {
			screeningChanged(ctx, ids)
		}
	}
	return nil
}

// loadModels loads every scorecard (from CREDO_MODELS_DIR when set, else the ones built in) and
// selects CREDO_MODEL (empty: the newest). A broken file is refused with its name and line.
func loadModels(getenv func(string) string) ([]*scoring.Model, *scoring.Model, error) {
	var fsys fs.FS = models.FS
	if dir := getenv("CREDO_MODELS_DIR"); dir != "" {
		fsys = os.DirFS(dir)
	}
	all, err := scoring.LoadModels(fsys)
	if err != nil {
		return nil, nil, fmt.Errorf("scoring models: %w", err)
	}
	active, err := scoring.Select(all, getenv("CREDO_MODEL"))
	if err != nil {
		return nil, nil, fmt.Errorf("CREDO_MODEL: %w", err)
	}
	return all, active, nil
}

// sanctionsVersion names the sanctions list versions in use, "ofac:12,un:14", for a score's
// inputs_as_of.
func sanctionsVersion(s *sanctions.Service) func() (string, bool) {
	return func() (string, bool) {
		vs := s.Versions()
		var parts []string
		for _, src := range sanctions.Sources {
			if v, ok := vs[src]; ok {
				parts = append(parts, string(src)+":"+strconv.FormatInt(v.ID, 10))
			}
		}
		return strings.Join(parts, ","), len(parts) > 0
	}
}

// scoreCmd rescores every client (--all) or prints one client's explanation (--client).
func (c *cli) scoreCmd(args []string) error {
	fs := c.flags("score")
	all := fs.Bool("all", false, "rescore every client: record the history, refresh the cache, print a summary")
	client := fs.String("client", "", "print this client's score with its explanation")
	refresh := fs.Bool("refresh", false, "with --client: recompute instead of reading the cache")
	lang := fs.String("lang", "en", "with --client: the language of the reasons, en or fr")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(0))
	case *all == (*client != ""):
		return fmt.Errorf("%w: give either --all or --client ID", errUsage)
	case *all && *refresh:
		return fmt.Errorf("%w: --refresh applies to --client (--all always recomputes)", errUsage)
	case *lang != "en" && *lang != "fr":
		return fmt.Errorf("%w: --lang must be en or fr, got %q", errUsage, *lang)
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	if *all {
		return c.scoreAll(a)
	}
	card, err := a.scores.Score(c.ctx, *client, *refresh)
	if err != nil {
		return fmt.Errorf("%s", describe(err))
	}
	return writeExplanation(c.stdout, card, *lang)
}

func (c *cli) scoreAll(a *app) error {
	prog := newCountProgress(c.stderr, "scoring", "clients")
	sum, err := a.scores.RescoreAll(c.ctx, prog.Set)
	prog.Close()
	if err != nil {
		return err
	}
	return writeSummary(c.stdout, sum)
}

// writeSummary prints what credo score --all did.
func writeSummary(w io.Writer, s scoring.Summary) error {
	ew := &errWriter{w: w}
	ew.printf("scored %d clients as of %s with model %s in %s\n\n", s.Clients, s.AsOf, s.ModelVersion,
		s.Duration.Round(time.Millisecond))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "class\tclients\tshare\t\n")
	for _, class := range sortedClasses(s.ByClass) {
		n := s.ByClass[class]
		fmt.Fprintf(tw, "%s\t%d\t%s\t\n", class, n, percent(n, s.Clients))
	}
	_ = tw.Flush()
	ew.printf("\nhistory rows added: %d (first scores with this model: %d)\n", s.Recorded, s.New)
	ew.printf("class changes: %d\n", s.ChangedClasses())
	for _, ch := range s.ClassChanges {
		ew.printf("  %s -> %s  %d\n", ch.From, ch.To, ch.Count)
	}
	return ew.err
}

func sortedClasses(m map[string]int) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func percent(n, total int) string {
	if total == 0 {
		return "-"
	}
	return strconv.FormatFloat(100*float64(n)/float64(total), 'f', 1, 64) + "%"
}

// writeExplanation prints a client's score for a person: the lines that add up to the score, the
// scaling that turns it into the PD, and the reasons.
func writeExplanation(w io.Writer, card scoring.Card, lang string) error {
	ex, err := card.Explanation()
	if err != nil {
		return err
	}
	doc, err := card.Doc(lang)
	if err != nil {
		return err
	}
	ew := &errWriter{w: w}
	ew.printf("client %s: score %d, class %s, PD %s (%s), model %s (%s)\n", ex.ClientID, ex.Score, ex.RiskClass,
		strconv.FormatFloat(100*ex.PD, 'f', 2, 64)+"%", strconv.FormatFloat(ex.PD, 'f', -1, 64), ex.ModelVersion, ex.ModelName)
	ew.printf("computed %s; inputs as of: ledger %s, solvency %s, sanctions lists %s\n\n",
		ex.ComputedAt.Format(time.RFC3339), ex.InputsAsOf.Ledger, optTime(ex.InputsAsOf.Solvency), optStr(ex.InputsAsOf.SanctionsListVersion))
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "feature\tvalue\tbin\tpoints\tmax\n")
	total, best := 0, 0
	for _, l := range ex.Characteristics {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%4d\t%4d\n", l.Feature, l.Value, l.Bin, l.Points, l.MaxPoints)
		total += l.Points
		best += l.MaxPoints
	}
	fmt.Fprintf(tw, "total\t\t\t%4d\t%4d\n", total, best)
	_ = tw.Flush()
	sc := ex.Scaling
	odds := sc.BaseOdds * math.Pow(2, (float64(ex.Score)-sc.BaseScore)/sc.PDO)
	ew.printf("\nscore to PD: odds = %s x 2^((%d - %s) / %s) = %s; PD = 1 / (1 + odds) = %s\n",
		num(sc.BaseOdds), ex.Score, num(sc.BaseScore), num(sc.PDO), strconv.FormatFloat(odds, 'f', 4, 64),
		strconv.FormatFloat(ex.PD, 'f', -1, 64))
	if len(doc.Reasons) == 0 {
		ew.printf("\nno reasons: every characteristic has its best points\n")
		return ew.err
	}
	ew.printf("\nreasons (points lost):\n")
	for _, r := range doc.Reasons {
		ew.printf("  %-18s %4d  %s\n", r.Code, -r.PointsLost, r.Text)
	}
	return ew.err
}

func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func optTime(t *time.Time) string {
	if t == nil {
		return "none"
	}
	return t.Format(time.RFC3339)
}

func optStr(s *string) string {
	if s == nil {
		return "none"
	}
	return *s
}

// errWriter keeps the first write error so a report is written without checking each line.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(b []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(b)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

// countProgress shows, on a terminal only, how many items a job has done out of its total.
type countProgress struct {
	w           io.Writer
	stage, unit string
	start       time.Time
	mu          sync.Mutex
	done, total int
	on          bool
	last        time.Time
}

func newCountProgress(w io.Writer, stage, unit string) *countProgress {
	return &countProgress{w: w, stage: stage, unit: unit, start: time.Now(), on: isTerminal(w)}
}

// Set records progress and redraws at most five times a second (and at the end).
func (p *countProgress) Set(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done, p.total = done, total
	if p.on && (done == total || time.Since(p.last) >= 200*time.Millisecond) {
		p.last = time.Now()
		p.draw()
	}
}

func (p *countProgress) draw() {
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = width * p.done / p.total
	}
	fmt.Fprintf(p.w, "\r%s [%s%s] %d / %d %s  %4.0fs", p.stage, strings.Repeat("#", filled),
		strings.Repeat(" ", width-filled), p.done, p.total, p.unit, time.Since(p.start).Seconds())
}

// Close ends the display's line.
func (p *countProgress) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on && p.total > 0 {
		p.draw()
		fmt.Fprintln(p.w)
	}
}
