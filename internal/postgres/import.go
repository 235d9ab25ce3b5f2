package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"

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
	return rep, changed, nil
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
		quote_id text, applies_to text, paid_date int, client_name text, ins boolean NOT NULL DEFAULT false) ON COMMIT DROP`)
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
		SELECT line, 'invoice_id', format('invoice %s appears again (first at line %s)', invoice_id, first) FROM (
			SELECT line, invoice_id, min(line) OVER (PARTITION BY invoice_id) AS first FROM stage_invoices) d
		WHERE line <> first`); err != nil {
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
	// Rows that contradict stored invoices. The settlement an earlier import recorded for the same
	// invoice does not count: this row's paid_date replaces it.
	if err := rejectLines(ctx, tx, rep, "stage_invoices", `
		WITH other AS (
			SELECT a.invoice_id, sum(a.amount) AS s FROM allocations a JOIN stage_invoices t USING (invoice_id)
			WHERE NOT (a.kind = 'payment' AND a.source_id = 'settle:' || a.invoice_id) GROUP BY a.invoice_id
		)
		SELECT s.line, f.field, f.msg FROM stage_invoices s JOIN invoices i USING (invoice_id)
		LEFT JOIN other al USING (invoice_id)
		CROSS JOIN LATERAL (VALUES
			(i.client_id <> s.client_id, 'client_id', format('invoice %s belongs to client %s; it cannot move', i.invoice_id, i.client_id)),
			(i.kind <> s.kind, 'kind', format('invoice %s is a %s; its kind cannot change', i.invoice_id, i.kind)),
			(s.kind = 'invoice' AND coalesce(al.s, 0) * 100 > s.amount, 'amount', format('invoice %s already has %s paid, credited or written off', i.invoice_id, al.s))
		) AS f(bad, field, msg)
		WHERE f.bad`); err != nil {
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
	// New invoices settled by this import get their settlement dates at insert; updated ones are
	// recomputed from their allocations below.
	var inserted, updated int
	err = tx.QueryRow(ctx, `
		WITH m AS (
			INSERT INTO invoices (invoice_id, client_id, number, kind, issue_date, due_date, amount, currency, disputed, quote_id, applies_to, settled_on, paid_date)
			SELECT invoice_id, client_id, number, kind, `+epoch+` + issue_date, `+epoch+` + due_date, amount::numeric / 100, currency, disputed,
				quote_id, applies_to,
				CASE WHEN kind = 'invoice' THEN `+epoch+` + paid_date END, CASE WHEN kind = 'invoice' THEN `+epoch+` + paid_date END
			FROM stage_invoices
			ON CONFLICT (invoice_id) DO UPDATE SET number = EXCLUDED.number, issue_date = EXCLUDED.issue_date, due_date = EXCLUDED.due_date,
				amount = EXCLUDED.amount, currency = EXCLUDED.currency, disputed = EXCLUDED.disputed, quote_id = EXCLUDED.quote_id,
				applies_to = EXCLUDED.applies_to, updated_at = now()
			WHERE (invoices.number, invoices.issue_date, invoices.due_date, invoices.amount, invoices.currency, invoices.disputed, invoices.quote_id, invoices.applies_to)
				IS DISTINCT FROM (EXCLUDED.number, EXCLUDED.issue_date, EXCLUDED.due_date, EXCLUDED.amount, EXCLUDED.currency, EXCLUDED.disputed, EXCLUDED.quote_id, EXCLUDED.applies_to)
			RETURNING invoice_id, xmax = 0 AS ins
		), r AS (
			-- Updated rows are marked with a negative line, inserted ones with ins.
			UPDATE stage_invoices s SET line = CASE WHEN m.ins THEN s.line ELSE -s.line END, ins = m.ins
			FROM m WHERE m.invoice_id = s.invoice_id RETURNING 1
		)
		SELECT count(*) FILTER (WHERE ins), count(*) FILTER (WHERE NOT ins) FROM m`).Scan(&inserted, &updated)
	if err != nil {
		return nil, err
	}
	rep.Inserted, rep.Updated = inserted, updated
	progress("payments")
	settledChanged, err := mergeSettlements(ctx, tx)
	if err != nil {
		return nil, err
	}
	rep.Updated += settledChanged
	rep.Unchanged = rep.Received - rep.Rejected - rep.Inserted - rep.Updated
	progress("settling")
	// Updated rows (negative line) and rows whose settlement changed get their dates recomputed.
	if _, err := tx.Exec(ctx, fmt.Sprintf(settlementSQL, `SELECT invoice_id AS id FROM stage_invoices WHERE line < 0`)); err != nil {
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
	rows, err := tx.Query(ctx, `SELECT DISTINCT client_id FROM stage_invoices WHERE line < 0 OR ins`)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// mergeSettlements records, for each staged invoice with a paid_date, a payment "settle:<id>" of
// the balance the other movements leave, dated paid_date; and removes such a payment when the
// row no longer has a paid_date. Rows whose settlement changed are marked (negative line) and
// counted. Each step is one set-based statement over indexed temporary tables.
func mergeSettlements(ctx context.Context, tx pgx.Tx) (int, error) {
	steps := []string{
		// What other movements (payments, credit notes, write-offs) already took off updated invoices.
		`CREATE TEMP TABLE settle_other ON COMMIT DROP AS
			SELECT a.invoice_id, sum(a.amount) AS amount FROM allocations a
			JOIN stage_invoices t ON t.invoice_id = a.invoice_id AND NOT t.ins
			WHERE NOT (a.kind = 'payment' AND a.source_id = 'settle:' || a.invoice_id)
			GROUP BY a.invoice_id`,
		`CREATE TEMP TABLE settle_want ON COMMIT DROP AS
			SELECT s.invoice_id, s.client_id, ` + epoch + ` + s.paid_date AS date, s.currency,
				s.amount::numeric / 100 - coalesce(o.amount, 0) AS amount
			FROM stage_invoices s LEFT JOIN settle_other o USING (invoice_id)
			WHERE s.paid_date IS NOT NULL AND s.kind = 'invoice'`,
		`CREATE TEMP TABLE settle_touched (invoice_id text PRIMARY KEY) ON COMMIT DROP`,
		`CREATE INDEX ON settle_want (invoice_id)`,
		`ANALYZE settle_want`,
		// Settlements that no longer apply: the row has no paid_date, or nothing is left to settle.
		`WITH gone AS (
			DELETE FROM allocations a USING stage_invoices s
			LEFT JOIN settle_want w ON w.invoice_id = s.invoice_id AND w.amount > 0
			WHERE NOT s.ins AND a.invoice_id = s.invoice_id AND a.kind = 'payment' AND a.source_id = 'settle:' || s.invoice_id
				AND w.invoice_id IS NULL
			RETURNING a.invoice_id
		), p AS (
			DELETE FROM payments p USING gone WHERE p.payment_id = 'settle:' || gone.invoice_id
		)
		INSERT INTO settle_touched SELECT invoice_id FROM gone ON CONFLICT DO NOTHING`,
		`INSERT INTO payments (payment_id, client_id, date, amount, currency, settles)
			SELECT 'settle:' || invoice_id, client_id, date, amount, currency, invoice_id FROM settle_want WHERE amount > 0
			ON CONFLICT (payment_id) DO UPDATE SET date = EXCLUDED.date, amount = EXCLUDED.amount, updated_at = now()
			WHERE (payments.date, payments.amount) IS DISTINCT FROM (EXCLUDED.date, EXCLUDED.amount)`,
		// New invoices got their settlement dates at insert; other changed settlements are recomputed.
		`WITH alloc AS (
			INSERT INTO allocations (invoice_id, kind, source_id, date, amount)
			SELECT invoice_id, 'payment', 'settle:' || invoice_id, date, amount FROM settle_want WHERE amount > 0
			ON CONFLICT (invoice_id, kind, source_id) DO UPDATE SET date = EXCLUDED.date, amount = EXCLUDED.amount
			WHERE (allocations.date, allocations.amount) IS DISTINCT FROM (EXCLUDED.date, EXCLUDED.amount)
			RETURNING invoice_id
		)
		INSERT INTO settle_touched SELECT a.invoice_id FROM alloc a JOIN stage_invoices s ON s.invoice_id = a.invoice_id AND NOT s.ins
		ON CONFLICT DO NOTHING`,
	}
	for _, q := range steps {
		if _, err := tx.Exec(ctx, q); err != nil {
			return 0, err
		}
	}
	tag, err := tx.Exec(ctx, `UPDATE stage_invoices s SET line = -s.line FROM settle_touched t WHERE t.invoice_id = s.invoice_id AND s.line > 0`)
	if err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

func creditNotesOf(ctx context.Context, tx pgx.Tx) ([]ledger.Invoice, error) {
	rows, err := tx.Query(ctx, `SELECT invoice_id, client_id, kind, issue_date, due_date, amount, coalesce(applies_to, '')
		FROM stage_invoices WHERE kind = 'credit_note' AND (ins OR line < 0) ORDER BY issue_date, abs(line)`)
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
	arows, err := tx.Query(ctx, `SELECT source_id, invoice_id, `+cents("amount")+` FROM allocations WHERE kind = 'payment' AND source_id = ANY($1)`, payIDs)
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
