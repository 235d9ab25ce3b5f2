package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

func (c *cli) importCmd(args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return fmt.Errorf("%w: credo import clients|invoices|payments --file F [flags]", errUsage)
	}
	kind := args[0]
	fs := c.flags("import " + kind)
	file := fs.String("file", "", "the CSV or NDJSON file to import (required)")
	format := fs.String("format", "", "csv or ndjson (default: from the file's extension, else csv)")
	mapping := fs.String("map", "", "comma-separated field=Column pairs naming the source columns")
	dateFormat := fs.String("date-format", "iso", "iso, us (M/D/YYYY), eu (D/M/YYYY) or a Go layout")
	delimiter := fs.String("delimiter", ",", "CSV delimiter (one character, or tab)")
	decimal := fs.String("decimal", ".", "decimal separator: . or ,")
	create := fs.Bool("create-clients", false, "create a client named after its id when an invoice names an unknown one")
	atomic := fs.Bool("atomic", false, "import nothing if any row fails")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	actor := fs.String("actor", "cli", "the name recorded in the audit log for this import")
	verbose := fs.Bool("verbose", false, "print each stage of the import with its duration")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	if *file == "" {
		return fmt.Errorf("%w: --file is required", errUsage)
	}
	if *format == "" {
		*format = "csv"
		if strings.HasSuffix(*file, ".ndjson") || strings.HasSuffix(*file, ".jsonl") {
			*format = "ndjson"
		}
	}
	opts, err := ledger.ParseImportOptions(ledger.ImportParams{Kind: kind, Format: *format, Map: *mapping, DateFormat: *dateFormat,
		Delimiter: *delimiter, Decimal: *decimal, CreateClients: *create, Atomic: *atomic})
	if err != nil {
		return fmt.Errorf("%s", describe(err))
	}
	f, err := os.Open(*file)
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	start := time.Now()
	prog := newProgress(c.stderr, st.Size())
	stage := prog.Stage
	if *verbose {
		last, lastName := time.Now(), "starting"
		stage = func(s string) {
			fmt.Fprintf(c.stderr, "%-10s %6.2fs\n", lastName, time.Since(last).Seconds())
			last, lastName = time.Now(), s
			prog.Stage(s)
		}
		defer func() { stage("done") }()
	}
	rep, err := a.ledger.Import(c.ctx, prog.Reader(f), opts, *actor, stage)
	prog.Close()
	if err != nil {
		return fmt.Errorf("import %s: %s", *file, describe(err))
	}
	elapsed := time.Since(start)
	if *asJSON {
		enc := json.NewEncoder(c.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else {
		printReport(c, rep, elapsed)
	}
	if rep.Rejected > 0 && opts.Atomic {
		return fmt.Errorf("nothing imported: %d rows failed and --atomic was given", rep.Rejected)
	}
	return nil
}

func printReport(c *cli, rep ledger.ImportReport, elapsed time.Duration) {
	w := c.stdout
	fmt.Fprintf(w, "%s import: %d received, %d inserted, %d updated, %d unchanged, %d rejected", rep.Kind, rep.Received, rep.Inserted, rep.Updated, rep.Unchanged, rep.Rejected)
	if rep.ClientsCreated > 0 {
		fmt.Fprintf(w, ", %d clients created", rep.ClientsCreated)
	}
	rate := float64(rep.Received) / elapsed.Seconds()
	fmt.Fprintf(w, " in %.1fs (%.0f rows/s)\n", elapsed.Seconds(), rate)
	for i, e := range rep.Errors {
		if i == 20 {
			fmt.Fprintf(w, "  ... and %d more (use --json for all listed)\n", len(rep.Errors)-20)
			break
		}
		fmt.Fprintf(w, "  line %d: %s: %s\n", e.Line, e.Field, e.Message)
	}
}
