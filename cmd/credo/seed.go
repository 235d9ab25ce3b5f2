package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/credorisk/credo/internal/demo"
	"github.com/credorisk/credo/internal/ledger"
)

func (c *cli) seed(args []string) error {
	if len(args) == 0 || args[0] != "demo" {
		return fmt.Errorf("%w: credo seed demo [--clients N] [--seed S] [--if-empty] [--out DIR]", errUsage)
	}
	fs := c.flags("seed demo")
	clients := fs.Int("clients", 500, "number of clients")
	seed := fs.Uint64("seed", 1, "random seed: the same seed and end date give the same portfolio")
	end := fs.String("end", "", "last day of history, YYYY-MM-DD (default today)")
	months := fs.Int("months", 24, "months of history")
	perMonth := fs.Float64("invoices-per-month", 3, "mean invoices per client and month")
	invoices := fs.Int("invoices", 0, "exactly this many invoice rows (calibrates the volume; 0: natural)")
	ifEmpty := fs.Bool("if-empty", false, "do nothing when the ledger already holds clients")
	out := fs.String("out", "", "write clients.ndjson, invoices.csv and payments.csv to this folder instead of the database")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	o := demo.Options{Clients: *clients, Seed: *seed, Months: *months, InvoicesPerMonth: *perMonth, Invoices: *invoices}
	if *end != "" {
		d, err := ledger.ParseDate(*end)
		if err != nil {
			return fmt.Errorf("%w: --end: %v", errUsage, err)
		}
		o.End = d
	}
	if *out != "" {
		p := demo.Generate(o)
		return writeDemoFiles(*out, p, c)
	}
	a, err := c.open(false)
	if err != nil {
		return err
	}
	defer a.close()
	if *ifEmpty {
		list, _, err := a.ledger.ListClients(c.ctx, ledger.ClientFilter{Limit: 1})
		if err != nil {
			return err
		}
		if len(list) > 0 {
			fmt.Fprintln(c.stdout, "the ledger already holds clients: no demo data added")
			return nil
		}
	}
	p := demo.Generate(o)
	prog := newProgress(c.stderr, 0)
	sum, err := demo.Seed(c.ctx, a.ledger, p, "seed", prog.Stage)
	prog.Close()
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "demo portfolio seeded: %s\n", sum)
	return nil
}

func writeDemoFiles(dir string, p demo.Portfolio, c *cli) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	files := []struct {
		name  string
		write func(*os.File) error
	}{
		{"clients.ndjson", func(f *os.File) error { return demo.WriteClientsNDJSON(f, p.Clients) }},
		{"invoices.csv", func(f *os.File) error { return demo.WriteInvoicesCSV(f, p.Invoices) }},
		{"payments.csv", func(f *os.File) error { return demo.WritePaymentsCSV(f, p.Payments) }},
	}
	for _, x := range files {
		f, err := os.Create(filepath.Join(dir, x.name))
		if err != nil {
			return err
		}
		if err := x.write(f); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(c.stdout, "wrote %d clients, %d invoices and %d payments to %s\n", len(p.Clients), len(p.Invoices), len(p.Payments), dir)
	return nil
}
