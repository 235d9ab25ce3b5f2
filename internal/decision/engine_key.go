package decision

import (
	"encoding/binary"
	"math"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/credorisk/credo/internal/ledger"
)

// A client state's key is an exact, injective encoding of the known part of the input (every
// section but now, today, quote and exposure): two inputs with the same key have the same known
// part, so a residual pre-evaluated for one is right for the other. The cache compares whole keys
// (its map hashes them), so a hash collision cannot hand a client another client's residual.
// Strings and lists carry their length, optional values a presence byte.

// The key's first byte says which encoding follows: typed inputs and JSON documents are keyed
// apart.
const (
	keyTyped byte = 'g'
	keyJSON  byte = 'j'
)

// appendClientKey encodes in's client, score, metrics, solvency and sanctions: everything
// clientTerms reads. TestClientKeyCoversEveryField changes each field in turn and checks the key
// changes, so a field added to these types cannot be forgotten here.
func (in *Input) appendClientKey(b []byte) []byte {
	b = append(b, keyTyped)
	c := &in.Client
	b = appendString(b, c.ClientID)
	b = appendString(b, c.Name)
	b = appendOptString(b, c.RegistrationID)
	b = appendOptString(b, c.Country)
	b = appendOptString(b, c.Sector)
	b = appendBool(b, c.IsNew)

	s := &in.Score
	b = appendFloat(b, s.Value)
	b = appendString(b, string(s.RiskClass))
	b = appendFloat(b, s.PD)
	b = appendString(b, s.ModelVersion)
	b = appendUint(b, uint64(len(s.Reasons)))
	for _, r := range s.Reasons {
		b = appendString(b, r.Code)
		b = appendString(b, r.Text)
		b = appendFloat(b, r.PointsLost)
	}

	m := &in.Metrics
	b = appendInt(b, int64(m.OpenAR))
	b = appendInt(b, int64(m.Overdue))
	b = appendOptFloat(b, m.OverdueRate)
	b = appendInt(b, int64(m.MaxDaysOverdue))
	b = appendOptFloat(b, m.WeightedDBT12m)
	b = appendInt(b, int64(m.PaidCount12m))
	b = appendOptFloat(b, m.DSO)

	sv := &in.Solvency
	b = appendBool(b, sv.Available)
	b = appendBool(b, sv.Stale)
	b = appendOptDate(b, sv.AsOf)
	b = appendString(b, string(sv.CompanyStatus))
	b = appendBool(b, sv.Insolvency.Open)
	b = appendOptString(b, sv.Insolvency.Kind)
	b = appendOptDate(b, sv.Insolvency.JudgmentDate)
	if b = appendBool(b, sv.Grade != nil); sv.Grade != nil {
		b = appendInt(b, int64(*sv.Grade))
	}
	if b = appendBool(b, sv.RecommendedLimit != nil); sv.RecommendedLimit != nil {
		b = appendInt(b, int64(*sv.RecommendedLimit))
	}
	if b = appendBool(b, sv.NegativeEquity != nil); sv.NegativeEquity != nil {
		b = appendBool(b, *sv.NegativeEquity)
	}

	b = appendString(b, string(in.Sanctions.Status))
	b = appendUint(b, uint64(len(in.Sanctions.Hits)))
	for _, h := range in.Sanctions.Hits {
		b = appendString(b, h.EntryID)
		b = appendString(b, h.List)
		b = appendString(b, h.MatchedName)
		b = appendFloat(b, h.Score)
	}
	return b
}

func appendUint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }

func appendInt(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

func appendString(b []byte, s string) []byte { return append(appendUint(b, uint64(len(s))), s...) }

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// appendFloat keeps every bit: 0 and -0 are apart, as their text in the input is.
func appendFloat(b []byte, f float64) []byte {
	return binary.LittleEndian.AppendUint64(b, math.Float64bits(f))
}

func appendOptString(b []byte, s *string) []byte {
	if b = appendBool(b, s != nil); s != nil {
		b = appendString(b, *s)
	}
	return b
}

func appendOptFloat(b []byte, f *float64) []byte {
	if b = appendBool(b, f != nil); f != nil {
		b = appendFloat(b, *f)
	}
	return b
}

func appendOptDate(b []byte, d *ledger.Date) []byte {
	if b = appendBool(b, d != nil); d != nil {
		b = appendInt(b, int64(*d))
	}
	return b
}

// appendValueKey encodes an OPA value exactly, for the known part of a JSON document: the type,
// then the content, objects in key order. Numbers keep their text ("1.0" and "1" differ), so equal
// keys mean identical values.
func appendValueKey(b []byte, v ast.Value) []byte {
	switch x := v.(type) {
	case ast.Null:
		return append(b, 'n')
	case ast.Boolean:
		return appendBool(append(b, 'b'), bool(x))
	case ast.Number:
		return appendString(append(b, '#'), string(x))
	case ast.String:
		return appendString(append(b, 's'), string(x))
	case *ast.Array:
		b = appendUint(append(b, '['), uint64(x.Len()))
		x.Foreach(func(t *ast.Term) { b = appendValueKey(b, t.Value) })
		return b
	case ast.Set:
		b = appendUint(append(b, '<'), uint64(x.Len()))
		x.Sorted().Foreach(func(t *ast.Term) { b = appendValueKey(b, t.Value) })
		return b
	case ast.Object:
		b = appendUint(append(b, '{'), uint64(x.Len()))
		x.Foreach(func(k, t *ast.Term) {
			b = appendValueKey(b, k.Value)
			b = appendValueKey(b, t.Value)
		})
		return b
	default:
		// A parsed JSON document holds none of the other kinds; their text is still exact.
		return appendString(append(b, '?'), v.String())
	}
}
