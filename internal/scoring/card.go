package scoring

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/credorisk/credo/internal/ledger"
	"github.com/credorisk/credo/internal/receivables"
)

// ScoreDoc is the score document (GET /v1/clients/{client_id}/score).
type ScoreDoc struct {
	ClientID     string       `json:"client_id"`
	Score        int          `json:"score"`
	RiskClass    string       `json:"risk_class"`
	PD           float64      `json:"pd"`
	ModelVersion string       `json:"model_version"`
	ComputedAt   time.Time    `json:"computed_at"`
	InputsAsOf   InputsAsOf   `json:"inputs_as_of"`
	Language     string       `json:"language"`
	Reasons      []ReasonText `json:"reasons"`
}

// ExplanationDoc is the explanation document (GET /v1/clients/{client_id}/score/explanation):
// the characteristics' points add up to Score, and Scaling turns Score into PD.
type ExplanationDoc struct {
	ClientID        string     `json:"client_id"`
	Score           int        `json:"score"`
	RiskClass       string     `json:"risk_class"`
	PD              float64    `json:"pd"`
	ModelName       string     `json:"model_name"`
	ModelVersion    string     `json:"model_version"`
	ComputedAt      time.Time  `json:"computed_at"`
	InputsAsOf      InputsAsOf `json:"inputs_as_of"`
	Characteristics []Line     `json:"characteristics"`
	Scaling         Scaling    `json:"scaling"`
}

// ScoreDoc renders the score document in lang ("en" or "fr").
func (a *Assessment) ScoreDoc(lang string) ScoreDoc {
	return ScoreDoc{ClientID: a.ClientID, Score: a.Result.Score, RiskClass: a.Result.RiskClass, PD: a.Result.PD,
		ModelVersion: a.Result.ModelVersion, ComputedAt: a.ComputedAt, InputsAsOf: a.InputsAsOf, Language: lang,
		Reasons: Reasons(a.Result, lang)}
}

// ExplanationDoc renders the explanation document.
func (a *Assessment) ExplanationDoc() ExplanationDoc {
	return ExplanationDoc{ClientID: a.ClientID, Score: a.Result.Score, RiskClass: a.Result.RiskClass, PD: a.Result.PD,
		ModelName: a.Result.ModelName, ModelVersion: a.Result.ModelVersion, ComputedAt: a.ComputedAt,
		InputsAsOf: a.InputsAsOf, Characteristics: a.Result.Lines, Scaling: a.Result.Scaling}
}

// A card is what the cache holds for a client: the answers of the score endpoint in each
// language and of the explanation endpoint, already encoded, so a cached GET writes bytes it
// finds; and, in a small header, the fields a caller tests without decoding JSON. Layout:
//
//	format byte (cardFormat)
//	model version, risk class: uvarint length + bytes each
//	ledger date, score: varint each
//	pd: 8 bytes, IEEE 754 little endian
//	flags: 1 byte (bit 0: the client has invoices)
//	sections (score en, score fr, explanation, metrics): uvarint length + JSON each
const cardFormat = 1

const (
	secScoreEN = iota
	secScoreFR
	secExplanation
	secMetrics
	numSections
)

// encode renders the assessment's documents and packs them into a card.
func (a *Assessment) encode() ([]byte, error) {
	var secs [numSections][]byte
	var err error
	docs := [numSections]any{a.ScoreDoc("en"), a.ScoreDoc("fr"), a.ExplanationDoc(), a.Metrics}
	size := 64 + len(a.Result.ModelVersion)
	for i, d := range docs {
		if secs[i], err = json.Marshal(d); err != nil {
			return nil, fmt.Errorf("encode the score of %s: %w", a.ClientID, err)
		}
		size += binary.MaxVarintLen64 + len(secs[i])
	}
	b := make([]byte, 0, size)
	b = append(b, cardFormat)
	b = appendString(b, a.Result.ModelVersion)
	b = appendString(b, a.Result.RiskClass)
	b = binary.AppendVarint(b, int64(a.InputsAsOf.Ledger))
	b = binary.AppendVarint(b, int64(a.Result.Score))
	b = binary.LittleEndian.AppendUint64(b, math.Float64bits(a.Result.PD))
	var flags byte
	if a.HasInvoices {
		flags |= 1
	}
	b = append(b, flags)
	for _, s := range secs {
		b = appendString(b, string(s))
	}
	return b, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// Card is a client's encoded score as the cache holds it. Its accessors read the header or
// slice the encoded documents: serving a cached score decodes no JSON. The bytes are shared
// with the cache: never modify what the accessors answer.
type Card struct {
	modelVersion, riskClass []byte
	asOf                    ledger.Date
	score                   int
	pd                      float64
	hasInvoices             bool
	sec                     [numSections][]byte
}

var errBadCard = errors.New("scoring: unreadable score card")

func decodeCard(b []byte) (Card, error) {
	var c Card
	if len(b) == 0 || b[0] != cardFormat {
		return c, errBadCard
	}
	r := cardReader{b: b[1:]}
	c.modelVersion = r.bytes()
	c.riskClass = r.bytes()
	c.asOf = ledger.Date(r.varint())
	c.score = int(r.varint())
	c.pd = math.Float64frombits(r.uint64())
	c.hasInvoices = r.byte()&1 != 0
	for i := range c.sec {
		c.sec[i] = r.bytes()
	}
	if r.bad || len(r.b) != 0 {
		return Card{}, errBadCard
	}
	return c, nil
}

// cardReader reads a card's fields; a short or malformed card sets bad.
type cardReader struct {
	b   []byte
	bad bool
}

func (r *cardReader) bytes() []byte {
	n, k := binary.Uvarint(r.b)
	if k <= 0 || n > uint64(len(r.b)-k) {
		r.bad = true
		r.b = nil
		return nil
	}
	out := r.b[k : k+int(n) : k+int(n)]
	r.b = r.b[k+int(n):]
	return out
}

func (r *cardReader) varint() int64 {
	v, k := binary.Varint(r.b)
	if k <= 0 {
		r.bad = true
		r.b = nil
		return 0
	}
	r.b = r.b[k:]
	return v
}

func (r *cardReader) uint64() uint64 {
	if len(r.b) < 8 {
		r.bad = true
		r.b = nil
		return 0
	}
	v := binary.LittleEndian.Uint64(r.b)
	r.b = r.b[8:]
	return v
}

func (r *cardReader) byte() byte {
	if len(r.b) < 1 {
		r.bad = true
		return 0
	}
	v := r.b[0]
	r.b = r.b[1:]
	return v
}

// current reports whether the card was computed with model version as of day.
func (c *Card) current(version string, day ledger.Date) bool {
	return c.asOf == day && string(c.modelVersion) == version
}

// Score is the score.
func (c Card) Score() int { return c.score }

// RiskClass is the risk class, A to E.
func (c Card) RiskClass() string { return string(c.riskClass) }

// PD is the probability of default.
func (c Card) PD() float64 { return c.pd }

// ModelVersion is the version of the model that computed the score.
func (c Card) ModelVersion() string { return string(c.modelVersion) }

// AsOf is the ledger date of the inputs.
func (c Card) AsOf() ledger.Date { return c.asOf }

// HasInvoices reports whether the client had an invoice issued on or before AsOf.
func (c Card) HasInvoices() bool { return c.hasInvoices }

// ScoreJSON is the score document in lang ("fr" gives French reasons, anything else English).
func (c Card) ScoreJSON(lang string) []byte {
	if lang == "fr" {
		return c.sec[secScoreFR]
	}
	return c.sec[secScoreEN]
}

// ExplanationJSON is the explanation document.
func (c Card) ExplanationJSON() []byte { return c.sec[secExplanation] }

// Doc decodes the score document in lang.
func (c Card) Doc(lang string) (ScoreDoc, error) {
	var d ScoreDoc
	err := json.Unmarshal(c.ScoreJSON(lang), &d)
	return d, err
}

// Explanation decodes the explanation document.
func (c Card) Explanation() (ExplanationDoc, error) {
	var d ExplanationDoc
	err := json.Unmarshal(c.ExplanationJSON(), &d)
	return d, err
}

// MetricsJSON is the encoded receivables metrics the score was computed from (shared: do not
// modify).
func (c Card) MetricsJSON() []byte { return c.sec[secMetrics] }

// Metrics decodes the receivables metrics the score was computed from (as of AsOf).
func (c Card) Metrics() (receivables.Metrics, error) {
	var m receivables.Metrics
	err := json.Unmarshal(c.sec[secMetrics], &m)
	return m, err
}
