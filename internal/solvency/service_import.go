package solvency

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"regexp"
	"slices"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// ImportProvider is the provider name stored on imported snapshots unless the import names one.
const ImportProvider = "import"

// ImportOptions say how to read a bureau export and how to land it.
type ImportOptions struct {
	// CSV are the file's options; CSV.Provider names the snapshots' provider (default
	// ImportProvider).
	CSV CSVParams
	// Atomic lands nothing when any row is rejected.
	Atomic bool
	Actor  string
}

// ImportReport is what a solvency import did. Errors hold one entry per rejected field, with its
// line (at most ledger.MaxReportedErrors are listed; Rejected counts every rejected row).
type ImportReport struct {
	Kind     string             `json:"kind"`
	Provider string             `json:"provider"`
	Received int                `json:"received"`
	Imported int                `json:"imported"`
	Rejected int                `json:"rejected"`
	Atomic   bool               `json:"atomic"`
	Applied  bool               `json:"applied"`
	Errors   []fault.FieldError `json:"errors"`
}

var providerNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

// checkImportProvider refuses names that are not identifiers, and the registers' names: a
// bureau file must not pass for the official bulletin or the company register, which the merge
// trusts first.
func checkImportProvider(name string) error {
	switch {
	case !providerNameRE.MatchString(name):
		return fault.Validation("the import options are not valid", fault.Field("provider", "must be 1 to 32 of a-z 0-9 _, starting with a letter"))
	case name == "bodacc" || name == "sirene":
		return fault.Validation("the import options are not valid", fault.Field("provider", "%q is a public register, not a bureau export", name))
	}
	return nil
}

// Import reads a bureau export and stores one snapshot per accepted row. A row with a bad value,
// an unknown client or a date in the future is rejected with its line, field and reason, and the
// rest land (nothing lands with Atomic: the answer is then a fault Invalid error listing the
// rejected fields, with the report). A broken file (no header, a mapped column missing, bad CSV,
// too many rows) fails as a whole. The imported clients' cached scores are dropped.
func (s *Service) Import(ctx context.Context, r io.Reader, o ImportOptions) (ImportReport, error) {
	if o.CSV.Provider == "" {
		o.CSV.Provider = ImportProvider
	}
	rep := ImportReport{Kind: "solvency", Provider: o.CSV.Provider, Atomic: o.Atomic, Errors: []fault.FieldError{}}
	if err := checkImportProvider(o.CSV.Provider); err != nil {
		return rep, err
	}
	opts, err := ParseCSVOptions(o.CSV, s.cfg.Mapping)
	if err != nil {
		return rep, err
	}
	opts.Now = s.now
	res, err := ParseCSV(r, opts)
	if err != nil {
		return rep, err
	}
	rep.Received = res.Received
	errs := slices.Clone(res.Errors)
	now := s.now()
	rows := make([]CSVRow, 0, len(res.Rows))
	for _, row := range res.Rows {
		if row.Snapshot.FetchedAt.After(now) {
			// A future date would keep the snapshot "latest" and fresh until that day.
			errs = append(errs, fault.FieldError{Line: row.Line, Field: "date", Message: "must not be in the future"})
			continue
		}
		rows = append(rows, row)
	}
	// Unknown clients are rejected rows like any other, so that an atomic import lists them too.
	missing, err := s.store.MissingClients(ctx, clientsOf(rows))
	if err != nil {
		return rep, fmt.Errorf("check the imported clients: %w", err)
	}
	rows, errs = rejectClients(rows, missing, errs)
	if o.Atomic && len(errs) > 0 {
		return s.importRefused(rep, errs)
	}
	snaps := make([]Snapshot, len(rows))
	for i, row := range rows {
		snaps[i] = row.Snapshot
	}
	// Clients are never deleted, so none should go missing since the check; with Atomic the
	// store refuses the whole file if one did.
	gone, err := s.store.SaveSnapshots(ctx, snaps, SaveInfo{Actor: o.Actor, Source: SourceImport, Atomic: o.Atomic})
	if err != nil {
		return rep, fmt.Errorf("store imported solvency snapshots: %w", err)
	}
	if len(gone) > 0 {
		var ids []string
		for _, i := range gone {
			ids = append(ids, snaps[i].ClientID)
		}
		if rows, errs = rejectClients(rows, ids, errs); o.Atomic {
			return s.importRefused(rep, errs)
		}
	}
	rep.Applied, rep.Imported = true, len(rows)
	rep.Rejected, rep.Errors = countRejected(errs)
	s.invalidate(ctx, clientsOf(rows))
	return rep, nil
}

// clientsOf lists the distinct clients of rows.
func clientsOf(rows []CSVRow) []string {
	var ids []string
	seen := map[string]bool{}
	for _, row := range rows {
		if id := row.Snapshot.ClientID; !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids
}

// rejectClients drops the rows of clients that do not exist, with an error each.
func rejectClients(rows []CSVRow, missing []string, errs []fault.FieldError) ([]CSVRow, []fault.FieldError) {
	if len(missing) == 0 {
		return rows, errs
	}
	unknown := make(map[string]bool, len(missing))
	for _, id := range missing {
		unknown[id] = true
	}
	kept := rows[:0:0]
	for _, row := range rows {
		if unknown[row.Snapshot.ClientID] {
			errs = append(errs, fault.FieldError{Line: row.Line, Field: "client_id",
				Message: fmt.Sprintf("no client %q; create it first", row.Snapshot.ClientID)})
			continue
		}
		kept = append(kept, row)
	}
	return kept, errs
}

// importRefused is the answer to an atomic import with rejected rows: nothing landed.
func (s *Service) importRefused(rep ImportReport, errs []fault.FieldError) (ImportReport, error) {
	rep.Rejected, rep.Errors = countRejected(errs)
	return rep, &fault.Error{Code: fault.Invalid, Message: "the import was atomic and some rows failed: nothing was imported",
		Fields: rep.Errors}
}

// countRejected counts the distinct lines at fault and lists the errors in line order, at most
// ledger.MaxReportedErrors of them.
func countRejected(errs []fault.FieldError) (int, []fault.FieldError) {
	slices.SortStableFunc(errs, func(a, b fault.FieldError) int { return cmp.Compare(a.Line, b.Line) })
	lines := map[int]bool{}
	for _, e := range errs {
		lines[e.Line] = true
	}
	if len(errs) > ledger.MaxReportedErrors {
		errs = errs[:ledger.MaxReportedErrors]
	}
	if errs == nil {
		errs = []fault.FieldError{}
	}
	return len(lines), errs
}
