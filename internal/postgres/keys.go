package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/auth"
	"github.com/credorisk/credo/internal/fault"
)

// Keys stores API keys (their hashes) and records every change in the audit log.
type Keys struct{ db *DB }

// NewKeys returns the key store.
func NewKeys(db *DB) *Keys { return &Keys{db: db} }

const keyColumns = `key_id, name, role, prefix, created_at, created_by, revoked_at, coalesce(revoked_by, '')`

func scanKey(row pgx.Row) (auth.Key, error) {
	var k auth.Key
	var role string
	err := row.Scan(&k.ID, &k.Name, &role, &k.Prefix, &k.CreatedAt, &k.CreatedBy, &k.RevokedAt, &k.RevokedBy)
	k.Role = auth.Role(role)
	return k, err
}

// CreateKey stores a new key; an active key of the same name is a conflict.
func (s *Keys) CreateKey(ctx context.Context, k auth.Key, hash []byte) (auth.Key, error) {
	var out auth.Key
	err := s.db.inTx(ctx, "create key", func(tx pgx.Tx) error {
		var err error
		out, err = scanKey(tx.QueryRow(ctx, `INSERT INTO api_keys (name, role, key_hash, prefix, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING `+keyColumns,
			k.Name, string(k.Role), hash, k.Prefix, k.CreatedBy))
		if pgCode(err) == pgUniqueViolation {
			return fault.Errorf(fault.Conflict, "an active key named %q already exists; revoke it first", k.Name)
		}
		if err != nil {
			return err
		}
		return audit(ctx, tx, k.CreatedBy, "key.create", "key", k.Name, map[string]any{"role": k.Role, "prefix": k.Prefix})
	})
	return out, err
}

// ListKeys lists every key, newest first.
func (s *Keys) ListKeys(ctx context.Context) ([]auth.Key, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY key_id DESC`)
	if err != nil {
		return nil, unavailable(err, "list keys")
	}
	keys, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (auth.Key, error) { return scanKey(r) })
	return keys, unavailable(err, "list keys")
}

// RevokeKey revokes the active key called name.
func (s *Keys) RevokeKey(ctx context.Context, name, actor string) error {
	return s.db.inTx(ctx, "revoke key", func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE api_keys SET revoked_at = now(), revoked_by = $2 WHERE name = $1 AND revoked_at IS NULL`, name, actor)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return fault.Errorf(fault.NotFound, "no active key named %q", name)
		}
		return audit(ctx, tx, actor, "key.revoke", "key", name, map[string]any{})
	})
}

// KeyByHash finds a key by the hash of its secret.
func (s *Keys) KeyByHash(ctx context.Context, hash []byte) (auth.Key, error) {
	k, err := scanKey(s.db.Pool.QueryRow(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE key_hash = $1`, hash))
	if isNoRows(err) {
		return k, fault.Errorf(fault.NotFound, "no such key")
	}
	return k, unavailable(err, "find key")
}
