package postgres

import (
	"context"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/ledger"
)

const clientColumns = `client_id, name, coalesce(registration_id, ''), coalesce(country, ''), coalesce(sector, ''), directors, auto_created, created_at, updated_at`

func scanClient(row pgx.Row) (ledger.Client, error) {
	var c ledger.Client
	err := row.Scan(&c.ClientID, &c.Name, &c.RegistrationID, &c.Country, &c.Sector, &c.Directors, &c.AutoCreated, &c.CreatedAt, &c.UpdatedAt)
	if c.Directors == nil {
		c.Directors = []string{}
	}
	return c, err
}

// PutClient creates or replaces a client; sending the same client again changes nothing.
func (l *Ledger) PutClient(ctx context.Context, c ledger.Client, actor string) (ledger.WriteResult, ledger.Client, error) {
	var res ledger.WriteResult
	var out ledger.Client
	err := l.db.inTx(ctx, "put client", func(tx pgx.Tx) error {
		old, err := scanClient(tx.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE client_id = $1 FOR UPDATE`, c.ClientID))
		switch {
		case isNoRows(err):
			res = ledger.Created
		case err != nil:
			return err
		case old.SameData(&c) && !old.AutoCreated:
			res, out = ledger.Unchanged, old
			return nil
		default:
			res = ledger.Updated
		}
		out, err = scanClient(tx.QueryRow(ctx, `
			INSERT INTO clients (client_id, name, registration_id, country, sector, directors)
			VALUES ($1, $2, nullif($3, ''), nullif($4, ''), nullif($5, ''), $6)
			ON CONFLICT (client_id) DO UPDATE SET name = EXCLUDED.name, registration_id = EXCLUDED.registration_id,
				country = EXCLUDED.country, sector = EXCLUDED.sector, directors = EXCLUDED.directors,
				auto_created = false, updated_at = now()
			RETURNING `+clientColumns, c.ClientID, c.Name, c.RegistrationID, c.Country, c.Sector, c.Directors))
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "client."+string(res), "client", c.ClientID, out)
	})
	return res, out, err
}

// GetClient reads one client.
func (l *Ledger) GetClient(ctx context.Context, id string) (ledger.Client, error) {
	c, err := scanClient(l.db.Pool.QueryRow(ctx, `SELECT `+clientColumns+` FROM clients WHERE client_id = $1`, id))
	if isNoRows(err) {
		return c, notFound("client", id)
	}
	return c, unavailable(err, "get client")
}

// ListClients lists clients in client_id order after the filter's cursor; next is the cursor of
// the following page, empty at the end.
func (l *Ledger) ListClients(ctx context.Context, f ledger.ClientFilter) (list []ledger.Client, next string, err error) {
	cur, err := decodeCursor(f.After)
	if err != nil {
		return nil, "", err
	}
	prefix := strings.ToLower(f.NamePrefix)
	prefix = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(prefix)
	rows, err := l.db.Pool.Query(ctx, `SELECT `+clientColumns+` FROM clients
		WHERE client_id > $1 AND ($2 = '' OR lower(name) LIKE $2 || '%') AND ($3 = '' OR country = $3)
		ORDER BY client_id LIMIT $4`, cur.ID, prefix, f.Country, f.Limit+1)
	if err != nil {
		return nil, "", unavailable(err, "list clients")
	}
	list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (ledger.Client, error) { return scanClient(r) })
	if err != nil {
		return nil, "", unavailable(err, "list clients")
	}
	if len(list) > f.Limit {
		list = list[:f.Limit]
		next = encodeCursor(cursor{ID: list[len(list)-1].ClientID})
	}
	return list, next, nil
}
