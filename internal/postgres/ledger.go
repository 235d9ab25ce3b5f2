package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// Ledger stores clients, invoices, payments and their dated allocations.
type Ledger struct {
	db       *DB
	currency string
}

// NewLedger returns the ledger store for a deployment's base currency.
func NewLedger(db *DB, currency string) *Ledger { return &Ledger{db: db, currency: currency} }

// SQL fragments: amounts travel as int64 cents and dates as days since 1970-01-01, so that pgx
// never converts numeric or date values on the hot paths.
const (
	epoch = "DATE '1970-01-01'"
)

func cents(expr string) string { return "((" + expr + ") * 100)::bigint" }
func days(expr string) string  { return "((" + expr + ") - " + epoch + ")" }

func dateArg(d ledger.Date) int32 { return int32(d) }

func optDate(p *int32) *ledger.Date {
	if p == nil {
		return nil
	}
	d := ledger.Date(*p)
	return &d
}

// audit records a write in the same transaction as the write itself.
func audit(ctx context.Context, tx pgx.Tx, actor, action, targetType, targetID string, detail any) error {
	b, err := json.Marshal(detail)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO audit_log (actor, action, target_type, target_id, detail) VALUES ($1, $2, $3, $4, $5)`,
		actor, action, targetType, targetID, b)
	return err
}

// lockClient takes the client's row lock, which serialises every balance-changing write of one
// client (allocation rules read and then write its open invoices).
func lockClient(ctx context.Context, tx pgx.Tx, clientID, field string) error {
	var one int
	err := tx.QueryRow(ctx, `SELECT 1 FROM clients WHERE client_id = $1 FOR UPDATE`, clientID).Scan(&one)
	if isNoRows(err) {
		return fault.Validation("unknown client", fault.Field(field, "no client %q; create it first with PUT /v1/clients/%s", clientID, clientID))
	}
	return err
}

// Cursor is an opaque position in a listing.
type cursor struct {
	ID   string `json:"i"`
	Date int32  `json:"d,omitempty"`
	At   string `json:"t,omitempty"`
}

func encodeCursor(c cursor) string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// DecodeCursor reads a cursor given back by a caller.
func decodeCursor(s string) (cursor, error) {
	var c cursor
	if s == "" {
		return c, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil {
		return c, fault.Validation("bad cursor", fault.Field("cursor", "is not a cursor this service gave"))
	}
	return c, nil
}

func notFound(what, id string) error {
	return fault.Errorf(fault.NotFound, "%s %q not found", what, id)
}

var _ ledger.Store = (*Ledger)(nil)
