package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/sanctions"
)

// Sanctions stores sanctions list versions with their entries, each source's refresh state,
// client screenings with their hits, and reviewers' dispositions. Every write is audited in its
// transaction.
type Sanctions struct{ db *DB }

// NewSanctions returns the sanctions store.
func NewSanctions(db *DB) *Sanctions { return &Sanctions{db: db} }

var _ sanctions.Store = (*Sanctions)(nil)

// keptVersions is how many versions of a list keep their entries: the current one and two before
// it, enough to see what a recent change did. Older versions keep their row for the record.
const keptVersions = 3

// ListStates returns the state of every source that has one.
func (s *Sanctions) ListStates(ctx context.Context) ([]sanctions.ListState, error) {
	rows, err := s.db.Pool.Query(ctx, `
		SELECT l.source, l.validators, l.checked_at, coalesce(l.outcome, ''), l.message, l.last_success_at,
			v.version_id, v.content_hash, v.entry_count, v.origin, v.location, v.loaded_at, v.loaded_by
		FROM sanctions_lists l LEFT JOIN sanctions_list_versions v ON v.version_id = l.version_id
		ORDER BY l.source`)
	if err != nil {
		return nil, unavailable(err, "read sanctions lists")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (sanctions.ListState, error) {
		var st sanctions.ListState
		var src, outcome, message string
		var validators []byte
		var checkedAt *time.Time
		var id, count *int64
		var hash, origin, location, by *string
		var loadedAt *time.Time
		if err := r.Scan(&src, &validators, &checkedAt, &outcome, &message, &st.LastSuccessAt,
			&id, &hash, &count, &origin, &location, &loadedAt, &by); err != nil {
			return st, err
		}
		st.Source = sanctions.Source(src)
		if err := json.Unmarshal(validators, &st.Validators); err != nil {
			return st, fmt.Errorf("validators of %s: %w", src, err)
		}
		if checkedAt != nil {
			st.LastRefresh = &sanctions.RefreshOutcome{At: checkedAt.UTC(), Outcome: sanctions.Outcome(outcome), Message: message}
		}
		if id != nil {
			st.Current = &sanctions.ListVersion{ID: *id, Source: st.Source, ContentHash: *hash, EntryCount: int(*count),
				Origin: sanctions.Origin(*origin), Location: *location, LoadedAt: loadedAt.UTC(), LoadedBy: *by}
		}
		return st, nil
	})
	return out, unavailable(err, "read sanctions lists")
}

// ListEntries returns a version's entries in file order.
func (s *Sanctions) ListEntries(ctx context.Context, versionID int64) ([]sanctions.Entry, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT entry FROM sanctions_list_entries WHERE version_id = $1 ORDER BY ordinal`, versionID)
	if err != nil {
		return nil, unavailable(err, "read sanctions entries")
	}
	defer rows.Close()
	var out []sanctions.Entry
	for rows.Next() {
		var b []byte
		if err := rows.Scan(&b); err != nil {
			return nil, unavailable(err, "read sanctions entries")
		}
		var e sanctions.Entry
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, fmt.Errorf("sanctions entry %d of version %d: %w", len(out)+1, versionID, err)
		}
		out = append(out, e)
	}
	return out, unavailable(rows.Err(), "read sanctions entries")
}

// AddListVersion stores a version with its entries (by COPY) and makes it current, unless another
// loader changed the current version since the caller read it (a conflict). Entries of versions
// older than the last keptVersions are pruned.
func (s *Sanctions) AddListVersion(ctx context.Context, v sanctions.ListVersion, entries []sanctions.Entry, validators map[string]sanctions.Validator, expectedCurrent int64, actor string) (sanctions.ListVersion, error) {
	if validators == nil {
		validators = map[string]sanctions.Validator{}
	}
	vb, err := json.Marshal(validators)
	if err != nil {
		return v, err
	}
	rows := make([][]any, len(entries))
	for i := range entries {
		e := entries[i]
		e.ListVersion = "" // set from the version when read back
		b, err := json.Marshal(&e)
		if err != nil {
			return v, fmt.Errorf("encode entry %s: %w", e.SourceID, err)
		}
		rows[i] = []any{int32(i), e.SourceID, json.RawMessage(b)}
	}
	err = s.db.inTx(ctx, "add sanctions list version", func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sanctions_lists (source) VALUES ($1) ON CONFLICT DO NOTHING`, string(v.Source)); err != nil {
			return err
		}
		var cur *int64
		if err := tx.QueryRow(ctx, `SELECT version_id FROM sanctions_lists WHERE source = $1 FOR UPDATE`, string(v.Source)).Scan(&cur); err != nil {
			return err
		}
		if (cur == nil && expectedCurrent != 0) || (cur != nil && *cur != expectedCurrent) {
			return fault.Errorf(fault.Conflict, "the %s list changed while this version was prepared; try again", v.Source)
		}
		err := tx.QueryRow(ctx, `INSERT INTO sanctions_list_versions (source, content_hash, entry_count, origin, location, loaded_by)
			VALUES ($1, $2, $3, $4, $5, $6) RETURNING version_id, loaded_at`,
			string(v.Source), v.ContentHash, v.EntryCount, string(v.Origin), v.Location, v.LoadedBy).Scan(&v.ID, &v.LoadedAt)
		if err != nil {
			return err
		}
		v.LoadedAt = v.LoadedAt.UTC()
		src := pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
			return []any{v.ID, rows[i][0], rows[i][1], rows[i][2]}, nil
		})
		if _, err := tx.CopyFrom(ctx, pgx.Identifier{"sanctions_list_entries"}, []string{"version_id", "ordinal", "source_id", "entry"}, src); err != nil {
			if pgCode(err) == pgUniqueViolation {
				return fault.Errorf(fault.Invalid, "the %s list holds the same id twice", v.Source)
			}
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE sanctions_lists SET version_id = $2, validators = $3 WHERE source = $1`, string(v.Source), v.ID, vb); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM sanctions_list_entries WHERE version_id IN (
				SELECT version_id FROM sanctions_list_versions WHERE source = $1
				ORDER BY version_id DESC OFFSET $2)`, string(v.Source), keptVersions); err != nil {
			return err
		}
		return audit(ctx, tx, actor, "sanctions.list.load", "sanctions_list", string(v.Source), map[string]any{
			"version_id": v.ID, "content_hash": v.ContentHash, "entry_count": v.EntryCount, "origin": v.Origin,
			"location": v.Location, "previous_version_id": cur})
	})
	return v, err
}

// RecordRefresh records a refresh attempt; validators, when not nil, replace the stored ones.
func (s *Sanctions) RecordRefresh(ctx context.Context, src sanctions.Source, o sanctions.RefreshOutcome, validators map[string]sanctions.Validator, actor string) error {
	var vb []byte
	if validators != nil {
		var err error
		if vb, err = json.Marshal(validators); err != nil {
			return err
		}
	}
	return s.db.inTx(ctx, "record sanctions refresh", func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `
			INSERT INTO sanctions_lists AS l (source, checked_at, outcome, message, last_success_at, validators)
			VALUES ($1, $2, $3, $4, CASE WHEN $5 THEN $2::timestamptz END, coalesce($6::jsonb, '{}'))
			ON CONFLICT (source) DO UPDATE SET checked_at = EXCLUDED.checked_at, outcome = EXCLUDED.outcome,
				message = EXCLUDED.message, last_success_at = coalesce(EXCLUDED.last_success_at, l.last_success_at),
				validators = coalesce($6::jsonb, l.validators)`,
			string(src), o.At, string(o.Outcome), o.Message, o.Succeeded(), vb)
		if err != nil {
			return err
		}
		return audit(ctx, tx, actor, "sanctions.list.refresh", "sanctions_list", string(src), o)
	})
}
