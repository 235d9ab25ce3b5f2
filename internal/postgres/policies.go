package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/policy"
)

// Policies keeps the policy versions (policy.Store) and streams the decision log for replay
// (policy.DecisionLog).
type Policies struct{ db *DB }

// NewPolicies returns the policy store.
func NewPolicies(db *DB) *Policies { return &Policies{db: db} }

var (
	_ policy.Store       = (*Policies)(nil)
	_ policy.DecisionLog = (*Policies)(nil)
)

// lockVersions serialises the writes that number versions or move the active one, across
// replicas; reads need no lock.
func lockVersions(ctx context.Context, tx pgx.Tx) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey("policy", "versions"))
	return err
}

// Bootstrap stores v as version 1, active, when no version exists.
func (s *Policies) Bootstrap(ctx context.Context, v policy.Version) (bool, error) {
	created := false
	err := s.db.inTx(ctx, "bootstrap policy", func(tx pgx.Tx) error {
		if err := lockVersions(ctx, tx); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM policy_versions)`).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		if _, err := tx.Exec(ctx, `INSERT INTO policy_versions (version, modules, data, hash, author, comment, status)
			VALUES (1, $1, $2, $3, $4, $5, 'active')`, v.Modules, string(v.Data), v.Hash, v.Author, v.Comment); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO policy_activations (version, activated_by, comment) VALUES (1, $1, $2)`, v.Author, v.Comment); err != nil {
			return err
		}
		created = true
		return audit(ctx, tx, v.Author, "policy.bootstrap", "policy", "1", map[string]any{"hash": v.Hash, "files": v.Files})
	})
	return created, err
}

// Create stores a new draft numbered after the newest version.
func (s *Policies) Create(ctx context.Context, v policy.Version) (policy.Version, error) {
	err := s.db.inTx(ctx, "create policy version", func(tx pgx.Tx) error {
		if err := lockVersions(ctx, tx); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO policy_versions (version, parent, modules, data, hash, author, comment)
			SELECT coalesce(max(version), 0) + 1, $1, $2, $3, $4, $5, $6 FROM policy_versions
			RETURNING version, created_at`, v.Parent, v.Modules, string(v.Data), v.Hash, v.Author, v.Comment).Scan(&v.Version, &v.CreatedAt); err != nil {
			if pgCode(err) == pgForeignKeyViolation {
				return fault.Validation("the parent version does not exist", fault.Field("parent", "no policy version %d", *v.Parent))
			}
			return err
		}
		v.Status = policy.StatusDraft
		return audit(ctx, tx, v.Author, "policy.create", "policy", fmt.Sprint(v.Version),
			map[string]any{"parent": v.Parent, "hash": v.Hash, "files": v.Files, "comment": v.Comment})
	})
	if err != nil {
		return policy.Version{}, err
	}
	return v, nil
}

// versionColumns are a version's fields but its modules and data, with its latest activation.
const versionColumns = `v.version, v.parent, v.hash, v.author, v.comment, v.created_at, v.status,
	ARRAY(SELECT jsonb_object_keys(v.modules) ORDER BY 1), a.activated_at, a.activated_by`

const latestActivation = `LEFT JOIN LATERAL (SELECT activated_at, activated_by FROM policy_activations pa
	WHERE pa.version = v.version ORDER BY activated_at DESC, activation_id DESC LIMIT 1) a ON true`

func scanVersion(row pgx.Row, extra ...any) (policy.Version, error) {
	var v policy.Version
	var status string
	var by *string
	dst := append([]any{&v.Version, &v.Parent, &v.Hash, &v.Author, &v.Comment, &v.CreatedAt, &status, &v.Files, &v.ActivatedAt, &by}, extra...)
	if err := row.Scan(dst...); err != nil {
		return v, err
	}
	v.Status = policy.Status(status)
	if by != nil {
		v.ActivatedBy = *by
	}
	return v, nil
}

// Get reads one version with its modules and data.
func (s *Policies) Get(ctx context.Context, version int) (policy.Version, error) {
	var modules map[string]string
	var data string
	v, err := scanVersion(s.db.Pool.QueryRow(ctx, `SELECT `+versionColumns+`, v.modules, v.data
		FROM policy_versions v `+latestActivation+` WHERE v.version = $1`, version), &modules, &data)
	if isNoRows(err) {
		return policy.Version{}, fault.Errorf(fault.NotFound, "policy version %d not found", version)
	}
	if err != nil {
		return policy.Version{}, unavailable(err, "get policy version")
	}
	v.Modules, v.Data = modules, []byte(data)
	return v, nil
}

// List reads versions without modules and data, newest first.
func (s *Policies) List(ctx context.Context, f policy.ListFilter) ([]policy.Version, error) {
	rows, err := s.db.Pool.Query(ctx, `SELECT `+versionColumns+` FROM policy_versions v `+latestActivation+`
		WHERE ($1 = '' OR v.status = $1) AND ($2 = 0 OR v.version < $2)
		ORDER BY v.version DESC LIMIT $3`, string(f.Status), f.Before, f.Limit)
	if err != nil {
		return nil, unavailable(err, "list policy versions")
	}
	defer rows.Close()
	out := []policy.Version{}
	for rows.Next() {
		v, err := scanVersion(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, unavailable(rows.Err(), "list policy versions")
}

// ActiveRef names the active version.
func (s *Policies) ActiveRef(ctx context.Context) (policy.Ref, error) {
	var r policy.Ref
	err := s.db.Pool.QueryRow(ctx, `SELECT version, hash FROM policy_versions WHERE status = 'active'`).Scan(&r.Version, &r.Hash)
	if isNoRows(err) {
		return policy.Ref{}, nil
	}
	return r, unavailable(err, "read the active policy version")
}

// Activate makes a version active and retires the active one, in one transaction.
func (s *Policies) Activate(ctx context.Context, a policy.Activation) (int, error) {
	previous := 0
	err := s.db.inTx(ctx, "activate policy version", func(tx pgx.Tx) error {
		if err := lockVersions(ctx, tx); err != nil {
			return err
		}
		var status string
		err := tx.QueryRow(ctx, `SELECT status FROM policy_versions WHERE version = $1`, a.Version).Scan(&status)
		if isNoRows(err) {
			return fault.Errorf(fault.NotFound, "policy version %d not found", a.Version)
		}
		if err != nil {
			return err
		}
		if status == string(policy.StatusActive) {
			return fault.Errorf(fault.Conflict, "policy version %d is already active", a.Version)
		}
		// Retire first: the unique index admits one active version at any moment.
		err = tx.QueryRow(ctx, `UPDATE policy_versions SET status = 'retired' WHERE status = 'active' RETURNING version`).Scan(&previous)
		if err != nil && !isNoRows(err) {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE policy_versions SET status = 'active' WHERE version = $1`, a.Version); err != nil {
			return err
		}
		var prev *int
		if previous != 0 {
			prev = &previous
		}
		if _, err := tx.Exec(ctx, `INSERT INTO policy_activations (version, previous, activated_by, comment) VALUES ($1, $2, $3, $4)`,
			a.Version, prev, a.Actor, a.Comment); err != nil {
			return err
		}
		detail := map[string]any{"previous": prev, "comment": a.Comment}
		for k, v := range a.Detail {
			detail[k] = v
		}
		return audit(ctx, tx, a.Actor, "policy.activate", "policy", fmt.Sprint(a.Version), detail)
	})
	return previous, err
}

// Audit records a policy step that writes nothing else.
func (s *Policies) Audit(ctx context.Context, actor, action string, version int, detail any) error {
	return s.db.inTx(ctx, "audit "+action, func(tx pgx.Tx) error {
		return audit(ctx, tx, actor, action, "policy", fmt.Sprint(version), detail)
	})
}

// Logged streams logged decisions decided in [from, to), oldest first: rows are read from the
// connection as fn takes them, so a replay of millions holds a batch in memory, not the log.
func (s *Policies) Logged(ctx context.Context, from, to time.Time, limit int, fn func(policy.Logged) error) error {
	q := `SELECT decision_id, quote_id, client_id, decided_at, policy_version, outcome, ` + cents("credit_limit") + `,
		coalesce((decision->'payment_terms'->>'net_days')::int, 0), coalesce((decision->'payment_terms'->>'end_of_month')::bool, false),
		coalesce((decision->'payment_terms'->>'deposit_percent')::int, 0), coalesce(decision->'reasons', '[]')::text, input::text
		FROM decisions WHERE decided_at >= $1 AND decided_at < $2 ORDER BY decided_at, decision_id`
	args := []any{from, to}
	if limit > 0 {
		q += ` LIMIT $3`
		args = append(args, limit)
	}
	rows, err := s.db.Pool.Query(ctx, q, args...)
	if err != nil {
		return unavailable(err, "read the decision log")
	}
	defer rows.Close()
	for rows.Next() {
		var l policy.Logged
		var limitCents int64
		var reasons, input []byte
		if err := rows.Scan(&l.DecisionID, &l.QuoteID, &l.ClientID, &l.DecidedAt, &l.PolicyVersion, &l.Outcome, &limitCents,
			&l.NetDays, &l.EndOfMonth, &l.Deposit, &reasons, &input); err != nil {
			return fmt.Errorf("read the decision log: %w", err)
		}
		l.CreditLimit, l.Reasons, l.Input = ledger.Money(limitCents), reasons, input
		if err := fn(l); err != nil {
			return err
		}
	}
	return unavailable(rows.Err(), "read the decision log")
}
