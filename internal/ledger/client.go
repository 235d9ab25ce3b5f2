package ledger

import (
	"strconv"
	"strings"
	"time"
)

// Limits on client text fields.
const (
	MaxNameLen     = 200
	MaxSectorLen   = 100
	MaxDirectors   = 50
	MaxDirectorLen = 200
)

// Client is a customer buying on credit, keyed by the caller's own reference.
type Client struct {
	ClientID       string    `json:"client_id"`
	Name           string    `json:"name"`
	RegistrationID string    `json:"registration_id,omitempty"`
	Country        string    `json:"country,omitempty"`
	Sector         string    `json:"sector,omitempty"`
	Directors      []string  `json:"directors"`
	AutoCreated    bool      `json:"auto_created"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Normalize puts the fields in their stored form (trimmed, upper-case codes, no nil slice).
func (c *Client) Normalize() {
	c.Name = strings.TrimSpace(c.Name)
	c.RegistrationID = NormalizeRegistrationID(c.RegistrationID)
	c.Country = strings.ToUpper(strings.TrimSpace(c.Country))
	c.Sector = strings.TrimSpace(c.Sector)
	if c.Directors == nil {
		c.Directors = []string{}
	}
	for i, d := range c.Directors {
		c.Directors[i] = strings.TrimSpace(d)
	}
}

// Validate checks a normalised client. A client created implicitly by an invoice import has no
// country; every other client must have one.
func (c *Client) Validate() error {
	var fe fieldErrors
	fe.add(CheckID("client_id", c.ClientID))
	fe.add(checkText("name", c.Name, MaxNameLen, true))
	if c.RegistrationID != "" && RegistrationKind(c.RegistrationID) == "" {
		fe.addf("registration_id", "must be a SIREN (9 digits, valid check digit), a SIRET (14 digits) or an EU VAT number")
	}
	switch {
	case c.Country == "" && !c.AutoCreated:
		fe.addf("country", "is required (ISO 3166-1 alpha-2, e.g. FR)")
	case c.Country != "" && !ValidCountry(c.Country):
		fe.addf("country", "must be an ISO 3166-1 alpha-2 code such as FR or DE")
	}
	fe.add(checkText("sector", c.Sector, MaxSectorLen, false))
	if len(c.Directors) > MaxDirectors {
		fe.addf("directors", "must list at most %d names", MaxDirectors)
	}
	for i, d := range c.Directors {
		fe.add(checkText("directors["+strconv.Itoa(i)+"]", d, MaxDirectorLen, true))
	}
	return fe.err("the client is not valid")
}

// SameData reports whether two clients hold the same caller-supplied data.
func (c *Client) SameData(o *Client) bool {
	if c.Name != o.Name || c.RegistrationID != o.RegistrationID || c.Country != o.Country || c.Sector != o.Sector || len(c.Directors) != len(o.Directors) {
		return false
	}
	for i := range c.Directors {
		if c.Directors[i] != o.Directors[i] {
			return false
		}
	}
	return true
}

// ClientFilter selects clients for listing, in client_id order after the cursor.
type ClientFilter struct {
	NamePrefix string
	Country    string
	After      string
	Limit      int
}

// CheckClientFilter validates a listing filter.
func CheckClientFilter(f *ClientFilter) error {
	var fe fieldErrors
	f.Country = strings.ToUpper(f.Country)
	if f.Country != "" && !ValidCountry(f.Country) {
		fe.addf("country", "must be an ISO 3166-1 alpha-2 code")
	}
	fe.add(checkText("name", f.NamePrefix, MaxNameLen, false))
	if f.Limit == 0 {
		f.Limit = 100
	}
	if f.Limit < 1 || f.Limit > 1000 {
		fe.addf("limit", "must be between 1 and 1000")
	}
	return fe.err("the filter is not valid")
}

// WriteResult says what an idempotent write did.
type WriteResult string

// The outcomes of an idempotent write.
const (
	Created   WriteResult = "created"
	Updated   WriteResult = "updated"
	Unchanged WriteResult = "unchanged"
)
