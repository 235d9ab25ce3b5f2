package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/credorisk/credo/internal/sanctions"
)

const sanctionsUsage = `credo sanctions load --source ofac --dir DIR | --source un|eu|uk|fr --file F [--force]
credo sanctions lists [--json]
credo sanctions search NAME [--type T] [--country C] [--birth-year Y] [--limit N] [--min-score S] [--json]
credo sanctions refresh [--source S]`

func (c *cli) sanctionsCmd(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: %s", errUsage, sanctionsUsage)
	}
	switch args[0] {
	case "load":
		return c.sanctionsLoad(args[1:])
	case "lists":
		return c.sanctionsLists(args[1:])
	case "search":
		return c.sanctionsSearch(args[1:])
	case "refresh":
		return c.sanctionsRefresh(args[1:])
	}
	return fmt.Errorf("%w: unknown sanctions command %q\n%s", errUsage, args[0], sanctionsUsage)
}

// sanctionsLoad loads a list version from files: the offline path, and the way to seed a fresh
// install before its first download.
func (c *cli) sanctionsLoad(args []string) error {
	fs := c.flags("sanctions load")
	source := fs.String("source", "", "ofac, un, eu, uk or fr (required)")
	dir := fs.String("dir", "", "for ofac: the directory holding sdn.csv, alt.csv, add.csv and sdn_comments.csv")
	file := fs.String("file", "", "for un, eu, uk and fr: the list file")
	force := fs.Bool("force", false, "accept a list with fewer than half the entries of the loaded one")
	actor := fs.String("actor", "cli", "the name recorded in the audit log")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	src := sanctions.Source(strings.ToLower(*source))
	var path string
	switch {
	case !src.Valid():
		return fmt.Errorf("%w: --source must be one of ofac, un, eu, uk, fr", errUsage)
	case src == sanctions.SourceOFAC && (*dir == "" || *file != ""):
		return fmt.Errorf("%w: the ofac list is loaded with --dir DIR (its CSV files)", errUsage)
	case src != sanctions.SourceOFAC && (*file == "" || *dir != ""):
		return fmt.Errorf("%w: the %s list is loaded with --file F", errUsage, src)
	case src == sanctions.SourceOFAC:
		path = *dir
	default:
		path = *file
	}
	files, location, err := sanctions.ReadListFiles(src, path)
	if err != nil {
		return err
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	v, outcome, err := a.sanctions.LoadFiles(c.ctx, src, files, location, *actor, *force)
	if err != nil {
		return fmt.Errorf("load the %s list from %s: %s; the loaded lists stay as they were", src, path, describe(err))
	}
	if outcome == sanctions.OutcomeUnchanged {
		_, err = fmt.Fprintf(c.stdout, "%s: version %d already holds this content (%d entries); nothing changed\n", src, v.ID, v.EntryCount)
		return err
	}
	_, err = fmt.Fprintf(c.stdout, "%s: version %d loaded, %d entries from %s (sha256 %s)\n", src, v.ID, v.EntryCount, location, v.ContentHash[:16])
	return err
}

func (c *cli) sanctionsLists(args []string) error {
	fs := c.flags("sanctions lists")
	asJSON := fs.Bool("json", false, "print as JSON (the shape of GET /v1/sanctions/lists)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	rep, err := a.sanctions.Lists(c.ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		return sanctionsJSON(c, rep)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SOURCE\tVERSION\tENTRIES\tLOADED\tAGE\tORIGIN\tLAST REFRESH")
	for _, l := range rep.Lists {
		last := "-"
		if r := l.Refresh.Last; r != nil {
			last = fmt.Sprintf("%s %s: %s", r.At.UTC().Format("2006-01-02 15:04"), r.Outcome, r.Message)
		}
		if l.Version == nil {
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t%s\n", l.Source, last)
			continue
		}
		v := l.Version
		age := time.Duration(*l.AgeSeconds) * time.Second
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", l.Source, v.ID, v.EntryCount, v.LoadedAt.UTC().Format("2006-01-02 15:04"),
			age.Round(time.Minute), v.Origin, last)
	}
	return tw.Flush()
}

func (c *cli) sanctionsSearch(args []string) error {
	fs := c.flags("sanctions search")
	typ := fs.String("type", "", "person, entity, vessel or aircraft")
	country := fs.String("country", "", "ISO 3166 alpha-2 country")
	birthYear := fs.Int("birth-year", 0, "year of birth of a person")
	limit := fs.Int("limit", 0, "number of candidates (default 10, at most 100)")
	minScore := fs.Float64("min-score", 0, "lowest score shown (default 0.70)")
	asJSON := fs.Bool("json", false, "print the candidates as JSON")
	// The name may come before the flags (credo sanctions search "ACME LTD" --country RU).
	var name string
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		name, args = args[0], args[1:]
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if name == "" && fs.NArg() == 1 {
		name = fs.Arg(0)
	} else if fs.NArg() > 0 {
		return fmt.Errorf("%w: give the name as one argument (quote it): %s", errUsage, sanctionsUsage)
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	if err := a.sanctions.Load(c.ctx); err != nil {
		return err
	}
	ms, err := a.sanctions.Search(sanctions.Query{Name: name, Type: sanctions.EntryType(*typ), Country: *country,
		BirthYear: *birthYear, Limit: *limit, MinScore: *minScore})
	if err != nil {
		return fmt.Errorf("%s", describe(err))
	}
	if *asJSON {
		return sanctionsJSON(c, ms)
	}
	if len(ms) == 0 {
		_, err := fmt.Fprintln(c.stdout, "no candidate")
		return err
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SCORE\tENTRY\tTYPE\tMATCHED NAME\tPRIMARY NAME\tCOUNTRIES\tPROGRAMS")
	for _, m := range ms {
		fmt.Fprintf(tw, "%.3f\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Score, m.Entry.Ref(), m.Entry.Type, m.MatchedName, m.Entry.PrimaryName(),
			strings.Join(m.Entry.Countries, ","), strings.Join(m.Entry.Programs, ","))
	}
	return tw.Flush()
}

// sanctionsRefresh downloads lists now, as the server's refresh job would.
func (c *cli) sanctionsRefresh(args []string) error {
	fs := c.flags("sanctions refresh")
	source := fs.String("source", "", "one list (default: every list with a download address)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	srcs := sanctions.Sources
	if *source != "" {
		src := sanctions.Source(strings.ToLower(*source))
		if !src.Valid() {
			return fmt.Errorf("%w: --source must be one of ofac, un, eu, uk, fr", errUsage)
		}
		srcs = []sanctions.Source{src}
	}
	failed := 0
	for _, src := range srcs {
		if *source == "" && !a.sanctions.Downloads(src) {
			continue
		}
		out, err := a.sanctions.Refresh(c.ctx, src)
		if err != nil {
			return fmt.Errorf("refresh %s: %s", src, describe(err))
		}
		fmt.Fprintf(c.stdout, "%s: %s: %s\n", src, out.Outcome, out.Message)
		if !out.Succeeded() {
			failed++
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d list(s) not refreshed; the loaded versions stay in use", failed)
	}
	return nil
}

func sanctionsJSON(c *cli, v any) error {
	enc := json.NewEncoder(c.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
