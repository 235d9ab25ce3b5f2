package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// Import reads a whole file and lands it in one transaction: rows that fail are reported with their
// line, field and reason and the rest land; with opts.Atomic nothing lands if any row fails.
// It returns the report and the ids of the clients whose ledger changed.
func (l *Ledger) Import(ctx context.Context, rr *ledger.RowReader, opts ledger.ImportOptions, actor string, progress func(stage string)) (ledger.ImportReport, []string, error) {
	if progress == nil {
		progress = func(string) {}
	}
	rep := ledger.ImportReport{Kind: opts.Kind, Atomic: opts.Atomic, Errors: []fault.FieldError{}}
	var changed []string
	errRolledBack := errors.New("atomic import rolled back")
	err := l.db.inTx(ctx, "import "+opts.Kind, func(tx pgx.Tx) error {
		var err error
		switch opts.Kind {
		case ledger.ImportInvoices:
			changed, err = importInvoices(ctx, tx, rr, opts, &rep, progress)
		case ledger.ImportClients:
			changed, err = importClients(ctx, tx, rr, &rep, progress)
		case ledger.ImportPayments:
			changed, err = importPayments(ctx, tx, rr, &rep, progress)
		default:
			return fault.Validation("unknown import", fault.Field("kind", "must be clients, invoices or payments"))
		}
		if err != nil {
			return err
		}
		if opts.Atomic && rep.Rejected > 0 {
			return errRolledBack
		}
		progress("committing")
		return audit(ctx, tx, actor, "import."+opts.Kind, "import", opts.Kind, map[string]any{
			"received": rep.Received, "inserted": rep.Inserted, "updated": rep.Updated, "unchanged": rep.Unchanged,
			"rejected": rep.Rejected, "clients_created": rep.ClientsCreated})
	})
	if errors.Is(err, errRolledBack) {
		rep.Inserted, rep.Updated, rep.Unchanged, rep.ClientsCreated = 0, 0, 0, 0
		return rep, nil, nil
	}
	if err != nil {
		return rep, nil, err
	}
	rep.Applied = true
	// A large import changes the tables' shape more than the planner knows until autovacuum
	// analyzes them, up to a minute later: in that window, `credo score --all` right after
	// importing 1,000,000 invoices took 3 minutes instead of 15 s. The statistics are refreshed
	// now; the import has landed whatever this answers.
	if rep.Inserted+rep.Updated+rep.ClientsCreated >= analyzeAfterRows {
		progress("analyzing")
		if _, err := l.db.Pool.Exec(ctx, analyzeAfterImport[opts.Kind]); err != nil && ctx.Err() == nil {
			slog.WarnContext(ctx, "statistics not refreshed after the import: autovacuum will", "kind", opts.Kind, "err", err)
		}
	}
	return rep, changed, nil
}

// analyzeAfterRows is the size of an import (rows written) after which the tables it wrote are
// analyzed at once.
const analyzeAfterRows = 10_000

var analyzeAfterImport = map[string]string{
	ledger.ImportInvoices: `ANALYZE invoices, allocations, clients`,
	ledger.ImportClients:  `ANALYZE clients`,
	ledger.ImportPayments: `ANALYZE payments, allocations`,
}

// rowSource feeds valid rows of a RowReader to COPY and records rejected ones.
type rowSource struct {
	rr     *ledger.RowReader
	rep    *ledger.ImportReport
	values func(ledger.ImportRow) []any
	cur    []any
	err    error
}

func (s *rowSource) Next() bool {
	for {
		row, fe, err := s.rr.Next()
		if err == io.EOF {
			return false
		}
		if err != nil {
			s.err = err
			return false
		}
		s.rep.Received++
		if len(fe) > 0 {
			for _, f := range fe {
				s.rep.Reject(row.Line, f.Field, f.Message)
				s.rep.Rejected-- // one rejected row may have several field errors
			}
			s.rep.Rejected++
			continue
		}
		s.cur = s.values(row)
		return true
	}
}

func (s *rowSource) Values() ([]any, error) { return s.cur, nil }
func (s *rowSource) Err() error             { return s.err }

// rejectLines reports staged rows picked by query (line, field, message) and removes them.
func rejectLines(ctx context.Context, tx pgx.Tx, rep *ledger.ImportReport, stage, query string, args ...any) error {
	rows, err := tx.Query(ctx, query, args...)
	if err != nil {
		return err
	}
	type rej struct {
		line       int32
		field, msg string
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (rej, error) {
		var x rej
		err := r.Scan(&x.line, &x.field, &x.msg)
		return x, err
	})
	if err != nil || len(list) == 0 {
		return err
	}
	lines := make([]int32, len(list))
	seen := map[int32]bool{}
	for i, x := range list {
		lines[i] = x.line
		if !seen[x.line] {
			rep.Reject(int(x.line), x.field, x.msg)
			seen[x.line] = true
		}
	}
	_, err = tx.Exec(ctx, `DELETE FROM `+stage+` WHERE line = ANY($1)`, lines)
	return err
}

func importInvoices(ctx context.Context, tx pgx.Tx, rr *ledger.RowReader, opts ledger.ImportOptions, rep *ledger.ImportReport, progress func(stage string)) ([]string, error) {
	_, err := tx.Exec(ctx, `CREATE TEMP TABLE stage_invoices (
		line int NOT NULL, invoice_id text NOT NULL, client_id text NOT NULL, number text, kind text NOT NULL,
		issue_date int NOT NULL, due_date int NOT NULL, amount bigint NOT NULL, currency text NOT NULL, disputed boolean NOT NULL,
		quote_id text, applies_to text, paid_date int, client_name text) ON COMMIT DROP`)
	if err != nil {
		return nil, err
	}
	progress("reading")
	src := &rowSource{rr: rr, rep: rep, values: func(r ledger.ImportRow) []any {
		inv := r.Invoice
		var paid *int32
		if r.PaidDate != nil {
			p := int32(*r.PaidDate)
			paid = &p
		}
		return []any{int32(r.Line), inv.InvoiceID, inv.ClientID, nullable(inv.Number), inv.Kind, int32(inv.IssueDate), int32(inv.DueDate),
			int64(inv.Amount), inv.Currency, inv.Disputed, nullable(inv.QuoteID), nullable(inv.AppliesTo), paid, nullable(r.ClientName)}
	}}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage_invoices"}, []string{"line", "invoice_id", "client_id", "number", "kind",
		"issue_date", "due_date", "amount", "currency", "disputed", "quote_id", "applies_to", "paid_date", "client_name"}, src); err != nil {
		if src.err != nil {
			return nil, src.err
		}
		return nil, err
	}
	progress("checking")
	if _, err := tx.Exec(ctx, `CREATE INDEX ON stage_invoices (invoice_id); ANALYZE stage_invoices`); err != nil {
		return nil, err
	}
	// The same invoice twice in one file: the first occurrence counts, later ones are rejected.
	if err := rejectLines(ctx, tx, rep, "stage_invoices", `
		WITH dup AS (SELECT invoice_id, min(line) AS first FROM stage_invoices GROUP BY invoice_id HAVING count(*) > 1)
		SELECT s.line, 'invoice_id', format('invoice %s appears again (first at line %s)', s.invoice_id, d.first)
		FROM stage_invoices s JOIN dup d USING (invoice_id) WHERE s.line <> d.first`); err != nil {
		return nil, err
	}
	progress("clients")
	if opts.CreateClients {
		tag, err := tx.Exec(ctx, `
			INSERT INTO clients (client_id, name, auto_created)
			SELECT DISTINCT ON (s.client_id) s.client_id, coalesce(nullif(s.client_name, ''), s.client_id), true
			FROM stage_invoices s WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = s.client_id)
			ORDER BY s.client_id, s.line`)
		if err != nil {
			return nil, err
		}
		rep.ClientsCreated = int(tag.RowsAffected())
	} else if err := rejectLines(ctx, tx, rep, "stage_invoices", `
		SELECT s.line, 'client_id', format('no client %s (create it first, or import with create_clients=true)', s.client_id)
		FROM stage_invoices s WHERE NOT EXISTS (SELECT 1 FROM clients c WHERE c.client_id = s.client_id)`); err != nil {
		return nil, err
	}
	progress("conflicts")
	// Which staged invoices exist already: on a first import none, so the checks and the merge
	// below have nothing to compare.
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stage_existing ON COMMIT DROP AS
		SELECT s.invoice_id FROM stage_invoices s JOIN invoices i USING (invoice_id)`); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `CREATE UNIQUE INDEX ON stage_existing (invoice_id); ANALYZE stage_existing`); err != nil {
		return nil, err
	}
	// Rows that contradict stored invoices: another client, another kind, or an amount below what
	// is already paid, credited or written off (only a shrinking amount can be; the settlement an
	// earlier import recorded does not count: this row's paid_date replaces it).
	if err := rejectLines(ctx, tx, rep, "stage_invoices", `
		WITH cand AS (
			SELECT s.line, s.invoice_id, s.client_id, s.kind, s.amount, i.client_id AS old_client, i.kind AS old_kind, i.amount AS old_amount
			FROM stage_existing e JOIN stage_invoices s USING (invoice_id) JOIN invoices i USING (invoice_id)
		), shrunk AS (
			SELECT * FROM cand WHERE kind = 'invoice' AND amount < old_amount * 100
		), other AS (
			SELECT a.invoice_id, sum(a.amount) AS s FROM allocations a JOIN shrunk USING (invoice_id)
			WHERE NOT (a.kind = 'payment' AND a.source_id = 'settle:' || a.invoice_id) GROUP BY a.invoice_id
		)
		SELECT line, 'client_id', format('invoice %s belongs to client %s; it cannot move', invoice_id, old_client) FROM cand WHERE old_client <> client_id
		UNION ALL SELECT line, 'kind', format('invoice %s is a %s; its kind cannot change', invoice_id, old_kind) FROM cand WHERE old_kind <> kind
		UNION ALL SELECT sh.line, 'amount', format('invoice %s already has %s paid, credited or written off', sh.invoice_id, o.s)
			FROM shrunk sh JOIN other o USING (invoice_id) WHERE o.s * 100 > sh.amount`); err != nil {
		return nil, err
	}
	if err := rejectLines(ctx, tx, rep, "stage_invoices", `
		SELECT s.line, 'applies_to', format('no invoice %s of client %s to apply the credit note to', s.applies_to, s.client_id)
		FROM stage_invoices s WHERE s.applies_to IS NOT NULL AND NOT EXISTS (
			SELECT 1 FROM invoices i WHERE i.invoice_id = s.applies_to AND i.client_id = s.client_id AND i.kind = 'invoice'
			UNION ALL SELECT 1 FROM stage_invoices t WHERE t.invoice_id = s.applies_to AND t.client_id = s.client_id AND t.kind = 'invoice')`); err != nil {
		return nil, err
	}
	if opts.Atomic && rep.Rejected > 0 {
		return nil, nil
	}
	progress("merging")
	// New invoices, with their settlement dates when the row carries a paid_date (nothing else can
	// have moved a new invoice's balance yet).
	tag, err := tx.Exec(ctx, `
		INSERT INTO invoices (invoice_id, client_id, number, kind, issue_date, due_date, amount, currency, disputed, quote_id, applies_to, settled_on, paid_date)
		SELECT invoice_id, client_id, number, kind, `+epoch+` + issue_date, `+epoch+` + due_date, amount::numeric / 100, currency, disputed,
			quote_id, applies_to,
			CASE WHEN kind = 'invoice' THEN `+epoch+` + paid_date END, CASE WHEN kind = 'invoice' THEN `+epoch+` + paid_date END
		FROM stage_invoices s WHERE NOT EXISTS (SELECT 1 FROM stage_existing e WHERE e.invoice_id = s.invoice_id)`)
	if err != nil {
		return nil, err
	}
	rep.Inserted = int(tag.RowsAffected())
	// Stored invoices whose data changed.
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stage_changed (invoice_id text PRIMARY KEY) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	tag, err = tx.Exec(ctx, `
		WITH u AS (
			UPDATE invoices i SET number = s.number, issue_date = `+epoch+` + s.issue_date, due_date = `+epoch+` + s.due_date,
				amount = s.amount::numeric / 100, currency = s.currency, disputed = s.disputed, quote_id = s.quote_id,
				applies_to = s.applies_to, updated_at = now()
			FROM stage_invoices s JOIN stage_existing e USING (invoice_id)
			WHERE i.invoice_id = s.invoice_id
				AND (i.number, i.issue_date, i.due_date, i.amount * 100, i.currency, i.disputed, i.quote_id, i.applies_to)
				IS DISTINCT FROM (s.number, `+epoch+` + s.issue_date, `+epoch+` + s.due_date, s.amount::numeric, s.currency::bpchar, s.disputed, s.quote_id, s.applies_to)
			RETURNING i.invoice_id
		)
		INSERT INTO stage_changed SELECT invoice_id FROM u`)
	if err != nil {
		return nil, err
	}
	rep.Updated = int(tag.RowsAffected())
	progress("settlements")
	settledChanged, err := mergeSettlements(ctx, tx)
	if err != nil {
		return nil, err
	}
	rep.Updated += settledChanged
	rep.Unchanged = rep.Received - rep.Rejected - rep.Inserted - rep.Updated
	progress("settling")
	// Changed invoices get their settlement dates recomputed from their allocations.
	if _, err := tx.Exec(ctx, fmt.Sprintf(settlementSQL, `SELECT invoice_id AS id FROM stage_changed`)); err != nil {
		return nil, err
	}
	// New and changed credit notes are (re)applied in issue date order; unchanged ones keep theirs.
	creditNotes, err := creditNotesOf(ctx, tx)
	if err != nil {
		return nil, err
	}
	if len(creditNotes) > 0 {
		ids := make([]string, len(creditNotes))
		var clients []string
		for i, cn := range creditNotes {
			ids[i] = cn.InvoiceID
			clients = append(clients, cn.ClientID)
		}
		if err := releaseAllocations(ctx, tx, ledger.MoveCreditNote, ids); err != nil {
			return nil, err
		}
		alloc, err := loadAllocator(ctx, tx, dedupe(clients))
		if err != nil {
			return nil, err
		}
		for _, cn := range creditNotes {
			if cn.AppliesTo != "" {
				alloc.explicit(ledger.MoveCreditNote, cn.InvoiceID, cn.IssueDate, cn.AppliesTo, cn.Amount)
			} else {
				alloc.oldestFirst(ledger.MoveCreditNote, cn.InvoiceID, cn.ClientID, cn.IssueDate, cn.Amount)
			}
		}
		if err := alloc.flush(ctx, tx); err != nil {
			return nil, err
		}
	}
	rows, err := tx.Query(ctx, `SELECT DISTINCT s.client_id FROM stage_invoices s
		WHERE NOT EXISTS (SELECT 1 FROM stage_existing e WHERE e.invoice_id = s.invoice_id)
			OR EXISTS (SELECT 1 FROM stage_changed c WHERE c.invoice_id = s.invoice_id)`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// mergeSettlements records, for each staged invoice with a paid_date, a payment allocation
// "settle:<id>" of the balance the other movements leave, dated paid_date; and removes it when the
// row no longer has a paid_date. Stored invoices whose settlement changed join stage_changed; it
// returns how many did (new invoices got their dates at insert).
func mergeSettlements(ctx context.Context, tx pgx.Tx) (int, error) {
	var before int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM stage_changed`).Scan(&before); err != nil {
		return 0, err
	}
	steps := []string{
		// What other movements (payments, credit notes, write-offs) already took off stored invoices.
		`CREATE TEMP TABLE settle_other ON COMMIT DROP AS
			SELECT a.invoice_id, sum(a.amount) AS amount FROM allocations a JOIN stage_existing e USING (invoice_id)
			WHERE NOT (a.kind = 'payment' AND a.source_id = 'settle:' || a.invoice_id)
			GROUP BY a.invoice_id`,
		`CREATE TEMP TABLE settle_want ON COMMIT DROP AS
			SELECT s.invoice_id, ` + epoch + ` + s.paid_date AS date, s.amount::numeric / 100 - coalesce(o.amount, 0) AS amount
			FROM stage_existing e JOIN stage_invoices s USING (invoice_id) LEFT JOIN settle_other o USING (invoice_id)
			WHERE s.paid_date IS NOT NULL AND s.kind = 'invoice'`,
		// Both are read by invoice id; without statistics the planner may loop over one of them
		// for every allocation (a re-import of 1,000,000 invoices then ran for hours).
		`CREATE INDEX ON settle_other (invoice_id); ANALYZE settle_other`,
		`CREATE INDEX ON settle_want (invoice_id); ANALYZE settle_want`,
		// Settlements that no longer apply: the row has no paid_date, or nothing is left to settle.
		`WITH gone AS (
			DELETE FROM allocations a USING stage_existing e
			WHERE a.invoice_id = e.invoice_id AND a.kind = 'payment' AND a.source_id = 'settle:' || e.invoice_id
				AND NOT EXISTS (SELECT 1 FROM settle_want w WHERE w.invoice_id = e.invoice_id AND w.amount > 0)
			RETURNING a.invoice_id
		)
		INSERT INTO stage_changed SELECT invoice_id FROM gone ON CONFLICT DO NOTHING`,
		// Settlements of new invoices: plain inserts of the whole amount.
		`INSERT INTO allocations (invoice_id, kind, source_id, date, amount)
			SELECT invoice_id, 'payment', 'settle:' || invoice_id, ` + epoch + ` + paid_date, amount::numeric / 100 FROM stage_invoices s
			WHERE paid_date IS NOT NULL AND kind = 'invoice' AND NOT EXISTS (SELECT 1 FROM stage_existing e WHERE e.invoice_id = s.invoice_id)`,
		// Settlements of stored invoices: new or changed ones.
		`WITH alloc AS (
			INSERT INTO allocations (invoice_id, kind, source_id, date, amount)
			SELECT invoice_id, 'payment', 'settle:' || invoice_id, date, amount FROM settle_want WHERE amount > 0
			ON CONFLICT (invoice_id, kind, source_id) DO UPDATE SET date = EXCLUDED.date, amount = EXCLUDED.amount
			WHERE (allocations.date, allocations.amount) IS DISTINCT FROM (EXCLUDED.date, EXCLUDED.amount)
			RETURNING invoice_id
		)
		INSERT INTO stage_changed SELECT invoice_id FROM alloc ON CONFLICT DO NOTHING`,
	}
	for _, q := range steps {
		if _, err := tx.Exec(ctx, q); err != nil {
			return 0, err
		}
	}
	var after int64
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM stage_changed`).Scan(&after); err != nil {
		return 0, err
	}
	return int(after - before), nil
}

func creditNotesOf(ctx context.Context, tx pgx.Tx) ([]ledger.Invoice, error) {
	rows, err := tx.Query(ctx, `SELECT invoice_id, client_id, kind, issue_date, due_date, amount, coalesce(applies_to, '')
		FROM stage_invoices s WHERE kind = 'credit_note' AND (
			NOT EXISTS (SELECT 1 FROM stage_existing e WHERE e.invoice_id = s.invoice_id)
			OR EXISTS (SELECT 1 FROM stage_changed c WHERE c.invoice_id = s.invoice_id))
		ORDER BY issue_date, line`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Invoice, error) {
		var inv ledger.Invoice
		var issue, due int32
		var amount int64
		err := r.Scan(&inv.InvoiceID, &inv.ClientID, &inv.Kind, &issue, &due, &amount, &inv.AppliesTo)
		inv.IssueDate, inv.DueDate, inv.Amount = ledger.Date(issue), ledger.Date(due), ledger.Money(amount)
		return inv, err
	})
}

func importClients(ctx context.Context, tx pgx.Tx, rr *ledger.RowReader, rep *ledger.ImportReport, progress func(stage string)) ([]string, error) {
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stage_clients (line int NOT NULL, client_id text NOT NULL, name text NOT NULL,
		registration_id text, country text, sector text, directors text[] NOT NULL) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	progress("reading")
	src := &rowSource{rr: rr, rep: rep, values: func(r ledger.ImportRow) []any {
		c := r.Client
		return []any{int32(r.Line), c.ClientID, c.Name, nullable(c.RegistrationID), nullable(c.Country), nullable(c.Sector), c.Directors}
	}}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage_clients"}, []string{"line", "client_id", "name", "registration_id", "country", "sector", "directors"}, src); err != nil {
		if src.err != nil {
			return nil, src.err
		}
		return nil, err
	}
	if err := rejectLines(ctx, tx, rep, "stage_clients", `
		SELECT line, 'client_id', format('client %s appears again (first at line %s)', client_id, first) FROM (
			SELECT line, client_id, min(line) OVER (PARTITION BY client_id) AS first FROM stage_clients) d
		WHERE line <> first`); err != nil {
		return nil, err
	}
	progress("merging")
	rows, err := tx.Query(ctx, `
		INSERT INTO clients (client_id, name, registration_id, country, sector, directors)
		SELECT client_id, name, registration_id, country, sector, directors FROM stage_clients
		ON CONFLICT (client_id) DO UPDATE SET name = EXCLUDED.name, registration_id = EXCLUDED.registration_id,
			country = EXCLUDED.country, sector = EXCLUDED.sector, directors = EXCLUDED.directors, auto_created = false, updated_at = now()
		WHERE (clients.name, clients.registration_id, clients.country, clients.sector, clients.directors, clients.auto_created)
			IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.registration_id, EXCLUDED.country, EXCLUDED.sector, EXCLUDED.directors, false)
		RETURNING client_id, xmax = 0`)
	if err != nil {
		return nil, err
	}
	var changed []string
	for rows.Next() {
		var id string
		var ins bool
		if err := rows.Scan(&id, &ins); err != nil {
			return nil, err
		}
		if ins {
			rep.Inserted++
		} else {
			rep.Updated++
		}
		changed = append(changed, id)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rep.Unchanged = rep.Received - rep.Rejected - rep.Inserted - rep.Updated
	return changed, nil
}

// importPayments lands payments set-based: rows are checked against stored clients, invoices and
// payments, unchanged ones are skipped, the rest replace what was stored and are applied in file
// order (each allocation sees the ones before it) with balances held in memory.
func importPayments(ctx context.Context, tx pgx.Tx, rr *ledger.RowReader, rep *ledger.ImportReport, progress func(string)) ([]string, error) {
	progress("reading")
	type prow struct {
		line int
		p    ledger.Payment
		to   string // the invoice the payment is for, if the row names one
	}
	var rows []prow
	seen := map[string]int{}
	for {
		row, fe, err := rr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		rep.Received++
		if len(fe) > 0 {
			rep.Reject(row.Line, fe[0].Field, fe[0].Message)
			for _, f := range fe[1:] {
				if len(rep.Errors) < ledger.MaxReportedErrors {
					rep.Errors = append(rep.Errors, f)
				}
			}
			continue
		}
		p := *row.Payment
		if first, ok := seen[p.PaymentID]; ok {
			rep.Reject(row.Line, "payment_id", fmt.Sprintf("payment %s appears again (first at line %d)", p.PaymentID, first))
			continue
		}
		seen[p.PaymentID] = row.Line
		r := prow{line: row.Line, p: p}
		if len(p.Allocations) == 1 {
			r.to = p.Allocations[0].InvoiceID
		}
		rows = append(rows, r)
	}
	progress("checking")
	var payIDs, clientIDs, invIDs []string
	for _, r := range rows {
		payIDs = append(payIDs, r.p.PaymentID)
		clientIDs = append(clientIDs, r.p.ClientID)
		if r.to != "" {
			invIDs = append(invIDs, r.to)
		}
	}
	clientIDs = dedupe(clientIDs)
	known := map[string]bool{}
	crow, err := tx.Query(ctx, `SELECT client_id FROM clients WHERE client_id = ANY($1)`, clientIDs)
	if err != nil {
		return nil, err
	}
	ks, err := pgx.CollectRows(crow, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, k := range ks {
		known[k] = true
	}
	owners, err := invoiceOwners(ctx, tx, dedupe(invIDs))
	if err != nil {
		return nil, err
	}
	type stored struct {
		ledger.PaymentView
		allocs []ledger.Allocation
	}
	old := map[string]*stored{}
	prows, err := tx.Query(ctx, `SELECT `+paymentColumns+` FROM payments WHERE payment_id = ANY($1)`, payIDs)
	if err != nil {
		return nil, err
	}
	for prows.Next() {
		v, err := scanPayment(prows)
		if err != nil {
			prows.Close()
			return nil, err
		}
		old[v.PaymentID] = &stored{PaymentView: v}
	}
	prows.Close()
	if err := prows.Err(); err != nil {
		return nil, err
	}
	arows, err := tx.Query(ctx, `SELECT source_id, invoice_id, `+cents("amount")+` FROM allocations WHERE kind = 'payment' AND source_id = ANY($1) AND source_id NOT LIKE 'settle:%'`, payIDs)
	if err != nil {
		return nil, err
	}
	for arows.Next() {
		var src string
		var a ledger.Allocation
		var c int64
		if err := arows.Scan(&src, &a.InvoiceID, &c); err != nil {
			arows.Close()
			return nil, err
		}
		a.Amount = ledger.Money(c)
		if o := old[src]; o != nil {
			o.allocs = append(o.allocs, a)
		}
	}
	arows.Close()
	if err := arows.Err(); err != nil {
		return nil, err
	}
	var todo []prow
	for _, r := range rows {
		p := r.p
		if !known[p.ClientID] {
			rep.Reject(r.line, "client_id", fmt.Sprintf("no client %s (create it first)", p.ClientID))
			continue
		}
		if r.to != "" {
			o, ok := owners[r.to]
			switch {
			case !ok:
				rep.Reject(r.line, "invoice_id", fmt.Sprintf("no invoice %s", r.to))
				continue
			case o.client != p.ClientID:
				rep.Reject(r.line, "invoice_id", fmt.Sprintf("invoice %s belongs to client %s", r.to, o.client))
				continue
			case o.kind != ledger.KindInvoice:
				rep.Reject(r.line, "invoice_id", fmt.Sprintf("%s is a credit note", r.to))
				continue
			}
		}
		if o := old[p.PaymentID]; o != nil {
			if o.ClientID != p.ClientID {
				rep.Reject(r.line, "client_id", fmt.Sprintf("payment %s belongs to client %s; it cannot move", p.PaymentID, o.ClientID))
				continue
			}
			sameTarget := r.to == "" || len(o.allocs) == 0 || (len(o.allocs) == 1 && o.allocs[0].InvoiceID == r.to)
			if o.Date == p.Date && o.Amount == p.Amount && o.Currency == p.Currency && o.Reference == p.Reference && sameTarget {
				rep.Unchanged++
				continue
			}
			rep.Updated++
		} else {
			rep.Inserted++
		}
		todo = append(todo, r)
	}
	if len(todo) == 0 {
		return nil, nil
	}
	progress("applying")
	ids := make([]string, len(todo))
	var changedClients []string
	values := make([][]any, len(todo))
	for i, r := range todo {
		ids[i] = r.p.PaymentID
		changedClients = append(changedClients, r.p.ClientID)
		values[i] = []any{r.p.PaymentID, r.p.ClientID, int32(r.p.Date), int64(r.p.Amount), r.p.Currency, nullable(r.p.Reference)}
	}
	changedClients = dedupe(changedClients)
	if err := releaseAllocations(ctx, tx, ledger.MovePayment, ids); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE stage_payments (payment_id text, client_id text, date int, amount bigint, currency text, reference text) ON COMMIT DROP`); err != nil {
		return nil, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"stage_payments"}, []string{"payment_id", "client_id", "date", "amount", "currency", "reference"}, pgx.CopyFromRows(values)); err != nil {
		return nil, err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO payments (payment_id, client_id, date, amount, currency, reference)
		SELECT payment_id, client_id, `+epoch+` + date, amount::numeric / 100, currency, reference FROM stage_payments
		ON CONFLICT (payment_id) DO UPDATE SET date = EXCLUDED.date, amount = EXCLUDED.amount, currency = EXCLUDED.currency,
			reference = EXCLUDED.reference, updated_at = now()`); err != nil {
		return nil, err
	}
	alloc, err := loadAllocator(ctx, tx, changedClients)
	if err != nil {
		return nil, err
	}
	for _, r := range todo {
		if r.to != "" {
			alloc.explicit(ledger.MovePayment, r.p.PaymentID, r.p.Date, r.to, r.p.Amount)
		} else {
			alloc.oldestFirst(ledger.MovePayment, r.p.PaymentID, r.p.ClientID, r.p.Date, r.p.Amount)
		}
	}
	if err := alloc.flush(ctx, tx); err != nil {
		return nil, err
	}
	return changedClients, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
