// Package auth holds API keys, roles and what each role may do.
package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/credorisk/credo/internal/fault"
	"github.com/credorisk/credo/internal/ledger"
)

// Role is what a key is for.
type Role string

// The roles.
const (
	Admin         Role = "admin"          // everything, keys included
	Ingest        Role = "ingest"         // ledger writes and imports, ledger reads, bureau imports
	Sales         Role = "sales"          // quote decisions and client reads
	Finance       Role = "finance"        // reads everything but keys
	CreditManager Role = "credit_manager" // finance's reads plus policy and screening work
)

// Roles lists every role.
var Roles = []Role{Admin, Ingest, Sales, Finance, CreditManager}

// Permission is one thing a caller may do.
type Permission string

// The permissions; grants below says which role has which.
const (
	ClientsRead     Permission = "clients:read"
	LedgerRead      Permission = "ledger:read"
	LedgerWrite     Permission = "ledger:write"
	MetricsRead     Permission = "metrics:read"
	ScoreRead       Permission = "score:read"
	ExplanationRead Permission = "score:explain"
	ModelsRead      Permission = "models:read"
	DecisionCreate  Permission = "decisions:create"
	DecisionRead    Permission = "decisions:read"
	PolicyRead      Permission = "policies:read"
	PolicyWrite     Permission = "policies:write"
	ScreeningRead   Permission = "screening:read"
	ScreeningWrite  Permission = "screening:write"
	SolvencyRead    Permission = "solvency:read"
	SolvencyWrite   Permission = "solvency:write"
	// SolvencyRefresh fetches from the providers now (credit managers): ingest keys import files only.
	SolvencyRefresh Permission = "solvency:refresh"
	KeysManage      Permission = "keys:manage"
)

var financeReads = []Permission{ClientsRead, LedgerRead, MetricsRead, ScoreRead, ExplanationRead, ModelsRead, DecisionRead, PolicyRead, ScreeningRead, SolvencyRead}

var grants = map[Role][]Permission{
	Ingest:        {ClientsRead, LedgerRead, LedgerWrite, SolvencyWrite},
	Sales:         {ClientsRead, ScoreRead, DecisionCreate},
	Finance:       financeReads,
	CreditManager: append(slices.Clone(financeReads), PolicyWrite, ScreeningWrite, SolvencyWrite, SolvencyRefresh),
}

// Can reports whether role has permission p. Admin has every permission.
func (r Role) Can(p Permission) bool {
	return r == Admin || slices.Contains(grants[r], p)
}

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if slices.Contains(Roles, r) {
		return r, nil
	}
	names := make([]string, len(Roles))
	for i, r := range Roles {
		names[i] = string(r)
	}
	return "", fault.Validation("unknown role", fault.Field("role", "must be one of %s", strings.Join(names, ", ")))
}

// Principal is the caller behind a request.
type Principal struct {
	KeyID int64
	Name  string
	Role  Role
}

// Key is a stored API key (never the key itself: only its hash).
type Key struct {
	ID        int64      `json:"id"`
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	Prefix    string     `json:"prefix"`
	CreatedAt time.Time  `json:"created_at"`
	CreatedBy string     `json:"created_by"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	RevokedBy string     `json:"revoked_by,omitempty"`
}

// Store keeps keys; the postgres package implements it.
type Store interface {
	CreateKey(ctx context.Context, k Key, hash []byte) (Key, error)
	ListKeys(ctx context.Context) ([]Key, error)
	RevokeKey(ctx context.Context, name, actor string) error
	KeyByHash(ctx context.Context, hash []byte) (Key, error)
}

// KeyPrefix starts every key, so leaked keys are easy to recognise in logs and scanners.
const KeyPrefix = "credo_"

// Hash is how a key is stored and looked up.
func Hash(key string) []byte {
	h := sha256.Sum256([]byte(key))
	return h[:]
}

// NewKey makes a random key: 256 bits, base32.
func NewKey() string {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return KeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

// Keys creates, lists, revokes and checks API keys, with a short in-process cache so that a
// request costs no database round trip. A revocation on this replica takes effect at once; on
// other replicas within the cache TTL.
type Keys struct {
	store Store
	ttl   time.Duration
	now   func() time.Time

	mu    sync.Mutex
	cache map[[32]byte]cached
}

type cached struct {
	p       Principal
	expires time.Time
}

// NewKeys returns the key service; ttl bounds how long a key check is cached (0: never).
func NewKeys(store Store, ttl time.Duration) *Keys {
	return &Keys{store: store, ttl: ttl, now: time.Now, cache: map[[32]byte]cached{}}
}

// Create makes a key for name with role and returns it: the only time it is shown.
func (k *Keys) Create(ctx context.Context, name string, role Role, actor string) (string, Key, error) {
	name = strings.TrimSpace(name)
	if !ledger.ValidID(name) {
		return "", Key{}, fault.Validation("bad key name", fault.Field("name", "must be 1 to 64 characters of A-Z a-z 0-9 . _ : -"))
	}
	if _, err := ParseRole(string(role)); err != nil {
		return "", Key{}, err
	}
	secret := NewKey()
	stored, err := k.store.CreateKey(ctx, Key{Name: name, Role: role, Prefix: secret[:len(KeyPrefix)+6], CreatedBy: actor}, Hash(secret))
	return secret, stored, err
}

// List lists keys, revoked ones included.
func (k *Keys) List(ctx context.Context) ([]Key, error) { return k.store.ListKeys(ctx) }

// Revoke revokes the active key called name.
func (k *Keys) Revoke(ctx context.Context, name, actor string) error {
	if err := k.store.RevokeKey(ctx, name, actor); err != nil {
		return err
	}
	k.mu.Lock()
	for h, c := range k.cache {
		if c.p.Name == name {
			delete(k.cache, h)
		}
	}
	k.mu.Unlock()
	return nil
}

// ErrUnauthenticated is returned for a missing, unknown or revoked key.
var ErrUnauthenticated = fault.Errorf(fault.Unauthenticated, "a valid API key is required (Authorization: Bearer <key>)")

// Authenticate checks a presented key.
func (k *Keys) Authenticate(ctx context.Context, secret string) (Principal, error) {
	if !strings.HasPrefix(secret, KeyPrefix) || len(secret) > 128 {
		return Principal{}, ErrUnauthenticated
	}
	h := sha256.Sum256([]byte(secret))
	now := k.now()
	k.mu.Lock()
	c, ok := k.cache[h]
	k.mu.Unlock()
	if ok && now.Before(c.expires) {
		return c.p, nil
	}
	key, err := k.store.KeyByHash(ctx, h[:])
	if err != nil {
		if fault.Code(err) == fault.NotFound {
			return Principal{}, ErrUnauthenticated
		}
		return Principal{}, err
	}
	if key.RevokedAt != nil {
		return Principal{}, ErrUnauthenticated
	}
	p := Principal{KeyID: key.ID, Name: key.Name, Role: key.Role}
	if k.ttl > 0 {
		k.mu.Lock()
		if len(k.cache) > 10000 {
			clear(k.cache)
		}
		k.cache[h] = cached{p: p, expires: now.Add(k.ttl)}
		k.mu.Unlock()
	}
	return p, nil
}
