package postgres

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/credorisk/credo/internal/receivables"
)

// Side-by-side execution of the facts queries.
const (
	// maxHelpers bounds the extra connections one facts request takes from the pool.
	maxHelpers = 3
	// helperWait bounds the wait for an extra connection (time to open a new one), so that a
	// request holding a connection never waits long for another: requests cannot deadlock on a
	// busy pool, they just run their queries one after the other.
	helperWait = 100 * time.Millisecond
	// sessionSettings: these queries aggregate whole tables; JIT compilation costs more than it
	// saves, and hash aggregation over many clients needs more than the default memory.
	sessionSettings = `SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`
)

var snapshotTx = pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}

// runShared runs facts queries in one consistent snapshot, several at a time. A first connection
// opens a read-only repeatable-read transaction and exports its snapshot; connections free at
// once import it and run the heaviest queries side by side (Postgres runs a query on one core,
// plus its parallel workers); the first connection runs the rest in one round trip. Every query
// scans into its own factSet; they are added together at the end.
func (m *Metrics) runShared(ctx context.Context, qs []factQuery) (*factSet, error) {
	tx, err := m.db.Pool.BeginTx(ctx, snapshotTx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var snapshot, jit, workMem string
	if err := tx.QueryRow(ctx, `SELECT pg_export_snapshot(), set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`).
		Scan(&snapshot, &jit, &workMem); err != nil {
		return nil, err
	}
	if strings.Trim(snapshot, "0123456789ABCDEF-") != "" {
		return nil, fmt.Errorf("unexpected snapshot id %q", snapshot)
	}

	// qctx stops the other queries once one fails; the transactions end on ctx, so that a
	// rollback is still sent and the connections go back to the pool usable.
	qctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var once sync.Once
	var first error
	fail := func(err error) {
		once.Do(func() { first = err; cancel() })
	}
	shards := make([]*factSet, len(qs))
	helpers := m.freeConns(qctx, min(len(qs)-1, maxHelpers))
	var wg sync.WaitGroup
	for i, c := range helpers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Release()
			var err error
			if shards[i], err = runOnSnapshot(ctx, qctx, c, snapshot, qs[i]); err != nil {
				fail(err)
			}
		}()
	}
	b := &pgx.Batch{}
	for i := len(helpers); i < len(qs); i++ {
		shards[i] = newFactSet()
		b.Queue(qs[i].sql, qs[i].args).Query(func(rows pgx.Rows) error { return qs[i].scan(shards[i], rows) })
	}
	if err := tx.SendBatch(qctx, b).Close(); err != nil {
		fail(err)
	}
	// The exporting transaction stays open until every helper has imported its snapshot.
	wg.Wait()
	if first != nil {
		return nil, first
	}
	fs := newFactSet()
	for _, sh := range shards {
		fs.add(sh)
	}
	fs.settle()
	return fs, nil
}

// freeConns acquires up to n connections that the pool can give at once (idle, or new under its
// limit), never waiting more than helperWait for one.
func (m *Metrics) freeConns(ctx context.Context, n int) []*pgxpool.Conn {
	var out []*pgxpool.Conn
	for len(out) < n {
		if st := m.db.Pool.Stat(); st.IdleConns() == 0 && st.TotalConns() >= st.MaxConns() {
			break
		}
		actx, cancel := context.WithTimeout(ctx, helperWait)
		c, err := m.db.Pool.Acquire(actx)
		cancel()
		if err != nil {
			break
		}
		out = append(out, c)
	}
	return out
}

// runOnSnapshot runs one query on c in the exported snapshot; qctx bounds the query, ctx the
// transaction.
func runOnSnapshot(ctx, qctx context.Context, c *pgxpool.Conn, snapshot string, q factQuery) (*factSet, error) {
	tx, err := c.BeginTx(qctx, snapshotTx)
	if err != nil {
		return nil, err
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// SET TRANSACTION SNAPSHOT must come before any other statement of the transaction, alone.
	if _, err := tx.Exec(qctx, "SET TRANSACTION SNAPSHOT '"+snapshot+"'"); err != nil {
		return nil, err
	}
	fs := newFactSet()
	b := &pgx.Batch{}
	b.Queue(sessionSettings)
	b.Queue(q.sql, q.args).Query(func(rows pgx.Rows) error { return q.scan(fs, rows) })
	return fs, tx.SendBatch(qctx, b).Close()
}

func newFactSet() *factSet {
	return &factSet{byKey: map[string]*receivables.Facts{}, unpaid: map[string][]receivables.PaidGroup{},
		totals: map[string]*paidTotal{}}
}

// add adds the facts of another query's factSet (each query fills its own fields).
func (fs *factSet) add(o *factSet) {
	for key, f := range o.byKey {
		t := fs.at(key)
		t.Open = append(t.Open, f.Open...)
		t.Paid = append(t.Paid, f.Paid...)
		t.Months = append(t.Months, f.Months...)
		t.OpenBeforeWindow += f.OpenBeforeWindow
		t.Issued12m += f.Issued12m
		t.Disputed12m += f.Disputed12m
		t.WrittenOff12m += f.WrittenOff12m
		if f.FirstInvoice != nil {
			t.FirstInvoice = f.FirstInvoice
		}
	}
	fs.clients = append(fs.clients, o.clients...)
	fs.exists = fs.exists || o.exists
	fs.portfolioPaid = append(fs.portfolioPaid, o.portfolioPaid...)
	for key, groups := range o.unpaid {
		fs.unpaid[key] = append(fs.unpaid[key], groups...)
	}
	for key, t := range o.totals {
		fs.totals[key] = t // one query reads the totals: a key comes from one factSet only
	}
}
