// Package policy is the credit policy's lifecycle: immutable, numbered versions (Rego modules,
// their tests and the data tables), drafts built from a parent, tests, replay of logged decisions
// against a version, four-eyes activation and rollback, and the Provider that keeps each replica
// serving the active version, compiled once and swapped atomically.
//
// The package holds no SQL and no Redis: Store and DecisionLog are implemented by
// internal/postgres, Bus by the cache's pub/sub (wired in cmd/credo).
package policy

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/credorisk/credo/internal/ledger"
)

// Status is where a version is in its life.
type Status string

// The statuses: a draft was never served; the active version is the one every replica serves
// (at most one); a retired version was active once and was replaced. Retired and draft versions
// can be activated (activating a retired one is a rollback).
const (
	StatusDraft   Status = "draft"
	StatusActive  Status = "active"
	StatusRetired Status = "retired"
)

// BootstrapAuthor is the author of version 1, made from the embedded policies/ on first start.
const BootstrapAuthor = "credo"

// Version is one policy version. Everything but Status and the activation fields is fixed when
// it is created.
type Version struct {
	Version int `json:"version"`
	// Parent is the version the draft was made from; nil for a draft made from scratch.
	Parent    *int      `json:"parent"`
	Status    Status    `json:"status"`
	Author    string    `json:"author"`
	CreatedAt time.Time `json:"created_at"`
	Comment   string    `json:"comment"`
	// Hash is decision.ContentHash of the modules and data.
	Hash string `json:"hash"`
	// Files are the module file names, sorted.
	Files []string `json:"files"`
	// Modules maps each Rego file name to its source, tests included; nil in listings.
	Modules map[string]string `json:"modules,omitempty"`
	// Data is the data tables as given (a JSON object); nil in listings.
	Data json.RawMessage `json:"data,omitempty"`
	// ActivatedAt and ActivatedBy tell the version's latest activation, if any.
	ActivatedAt *time.Time `json:"activated_at,omitempty"`
	ActivatedBy string     `json:"activated_by,omitempty"`
}

// fileNames lists the module names of a version, sorted.
func fileNames(modules map[string]string) []string {
	return slices.Sorted(maps.Keys(modules))
}

// Ref names the active version cheaply: what a replica polls.
type Ref struct {
	Version int
	Hash    string
}

// ListFilter selects versions for a listing, newest first.
type ListFilter struct {
	Status Status
	// Before is the cursor: only versions numbered below it (0: from the newest).
	Before int
	Limit  int
}

// Activation is the request to make a version active.
type Activation struct {
	Version int
	Actor   string
	Comment string
	// Detail is recorded in the audit entry (the test summary).
	Detail map[string]any
}

// Store keeps policy versions; postgres.Policies implements it. Every write is audited in its
// transaction.
type Store interface {
	// Bootstrap stores v as version 1, active, when there is no version at all, and reports
	// whether it did; replicas starting together store it once.
	Bootstrap(ctx context.Context, v Version) (bool, error)
	// Create stores v as a new draft numbered after the newest version and returns it as stored.
	Create(ctx context.Context, v Version) (Version, error)
	// Get reads one version with its modules and data (fault.NotFound when there is none).
	Get(ctx context.Context, version int) (Version, error)
	// List reads versions without their modules and data, newest first.
	List(ctx context.Context, f ListFilter) ([]Version, error)
	// ActiveRef names the active version (Version 0 when there is none).
	ActiveRef(ctx context.Context) (Ref, error)
	// Activate makes a version active and the active one retired, in one transaction, and
	// returns the retired one (0 when none). Activating the active version is a fault.Conflict.
	Activate(ctx context.Context, a Activation) (previous int, err error)
	// Audit records a step that writes nothing else (a test run, a replay).
	Audit(ctx context.Context, actor, action string, version int, detail any) error
}

// Logged is a logged decision as replay reads it: what was answered and the input document.
type Logged struct {
	DecisionID    string
	QuoteID       string
	ClientID      string
	DecidedAt     time.Time
	PolicyVersion int
	Outcome       string
	CreditLimit   ledger.Money
	NetDays       int
	EndOfMonth    bool
	Deposit       int
	// Reasons is the logged reasons array as JSON ([{code, message}]).
	Reasons json.RawMessage
	// Input is the logged input document, as logged.
	Input []byte
}

// DecisionLog streams the decision log for replay; postgres.Policies implements it.
type DecisionLog interface {
	// Logged calls fn with each decision decided in [from, to), oldest first, at most limit of
	// them (0: all), reading as it goes rather than loading them all; an error from fn stops it.
	Logged(ctx context.Context, from, to time.Time, limit int, fn func(Logged) error) error
}

// Topic is the bus topic of activations.
const Topic = "policy.activated"

// Bus carries activation notices between replicas (Redis pub/sub). A notice only wakes replicas
// up: each reads the active version from the Store, so a lost, late or duplicated notice does no
// harm, and the poll covers an outage.
type Bus interface {
	Publish(ctx context.Context, topic string, payload []byte) error
	// Subscribe calls fn with each notice; gap is true when notices may have been lost.
	Subscribe(topic string, fn func(payload []byte, gap bool)) (unsubscribe func())
}
